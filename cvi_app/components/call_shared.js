// What the call components (DailyCall, SandboxCall) share: the event triggers they fire, the
// participant they report, and the registry that send_app_message reaches them through.
//
// Reflex copies a module's shared assets into a folder named after that module, so each Python
// wrapper links this file beside its own .jsx and `./call_shared.js` resolves for both. A page
// with both components then bundles two copies: keep this module free of state of its own (the
// registry lives on window, where there is one).
import { useCallback, useRef } from "react";

// window.__cviCallFrames: a Map from component id to {kind, sendAppMessage(data, to)}
// (CALL_REGISTRY in daily_call.py, which send_app_message reads).
const REGISTRY = "__cviCallFrames";

function callRegistry() {
  if (!window[REGISTRY]) window[REGISTRY] = new Map();
  return window[REGISTRY];
}

/**
 * Register a mounted call under its `id`, so that send_app_message can reach it.
 *
 * `send(data, to)` sends one app-message (`to` is "*" or a participant id) and returns whether it
 * went out. Returns the function that unregisters the call (unless another took the id since).
 */
export function registerCall(id, kind, send, extra = {}) {
  if (!id) return () => {};
  const entry = { ...extra, kind, sendAppMessage: (data, to = "*") => send(data, to || "*") };
  callRegistry().set(id, entry);
  return () => {
    if (callRegistry().get(id) === entry) callRegistry().delete(id);
  };
}

/**
 * The call's event triggers: `fire("onJoined", participant)` calls the handler prop of that name.
 *
 * Reflex re-creates the handler props on every render: `fire` reads the latest ones and never
 * changes itself, so a new handler does not rejoin the call. A handler that throws is logged
 * and does not break the call.
 */
export function useCallEvents(component, props) {
  const latest = useRef(props);
  latest.current = props;
  return useCallback(
    (name, ...args) => {
      try {
        latest.current[name]?.(...args);
      } catch (error) {
        console.error(`${component} ${name} handler failed`, error);
      }
    },
    [component],
  );
}

/** A participant as the call components report it: {id, user_name, user_id, is_replica}. */
export function participantView({ id, user_name: userName, user_id: userId, is_replica: isReplica }) {
  return {
    id: String(id || ""),
    user_name: String(userName || ""),
    user_id: String(userId || ""),
    is_replica: Boolean(isReplica),
  };
}
