"""Settings from the environment: the one place that knows every variable the app reads.

The mode is not a setting of its own: with `TAVUS_API_KEY` the app talks to Tavus and Daily,
without it the app runs in sandbox mode against a local Tavus-compatible API: its own, mounted
at `/sandbox`, or with `CVI_SANDBOX_URL` the sandbox service (`python -m cvi_app.sandbox`) that
every app process shares.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from cvi_app.tavus.models import RecordingStorage

Mode = Literal["sandbox", "tavus"]

# Where the sandbox REST API is, below the app's own backend (mounted) or the sandbox service's
# root (which serves it there too, beside `/v2`).
SANDBOX_API_PREFIX = "/sandbox/v2"


# Where a generated webhook secret is kept when CVI_WEBHOOK_SECRET is not set, so that webhooks
# for conversations created before a restart (or by another worker) are still accepted.
SECRET_FILE = Path(".data") / "webhook_secret"
# Where the generated key that signs browsers' owner cookies is kept (CVI_SECRET_KEY unset), so
# a restart keeps every browser's conversations its own.
SECRET_KEY_FILE = Path(".data") / "secret_key"

# How many starts a browser, and an address, may make (the `limits` library's notation).
DEFAULT_START_LIMIT_BROWSER = "5/minute;30/hour"
DEFAULT_START_LIMIT_ADDRESS = "20/minute;100/hour"
DEFAULT_SIGN_IN_LIMIT_ACCOUNT = "5/minute;30/hour"
DEFAULT_SIGN_IN_LIMIT_ADDRESS = "20/minute;200/hour"


def stored_webhook_secret(path: Path = SECRET_FILE) -> str:
    """The generated webhook secret, made (readable by this user only) on first use."""
    return stored_secret(path)


def stored_secret(path: Path) -> str:
    """A generated secret kept in `path`, made (readable by this user only) on first use."""
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= 16:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


class ConfigError(RuntimeError):
    """A variable has a value the app cannot use; the message names it and what it accepts."""


class Settings(BaseSettings):
    """Everything the app reads from its environment (see the README's table)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    tavus_api_key: SecretStr | None = Field(default=None, validation_alias="TAVUS_API_KEY")
    tavus_api_base: str = Field(
        default="https://tavusapi.com/v2", validation_alias="TAVUS_API_BASE"
    )
    public_url: str = Field(
        default="http://localhost:8000",
        validation_alias=AliasChoices("CVI_PUBLIC_URL"),
        description="Where Tavus (or the sandbox) reaches this backend, for webhooks.",
    )
    webhook_secret: SecretStr = Field(
        default_factory=lambda: SecretStr(stored_webhook_secret()),
        validation_alias="CVI_WEBHOOK_SECRET",
    )
    sandbox_api_key: SecretStr | None = Field(default=None, validation_alias="CVI_SANDBOX_API_KEY")
    sandbox_max_concurrent: int = Field(
        default=10, ge=1, le=10_000, validation_alias="CVI_SANDBOX_MAX_CONCURRENT"
    )
    sandbox_words_per_second: float = Field(
        default=3.0, gt=0, le=10_000, validation_alias="CVI_SANDBOX_WORDS_PER_SECOND"
    )
    sandbox_twins: bool = Field(default=False, validation_alias="CVI_SANDBOX_TWINS")
    # After `sandbox_api_key` and `tavus_api_key`: its check reads them.
    sandbox_url: str | None = Field(
        default=None,
        validation_alias="CVI_SANDBOX_URL",
        description="Root URL of the sandbox service; unset: the app mounts its own sandbox.",
    )
    sandbox_public_url: str | None = Field(
        default=None,
        validation_alias="CVI_SANDBOX_PUBLIC_URL",
        description="Read by the sandbox service: the origin browsers reach it at.",
    )
    secret_key: SecretStr = Field(
        default_factory=lambda: SecretStr(stored_secret(SECRET_KEY_FILE)),
        validation_alias="CVI_SECRET_KEY",
        description="Signs the owner cookies the server gives browsers.",
    )
    allowed_origins: str = Field(default="", validation_alias="CVI_ALLOWED_ORIGINS")
    dev_pages: bool | None = Field(default=None, validation_alias="CVI_DEV_PAGES")
    start_limit_browser: str = Field(
        default=DEFAULT_START_LIMIT_BROWSER, validation_alias="CVI_START_LIMIT_BROWSER"
    )
    start_limit_address: str = Field(
        default=DEFAULT_START_LIMIT_ADDRESS, validation_alias="CVI_START_LIMIT_ADDRESS"
    )
    live_limit_browser: int = Field(
        default=3, ge=1, le=1000, validation_alias="CVI_LIVE_LIMIT_BROWSER"
    )
    live_limit_team: int = Field(
        default=25,
        ge=1,
        le=100_000,
        validation_alias="CVI_LIVE_LIMIT_TEAM",
        description="Live conversations the whole team may hold at once (with accounts).",
    )
    accounts: bool | None = Field(
        default=None,
        validation_alias="CVI_ACCOUNTS",
        description="Sign-in for the studio; always on in tavus mode, off by default in sandbox.",
    )
    scenario_results: str = Field(
        default="",
        validation_alias="CVI_SCENARIO_RESULTS",
        description="A folder for the kept scenario runs (default: beside the SQLite database).",
    )
    recording_storage: str = Field(
        default="",
        validation_alias="TAVUS_RECORDING_STORAGE",
        description="JSON for Tavus's `recording_storage` (where recorded calls go).",
    )
    sign_in_limit_account: str = Field(
        default=DEFAULT_SIGN_IN_LIMIT_ACCOUNT, validation_alias="CVI_SIGN_IN_LIMIT_ACCOUNT"
    )
    sign_in_limit_address: str = Field(
        default=DEFAULT_SIGN_IN_LIMIT_ADDRESS, validation_alias="CVI_SIGN_IN_LIMIT_ADDRESS"
    )
    tools_module: str | None = Field(
        default=None,
        validation_alias="CVI_TOOLS_MODULE",
        pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$",
        description="The host app's tools: a module (e.g. myapp.tools) whose register(tools) "
        "adds them; imported at start.",
    )

    @field_validator(
        "tavus_api_key",
        "sandbox_api_key",
        "sandbox_url",
        "sandbox_public_url",
        "dev_pages",
        "accounts",
        "tools_module",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("tavus_api_base", "public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("sandbox_url")
    @classmethod
    def _sandbox_service(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        if value.endswith("/v2"):
            raise ValueError(
                "must be the sandbox service's root URL, like http://127.0.0.1:8100 "
                "(the API under it, /sandbox/v2, is found from there)"
            )
        sandbox_mode = info.data.get("tavus_api_key") is None
        if sandbox_mode and "sandbox_api_key" in info.data and info.data["sandbox_api_key"] is None:
            # A service made its own random key at start; this process cannot know it.
            raise ValueError(
                "needs CVI_SANDBOX_API_KEY set to the key the sandbox service accepts "
                "(give the service the same one)"
            )
        return value

    @field_validator("sandbox_public_url")
    @classmethod
    def _public_origin(cls, value: str | None) -> str | None:
        return None if value is None else exact_origin(value)

    @field_validator("webhook_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (it is the webhook URL's only guard)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_key(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator(
        "start_limit_browser",
        "start_limit_address",
        "sign_in_limit_account",
        "sign_in_limit_address",
    )
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                "must be limits like '5/minute' or '5/minute;30/hour' (per second, minute, "
                "hour or day)"
            ) from None
        return value

    @field_validator("recording_storage")
    @classmethod
    def _recording_storage(cls, value: str) -> str:
        if value.strip():
            try:
                RecordingStorage.model_validate_json(value)
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(part) for part in problem["loc"]) or "value"
                raise ValueError(
                    'must be JSON like {"provider": "s3", "bucket_name": "...", '
                    '"bucket_region": "...", "assume_role_arn": "..."} '
                    f"({where}: {problem['msg']})"
                ) from None
        return value.strip()

    @property
    def recording_storage_config(self) -> RecordingStorage | None:
        """Where Tavus stores recorded calls (None: Tavus's default)."""
        if not self.recording_storage:
            return None
        return RecordingStorage.model_validate_json(self.recording_storage)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _split_origins(value):
            if origin_of(origin) != origin:
                raise ValueError(
                    "must be a comma-separated list of origins like https://studio.example.com "
                    "(scheme, host and port only)"
                )
        return value

    @property
    def mode(self) -> Mode:
        """`tavus` when an API key is set, `sandbox` otherwise."""
        return "tavus" if self.tavus_api_key is not None else "sandbox"

    @property
    def accounts_on(self) -> bool:
        """Whether people sign in to the studio.

        Always with Tavus (every start spends credits); in sandbox mode when `CVI_ACCOUNTS`
        turns it on.
        """
        return self.mode == "tavus" or bool(self.accounts)

    @property
    def sandbox_mounted(self) -> bool:
        """Whether this app serves a sandbox of its own (sandbox mode, no `CVI_SANDBOX_URL`)."""
        return self.mode == "sandbox" and self.sandbox_url is None

    @property
    def sandbox_api_base(self) -> str:
        """Base URL of the sandbox REST API: the sandbox service's, else this app's own."""
        return f"{self.sandbox_url or self.public_url}{SANDBOX_API_PREFIX}"

    @property
    def sandbox_service_origins(self) -> list[str]:
        """Origins browsers reach the sandbox service at (its rooms), when the app uses one."""
        if self.mode != "sandbox" or self.sandbox_url is None:
            return []
        origins = [origin_of(self.sandbox_url)]
        if self.sandbox_public_url and self.sandbox_public_url not in origins:
            origins.append(self.sandbox_public_url)
        return origins

    @property
    def api_base(self) -> str:
        """Base URL of the REST API the app talks to in its current mode."""
        return self.tavus_api_base if self.mode == "tavus" else self.sandbox_api_base

    @property
    def secure_cookies(self) -> bool:
        """Whether browsers reach the app over https (cookies are then `Secure`)."""
        return self.public_url.startswith("https://")

    def origins(self, *, frontend_url: str = "http://localhost:3000") -> list[str]:
        """The browser origins allowed to talk to the backend (CORS and the websocket).

        The public URL, the frontend's URL (Reflex's `deploy_url`) and `CVI_ALLOWED_ORIGINS`;
        a localhost origin also admits its 127.0.0.1 twin and the other way round.
        """
        found: list[str] = []
        for url in [self.public_url, frontend_url, *_split_origins(self.allowed_origins)]:
            origin = origin_of(url)
            for candidate in (origin, *_loopback_twins(origin)):
                if candidate and candidate not in found:
                    found.append(candidate)
        return found

    def webhook_url(self, *, secret: str | None = None) -> str:
        """The callback URL given to every conversation the app creates."""
        token = secret if secret is not None else self.webhook_secret.get_secret_value()
        return f"{self.public_url}/api/webhooks/tavus/{token}"


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL (lower-case), or "" when it is not http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname
    default_port = 443 if parts.scheme == "https" else 80
    port = "" if parts.port in (None, default_port) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


def exact_origin(url: str) -> str:
    """`url` as an origin (`scheme://host[:port]`, lower-case), when it is one and no more.

    Raises:
        ValueError: `url` is not http(s), or has a path, query or fragment.
    """
    parts = urlsplit(url.strip().rstrip("/"))
    origin = origin_of(url)
    if not origin or parts.path or parts.query or parts.fragment:
        raise ValueError(
            "must be an origin like https://sandbox.example.com (scheme, host and port; "
            "the paths stay the service's own)"
        )
    return origin


def _split_origins(value: str) -> list[str]:
    return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]


def _loopback_twins(origin: str) -> list[str]:
    for name, twin in (("localhost", "127.0.0.1"), ("127.0.0.1", "localhost")):
        if f"://{name}" in origin:
            return [origin.replace(f"://{name}", f"://{twin}", 1)]
    return []


def load_settings() -> Settings:
    """Read and check the settings; raise `ConfigError` naming each variable that is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "environment"
            shown = "" if _is_secret(name) else f" (got {error.get('input')!r})"
            problems.append(f"{name}: {error['msg']}{shown}")
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(problems)) from exc


def _is_secret(variable: str) -> bool:
    return "KEY" in variable or "SECRET" in variable


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return load_settings()


@functools.cache
def sandbox_api_key() -> str:
    """The only `x-api-key` the app's own sandbox API accepts, the same for the whole process.

    `CVI_SANDBOX_API_KEY` when set; otherwise a random key made on first use and kept in this
    process only (never logged, never sent to a browser).
    """
    configured = get_settings().sandbox_api_key
    if configured is not None and configured.get_secret_value().strip():
        return configured.get_secret_value().strip()
    return secrets.token_urlsafe(32)
