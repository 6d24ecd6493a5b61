"""Property tests generated from Tavus's OpenAPI document, run against the real sandbox over HTTP.

For every operation the sandbox serves, and its pal/face alias, schemathesis generates requests
from the document (as `openapi_doc.py` narrows it): a valid request is accepted and answered in
the documented response shape; an invalid one gets a 4xx in Tavus's error shape (`{"error": ...}`,
or `{"message": ...}` for 401 and 422); nothing gets a 5xx. The whole sandbox (REST, rooms,
simulated replicas, timers) runs under uvicorn on a free port; webhooks are kept, never sent.
Examples are bounded and derandomized, so a run repeats exactly and takes a few seconds.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import negative_data_rejection

from cvi_app.protocol import Webhook
from cvi_app.sandbox.app import create_sandbox_app
from cvi_app.sandbox.catalog import EXAMPLE_PERSONA_ID, EXAMPLE_REPLICA_IDS, STOCK_REPLICA_IDS
from cvi_app.sandbox.webhooks import WebhookSender
from tests.sandbox.openapi_doc import PATCHED_FIELDS, positive_document, served_document
from tests.support.servers import serve_asgi

API_KEY = "openapi-tests-key"
AUTH = {"x-api-key": API_KEY}
EXAMPLES = 25
REPLICA_IDS = [*STOCK_REPLICA_IDS, *EXAMPLE_REPLICA_IDS]

OPERATIONS = [
    (method.upper(), path)
    for path, item in served_document()["paths"].items()
    for method in item
    if method != "parameters"
]
_IDS = [f"{method} {path}" for method, path in OPERATIONS]

_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


class KeptWebhooks(WebhookSender):
    """Keeps webhooks instead of sending them: generated callback URLs point anywhere."""

    def send(self, url: str, webhook: Webhook) -> None:
        """Drop the webhook (the sandbox has recorded it for `verbose=true` already)."""


@dataclass
class Target:
    """The running sandbox, an authorised client, and resources the cases act on."""

    url: str
    client: httpx.Client
    conversation_id: str
    user_persona_ids: list[str]
    positive: BaseSchema
    negative: BaseSchema

    def fresh_conversation(self) -> str:
        """A new live conversation, for a case that ends or deletes one."""
        return str(self._post("/v2/conversations", {})["conversation_id"])

    def fresh_persona(self) -> str:
        """A new user persona, for a case that deletes one."""
        return str(self._post("/v2/personas", {"persona_name": "Disposable"})["persona_id"])

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=body)
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    """The whole sandbox app served over real HTTP, with a few resources to act on."""
    with _sandbox() as (url, client):
        users = [
            client.post("/v2/personas", json=dict.fromkeys(PATCHED_FIELDS, "x")).json()[
                "persona_id"
            ]
            for _ in range(3)
        ]
        positive = positive_document(
            persona_ids=[EXAMPLE_PERSONA_ID, *users], replica_ids=REPLICA_IDS
        )
        conversation = client.post("/v2/conversations", json={}).json()["conversation_id"]
        yield Target(
            url=url,
            client=client,
            conversation_id=conversation,
            user_persona_ids=users,
            positive=schemathesis.openapi.from_dict(positive),
            negative=schemathesis.openapi.from_dict(served_document()),
        )


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=_IDS)
def test_valid_requests_are_accepted_and_answered_as_documented(
    target: Target, method: str, path: str
) -> None:
    operation = target.positive[path][method]

    @_SETTINGS
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE), data=st.data())
    def check(case: Case, data: st.DataObject) -> None:
        _use_existing_ids(case, target, data)
        response = case.call(base_url=target.url, headers=AUTH)
        assert response.status_code in (200, 204, 304), _described(case, response)
        if response.status_code == 200 and response.content:
            operation.validate_response(response, case=case)

    check()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=_IDS)
def test_invalid_requests_get_a_4xx_in_tavus_error_shape(
    target: Target, method: str, path: str
) -> None:
    operation = target.negative[path][method]

    @_SETTINGS
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), data=st.data())
    def check(case: Case, data: st.DataObject) -> None:
        if case.meta is None or not case.meta.is_negative_at(ParameterLocation.PATH):
            # Judge what was made invalid, not an id that happens not to exist.
            _use_existing_ids(case, target, data)
        headers = None if _negative_auth(case) else AUTH
        response = case.call(base_url=target.url, headers=headers)
        # Refused unless schemathesis itself finds the request valid once sent (e.g. only
        # undeclared query parameters, which a server ignores); never a server error.
        case.validate_response(response, checks=[negative_data_rejection, not_a_server_error])
        if response.status_code >= 400:
            key = "message" if response.status_code in (401, 422) else "error"
            body = response.json()
            assert isinstance(body, dict) and isinstance(body.get(key), str), _described(
                case, response
            )

    check()


def test_the_documents_request_examples_work_verbatim() -> None:
    # Every request example of a served operation, sent as printed, with the path's example id.
    document = served_document()
    sent: list[str] = []
    with _sandbox() as (url, client):
        for method in ("post", "patch", "delete"):
            for path, item in document["paths"].items():
                operation = item.get(method)
                if operation is None or "/pals" in path:
                    continue
                examples = _body_examples(operation) or (
                    [("no body", None)] if method == "delete" else []
                )
                for name, body in examples:
                    where = _with_example_ids(path, item, operation)
                    if where is None:
                        continue
                    response = client.request(method, where, json=body)
                    assert response.status_code in (200, 204), f"{name}: {response.text}"
                    sent.append(f"{method.upper()} {where} {name}")
    assert len(sent) == 7 + 2 + 2 + 1, sent  # conversations, personas, patches, the delete


def test_every_served_operation_is_in_the_document() -> None:
    documented = {(method, path) for method, path in OPERATIONS if "/pals" not in path}
    assert {("GET", "/v2/personas"), ("PATCH", "/v2/personas/{persona_id}")} <= documented
    assert len(OPERATIONS) == 12 + 7  # the documented ones, then the pal/face aliases


# --- helpers --------------------------------------------------------------------------------


def _use_existing_ids(case: Case, target: Target, data: st.DataObject) -> None:
    """Point the case's path at something that exists (fresh for what it would destroy)."""
    params = case.path_parameters
    destroys = case.method.upper() == "DELETE" or case.path.endswith("/end")
    if "conversation_id" in params:
        params["conversation_id"] = (
            target.fresh_conversation() if destroys else target.conversation_id
        )
    for name in ("persona_id", "pal_id"):
        if name not in params:
            continue
        if destroys:
            params[name] = target.fresh_persona()
        elif case.method.upper() == "PATCH":
            params[name] = data.draw(st.sampled_from(target.user_persona_ids))
        else:
            params[name] = data.draw(
                st.sampled_from([EXAMPLE_PERSONA_ID, *target.user_persona_ids])
            )
    for name in ("replica_id", "face_id"):
        if name in params:
            params[name] = data.draw(st.sampled_from(REPLICA_IDS))
    body = case.body
    if (
        (case.method.upper(), case.path) == ("POST", "/v2/conversations")
        and isinstance(body, dict)
        and body.get("persona_id") in target.user_persona_ids
        and not body.get("replica_id")
    ):
        # As at Tavus, a persona without a default replica needs one named (the user personas
        # have none, and a PATCH case may take one away): a valid request names one.
        body["replica_id"] = data.draw(st.sampled_from(REPLICA_IDS))


