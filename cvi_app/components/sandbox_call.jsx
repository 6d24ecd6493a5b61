// SandboxCall: the browser side of a sandbox room (CVI Studio's local stand-in for a Daily room).
// It joins the room WebSocket next to the conversation_url as a participant, shows the replica's
// tile with its speaking state and live captions, and lets the person "say" things by typing
// (sent as sandbox.user_speech app-messages). Only events from the replica participant change
// the tile; every app-message is still passed to onAppMessage with its sender id.
import React, { useEffect, useRef, useState } from "react";

const REGISTRY = "__cviCallFrames";

function callRegistry() {
  if (!window[REGISTRY]) window[REGISTRY] = new Map();
  return window[REGISTRY];
}

function roomSocketUrl(url, userName, token) {
  const target = new URL(url, window.location.href);
  target.protocol = target.protocol === "https:" || target.protocol === "wss:" ? "wss:" : "ws:";
  target.pathname = target.pathname.replace(/\/$/, "") + "/ws";
  target.searchParams.set("user_name", userName || "guest");
  if (token) target.searchParams.set("t", token);
  target.hash = "";
  return target.toString();
}

function participantView(p) {
  return {
    id: String(p.id),
    user_name: String(p.user_name || ""),
    user_id: String(p.user_id || ""),
    is_replica: Boolean(p.is_replica),
  };
}

// Captions show the most recent words of the cumulative streaming text, as subtitles do.
const CAPTION_CHARS = 180;
const captionTail = (speech) => {
  if (speech.length <= CAPTION_CHARS) return speech;
  const tail = speech.slice(-CAPTION_CHARS);
  const space = tail.indexOf(" ");
  return `…${space >= 0 ? tail.slice(space + 1) : tail}`;
};

const isParticipant = (p) => p && typeof p === "object" && typeof p.id === "string";
// Rejoining a dropped room connection: pauses double from the first, up to the longest.
const REJOIN_FIRST_PAUSE_MS = 500;
const REJOIN_MAX_PAUSE_MS = 5000;
const MAX_REJOIN_ATTEMPTS = 30;
const CLOSE_TOO_SLOW = 4408; // the room dropped a client that stopped reading: worth a retry
const REPLICA_ROLES = new Set(["replica", "pal"]);

const styles = {
  // Only what the layout needs: size and placement come from the page (className / style).
  root: { display: "grid", gap: "0.75rem" },
  tile: (speaking) => ({
    position: "relative",
    aspectRatio: "16 / 9",
    borderRadius: "12px",
    overflow: "hidden",
    background: "#1e1b4b",
    outline: `4px solid ${speaking ? "#22c55e" : "transparent"}`,
    transition: "outline-color 150ms",
  }),
  image: { width: "100%", height: "100%", objectFit: "cover", display: "block" },
  badge: (speaking) => ({
    position: "absolute",
    left: "0.75rem",
    top: "0.75rem",
    padding: "0.15rem 0.6rem",
    borderRadius: "999px",
    fontSize: "0.85rem",
    color: "#fff",
    background: speaking ? "#15803d" : "rgba(0, 0, 0, 0.55)",
  }),
  captions: {
    position: "absolute",
    left: "1rem",
    right: "1rem",
    bottom: "0.75rem",
    margin: 0,
    textAlign: "center",
    fontSize: "1.05rem",
    color: "#fff",
    textShadow: "0 1px 3px #000",
    minHeight: "1.5em",
  },
  status: { margin: 0, fontSize: "0.9rem", opacity: 0.8 },
  form: { display: "flex", gap: "0.5rem" },
  input: {
    flex: 1,
    padding: "0.5rem 0.75rem",
    fontSize: "1rem",
    border: "1px solid var(--gray-7, #c4c4cc)",
    borderRadius: "6px",
    background: "var(--color-surface, #fff)",
    color: "inherit",
  },
  button: (enabled) => ({
    padding: "0.5rem 1.1rem",
    fontSize: "1rem",
    border: 0,
    borderRadius: "6px",
    color: "#fff",
    background: enabled ? "var(--accent-9, #4f46e5)" : "var(--gray-8, #9ca3af)",
    cursor: enabled ? "pointer" : "not-allowed",
  }),
};

