"""The page form: what an operator may set, and the sentence for each refusal."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cvi_app.deployments.models import DeploymentForm, form_errors


def refusals(**fields) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        DeploymentForm.model_validate({"slug": "ok", "title": "Ok", **fields})
    return form_errors(caught.value)


def test_a_good_form_is_cleaned() -> None:
    form = DeploymentForm(
        slug=" Acme-Support ",
        title=" Acme ",
        accent_color="#AABBCC",
        allowed_origins=["https://shop.example.com/", "https://shop.example.com", " "],
    )
    assert form.slug == "acme-support"
    assert form.title == "Acme"
    assert form.accent_color == "#aabbcc"
    assert form.allowed_origins == ["https://shop.example.com"]


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"slug": "-bad"}, "Address: The address may use only lower-case letters"),
        ({"slug": "api"}, "Address: The address 'api' is reserved"),
        ({"title": "   "}, "Title: This cannot be empty"),
        ({"accent_color": "red"}, "Accent colour: The accent colour must look like #3e63dd"),
        ({"logo_url": "http://example.com/logo.png"}, "Logo: The logo must be an https://"),
        ({"logo_url": "//evil.example/logo.png"}, "Logo: The logo must be an https://"),
        ({"allowed_origins": ["https://shop.example.com/path"]}, "is not an origin"),
        ({"allowed_origins": ["*"]}, "is not an origin"),
        ({"allowed_origins": ["javascript:alert(1)"]}, "is not an origin"),
        ({"max_live": 0}, "Conversations at once: at least 1."),
        ({"max_duration_s": 10**6}, "Longest conversation: at most 14400."),
        ({"starts_per_hour": "many"}, "Starts per visitor per hour: a whole number."),
        ({"intro": "x" * 1001}, "Introduction: at most 1000 characters."),
        ({"access": "everyone"}, "Access:"),
    ],
)
def test_each_bad_field_gets_a_plain_sentence(fields, sentence) -> None:
    said = refusals(**fields)
    assert any(sentence in s for s in said), said
