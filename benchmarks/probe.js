// In-page probe for the benchmarks, installed before the app's own scripts run.
//
// Times are wall-clock milliseconds (performance.timeOrigin + performance.now()), so they can be
// compared with the sandbox's event timestamps after a clock-offset calibration.
// - Reflex websocket (/_event): payload bytes and receive time of every frame from the server;
//   the first frame that carries each event row's `seq`; the send time of watched handlers.
// - Events log: when each event row first appears in the DOM (MutationObserver), with the
//   seq (the benchmark pairs it with the `timestamp` the replica stamped on the event).
// - Floor: one round trip of a cheap handler, from its websocket send to the DOM change.
(() => {
  if (window.__bench) return;
  const now = () => performance.timeOrigin + performance.now();
  const encoder = new TextEncoder();
  const seqPattern = /(?<!\\)"seq": ?(\d+)/g;
  const probe = {
    now,
    frames: [], // [t, bytes]
    seqFrame: {}, // seq -> t of the first Reflex frame carrying its row
    rows: [], // [seq, type, tDom]
    seen: new Set(),
    floor: null, // {send, frame, dom, watch}
    floorSamples: [],
  };
  window.__bench = probe;

  const Native = window.WebSocket;
  class ProbedWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      if (!String(url).includes("/_event")) return;
      this.addEventListener("message", (ev) => {
        const t = now();
        const data = ev.data;
        if (typeof data !== "string") {
          probe.frames.push([t, data.byteLength || data.size || 0]);
          return;
        }
        probe.frames.push([t, encoder.encode(data).length]);
        seqPattern.lastIndex = 0;
        let m;
        while ((m = seqPattern.exec(data)) !== null) {
          const seq = Number(m[1]);
          if (!(seq in probe.seqFrame)) probe.seqFrame[seq] = t;
        }
        const f = probe.floor;
        if (f && f.send !== null && f.frame === null && data.includes(f.watch)) f.frame = t;
      });
    }
    send(data) {
      const f = probe.floor;
      if (f && f.send === null && typeof data === "string" && data.includes(f.handler)) {
        f.send = now();
      }
      return super.send(data);
    }
  }
  window.WebSocket = ProbedWebSocket;

  probe.watchEventRows = (selector) => {
    const root = document.querySelector(selector);
    if (!root) return false;
    const note = (seq, row, t) => {
      if (!Number.isFinite(seq) || probe.seen.has(seq)) return;
      probe.seen.add(seq);
      probe.rows.push([seq, row.dataset.type || "", t]);
    };
    // A row stands for one event, or for a group (a turn's streaming partials, an echo's
    // chunks) that names its first event in its text and its newest in `data-last-seq`.
    const record = (row, t) => {
      const code = row.querySelector("code");
      const match = code ? /^#(\d+) /.exec(code.textContent || "") : null;
      if (match) note(Number(match[1]), row, t);
      if (row.dataset.lastSeq) note(Number(row.dataset.lastSeq), row, t);
    };
    new MutationObserver((mutations) => {
      const t = now();
      for (const mutation of mutations) {
        if (mutation.type === "attributes") {
          if (mutation.target.matches(".cvi-event")) record(mutation.target, t);
          continue;
        }
        for (const node of mutation.addedNodes) {
          if (!(node instanceof Element)) continue;
          if (node.matches(".cvi-event")) record(node, t);
          else node.querySelectorAll(".cvi-event").forEach((row) => record(row, t));
        }
      }
    }).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-last-seq"] });
    root.querySelectorAll(".cvi-event").forEach((row) => record(row, null));
    return true;
  };

  probe.watchAttribute = (selector, attribute) => {
    const node = document.querySelector(selector);
    if (!node) return false;
    new MutationObserver(() => {
      const f = probe.floor;
      if (f && f.send !== null && f.dom === null) f.dom = now();
    }).observe(node, { attributes: true, attributeFilter: [attribute] });
    return true;
  };

  probe.startFloor = (handler, watch) => {
    probe.floor = { handler, watch, send: null, frame: null, dom: null };
  };
  probe.endFloor = () => {
    const f = probe.floor;
    probe.floor = null;
    if (f && f.send !== null && f.dom !== null) probe.floorSamples.push([f.send, f.frame, f.dom]);
    return f;
  };

  probe.take = () => {
    const out = { frames: probe.frames, rows: probe.rows, seqFrame: probe.seqFrame };
    probe.frames = [];
    probe.rows = [];
    return out;
  };
})();
