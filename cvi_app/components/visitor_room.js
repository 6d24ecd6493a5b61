// useVisitorCall: the visitor's Daily call object (@daily-co/daily-js) for VisitorCall. It creates
// the call object with the devices the pre-join check chose (window.__cviDevices), joins the
// room, maps the call's events to the event triggers, registers the call for send_app_message
// (call_shared.js), follows the replica's speaking state and captions from its app-messages,
// and says in plain words how the call stands. The display is visitor_call.jsx.
import { useCallback, useEffect, useRef, useState } from "react";
import DailyIframe from "@daily-co/daily-js";
import { participantView, registerCall } from "./call_shared.js";

// Tavus's replica joins with this in its user id (and name), as DailyCall decides is_replica.
const REPLICA_MARKER = "tavus-replica";
// Fatal errors that mean the room closed the call (not that the call failed).
const ROOM_ENDED = new Set(["ejected", "exp-room", "exp-token", "end-of-life"]);
const REPLICA_ROLES = new Set(["replica", "pal"]);
// Captions show the latest words, as subtitles do.
const CAPTION_CHARS = 180;
// Leave waits this long at most for daily-js to say the call is left.
const LEAVE_WAIT_MS = 3000;
const pause = (ms) => new Promise((done) => window.setTimeout(done, ms));

/** What the status line says (role="status"); technical messages go to onError only. */
export const SAY = {
  idle: "Not connected yet.",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  waiting: "Waiting for the agent to join…",
  connected: "Connected.",
  ended: "The call has ended.",
  failed: "We could not connect the call. Check your connection and try again.",
  dropped: "The call was cut off. Check your connection and try again.",
};

/** Whether a Daily participant is the Tavus replica. */
export const isReplica = (p) =>
  `${p?.user_id || ""} ${p?.user_name || ""}`.toLowerCase().includes(REPLICA_MARKER);

const dailyParticipant = (p) =>
  participantView({ ...p, id: p?.session_id, is_replica: isReplica(p) });

const errorText = (error) =>
  String(error?.errorMsg || error?.error?.msg || error?.message || error || "Daily error");

const lastWords = (speech) => {
  if (speech.length <= CAPTION_CHARS) return speech;
  const tail = speech.slice(-CAPTION_CHARS);
  const space = tail.indexOf(" ");
  return `…${space >= 0 ? tail.slice(space + 1) : tail}`;
};

/** The device ids the pre-join check left (device_check.jsx), "" for each one it did not. */
function chosenDevices() {
  const chosen = window.__cviDevices;
  const text = (value) => (typeof value === "string" ? value : "");
  return {
    cameraId: text(chosen?.cameraId),
    microphoneId: text(chosen?.microphoneId),
    speakerId: text(chosen?.speakerId),
  };
}

// What one of the replica's app-messages changes: {speaking} or {caption}; null for nothing.
function replicaChange(data) {
  const props = data.properties && typeof data.properties === "object" ? data.properties : {};
  const byReplica = REPLICA_ROLES.has(props.role);
  switch (data.event_type) {
    case "conversation.replica.started_speaking":
      return { speaking: true };
    case "conversation.replica.stopped_speaking":
    case "conversation.replica_interrupted":
      return { speaking: false };
    case "conversation.started_speaking":
      return byReplica ? { speaking: true } : null;
    case "conversation.stopped_speaking":
      return byReplica ? { speaking: false } : null;
    case "conversation.utterance":
    case "conversation.utterance.streaming":
      return byReplica && typeof props.speech === "string"
        ? { caption: lastWords(props.speech.trim()) }
        : null;
    default:
      return null;
  }
}

const QUIET = { speaking: null, caption: "" }; // speaking null: no speaking event seen yet

/**
 * The call: joined while `url` is set, left (and destroyed) when it changes or on unmount.
 *
 * `fire(name, ...args)` calls the trigger props (useCallEvents). Returns `{call, phase,
 * reconnecting, replica: {speaking, caption}, leave}`; `phase` is idle, connecting, joined,
 * ended, failed or dropped; `leave()` leaves the call and resolves, once it is left, to whether
 * this press did the leaving (false while an earlier one is still at it).
 */
