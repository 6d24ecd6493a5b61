// A browser-side store for a live list (transcript lines or event rows).
//
// Reflex resends a whole list var on every change, so the server keeps only the last few
// updates in state (`window`) and this component keeps the full list in the browser. Each
// update carries a global counter `u`; items are upserted by `id` (fields merged), so an
// update applied twice changes nothing. If updates were missed (a gap in `u`), the component
// calls `onGap` and the server answers with a fresh `reset`.
import React, { memo, useEffect, useLayoutEffect, useRef, useState } from "react";

// Rows kept in the DOM: older ones stay in memory (and in the store) but are not rendered, so
// the cost of each update does not grow with the conversation.
const MAX_RENDERED = 300;

function applyUpdates(list, index, updates) {
  const next = list.slice();
  for (const update of updates) {
    const at = index.get(update.id);
    if (at === undefined) {
      index.set(update.id, next.length);
      next.push(update);
    } else {
      next[at] = { ...next[at], ...update };
    }
  }
  return next;
}

const TranscriptLine = memo(function TranscriptLine({ item }) {
  const who = item.role === "user" ? "You" : "Replica";
  const text = item.streamed != null && item.partial ? item.streamed : item.text || item.streamed || "";
  return (
    <div
      role="listitem"
      className="cvi-line"
      data-role={item.role}
      data-interrupted={item.interrupted ? "true" : "false"}
      data-partial={item.partial ? "true" : "false"}
      style={{ padding: "0.35rem 0", borderBottom: "1px solid var(--gray-4)" }}
    >
      <strong style={{ color: item.role === "user" ? "var(--blue-11)" : "var(--accent-11)" }}>
        {who}
        {item.echo ? " (echo)" : ""}:
      </strong>{" "}
      <span className="cvi-line-text">{text}</span>
      {item.partial ? <span aria-hidden="true"> …</span> : null}
      {item.interrupted ? (
        <span className="cvi-interrupted" style={{ marginLeft: "0.5rem", color: "var(--red-11)", fontSize: "0.8em" }}>
          [interrupted]
        </span>
      ) : null}
    </div>
  );
});

// The raw JSON travels compact; it is indented only when a row is opened.
function pretty(raw) {
  try {
    return JSON.stringify(JSON.parse(raw), null, 1);
  } catch (error) {
    return raw;
  }
}

const EventRow = memo(function EventRow({ item }) {
  const [open, setOpen] = useState(false);
  return (
    <details
      role="listitem"
      className="cvi-event"
      data-type={item.type}
      onToggle={(event) => setOpen(event.currentTarget.open)}
      style={{ padding: "0.2rem 0", borderBottom: "1px solid var(--gray-4)", fontSize: "0.85em" }}
    >
      <summary style={{ cursor: "pointer" }}>
        <code>{item.seq != null ? `#${item.seq} ` : ""}{item.type}</code>
        {item.summary ? <span style={{ color: "var(--gray-11)" }}> {item.summary}</span> : null}
      </summary>
      {open ? (
        <pre style={{ whiteSpace: "pre-wrap", wordBreak: "break-all", margin: "0.25rem 0" }}>{pretty(item.raw)}</pre>
      ) : null}
    </details>
  );
});

export function LiveFeed({ feed, kind, filter, emptyText, onGap, ...rest }) {
  const [items, setItems] = useState([]);
  const state = useRef({ resetId: null, last: 0, index: new Map() });

  useEffect(() => {
    if (!feed) return;
    const s = state.current;
    const updates = feed.window || [];
    if (feed.reset_id !== s.resetId) {
      s.resetId = feed.reset_id;
      s.index = new Map();
      const base = applyUpdates([], s.index, feed.items || []);
      const fresh = updates.filter((u) => u.u > (feed.base_u || 0));
      s.last = fresh.length ? fresh[fresh.length - 1].u : feed.base_u || 0;
      setItems(applyUpdates(base, s.index, fresh));
      return;
    }
    const fresh = updates.filter((u) => u.u > s.last);
    if (!fresh.length) return;
    if (fresh[0].u !== s.last + 1 && onGap) {
      onGap(s.last);
    }
    s.last = fresh[fresh.length - 1].u;
    setItems((list) => applyUpdates(list, s.index, fresh));
  }, [feed]);

  // Follow new rows only while the reader is at the bottom of the scrolling box.
  const list = useRef(null);
  const stick = useRef(true);
  useEffect(() => {
    const box = list.current && list.current.parentElement;
    if (!box) return undefined;
    const onScroll = () => {
      stick.current = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    };
    box.addEventListener("scroll", onScroll, { passive: true });
    return () => box.removeEventListener("scroll", onScroll);
  }, []);
  useLayoutEffect(() => {
    const box = list.current && list.current.parentElement;
    if (box && stick.current) box.scrollTop = box.scrollHeight;
  }, [items]);

  const shown = filter ? items.filter((item) => (item.type || "").includes(filter)) : items;
  const hidden = Math.max(0, shown.length - MAX_RENDERED);
  const rendered = hidden ? shown.slice(hidden) : shown;
  return (
    <div role="list" ref={list} data-count={shown.length} {...rest}>
      {shown.length === 0 ? <p style={{ color: "var(--gray-10)" }}>{emptyText}</p> : null}
      {hidden ? (
        <p style={{ color: "var(--gray-10)", fontSize: "0.85em" }}>
          {hidden} earlier {kind === "events" ? "events" : "lines"} are in the conversation's history.
        </p>
      ) : null}
      {rendered.map((item) =>
        kind === "events" ? <EventRow key={item.id} item={item} /> : <TranscriptLine key={item.id} item={item} />
      )}
    </div>
  );
}
