// Host events: what a public page embedded in an <iframe> tells the page around it.
// Messages go only to the origins the page allows to embed it (read from #cvi-host), and only
// when the page is framed. Each message is {source: "cvi-studio", type, page, ...detail}.
(function () {
  const ROOM_EVENTS = {
    "conversation.replica.started_speaking": "cvi.replica_started_speaking",
    "conversation.replica.stopped_speaking": "cvi.replica_stopped_speaking",
    "conversation.tool_call": "cvi.tool_call",
  };
  function target() {
    const el = document.getElementById("cvi-host");
    if (!el || window.parent === window) return null;
    let origins = [];
    try {
      origins = JSON.parse(el.dataset.origins || "[]");
    } catch (e) {
      origins = [];
    }
    return { origins: Array.isArray(origins) ? origins : [], page: el.dataset.page || "" };
  }
  function post(type, detail) {
    const host = target();
    if (!host) return;
    const message = Object.assign({ source: "cvi-studio", type, page: host.page }, detail || {});
    for (const origin of host.origins) {
      try {
        window.parent.postMessage(message, origin); // dropped unless the parent is `origin`
      } catch (e) {
        /* an origin the browser cannot parse: skip it */
      }
    }
  }
  function fromRoom(data) {
    const type = data && ROOM_EVENTS[data.event_type];
    if (!type) return;
    const detail = {};
    if (type === "cvi.tool_call") {
      const name = data.properties && data.properties.name;
      if (typeof name === "string") detail.name = name.slice(0, 64);
    }
    post(type, detail);
  }
  window.__cviHost = { post, fromRoom };
})();