export function useVisitorCall({ id, url, token, userName }, fire) {
  const [call, setCall] = useState(null);
  const [phase, setPhase] = useState("idle");
  const [reconnecting, setReconnecting] = useState(false);
  const [replica, setReplica] = useState(QUIET);
  const session = useRef(null); // {call, state, finish(reason)} of the current call

  useEffect(() => {
    setReplica(QUIET);
    setReconnecting(false);
    if (!url) {
      setCall(null);
      setPhase("idle");
      return undefined;
    }
    const devices = chosenDevices();
    let daily;
    try {
      daily = DailyIframe.createCallObject({
        allowMultipleCallInstances: true, // the next call may start before this one is destroyed
        startVideoOff: false,
        startAudioOff: false,
        ...(devices.cameraId ? { videoSource: devices.cameraId } : {}),
        ...(devices.microphoneId ? { audioSource: devices.microphoneId } : {}),
      });
    } catch (error) {
      setCall(null);
      setPhase("failed");
      fire("onError", errorText(error));
      return undefined;
    }

    // live: false once this effect is cleaned up (its events are no one's news then);
    // leaving: the visitor pressed Leave (what the call says meanwhile is not a failure).
    const state = { live: true, joined: false, over: false, leaving: false };
    const finish = (reason) => {
      if (state.over) return;
      state.over = true;
      setPhase("ended");
      if (state.joined) fire("onLeft", reason);
    };
    const fail = (error) => {
      if (!state.live || state.over || state.leaving) return;
      const type = String(error?.error?.type || "");
      if (state.joined && ROOM_ENDED.has(type)) return finish(type);
      state.over = true;
      setPhase(state.joined ? "dropped" : "failed");
      fire("onError", errorText(error));
      if (state.joined) fire("onLeft", type || "error");
    };
    const on = (event, handler) => daily.on(event, (ev) => state.live && handler(ev));

    on("joined-meeting", (ev) => {
      if (state.leaving) return;
      state.joined = true;
      setPhase("joined");
      const { local, ...others } = ev?.participants || {};
      fire("onJoined", dailyParticipant(local));
      Object.values(others).forEach((p) => fire("onParticipantJoined", dailyParticipant(p)));
      if (devices.speakerId) {
        daily.setOutputDeviceAsync({ outputDeviceId: devices.speakerId }).catch(() => {});
      }
    });
    on("left-meeting", () => finish("left"));
    on("participant-joined", (ev) => fire("onParticipantJoined", dailyParticipant(ev?.participant)));
    on("participant-left", (ev) => {
      if (isReplica(ev?.participant)) setReplica(QUIET); // its next visit starts quiet
      fire("onParticipantLeft", dailyParticipant(ev?.participant));
    });
    on("app-message", (ev) => {
      if (!ev?.data || typeof ev.data !== "object") return;
      const from = String(ev.fromId || "");
      fire("onAppMessage", ev.data, from);
      // Only the replica moves its own tile: anyone in the room can send app-messages.
      if (!isReplica(daily.participants()?.[from])) return;
      const change = replicaChange(ev.data);
      if (change) setReplica((now) => ({ ...now, ...change }));
    });
    on("network-connection", (ev) => {
      if (ev?.type === "signaling") setReconnecting(ev.event === "interrupted");
    });
    on("error", fail);

    const unregister = registerCall(
      id,
      "daily",
      (data, to) => {
        if (!state.joined || state.over) return false;
        daily.sendAppMessage(data, to);
        return true;
      },
      { call: daily },
    );
    session.current = { call: daily, state, finish };
    setCall(daily);
    setPhase("connecting");
    daily
      .join({ url, ...(token ? { token } : {}), ...(userName ? { userName } : {}) })
      .catch(fail);

    return () => {
      state.live = false;
      unregister();
      if (session.current?.call === daily) session.current = null;
      daily
        .leave()
        .catch(() => {})
        .finally(() => daily.destroy().catch(() => {}));
    };
  }, [id, url, token, userName, fire]);

  const leave = useCallback(async () => {
    const current = session.current;
    if (current?.state.leaving) return false;
    if (current) {
      current.state.leaving = true;
      // A call still loading may take its time to stop: the visitor has left all the same.
      await Promise.race([current.call.leave().catch(() => {}), pause(LEAVE_WAIT_MS)]);
      current.finish("left");
    }
    setPhase("ended");
    return true;
  }, []);

  return { call, phase, reconnecting, replica, leave };
}
