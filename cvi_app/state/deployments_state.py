"""The studio's public pages (`/deployments`): list, create, edit, links and embed snippets.

Operators (or, without accounts, the browser running the studio) manage the pages they own;
every handler checks that on the server.
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx
from pydantic import ValidationError

from cvi_app.access.caller import Caller
from cvi_app.accounts.audit import record_action
from cvi_app.deployments.embedding import forget_framing
from cvi_app.deployments.links import link_signer
from cvi_app.deployments.models import ACCESS_KINDS, Deployment, DeploymentForm, form_errors
from cvi_app.deployments.queries import (
    SlugTaken,
    count_live_visits,
    get_owned_deployment,
    list_deployments,
    save_deployment,
)
from cvi_app.presentation.errors import refusal_sentence
from cvi_app.state.app_state import AppState
from cvi_app.state.catalog import cached_catalog
from cvi_app.store.db import get_engine, run_in_transaction

logger = logging.getLogger(__name__)

__all__ = ["DeploymentsState"]

ACCESS_LABELS = {
    "public": "Anyone with the address",
    "code": "An access code",
    "link": "Signed links that expire",
}
_TEXT_FIELDS = (
    "slug",
    "title",
    "intro",
    "logo_url",
    "accent_color",
    "persona_id",
    "replica_id",
    "greeting",
    "context",
    "language",
    "max_live",
    "starts_per_hour",
    "max_duration_s",
    "access",
)
MAX_FORM_VALUE = 25_000


# The page's on/off options (checkboxes: present and "on" when ticked).
_FLAGS = ("captions", "transparent", "record")


def _draft(deployment: Deployment | None) -> dict[str, str]:
    if deployment is None:
        return {
            "slug": "",
            "title": "",
            "intro": "",
            "logo_url": "",
            "accent_color": "#3e63dd",
            "persona_id": "",
            "replica_id": "",
            "greeting": "",
            "context": "",
            "language": "english",
            "captions": "on",
            "transparent": "",
            "record": "",
            "max_live": "5",
            "starts_per_hour": "3",
            "max_duration_s": "600",
            "access": "public",
            "allowed_origins": "",
        }
    draft = {name: str(getattr(deployment, name)) for name in _TEXT_FIELDS}
    for flag in _FLAGS:
        draft[flag] = "on" if getattr(deployment, flag) else ""
    draft["allowed_origins"] = "\n".join(deployment.origins())
    return draft


def _form(data: dict[str, Any]) -> DeploymentForm:
    """The form's fields as a `DeploymentForm` (raises `ValidationError`)."""
    values = {name: str(data.get(name, ""))[:MAX_FORM_VALUE] for name in _TEXT_FIELDS}
    origins = str(data.get("allowed_origins", ""))[:MAX_FORM_VALUE]
    return DeploymentForm.model_validate(
        {
            **values,
            **{flag: bool(data.get(flag)) for flag in _FLAGS},
            "access_code": str(data.get("access_code", ""))[:200],
            "allowed_origins": [o for o in origins.replace(",", "\n").splitlines() if o.strip()],
        }
    )


