"""What every protocol message's envelope shares (events, interactions and webhooks)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator

__all__ = ["Envelope"]


class Envelope(BaseModel):
    """The base of every message model: ``"properties": null`` reads as no properties given.

    The model's own default for ``properties`` then applies, as when the key is missing.
    """

    @model_validator(mode="before")
    @classmethod
    def _null_properties_means_none(cls, data: Any) -> Any:
        if isinstance(data, dict) and "properties" in data and data["properties"] is None:
            data = {key: value for key, value in data.items() if key != "properties"}
        return data
