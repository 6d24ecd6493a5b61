// A browser-side store for a live list (transcript lines or event rows).
//
// Reflex resends a whole var on every change, so the server sends the history once (`feed`,
// on a reset) and each later push once, in one of a ring of slots (`updates`); this component
// keeps the full list in the browser. Each pushed item carries a counter `u`; items are upserted
// by `id` (fields merged), so an item applied twice changes nothing. If updates were missed (a
// gap in `u`), the component calls `onGap` and the server answers with a fresh reset.
//
// An event row can stand for a group of messages (a turn's streaming partials, an echo's
// chunks): each update of it brings the group's `count`, its latest `summary` and the message
// it adds (`message`); the row keeps the first `HEAD` of those as `head` and the last `TAIL`
// after them as `tail`, so it holds a few messages however long its group grows. Its `raw` is
// the first message's JSON until the group is `closed`, then the last one's.
import React, { memo, useEffect, useId, useRef, useState } from "react";

// Rows rendered at first and per "Show earlier": the cost of each update stays that of a
// short list however long the conversation gets. At most MAX_KEPT rows stay in the browser's
// memory (an hour-long call on a phone); older ones are in the conversation's history.
const PAGE = 100;
const MORE_BUTTON = {
  background: "var(--gray-3)",
  border: "1px solid var(--gray-7)",
  borderRadius: "6px",
  padding: "0.2rem 0.6rem",
  color: "var(--gray-12)",
  font: "inherit",
  fontSize: "0.85em",
  cursor: "pointer",
};
const MAX_KEPT = 1000;
const TRIM = 100; // rows dropped at once when over MAX_KEPT, so trimming is rare
const HEAD = 3;
const TAIL = 3;

function merge(item, update) {
  const merged = { ...item, ...update };
  const message = update.message;
  if (message) {
    delete merged.message;
    const head = (item && item.head) || [];
    if (head.length < HEAD) merged.head = [...head, message];
    else merged.tail = [...((item && item.tail) || []), message].slice(-TAIL);
  }
  return merged;
}

// The list with `updates` upserted by id; over MAX_KEPT, the oldest rows are dropped (and
// counted in `s.dropped`) and `s.index` (id -> position) is rebuilt.
function applyUpdates(list, s, updates) {
  let next = list.slice();
  for (const update of updates) {
    const at = s.index.get(update.id);
    if (at === undefined) {
      s.index.set(update.id, next.length);
      next.push(merge(undefined, update));
    } else {
      next[at] = merge(next[at], update);
    }
  }
  if (next.length > MAX_KEPT + TRIM) {
    const drop = next.length - MAX_KEPT;
    next = next.slice(drop);
    s.dropped += drop;
    s.index = new Map(next.map((item, i) => [item.id, i]));
  }
  return next;
}

// Rows off screen skip style, layout and paint (content-visibility), but stay in the
// accessibility tree and reachable by keyboard.
const LINE_STYLE = {
  padding: "0.35rem 0",
  borderBottom: "1px solid var(--gray-4)",
  contentVisibility: "auto",
  containIntrinsicSize: "auto 2rem",
};

