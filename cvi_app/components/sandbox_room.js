// useSandboxRoom: one participant's connection to a sandbox room (CVI Studio's local stand-in
// for a Daily room), for SandboxCall. It joins the room WebSocket next to the conversation_url,
// rejoins a dropped connection, fires the call's event triggers, registers the call for
// send_app_message, and follows the replica's speaking state and captions. Only events from the
// replica participant change those; every app-message still reaches onAppMessage.
import { useEffect, useRef, useState } from "react";
import { participantView, registerCall } from "./call_shared.js";

// Rejoining a dropped room connection: pauses double from the first, up to the longest.
const REJOIN_FIRST_PAUSE_MS = 500;
const REJOIN_MAX_PAUSE_MS = 5000;
const MAX_REJOIN_ATTEMPTS = 30;
const CLOSE_TOO_SLOW = 4408; // the room dropped a client that stopped reading: worth a retry
const REPLICA_ROLES = new Set(["replica", "pal"]);
// Captions show the most recent words of the cumulative streaming text, as subtitles do.
const CAPTION_CHARS = 180;
// The most a person may say at once: the words must fit one 4 KB app-message.
export const MAX_SAY_CHARS = 1000;

export function roomSocketUrl(url, userName, token) {
  const target = new URL(url, window.location.href);
  target.protocol = target.protocol === "https:" || target.protocol === "wss:" ? "wss:" : "ws:";
  target.pathname = target.pathname.replace(/\/$/, "") + "/ws";
  target.searchParams.set("user_name", userName || "guest");
  if (token) target.searchParams.set("t", token);
  target.hash = "";
  return target.toString();
}

export const captionTail = (speech) => {
  if (speech.length <= CAPTION_CHARS) return speech;
  const tail = speech.slice(-CAPTION_CHARS);
  const space = tail.indexOf(" ");
  return `…${space >= 0 ? tail.slice(space + 1) : tail}`;
};

const isParticipant = (p) => p && typeof p === "object" && typeof p.id === "string";

// A frame from the room, parsed and checked; null for anything malformed or unknown.
function readFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (!frame || typeof frame !== "object") return null;
  switch (frame.type) {
    case "joined":
      return isParticipant(frame.participant) && Array.isArray(frame.participants) ? frame : null;
    case "participant-joined":
    case "participant-left":
      return isParticipant(frame.participant) ? frame : null;
    case "app-message":
      return frame.data && typeof frame.data === "object" && typeof frame.fromId === "string"
        ? frame
        : null;
    case "error":
    case "room-closed":
      return frame;
    default:
      return null;
  }
}

// What one of the replica's events changes on its tile: {speaking, caption, status}, each
// only when it changes; null when nothing does.
function tileChange(event) {
  const props = event.properties && typeof event.properties === "object" ? event.properties : {};
  const byReplica = REPLICA_ROLES.has(props.role);
  switch (event.event_type) {
    case "conversation.replica.started_speaking":
      return { speaking: true, caption: "" };
    case "conversation.replica.stopped_speaking":
    case "conversation.replica_interrupted":
      return { speaking: false, caption: "" };
    case "conversation.started_speaking":
      return byReplica ? { speaking: true, caption: "" } : null;
    case "conversation.stopped_speaking":
      return byReplica ? { speaking: false, caption: "" } : null;
    case "conversation.utterance.streaming":
      return byReplica && typeof props.speech === "string"
        ? { caption: captionTail(props.speech) }
        : null;
    case "system.shutdown":
      return { speaking: false, caption: "", status: "The conversation has ended." };
    default:
      return null;
  }
}

/**
 * Join the room at `socketUrl` and stay in it until `leave()` or the call is over.
 *
 * A connection that drops while the room is open (network loss, server restart) is rejoined,
 * with growing pauses (at once when the browser comes back online), as a new participant; the
 * room refusing us (4400-4499: bad token, no such room, reserved name), the room closing, or
 * too many failed attempts end the call. `on` hears: `frame(frame)` for each checked frame,
 * `reconnecting(why)`, `end(reason, statusText)` once, and `error(message, statusText)`.
 * Returns `{send(frame), leave()}`; `send` returns whether the frame went out.
 */
