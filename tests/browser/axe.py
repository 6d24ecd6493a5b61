"""axe-core in the browser tests: run it on a page and fail with what it found, readably.

axe-core comes from the npm registry (`make setup` installs it into `.tools/`, pinned in the
Makefile). A test calls `assert_accessible(page)` once the page shows what it should.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from playwright.sync_api import Page

from tests.support.app_server import ROOT

AXE_SCRIPT = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
"""The impacts a page may not have."""

# Plain data back from the page: rule, impact, help, and each offending node's CSS selector and
# axe-core's summary of how to fix it.
_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
    summaries: v.nodes.map((n) => n.failureSummary || ""),
  }));
}"""


@dataclass(frozen=True)
class Violation:
    """One axe-core rule a page breaks, with the elements that break it."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    summaries: tuple[str, ...]

    def describe(self) -> str:
        """The violation as one readable block: rule, impact, what it asks, each element."""
        lines = [f"{self.rule} ({self.impact}): {self.help}"]
        for target, summary in zip(self.targets, self.summaries, strict=True):
            first = summary.splitlines()[1].strip() if summary.count("\n") else summary
            lines.append(f"    {target}  -- {first}")
        return "\n".join(lines)


def _inject(page: Page) -> None:
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `make setup`, which installs it")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))


def axe_violations(page: Page, *, impacts: Iterable[str] = BLOCKING) -> list[Violation]:
    """The axe-core violations on `page` as it is now, only those of the given impacts.

    Args:
        page: A Playwright page showing what should be checked.
        impacts: Which impacts count ("minor", "moderate", "serious", "critical").

    Returns:
        The violations found, in axe-core's order.
    """
    _inject(page)
    wanted = set(impacts)
    return [
        Violation(
            rule=v["rule"],
            impact=v["impact"] or "",
            help=v["help"],
            targets=tuple(v["targets"]),
            summaries=tuple(v["summaries"]),
        )
        for v in page.evaluate(_RUN)
        if v["impact"] in wanted
    ]


def assert_accessible(page: Page, *, where: str = "", impacts: Iterable[str] = BLOCKING) -> None:
    """Fail, listing each rule, impact, element and help text, if axe-core finds a violation.

    Args:
        page: The page to check, once it shows what should be checked.
        where: What the page is (named in the failure message).
        impacts: Which impacts fail the check (serious and critical by default).
    """
    found = axe_violations(page, impacts=impacts)
    if found:
        size = page.viewport_size
        heading = f"axe-core: {len(found)} violation(s) on {where or page.url}"
        if size is not None:
            heading += f" at {size['width']}x{size['height']}"
        raise AssertionError("\n".join([heading, *(v.describe() for v in found)]))


__all__ = ["AXE_SCRIPT", "BLOCKING", "Violation", "assert_accessible", "axe_violations"]
