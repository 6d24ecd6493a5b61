"""Secrets stay on the server: not in the production bundle, not in any websocket frame."""

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.app_server import ROOT, SECRET_MARKERS

LONG = 30_000


def test_secrets_appear_in_no_frame_and_no_frontend_file(page: Page, app_server) -> None:
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))),
    )
    page.goto(app_server.url)
    page.get_by_role("button", name="Start conversation").click()
    page.wait_for_url("**/room/**", timeout=LONG)
    expect(page.locator("#room-status")).to_have_text("live", timeout=LONG)
    page.get_by_role("textbox", name="Message").fill("Hello")
    page.get_by_role("button", name="Respond").click()
    expect(
        page.get_by_role("log", name="Transcript").get_by_text("Hello", exact=True)
    ).to_be_visible(timeout=LONG)
    assert frames, "no websocket frames were captured"

    build = ROOT / ".web" / "build"
    files = [p for p in build.rglob("*") if p.is_file()]
    assert files, f"no production build under {build}"
    for name, marker in SECRET_MARKERS.items():
        assert not any(marker in frame for frame in frames), f"{name} sent to the browser"
        leaked = [str(p) for p in files if marker.encode() in Path(p).read_bytes()]
        assert not leaked, f"{name} compiled into {leaked}"
