// DailyCall: a Daily Prebuilt call frame (an iframe from @daily-co/daily-js) for a Tavus
// conversation_url. It joins with the meeting token, reports the call's events to its handler
// props, registers itself on window.__cviCallFrames under its id (so send_app_message can reach
// it), and leaves and destroys the frame when it unmounts.
import React, { useEffect, useRef } from "react";
import DailyIframe from "@daily-co/daily-js";

const REGISTRY = "__cviCallFrames";
const REPLICA_MARKER = "tavus-replica";

function callRegistry() {
  if (!window[REGISTRY]) window[REGISTRY] = new Map();
  return window[REGISTRY];
}

function participantView(p) {
  const userId = String(p?.user_id || "");
  const userName = String(p?.user_name || "");
  return {
    id: String(p?.session_id || ""),
    user_name: userName,
    user_id: userId,
    is_replica: `${userId} ${userName}`.toLowerCase().includes(REPLICA_MARKER),
  };
}

const errorText = (error) =>
  String(error?.errorMsg || error?.error?.msg || error?.message || error || "Daily error");

export function DailyCall({
  id,
  url,
  token,
  userName,
  className,
  style,
  onJoined,
  onLeft,
  onParticipantJoined,
  onParticipantLeft,
  onAppMessage,
  onError,
}) {
  const containerRef = useRef(null);
  // Reflex re-creates the handler props on every render: read the latest without rejoining.
  const handlers = useRef({});
  handlers.current = {
    onJoined,
    onLeft,
    onParticipantJoined,
    onParticipantLeft,
    onAppMessage,
    onError,
  };

  useEffect(() => {
    if (!url || !containerRef.current) return undefined;
    const call = (name, ...args) => {
      try {
        handlers.current[name]?.(...args);
      } catch (error) {
        console.error(`DailyCall ${name} handler failed`, error);
      }
    };
    let frame;
    try {
      frame = DailyIframe.createFrame(containerRef.current, {
        iframeStyle: { width: "100%", height: "100%", border: "0" },
        showLeaveButton: true,
        allowMultipleCallInstances: true,
      });
    } catch (error) {
      call("onError", errorText(error));
      return undefined;
    }
    frame
      .on("joined-meeting", (ev) => call("onJoined", participantView(ev?.participants?.local)))
      .on("left-meeting", () => call("onLeft", "left"))
      .on("participant-joined", (ev) => call("onParticipantJoined", participantView(ev?.participant)))
      .on("participant-left", (ev) => call("onParticipantLeft", participantView(ev?.participant)))
      .on("app-message", (ev) => {
        if (ev && ev.data && typeof ev.data === "object") call("onAppMessage", ev.data, String(ev.fromId || ""));
      })
      .on("error", (ev) => call("onError", errorText(ev)));

    const sendAppMessage = (data, to = "*") => {
      frame.sendAppMessage(data, to || "*");
      return true;
    };
    if (id) callRegistry().set(id, { sendAppMessage, kind: "daily", frame });

    const options = { url };
    if (token) options.token = token;
    if (userName) options.userName = userName;
    frame.join(options).catch((error) => call("onError", errorText(error)));

    return () => {
      if (id && callRegistry().get(id)?.sendAppMessage === sendAppMessage) callRegistry().delete(id);
      frame.leave().catch(() => {}).finally(() => frame.destroy().catch(() => {}));
    };
  }, [id, url, token, userName]);

  // Size comes from the page (the Python wrapper defaults to full width, 16:9).
  return <div id={id} ref={containerRef} className={className} style={style} />;
}
