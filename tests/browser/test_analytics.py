"""A conversation's analytics on its history page, and the insights page, in Chromium."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.pages import LONG, answer_one_turn_and_end, start_conversation


def _finished_conversation(page: Page, url: str) -> str:
    cid = start_conversation(page, url, name="Analytics tour")
    answer_one_turn_and_end(page, "My name is Sam.")
    return cid


def _on_a_phone(page: Page) -> None:
    """Open the same page again as a phone would (charts measure their width when drawn)."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()


def _fact(page: Page, label: str):
    return page.locator(".rt-DataListItem", has_text=label).locator(".rt-DataListValue")


def test_a_finished_conversation_shows_its_figures_and_timeline(
    browser: Browser, app_server
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        cid = _finished_conversation(page, app_server.url)
        page.goto(f"{app_server.url}/history/{cid}")
        section = page.get_by_role("region", name="Analytics")
        expect(section).to_be_visible(timeout=LONG)
        expect(_fact(section, "Answered turns")).to_have_text("1", timeout=LONG)
        expect(_fact(section, "Response latency, median")).to_contain_text(" s")
        expect(_fact(section, "Talk time")).to_contain_text("replica")
        expect(_fact(section, "End reason")).not_to_have_text("not ended yet")
        chart = page.locator("#timeline-chart")
        expect(chart.locator(".recharts-area").first).to_be_visible(timeout=LONG)
        turns = page.get_by_role("region", name="Turns")
        expect(turns).to_contain_text("the user stopped speaking")
        assert_accessible(page, where="the history page with analytics")
        _on_a_phone(page)
        expect(chart.locator(".recharts-area").first).to_be_visible(timeout=LONG)
        page.wait_for_function("document.documentElement.scrollWidth <= 390", timeout=LONG)
        assert_accessible(page, where="the history page with analytics at 390 px")
    finally:
        context.close()


def test_insights_chart_the_days_filter_and_export_csv(browser: Browser, app_server) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        cid = _finished_conversation(page, app_server.url)
        page.goto(f"{app_server.url}/insights")
        figures = page.get_by_label("Insights", exact=True)
        expect(_fact(figures, "Conversations")).to_have_text("1", timeout=LONG)
        expect(page.locator("#chart-per-day .recharts-bar-rectangle").first).to_be_visible()
        expect(page.get_by_role("list", name="End reasons")).to_contain_text(": 1")
        assert_accessible(page, where="the insights page")

        link = page.get_by_role("link", name="Download the figures of each conversation (CSV)")
        download = context.request.get(link.get_attribute("href") or "")
        assert download.status == 200
        rows = list(csv.DictReader(io.StringIO(download.text())))
        assert [r["conversation_id"] for r in rows] == [cid]
        assert rows[0]["turns"] == "1" and float(rows[0]["replica_talk_s"]) > 0

        page.get_by_label("First day").fill("2030-01-02")
        page.get_by_label("Last day").fill("2030-01-01")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("alert")).to_have_text(
            "The first day must be on or before the last day.", timeout=LONG
        )
        _on_a_phone(page)
        expect(page.locator("#chart-per-day .recharts-bar-rectangle").first).to_be_visible(
            timeout=LONG
        )
        page.wait_for_function("document.documentElement.scrollWidth <= 390", timeout=LONG)
        assert_accessible(page, where="the insights page at 390 px")
    finally:
        context.close()
