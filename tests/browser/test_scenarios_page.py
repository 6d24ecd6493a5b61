"""The studio's /scenarios page: the kept scenario runs, at a laptop's and a phone's width."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Browser, expect

from cvi_app.scenarios import EndResult, ScenarioResult, ToolSeen, TurnResult
from cvi_app.scenarios.store import keep_results
from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG

REPLY_FAILURE = (
    "expected the reply to contain 'shipped', it said: \"Here is what lookup_order returned: "
    'order_id: A-1001, status: out for delivery"'
)


def _results_dir(app_server) -> Path:
    """Where the app reads runs: `scenarios/` beside its SQLite database."""
    return Path(app_server.db_url.removeprefix("sqlite:///")).parent / "scenarios"


def _runs() -> tuple[ScenarioResult, ScenarioResult]:
    at = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
    passing = ScenarioResult(
        name="Sandbox Assistant remembers a name",
        source="scenarios/assistant_remembers_name.yaml",
        mode="sandbox",
        persona="Sandbox Assistant (pa1e0c3d5f01)",
        started_at=at,
        turns=[
            TurnResult(index=1, said="My name is Sam", status="passed", reply="Nice to meet you"),
            TurnResult(index=2, said="What is my name?", status="passed", reply="Sam"),
        ],
        end=EndResult(status="passed", reason="end_conversation_endpoint_hit"),
    )
    failing = ScenarioResult(
        name="Support Agent looks up an order",
        source="scenarios/support_agent_order.yaml",
        mode="sandbox",
        persona="Support Agent (pb2f1d4e6a02)",
        started_at=at + timedelta(minutes=5),
        turns=[
            TurnResult(
                index=1,
                said="Where is my order A-1001?",
                status="failed",
                failures=[REPLY_FAILURE, "latency 2.40 s over the 1.5 s bound"],
                tools=[ToolSeen(name="lookup_order", arguments={"order_id": "A-1001"})],
            ),
            TurnResult(
                index=2,
                said="Good morning",
                status="failed",
                failures=["lookup_order was not called"],
            ),
            TurnResult(index=3, said="Thanks", status="passed"),
        ],
        end=EndResult(status="passed", reason="end_conversation_endpoint_hit"),
    )
    return passing, failing


def test_the_page_lists_each_run_with_its_failures_and_reads_well_everywhere(
    browser: Browser, app_server
) -> None:
    directory = _results_dir(app_server)
    shutil.rmtree(directory, ignore_errors=True)
    context = browser.new_context()
    try:
        page = context.new_page()
        # From the insights page's link, by keyboard.
        page.goto(f"{app_server.url}/insights")
        link = page.get_by_role("link", name="Scenario runs")
        link.focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{app_server.url}/scenarios", timeout=LONG)
        expect(page.get_by_role("heading", name="Scenario runs", level=1)).to_be_visible()
        expect(page.locator("#scenarios-empty")).to_be_visible(timeout=LONG)
        assert_accessible(page, where="the scenarios page without runs")

        passing, failing = _runs()
        keep_results([passing, failing], directory)
        page.reload()
        table = page.get_by_role("region", name="Scenario runs")
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(2, timeout=LONG)
        # Newest first.
        expect(rows.nth(0)).to_have_attribute("data-run", failing.run_id)
        bad = table.locator(f"[data-run='{failing.run_id}']")
        expect(bad).to_contain_text("Support Agent looks up an order")
        expect(bad).to_contain_text("scenarios/support_agent_order.yaml")
        expect(bad).to_contain_text("2026-03-14 09:31:53 UTC")
        expect(bad.get_by_text("failed", exact=True)).to_be_visible()
        expect(bad).to_contain_text("1 of 3")
        expect(bad.get_by_role("listitem")).to_have_text(
            [
                f"Turn 1: {REPLY_FAILURE}",
                "Turn 1: latency 2.40 s over the 1.5 s bound",
                "Turn 2: lookup_order was not called",
            ]
        )
        good = table.locator(f"[data-run='{passing.run_id}']")
        expect(good.get_by_text("passed", exact=True)).to_be_visible()
        expect(good).to_contain_text("2 of 2")
        expect(good.get_by_role("listitem")).to_have_count(0)
        assert_accessible(page, where="the scenarios page")

        # The keyboard reaches the table: skip link, main content, then the table's region.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("main")).to_be_focused()
        page.keyboard.press("Tab")
        expect(table).to_be_focused()

        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(rows).to_have_count(2, timeout=LONG)
        page.wait_for_function("document.documentElement.scrollWidth <= 390", timeout=LONG)
        table.focus()
        page.keyboard.press("End")
        assert table.evaluate("el => el.scrollWidth > el.clientWidth")
        assert_accessible(page, where="the scenarios page at 390 px")
        for scheme in ("dark",):
            page.emulate_media(color_scheme=scheme)
            assert_accessible(page, where=f"the scenarios page at 390 px, {scheme}")
    finally:
        context.close()
        shutil.rmtree(directory, ignore_errors=True)
