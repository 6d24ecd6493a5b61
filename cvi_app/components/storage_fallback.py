"""Keep the app working where the browser refuses it web storage.

A framed page whose browser blocks third-party storage cannot read it: Reflex's frontend reads `localStorage` and `sessionStorage` while it
renders, and a `SecurityError` there would leave an embedded public page blank.

`storage_fallback()` is an inline script for the document head: when reading a storage throws,
that storage is replaced, for this page only, by one kept in memory (what is kept is lost on
reload, which a framed page without storage would lose anyway).
"""

import reflex as rx

__all__ = ["STORAGE_FALLBACK_JS", "storage_fallback"]

STORAGE_FALLBACK_JS = """(function () {
  function memoryStorage() {
    const items = new Map();
    return {
      get length() { return items.size; },
      key(i) { return Array.from(items.keys())[i] ?? null; },
      getItem(k) { return items.has(String(k)) ? items.get(String(k)) : null; },
      setItem(k, v) { items.set(String(k), String(v)); },
      removeItem(k) { items.delete(String(k)); },
      clear() { items.clear(); },
    };
  }
  for (const name of ["localStorage", "sessionStorage"]) {
    try {
      window[name].getItem("cvi");
    } catch (e) {
      try {
        Object.defineProperty(window, name, { value: memoryStorage(), configurable: true });
      } catch (ignored) { /* nothing more can be done */ }
    }
  }
})();"""


def storage_fallback() -> rx.Component:
    """The inline head script (see the module docstring)."""
    return rx.el.script(STORAGE_FALLBACK_JS)
