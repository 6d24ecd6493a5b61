// DailyCall: a Daily Prebuilt call frame (an iframe from @daily-co/daily-js) for a Tavus
// conversation_url. It joins with the meeting token, reports the call's events to its handler
// props, registers itself for send_app_message under its id (call_shared.js), and leaves and
// destroys the frame when it unmounts.
import React, { useEffect, useRef } from "react";
import DailyIframe from "@daily-co/daily-js";
import { participantView, registerCall, useCallEvents } from "./call_shared.js";

// Tavus's replica joins with this in its user id (and name).
const REPLICA_MARKER = "tavus-replica";

const dailyParticipant = (p) =>
  participantView({
    ...p,
    id: p?.session_id,
    is_replica: `${p?.user_id || ""} ${p?.user_name || ""}`.toLowerCase().includes(REPLICA_MARKER),
  });

const errorText = (error) =>
  String(error?.errorMsg || error?.error?.msg || error?.message || error || "Daily error");

export function DailyCall(props) {
  const { id, url, token, userName, className, style } = props;
  const containerRef = useRef(null);
  const fire = useCallEvents("DailyCall", props);

  useEffect(() => {
    if (!url || !containerRef.current) return undefined;
    let frame;
    try {
      frame = DailyIframe.createFrame(containerRef.current, {
        iframeStyle: { width: "100%", height: "100%", border: "0" },
        showLeaveButton: true,
        allowMultipleCallInstances: true,
      });
    } catch (error) {
      fire("onError", errorText(error));
      return undefined;
    }
    frame
      .on("joined-meeting", (ev) => fire("onJoined", dailyParticipant(ev?.participants?.local)))
      .on("left-meeting", () => fire("onLeft", "left"))
      .on("participant-joined", (ev) => fire("onParticipantJoined", dailyParticipant(ev?.participant)))
      .on("participant-left", (ev) => fire("onParticipantLeft", dailyParticipant(ev?.participant)))
      .on("app-message", (ev) => {
        if (ev && ev.data && typeof ev.data === "object") fire("onAppMessage", ev.data, String(ev.fromId || ""));
      })
      .on("error", (ev) => fire("onError", errorText(ev)));

    const unregister = registerCall(
      id,
      "daily",
      (data, to) => {
        frame.sendAppMessage(data, to);
        return true;
      },
      { frame },
    );

    const options = { url };
    if (token) options.token = token;
    if (userName) options.userName = userName;
    frame.join(options).catch((error) => fire("onError", errorText(error)));

    return () => {
      unregister();
      frame.leave().catch(() => {}).finally(() => frame.destroy().catch(() => {}));
    };
  }, [id, url, token, userName, fire]);

  // Size comes from the page (the Python wrapper defaults to full width, 16:9).
  return <div id={id} ref={containerRef} className={className} style={style} />;
}