export function SandboxCall({
  id,
  url,
  token,
  userName,
  replicaImage,
  className,
  style,
  onJoined,
  onLeft,
  onParticipantJoined,
  onParticipantLeft,
  onAppMessage,
  onError,
}) {
  const [status, setStatus] = useState("Not connected");
  const [speaking, setSpeaking] = useState(false);
  const [caption, setCaption] = useState("");
  const [youSaid, setYouSaid] = useState("");
  const [text, setText] = useState("");
  const [joined, setJoined] = useState(false);
  const socketRef = useRef(null);
  const replicaRef = useRef(null);
  const conversationRef = useRef(null);
  // Reflex re-creates the handler props on every render: read the latest without reconnecting.
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
    if (!url) return undefined;
    const call = (name, ...args) => {
      try {
        handlers.current[name]?.(...args);
      } catch (error) {
        console.error(`SandboxCall ${name} handler failed`, error);
      }
    };
    // `over`: the call ended (room closed, refused, gave up) or the component unmounted.
    let over = false;
    let failures = 0;
    let retryTimer = null;
    setStatus("Connecting…");
    // The call is over: once, whether the room closed it or rejoining was given up.
    const end = (reason, statusText) => {
      if (over) return;
      over = true;
      window.clearTimeout(retryTimer);
      setJoined(false);
      setSpeaking(false);
      setStatus(statusText);
      call("onLeft", reason);
    };

    const sendAppMessage = (data, to = "*") => {
      const socket = socketRef.current;
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify({ type: "app-message", data, to: to || "*" }));
      return true;
    };
    if (id) callRegistry().set(id, { sendAppMessage, kind: "sandbox" });

    const onReplicaEvent = (event) => {
      const props = event.properties && typeof event.properties === "object" ? event.properties : {};
      switch (event.event_type) {
        case "conversation.replica.started_speaking":
          setSpeaking(true);
          setCaption("");
          break;
        case "conversation.replica.stopped_speaking":
        case "conversation.replica_interrupted":
          setSpeaking(false);
          break;
        case "conversation.started_speaking":
          if (REPLICA_ROLES.has(props.role)) {
            setSpeaking(true);
            setCaption("");
          }
          break;
        case "conversation.stopped_speaking":
          if (REPLICA_ROLES.has(props.role)) setSpeaking(false);
          break;
        case "conversation.utterance.streaming":
          if (REPLICA_ROLES.has(props.role) && typeof props.speech === "string") {
            setCaption(captionTail(props.speech));
          }
          break;
        case "system.shutdown":
          setSpeaking(false);
          setStatus(`Conversation ended: ${props.shutdown_reason || props.reason || ""}`);
          break;
        default:
          break;
      }
    };

    const onFrame = (socket, message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      switch (frame.type) {
        case "joined": {
          if (!isParticipant(frame.participant) || !Array.isArray(frame.participants)) return;
          failures = 0;
          conversationRef.current = frame.conversation_id || null;
          const others = frame.participants.filter(isParticipant);
          const replica = others.find((p) => p.is_replica);
          replicaRef.current = replica ? replica.id : null;
          setJoined(true);
          setStatus(replica ? "Connected" : "Connected, waiting for the replica…");
          call("onJoined", participantView(frame.participant));
          others.forEach((p) => call("onParticipantJoined", participantView(p)));
          break;
        }
        case "participant-joined":
          if (!isParticipant(frame.participant)) return;
          if (frame.participant.is_replica) {
            replicaRef.current = frame.participant.id;
            setStatus("Connected");
          }
          call("onParticipantJoined", participantView(frame.participant));
          break;
        case "participant-left":
          if (!isParticipant(frame.participant)) return;
          if (frame.participant.id === replicaRef.current) {
            replicaRef.current = null;
            setSpeaking(false);
          }
          call("onParticipantLeft", participantView(frame.participant));
          break;
        case "app-message":
          if (!frame.data || typeof frame.data !== "object" || typeof frame.fromId !== "string") return;
          if (frame.fromId === replicaRef.current) onReplicaEvent(frame.data);
          call("onAppMessage", frame.data, frame.fromId);
          break;
        case "error":
          setStatus(`Error: ${frame.reason}`);
          call("onError", String(frame.reason || "error"));
          break;
        case "room-closed": {
          const reason = String(frame.reason || "room closed");
          end(reason, `Room closed: ${reason}`);
          socket.close();
          break;
        }
        default:
          break;
      }
    };

    // A connection that drops while the room is open (network loss, server restart) is
    // rejoined, with growing pauses, as a new participant; the room refusing us
    // (4400-4499: bad token, no such room, reserved name) or the room closing ends the call.
    const rejoinLater = (why) => {
      failures += 1;
      if (failures > MAX_REJOIN_ATTEMPTS) {
        end(why, `Disconnected: ${why}`);
        return;
      }
      setJoined(false);
      setSpeaking(false);
      setStatus(`Connection lost (${why}); reconnecting…`);
      const pause = Math.min(REJOIN_MAX_PAUSE_MS, REJOIN_FIRST_PAUSE_MS * 2 ** (failures - 1));
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(open, pause);
    };

    function open() {
      retryTimer = null;
      if (over) return;
      let socket;
      try {
        socket = new WebSocket(roomSocketUrl(url, userName, token));
      } catch (error) {
        over = true;
        setStatus(`Error: ${error.message}`);
        call("onError", String(error.message || error));
        return;
      }
      socketRef.current = socket;
      socket.onmessage = (message) => onFrame(socket, message);
      socket.onerror = () => call("onError", "connection to the sandbox room failed");
      socket.onclose = (event) => {
        if (socketRef.current !== socket || over) return;
        socketRef.current = null;
        const why = event.reason || `closed (${event.code})`;
        if (event.code >= 4400 && event.code < 4500 && event.code !== CLOSE_TOO_SLOW) {
          end(why, `Disconnected: ${why}`);
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

    return () => {
      over = true;
      window.clearTimeout(retryTimer);
      window.removeEventListener("online", onOnline);
      if (id && callRegistry().get(id)?.sendAppMessage === sendAppMessage) callRegistry().delete(id);
      const socket = socketRef.current;
      socketRef.current = null;
      replicaRef.current = null;
      if (socket) {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "leave" }));
        socket.close();
      }
    };
  }, [id, url, token, userName]);

  const say = (event) => {
    event.preventDefault();
    const words = text.trim();
    const socket = socketRef.current;
    if (!words || !socket || socket.readyState !== WebSocket.OPEN) return;
    const data = {
      message_type: "sandbox",
      event_type: "sandbox.user_speech",
      properties: { text: words },
    };
    if (conversationRef.current) data.conversation_id = conversationRef.current;
    socket.send(JSON.stringify({ type: "app-message", data, to: "*" }));
    setYouSaid(words);
    setText("");
  };

  return (
    <div id={id} className={className} style={{ ...styles.root, ...style }}>
      <section
        role="region"
        aria-label="Replica"
        data-speaking={speaking ? "true" : "false"}
        style={styles.tile(speaking)}
      >
        <img src={replicaImage || "/sandbox_replica.svg"} alt="" style={styles.image} />
        <span style={styles.badge(speaking)}>{speaking ? "Speaking" : "Listening"}</span>
        <p aria-label="Captions" aria-live="polite" style={styles.captions}>
          {caption}
        </p>
      </section>
      <p role="status" style={styles.status}>
        {status}
        {youSaid ? ` · You said: ${youSaid}` : ""}
      </p>
      <form onSubmit={say} style={styles.form}>
        <input
          type="text"
          aria-label="Say something"
          placeholder="Type what you say…"
          autoComplete="off"
          value={text}
          onChange={(event) => setText(event.target.value)}
          style={styles.input}
        />
        <button type="submit" disabled={!joined} style={styles.button(joined)}>
          Say
        </button>
      </form>
    </div>
  );
}