def _negative_auth(case: Case) -> bool:
    """Whether the case was generated without a valid key (schemathesis drops it on purpose)."""
    return case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)


def _described(case: Case, response: Any) -> str:
    try:
        shown = json.dumps(response.json())[:600]
    except ValueError:
        shown = response.text[:600]
    return f"{response.status_code} {shown}\n{case.as_curl_command(headers=AUTH)[:1200]}"


def _body_examples(operation: dict[str, Any]) -> list[tuple[str, Any]]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return [(name, example["value"]) for name, example in content.get("examples", {}).items()]


def _with_example_ids(path: str, item: dict[str, Any], operation: dict[str, Any]) -> str | None:
    """`path` with each parameter's documented example id; None when one has no example."""
    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
        if parameter.get("in") != "path":
            continue
        example = parameter.get("example", parameter.get("schema", {}).get("example"))
        if example is None or example == "c123456":  # a conversation id that cannot exist
            return None
        path = path.replace(f"{{{parameter['name']}}}", str(example))
    return path


@contextlib.contextmanager
def _sandbox() -> Iterator[tuple[str, httpx.Client]]:
    app = create_sandbox_app(
        api_key=API_KEY,
        max_concurrent=100_000,
        words_per_second=1000.0,
        webhook_sender=KeptWebhooks(),
    )
    with (
        serve_asgi(app, lifespan="on") as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=10) as client,
    ):
        yield url, client