const TranscriptLine = memo(function TranscriptLine({ item }) {
  const who = item.role === "user" ? "You" : "Replica";
  // While a line streams, and once it is interrupted, it shows what was actually spoken (the
  // streamed words), not the whole sentence the replica had planned.
  const spoken = item.streamed != null && (item.partial || item.interrupted);
  const text = spoken ? item.streamed : item.text || item.streamed || "";
  return (
    <div
      role="listitem"
      className="cvi-line"
      data-role={item.role}
      data-interrupted={item.interrupted ? "true" : "false"}
      data-partial={item.partial ? "true" : "false"}
      style={LINE_STYLE}
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

// The raw JSON travels compact; it is indented only when a row is opened or copied.
function pretty(raw) {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch (error) {
    return raw;
  }
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

// HH:MM:SS.mmm in the reader's own time zone.
function clock(ms) {
  if (ms == null) return "";
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function Time({ ms }) {
  return ms == null ? <span /> : <time dateTime={new Date(ms).toISOString()}>{clock(ms)}</time>;
}

function Icon({ path }) {
  return (
    <svg aria-hidden="true" width="12" height="12" viewBox="0 0 16 16" fill="none" stroke="currentColor"
      strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" style={{ flex: "none" }}>
      <path d={path} />
    </svg>
  );
}

const ICONS = {
  sent: "M4 12 12 4M6 4h6v6", // an arrow out, up and to the right
  received: "M12 4 4 12M4 6v6h6", // an arrow in, down and to the left
  operator: "M8 7a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5M3 14c0-3 2.2-5 5-5s5 2 5 5", // a person
  copy: "M5 5h8v8H5zM3 11V3h8",
  copied: "M3 8.5 6.5 12 13 4",
};

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // The clipboard API needs a secure context (https or localhost); elsewhere, the old way.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("the browser refused to copy");
  } finally {
    area.remove();
  }
}

function CopyButton({ raw }) {
  const [done, setDone] = useState(null); // null, "copied" or "failed"
  useEffect(() => {
    if (!done) return undefined;
    const timer = setTimeout(() => setDone(null), 1500);
    return () => clearTimeout(timer);
  }, [done]);
  const copy = () => copyText(pretty(raw)).then(() => setDone("copied"), () => setDone("failed"));
  return (
    <button
      type="button"
      className="cvi-event-copy"
      aria-label="Copy as JSON"
      title={done === "failed" ? "Could not copy: the browser refused" : done ? "Copied" : "Copy as JSON"}
      data-copied={done || undefined}
      onClick={copy}
    >
      <Icon path={done === "copied" ? ICONS.copied : ICONS.copy} />
      {done ? <span>{done === "copied" ? "Copied" : "Not copied"}</span> : null}
    </button>
  );
}

// The event rows' layout. In a wide panel: open mark, time, direction, then the type with the
// summary under it; in a narrow one the type and summary go under the time and direction.
const EVENT_CSS = `
.cvi-feed { container: cvi-feed / inline-size; }
.cvi-event { border-bottom: 1px solid var(--gray-4); font-size: 0.85em; content-visibility: auto; contain-intrinsic-size: auto 2.2rem; }
.cvi-event-line { display: flex; align-items: flex-start; gap: 0.25rem; }
.cvi-event button { background: none; border: 0; border-radius: 4px; color: inherit; cursor: pointer; font: inherit; text-align: left; }
.cvi-event button:hover { background: var(--gray-3); }
.cvi-event-cells { flex: 1 1 auto; min-width: 0; display: grid; grid-template-columns: 14.5ch 10ch minmax(0, 1fr); column-gap: 0.5rem; align-items: start; padding: 0.3rem 0.2rem; cursor: pointer; }
.cvi-event-cells:hover { background: var(--gray-2); }
.cvi-event-toggle { display: inline-flex; gap: 0.5em; padding: 0 0.2rem; margin-left: -0.2rem; }
.cvi-event-time { font-variant-numeric: tabular-nums; }
.cvi-event-dir { display: inline-flex; align-items: center; gap: 0.3rem; color: var(--gray-11); }
.cvi-event-what { min-width: 0; overflow-wrap: anywhere; }
.cvi-event-count, .cvi-event-summary, .cvi-event-more, .cvi-event-latest { color: var(--gray-11); }
.cvi-event-summary { display: block; }
.cvi-event .cvi-event-copy { flex: none; display: inline-flex; align-items: center; justify-content: center; gap: 0.25rem; min-width: 24px; min-height: 24px; padding: 0.2rem 0.35rem; color: var(--gray-11); }
.cvi-event-detail { padding: 0.25rem 0 0.4rem 1.5em; }
.cvi-event-detail ul { list-style: none; margin: 0; padding: 0; }
.cvi-event-detail li { display: grid; grid-template-columns: 12.5ch minmax(0, 1fr); column-gap: 0.5rem; overflow-wrap: anywhere; }
.cvi-event-detail p { margin: 0.35rem 0 0; }
.cvi-event-detail pre { white-space: pre-wrap; word-break: break-all; margin: 0.25rem 0; }
@container cvi-feed (max-width: 44rem) {
  .cvi-event-cells { grid-template-columns: 14.5ch minmax(0, 1fr); }
  .cvi-event-what { grid-column: 1 / -1; padding-left: 1.4em; }
}
`;

function Member({ message }) {
  return (
    <li>
      <Time ms={message.at} />
      <span>
        {message.seq != null ? <code>#{message.seq} </code> : null}
        {message.text}
      </span>
    </li>
  );
}

function EventDetail({ id, item, count }) {
  const head = item.head || [];
  const tail = item.tail || [];
  const more = Math.max(0, count - head.length - tail.length);
  return (
    <div id={id} className="cvi-event-detail">
      {count > 1 ? (
        <ul aria-label="Messages in this row">
          {head.map((message, n) => <Member key={`h${n}`} message={message} />)}
          {more ? <li className="cvi-event-more">{more} more</li> : null}
          {tail.map((message, n) => <Member key={`t${n}`} message={message} />)}
        </ul>
      ) : null}
      {count > 1 ? <p className="cvi-event-latest">{item.closed ? "The last message:" : "The first message:"}</p> : null}
      <pre>{pretty(item.raw)}</pre>
    </div>
  );
}

// A type breaks after its dots, not in the middle of a word.
function Type({ type }) {
  const parts = (type || "").split(".");
  return parts.map((part, n) => (
    <React.Fragment key={n}>
      {part}
      {n < parts.length - 1 ? <>.<wbr /></> : null}
    </React.Fragment>
  ));
}

// The row's button (its name is the time, so it never reads like one of the room's controls)
// opens it by keyboard; a click anywhere on the row's line opens it too.
const EventRow = memo(function EventRow({ item }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const count = item.count || 1;
  const dir = item.dir === "sent" || item.dir === "operator" ? item.dir : "received";
  const toggle = () => setOpen((was) => !was);
  const newest = (item.tail && item.tail[item.tail.length - 1]) || (item.head && item.head[item.head.length - 1]);
  const onLineClick = (event) => {
    if (event.target.closest("button") || String(window.getSelection() || "")) return;
    toggle();
  };
  return (
    <div
      role="listitem"
      className="cvi-event"
      data-type={item.type}
      data-dir={dir}
      data-count={count}
      data-last-seq={newest ? newest.seq : item.seq}
    >
      <div className="cvi-event-line">
        <div className="cvi-event-cells" onClick={onLineClick}>
          <button
            type="button"
            className="cvi-event-toggle"
            aria-expanded={open}
            aria-controls={open ? `${id}-detail` : undefined}
            aria-describedby={`${id}-dir ${id}-what`}
            onClick={toggle}
          >
            <span aria-hidden="true">{open ? "▾" : "▸"}</span>
            <span className="cvi-event-time">
              <Time ms={item.at} />
            </span>
          </button>
          <span className="cvi-event-dir" id={`${id}-dir`}>
            <Icon path={ICONS[dir]} />
            {dir}
          </span>
          <span className="cvi-event-what" id={`${id}-what`}>
            <code>
              {item.seq != null ? `#${item.seq} ` : ""}
              <Type type={item.type} />
            </code>
            {count > 1 ? <span className="cvi-event-count"> · {count} messages</span> : null}
            {item.summary ? <span className="cvi-event-summary">{item.summary}</span> : null}
          </span>
        </div>
        <CopyButton raw={item.raw} />
      </div>
      {open ? <EventDetail id={`${id}-detail`} item={item} count={count} /> : null}
    </div>
  );
});

function matches(item, needle) {
  return `${item.dir || ""} ${item.type || ""}`.toLowerCase().includes(needle);
}

// Every pushed item in the ring's slots, oldest first.
function pushedItems(updates) {
  const all = [];
  for (const slot of updates || []) if (slot) for (const item of slot) all.push(item);
  return all.sort((a, b) => a.u - b.u);
}

// Bring the browser's list up to date with the feed's props. Runs during render, so an update
// costs one render, not two (props, then state); it is idempotent (items are taken past `last`
// only), so a render React repeats or drops changes nothing. Returns the gap to report, if any.
function sync(s, feed, updates) {
  if (!feed) return null;
  const pushed = pushedItems(updates);
  if (feed.reset_id !== s.resetId) {
    const history = feed.items || [];
    const base_u = feed.base_u || 0;
    const fresh = pushed.filter((u) => u.u > base_u);
    // More pushes than the ring holds came with this reset (or its history arrived cut):
    // ask for a fresh reset, once, and keep showing what is here meanwhile.
    const missed = history.length !== (feed.count || 0) || (fresh.length && fresh[0].u !== base_u + 1);
    if (missed) {
      if (s.missedReset === feed.reset_id) return null;
      s.missedReset = feed.reset_id;
      return s.last;
    }
    s.resetId = feed.reset_id;
    s.index = new Map();
    s.dropped = 0;
    s.last = fresh.length ? fresh[fresh.length - 1].u : base_u;
    s.items = applyUpdates([], s, [...history, ...fresh]);
    return null;
  }
  const fresh = pushed.filter((u) => u.u > s.last);
  if (!fresh.length) return null;
  const gap = fresh[0].u !== s.last + 1 ? s.last : null;
  s.last = fresh[fresh.length - 1].u;
  s.items = applyUpdates(s.items, s, fresh);
  return gap;
}

export function LiveFeed({ feed, updates, kind, filter, emptyText, historyHref, onGap, ...rest }) {
  const state = useRef(null);
  if (state.current === null) {
    state.current = {
      resetId: null, missedReset: null, last: 0, index: new Map(), dropped: 0, items: [], gaps: 0, gapAt: 0,
    };
  }
  const s = state.current;
  const gap = sync(s, feed, updates);
  if (gap !== null) {
    s.gaps += 1; // each gap reported once, even two in a row at the same point
    s.gapAt = gap;
  }
  const items = s.items;
  // The first row shown when the reader asked for earlier ones (null: the latest PAGE rows).
  const [anchor, setAnchor] = useState(null);
  useEffect(() => {
    if (s.gaps && onGap) onGap(s.gapAt);
  }, [s.gaps]);

  const needle = (filter || "").trim().toLowerCase();
  const shown = needle ? items.filter((item) => matches(item, needle)) : items;
  const anchored = anchor === null ? -1 : shown.findIndex((item) => item.id === anchor);
  const start = anchored >= 0 ? anchored : Math.max(0, shown.length - PAGE);
  const rendered = start ? shown.slice(start) : shown;
  const noun = kind === "events" ? "events" : "lines";
  const showEarlier = () => setAnchor(shown[Math.max(0, start - PAGE)].id);
  // Messages, not rows: a group row stands for `count` of them.
  const messages = shown.reduce((sum, item) => sum + (item.count || 1), 0);
  const dropped = s.dropped;
  return (
    <div className="cvi-feed" {...rest}>
      {kind === "events" ? (
        <style href="cvi-live-feed-events" precedence="default">
          {EVENT_CSS}
        </style>
      ) : null}
      {shown.length === 0 ? <p style={{ color: "var(--gray-11)" }}>{emptyText}</p> : null}
      {dropped && !start ? (
        <p style={{ color: "var(--gray-11)", fontSize: "0.85em" }}>
          Earlier {noun} are in{" "}
          {historyHref ? <a href={historyHref}>the conversation's history</a> : "the conversation's history"}.
        </p>
      ) : null}
      {start || anchored >= 0 ? (
        <div className="cvi-feed-more" style={{ display: "flex", gap: "0.5rem", flexWrap: "wrap", padding: "0.25rem 0" }}>
          {start ? (
            <button type="button" style={MORE_BUTTON} onClick={showEarlier}>
              Show {Math.min(PAGE, start)} earlier {noun}
            </button>
          ) : null}
          {anchored >= 0 ? (
            <button type="button" style={MORE_BUTTON} onClick={() => setAnchor(null)}>
              Show only the latest
            </button>
          ) : null}
        </div>
      ) : null}
      <div role="list" data-count={shown.length} data-messages={messages}>
        {rendered.map((item) =>
          kind === "events" ? <EventRow key={item.id} item={item} /> : <TranscriptLine key={item.id} item={item} />
        )}
      </div>
    </div>
  );
}
