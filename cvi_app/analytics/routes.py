"""`GET /api/insights.csv`: the per-conversation figures of an insights range, as CSV."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from cvi_app.access.owner_cookie import OwnerCookies
from cvi_app.accounts.audit import record_action
from cvi_app.accounts.sessions import caller_from_header
from cvi_app.accounts.sign_in_cookie import SignInCookies
from cvi_app.analytics.insights import figures_csv
from cvi_app.analytics.ranges import RangeError, parse_query
from cvi_app.analytics.reading import insights_figures
from cvi_app.store.db import get_engine, run_in_transaction
from cvi_app.store.types import utc_now

__all__ = ["INSIGHTS_CSV_PATH", "insights_routes"]

logger = logging.getLogger(__name__)

INSIGHTS_CSV_PATH = "/api/insights.csv"


def insights_routes(*, cookies: OwnerCookies, sign_ins: SignInCookies) -> list[Route]:
    """The CSV download, for the app or a test server (who asks is checked per request)."""

    async def download(request: Request) -> Response:
        caller = await caller_from_header(
            request.headers.get("cookie"), owners=cookies, sign_ins=sign_ins
        )
        if not caller.may("read"):
            return PlainTextResponse("Sign in to download the insights.", status_code=403)
        params = request.query_params
        try:
            query = parse_query(
                params.get("from"), params.get("to"), params.get("persona"), today=utc_now().date()
            )
        except RangeError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        owner = caller.owner_for("read")
        try:
            figures, _total = await run_in_transaction(
                get_engine(), lambda s: insights_figures(s, owner=owner, query=query)
            )
        except Exception:
            logger.exception("insights CSV failed")
            return PlainTextResponse("The figures could not be computed.", status_code=500)
        await record_action(
            caller, "exported insights", detail=f"{query.first_day} to {query.last_day}"
        )
        name = f"insights-{query.first_day}-{query.last_day}.csv"
        return Response(
            figures_csv(figures),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return [Route(INSIGHTS_CSV_PATH, download, methods=["GET"], name="insights_csv")]
