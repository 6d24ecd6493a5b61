"""Helpers for the public pages' browser tests and screenshots: make a page, host it elsewhere."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import Page, expect

from tests.browser.pages import LONG
from tests.support.servers import free_port

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MEDIA = ["camera", "microphone"]
"""The permissions a visitor's browser grants (Chromium's fake devices answer)."""


def make_page(page: Page, url: str, *, title: str, slug: str, **fields: str) -> None:
    """Fill in and save the new-page form on the studio's Public pages."""
    page.goto(f"{url}/deployments")
    page.get_by_role("button", name="New page").click()
    form = page.get_by_role("form", name="Page settings")
    form.get_by_label("Title", exact=True).fill(title)
    form.get_by_label("Address", exact=True).fill(slug)
    for label, value in fields.items():
        control = form.get_by_label(label, exact=True)
        if label == "access":
            form.get_by_label(value).check()
        elif value == "on":
            control.check()
        else:
            control.fill(value)
    form.get_by_role("button", name="Save page").click()
    expect(page.locator(f"[data-page='{slug}']")).to_be_visible(timeout=LONG)


class HostPage:
    """A second local origin serving a page that embeds a public page and records its events."""

    def __init__(self, frame_url: str) -> None:
        html = f"""<!doctype html><html lang="en"><head><title>Host</title></head><body>
<h1>Our shop</h1>
<iframe id="cvi" title="Talk with us" src="{frame_url}" allow="camera; microphone"
        style="width:100%;height:700px;border:0"></iframe>
<ol id="events" aria-label="Host events"></ol>
<script>
window.addEventListener("message", (e) => {{
  if (!e.data || e.data.source !== "cvi-studio") return;
  const li = document.createElement("li");
  li.textContent = e.data.type;
  document.getElementById("events").appendChild(li);
}});
</script></body></html>""".encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        # `localhost`, not 127.0.0.1: another site than the app's, as a customer's shop is.
        return f"http://localhost:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