class DeploymentsState(rx.State):
    """The pages this caller manages, and the form to make or change one."""

    rows: list[dict[str, str]] = []
    allowed: bool = True
    editing: str = ""
    """The slug of the page being edited ("" while making a new one)."""
    form_open: bool = False
    form_key: int = 0
    """Changes whenever the form is opened afresh, so its fields start from `draft`."""
    draft: dict[str, str] = _draft(None)
    has_code: bool = False
    errors: list[str] = []
    personas: list[list[str]] = []
    replicas: list[list[str]] = []
    origin: str = ""
    link_for: str = ""
    link: str = ""
    link_days: str = "7"

    async def _caller(self) -> Caller:
        return await (await self.get_state(AppState)).caller()

    @rx.event
    async def load(self):
        """Read this caller's pages and the personas and replicas a page may use."""
        caller = await self._caller()
        owner = caller.owner_for("drive")
        self.allowed = bool(owner)
        self.origin = self.router.url.origin
        if not owner:
            self.rows = []
            return
        pages = await run_in_transaction(get_engine(), lambda s: list_deployments(s, owner=owner))
        lives = await run_in_transaction(
            get_engine(),
            lambda s: {p.id: count_live_visits(s, deployment_id=p.id or 0) for p in pages},
        )
        self.rows = [
            {
                "slug": p.slug,
                "title": p.title,
                "access": ACCESS_LABELS.get(p.access, p.access),
                "live": f"{lives.get(p.id, 0)} of {p.max_live}",
                "address": f"/p/{p.slug}",
            }
            for p in pages
        ]
        try:
            catalog = await cached_catalog()
        except Exception:
            logger.warning("pages: the catalog could not be read", exc_info=True)
            return
        self.personas = [[pid, name] for pid, name in catalog.personas.items()]
        self.replicas = [[rid, name] for rid, name in catalog.replicas.items()]

    @rx.event
    def new_page(self) -> None:
        """Open an empty form."""
        self.editing, self.draft, self.has_code, self.errors = "", _draft(None), False, []
        self.form_open = True
        self.form_key += 1

    @rx.event
    async def edit(self, slug: str):
        """Open the form on one of this caller's pages."""
        owner = (await self._caller()).owner_for("drive")
        found = await run_in_transaction(
            get_engine(), lambda s: get_owned_deployment(s, slug=slug[:48], owner=owner)
        )
        if found is None:
            return rx.toast.error("That page does not exist any more.")
        self.editing, self.draft, self.errors = found.slug, _draft(found), []
        self.has_code = bool(found.access_code_hash)
        self.form_open = True
        self.form_key += 1
        return None

    @rx.event
    def close_form(self) -> None:
        """Close the form without saving."""
        self.form_open, self.errors = False, []

    @rx.event
    async def save(self, data: dict[str, Any]):
        """Check and store the form; say in plain words what is wrong, field by field."""
        caller = await self._caller()
        owner = caller.owner_for("drive")
        if not owner:
            return rx.toast.error(refusal_sentence(caller, "drive"))
        self.draft = {k: str(v)[:MAX_FORM_VALUE] for k, v in data.items() if k != "access_code"}
        try:
            form = _form(data)
        except ValidationError as exc:
            self.errors = form_errors(exc)
            return None
        if form.access == "code" and not form.access_code and not self.has_code:
            self.errors = ["Access code: choose the code visitors will type."]
            return None
        editing = self.editing or None
        try:
            saved = await run_in_transaction(
                get_engine(),
                lambda s: (
                    save_deployment(
                        s, form=form, owner=owner, created_by=caller.actor, editing=editing
                    ).slug
                ),
            )
        except SlugTaken:
            self.errors = [f"Address: /p/{form.slug} is taken; choose another."]
            return None
        except LookupError:
            self.errors = ["This page does not exist any more."]
            return None
        await record_action(
            caller, "changed page" if editing else "created page", detail=f"/p/{saved}"
        )
        forget_framing(saved)
        if editing:
            forget_framing(editing)
        self.errors, self.form_open = [], False
        await self.load()
        return rx.toast.success(f"Saved. The page is at /p/{saved}.")

    @rx.event
    def set_link_days(self, value: str) -> None:
        """Choose how many days a new signed link lasts."""
        self.link_days = value if value in ("1", "7", "30", "90") else "7"

    @rx.event
    async def make_link(self, slug: str):
        """Make a signed link to a page (for pages whose access is signed links)."""
        owner = (await self._caller()).owner_for("drive")
        found = await run_in_transaction(
            get_engine(), lambda s: get_owned_deployment(s, slug=slug[:48], owner=owner)
        )
        if found is None:
            return rx.toast.error("That page does not exist any more.")
        token = link_signer().page_link(found.slug, valid_for_s=int(self.link_days) * 86400)
        self.link_for = found.slug
        self.link = f"{self.router.url.origin}/p/{found.slug}?k={token}"
        return None

    @rx.var
    def access_kinds(self) -> list[list[str]]:
        """The access choices, with what each means."""
        return [[kind, ACCESS_LABELS[kind]] for kind in ACCESS_KINDS]