function connectRoom(socketUrl, on) {
  let socket = null;
  let over = false; // the call ended, or we left
  let failures = 0;
  let retryTimer = null;

  const end = (reason, statusText) => {
    if (over) return;
    over = true;
    window.clearTimeout(retryTimer);
    on.end(reason, statusText);
  };

  const rejoinLater = (why) => {
    failures += 1;
    if (failures > MAX_REJOIN_ATTEMPTS) {
      end(why, `Disconnected: ${why}`);
      return;
    }
    on.reconnecting(why);
    const pause = Math.min(REJOIN_MAX_PAUSE_MS, REJOIN_FIRST_PAUSE_MS * 2 ** (failures - 1));
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(open, pause);
  };

  function open() {
    retryTimer = null;
    if (over) return;
    let current;
    try {
      current = new WebSocket(socketUrl);
    } catch (error) {
      over = true;
      on.error(String(error.message || error), `Error: ${error.message}`);
      return;
    }
    socket = current;
    current.onmessage = (message) => {
      const frame = readFrame(message.data);
      if (!frame) return;
      if (frame.type === "joined") failures = 0;
      on.frame(frame);
      if (frame.type === "room-closed") {
        const reason = String(frame.reason || "room closed");
        end(reason, "The conversation has ended.");
        current.close();
      }
    };
    current.onerror = () => on.error("connection to the sandbox room failed");
    current.onclose = (event) => {
      if (socket !== current || over) return;
      socket = null;
      const why = event.reason || `closed (${event.code})`;
      if (event.code >= 4400 && event.code < 4500 && event.code !== CLOSE_TOO_SLOW) {
        end(why, "The call was disconnected.");
      } else {
        rejoinLater(why);
      }
    };
  }

  // Back online: rejoin now rather than at the end of the pause.
  const onOnline = () => {
    if (retryTimer !== null && !over) {
      window.clearTimeout(retryTimer);
      open();
    }
  };
  window.addEventListener("online", onOnline);
  open();

  return {
    send(frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
    leave() {
      over = true;
      window.clearTimeout(retryTimer);
      window.removeEventListener("online", onOnline);
      const last = socket;
      socket = null;
      if (last) {
        if (last.readyState === WebSocket.OPEN) last.send(JSON.stringify({ type: "leave" }));
        last.close();
      }
    },
  };
}

/**
 * The sandbox room at `url`, joined as `userName` while `url` is set.
 *
 * `fire` is the call's event triggers (`useCallEvents`). Left and joined again when `id`, `url`,
 * `token` or `userName` change; left on unmount. Returns what the view shows: `status` (how the
 * connection stands), `joined`, the replica's `speaking` and `caption`, and `say(words)`, which
 * sends words the simulated replica hears as speech and returns whether they went out.
 */
export function useSandboxRoom({ id, url, token, userName }, fire) {
  const [status, setStatus] = useState("Not connected");
  const [speaking, setSpeaking] = useState(false);
  const [caption, setCaption] = useState("");
  const [joined, setJoined] = useState(false);
  const roomRef = useRef(null);
  const conversationRef = useRef(null);

  useEffect(() => {
    if (!url) return undefined;
    let replicaId = null;
    setStatus("Connecting…");

    const showTile = (change) => {
      if (!change) return;
      if (change.speaking !== undefined) setSpeaking(change.speaking);
      if (change.caption !== undefined) setCaption(change.caption);
      if (change.status !== undefined) setStatus(change.status);
    };
    const notJoined = (statusText) => {
      setJoined(false);
      setSpeaking(false);
      setCaption("");
      setStatus(statusText);
    };

    const onFrame = (frame) => {
      switch (frame.type) {
        case "joined": {
          conversationRef.current = frame.conversation_id || null;
          const others = frame.participants.filter(isParticipant);
          const replica = others.find((p) => p.is_replica);
          replicaId = replica ? replica.id : null;
          setJoined(true);
          setStatus(replica ? "Connected" : "Connected, waiting for the replica…");
          fire("onJoined", participantView(frame.participant));
          others.forEach((p) => fire("onParticipantJoined", participantView(p)));
          break;
        }
        case "participant-joined":
          if (frame.participant.is_replica) {
            replicaId = frame.participant.id;
            setStatus("Connected");
          }
          fire("onParticipantJoined", participantView(frame.participant));
          break;
        case "participant-left":
          if (frame.participant.id === replicaId) {
            replicaId = null;
            setSpeaking(false);
            setCaption("");
          }
          fire("onParticipantLeft", participantView(frame.participant));
          break;
        case "app-message":
          if (frame.fromId === replicaId) showTile(tileChange(frame.data));
          fire("onAppMessage", frame.data, frame.fromId);
          break;
        case "error":
          // The room's reason is for the log and the handlers; the person reads one short line.
          setStatus("The room did not accept that message.");
          fire("onError", String(frame.reason || "error").slice(0, 500));
          break;
        default:
          break;
      }
    };

    const room = connectRoom(roomSocketUrl(url, userName, token), {
      frame: onFrame,
      reconnecting: (why) => notJoined(`Connection lost (${why}); reconnecting…`),
      end: (reason, statusText) => {
        notJoined(statusText);
        fire("onLeft", reason);
      },
      error: (message, statusText) => {
        if (statusText) setStatus(statusText);
        fire("onError", message);
      },
    });
    roomRef.current = room;
    const unregister = registerCall(id, "sandbox", (data, to) =>
      room.send({ type: "app-message", data, to }),
    );
    return () => {
      unregister();
      roomRef.current = null;
      room.leave();
    };
  }, [id, url, token, userName, fire]);

  const say = (words) => {
    if (words.length > MAX_SAY_CHARS) return false;
    const data = {
      message_type: "sandbox",
      event_type: "sandbox.user_speech",
      properties: { text: words },
    };
    if (conversationRef.current) data.conversation_id = conversationRef.current;
    const sent = roomRef.current?.send({ type: "app-message", data, to: "*" }) ?? false;
    if (sent) setStatus("Connected"); // an earlier refusal no longer applies
    return sent;
  };

  return { status, joined, speaking, caption, say };
}
