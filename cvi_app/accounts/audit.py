"""The audit log: who started, watched, steered, ended and exported what, and when.

Recorded only with accounts on (without them there is nobody to name). Actions are recorded
after they succeeded; a refused action leaves only a log line.
"""

from __future__ import annotations

import logging

from cvi_app.access.caller import Caller
from cvi_app.accounts.queries import add_audit
from cvi_app.store.db import get_engine, run_in_transaction

__all__ = ["record_action"]

logger = logging.getLogger(__name__)


async def record_action(
    caller: Caller, action: str, *, conversation_id: str | None = None, detail: str = ""
) -> None:
    """Record that `caller` did `action` (e.g. "started", "echo", "ended", "exported json")."""
    if not caller.accounts_on or caller.signed_in is None:
        return
    actor = caller.signed_in.email
    try:
        await run_in_transaction(
            get_engine(),
            lambda s: add_audit(
                s, actor=actor, action=action, conversation_id=conversation_id, detail=detail
            ),
        )
    except Exception:
        logger.exception("audit: could not record %s by %s on %s", action, actor, conversation_id)
