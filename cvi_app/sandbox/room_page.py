"""`GET /rooms/{conversation_id}`: a minimal, self-contained page for using a room from a browser.

It joins the room WebSocket next to it (passing on `?t=` and `?user_name=`), shows the replica's
tile with its speaking state and live captions, and has a text box to "say" things (sent as
`sandbox.user_speech` app-messages). No external assets.
"""

from __future__ import annotations

import html
import json

__all__ = ["render_room_page"]

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox room __TITLE__</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; padding: 1rem; display: grid; gap: 1rem; max-width: 44rem; margin-inline: auto; }
  .tile { aspect-ratio: 16 / 9; border-radius: 12px; background: #1f2937; color: #f9fafb;
          display: grid; place-items: center; position: relative; outline: 4px solid transparent;
          transition: outline-color .15s; }
  .tile[data-speaking="true"] { outline-color: #22c55e; }
  .avatar { width: 6rem; height: 6rem; }
  .badge { position: absolute; left: .75rem; bottom: .75rem; font-size: .85rem; opacity: .85; }
  .captions { position: absolute; inset: auto 1rem 2.5rem; text-align: center; font-size: 1.1rem;
              text-shadow: 0 1px 2px #000; }
  form { display: flex; gap: .5rem; }
  input[type=text] { flex: 1; padding: .6rem; font-size: 1rem; }
  button { padding: .6rem 1rem; font-size: 1rem; }
  #status { font-size: .9rem; opacity: .8; }
  #log { font-size: .85rem; max-height: 12rem; overflow: auto; margin: 0; padding-left: 1.2rem; }
</style>
</head>
<body>
<h1>Sandbox conversation</h1>
<div class="tile" id="replica" data-speaking="false" aria-label="Replica">
  <svg class="avatar" viewBox="0 0 96 96" aria-hidden="true">
    <circle cx="48" cy="48" r="48" fill="#6366f1"/>
    <circle cx="34" cy="40" r="6" fill="#f9fafb"/><circle cx="62" cy="40" r="6" fill="#f9fafb"/>
    <path d="M30 62 q18 14 36 0" stroke="#f9fafb" stroke-width="5" fill="none" stroke-linecap="round"/>
  </svg>
  <div class="captions" id="captions" aria-live="polite"></div>
  <div class="badge" id="speaking">Replica: waiting</div>
</div>
<p id="status" role="status">Connecting&hellip;</p>
<form id="say">
  <input type="text" id="text" aria-label="Say something" placeholder="Type what you say&hellip;"
         autocomplete="off" required>
  <button type="submit">Say</button>
  <button type="button" id="leave">Leave</button>
</form>
<div role="log" aria-label="Transcript"><ol id="log"></ol></div>
<script>
(() => {
  const conversationId = __CONVERSATION_ID__;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const wsParams = new URLSearchParams();
  if (params.get("t")) wsParams.set("t", params.get("t"));
  wsParams.set("user_name", params.get("user_name") || "guest");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const path = location.pathname.replace(/\\/$/, "") + "/ws";
  const ws = new WebSocket(`${scheme}//${location.host}${path}?${wsParams}`);
  let replicaId = null;
  const setStatus = (text) => { $("status").textContent = text; };
  const addLine = (who, text) => {
    const item = document.createElement("li");
    item.textContent = `${who}: ${text}`;
    $("log").appendChild(item);
    $("log").scrollTop = $("log").scrollHeight;
  };
  const setSpeaking = (speaking) => {
    $("replica").dataset.speaking = String(speaking);
    $("speaking").textContent = speaking ? "Replica: speaking" : "Replica: listening";
  };
  const onEvent = (event) => {
    const props = event.properties || {};
    switch (event.event_type) {
      case "conversation.replica.started_speaking": setSpeaking(true); $("captions").textContent = ""; break;
      case "conversation.replica.stopped_speaking": setSpeaking(false); break;
      case "conversation.utterance.streaming":
        if (props.role !== "replica") break;
        $("captions").textContent = props.speech || "";
        if (props.final) addLine("replica", (props.speech || "") + (props.is_interrupted ? " (interrupted)" : ""));
        break;
      case "conversation.utterance":
        if (props.role === "user") addLine("user", props.speech); break;
      case "system.shutdown": setStatus(`Conversation ended: ${props.shutdown_reason || ""}`); break;
    }
  };
  ws.onopen = () => setStatus("Connected");
  ws.onclose = (ev) => { setStatus(`Disconnected${ev.reason ? ": " + ev.reason : ""}`); setSpeaking(false); };
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "joined") {
      const replica = frame.participants.find((p) => p.is_replica);
      replicaId = replica ? replica.id : null;
      setStatus(`Joined as ${frame.participant.user_name}`);
      if (replica) setSpeaking(false);
    } else if (frame.type === "participant-joined" && frame.participant.is_replica) {
      replicaId = frame.participant.id; setSpeaking(false);
    } else if (frame.type === "app-message" && frame.fromId === replicaId) {
      onEvent(frame.data);
    } else if (frame.type === "error") {
      setStatus(`Error: ${frame.reason}`);
    } else if (frame.type === "room-closed") {
      setStatus(`Room closed: ${frame.reason}`);
    }
  };
  $("say").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value.trim();
    if (!text || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({type: "app-message", to: "*", data: {
      message_type: "sandbox", event_type: "sandbox.user_speech",
      conversation_id: conversationId, properties: {text}}}));
    $("text").value = "";
  });
  $("leave").addEventListener("click", () => { ws.send(JSON.stringify({type: "leave"})); });
})();
</script>
</body>
</html>
"""


def render_room_page(conversation_id: str) -> str:
    """The HTML page for one room.

    Args:
        conversation_id: The conversation whose room the page joins.
    """
    # JSON is valid JavaScript; escaping `<` keeps the id from ever closing the script tag.
    literal = json.dumps(conversation_id).replace("<", "\\u003c")
    return _PAGE.replace("__TITLE__", html.escape(conversation_id)).replace(
        "__CONVERSATION_ID__", literal
    )
