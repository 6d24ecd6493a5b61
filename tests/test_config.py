"""Settings: the mode follows the key, and bad values stop start-up naming the variable."""

import subprocess
import sys
from pathlib import Path

import pytest

from cvi_app.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TAVUS_API_KEY",
        "TAVUS_API_BASE",
        "CVI_PUBLIC_URL",
        "CVI_WEBHOOK_SECRET",
        "CVI_SANDBOX_API_KEY",
        "CVI_SANDBOX_MAX_CONCURRENT",
        "CVI_SANDBOX_WORDS_PER_SECOND",
        "CVI_SANDBOX_TWINS",
        "CVI_SANDBOX_URL",
        "CVI_SANDBOX_PUBLIC_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_without_a_key_the_app_runs_against_its_own_sandbox_api() -> None:
    settings = load_settings()
    assert settings.mode == "sandbox"
    assert settings.api_base == "http://localhost:8000/sandbox/v2"
    assert settings.sandbox_mounted
    assert settings.sandbox_url is None


def test_with_a_sandbox_service_url_the_app_uses_that_service_instead_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CVI_SANDBOX_URL", "http://sandbox.internal:8100/")
    monkeypatch.setenv("CVI_SANDBOX_API_KEY", "shared-sandbox-key")
    settings = load_settings()
    assert settings.mode == "sandbox"
    assert not settings.sandbox_mounted
    assert settings.api_base == "http://sandbox.internal:8100/sandbox/v2"


def test_a_sandbox_service_url_without_the_services_key_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A service without a configured key makes a random one this process cannot know.
    monkeypatch.setenv("CVI_SANDBOX_URL", "http://sandbox.internal:8100")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "CVI_SANDBOX_URL" in str(caught.value)
    assert "CVI_SANDBOX_API_KEY" in str(caught.value)


def test_with_a_tavus_key_a_sandbox_service_url_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TAVUS_API_KEY", "tvs-live-key")
    monkeypatch.setenv("CVI_SANDBOX_URL", "http://sandbox.internal:8100")
    settings = load_settings()
    assert (settings.mode, settings.sandbox_mounted) == ("tavus", False)
    assert settings.api_base == "https://tavusapi.com/v2"


def test_a_blank_key_still_means_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAVUS_API_KEY", "   ")
    assert load_settings().mode == "sandbox"


def test_with_a_key_the_app_talks_to_tavus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAVUS_API_KEY", "tvs-live-key")
    settings = load_settings()
    assert settings.mode == "tavus"
    assert settings.api_base == "https://tavusapi.com/v2"
    assert "tvs-live-key" not in repr(settings)


def test_webhook_url_is_built_from_the_public_url_and_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CVI_PUBLIC_URL", "https://studio.example.com/")
    monkeypatch.setenv("CVI_WEBHOOK_SECRET", "s" * 32)
    assert load_settings().webhook_url() == (
        "https://studio.example.com/api/webhooks/tavus/" + "s" * 32
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("CVI_SANDBOX_MAX_CONCURRENT", "many", "valid integer"),
        ("CVI_SANDBOX_WORDS_PER_SECOND", "-1", "greater than 0"),
        ("CVI_PUBLIC_URL", "ftp://host", "http:// or https://"),
        ("TAVUS_API_BASE", "tavusapi.com", "http:// or https://"),
        ("CVI_SANDBOX_TWINS", "maybe", "boolean"),
        ("CVI_SANDBOX_URL", "sandbox.internal:8100", "http:// or https://"),
        ("CVI_SANDBOX_URL", "http://sandbox.internal:8100/sandbox/v2", "root URL"),
        ("CVI_SANDBOX_PUBLIC_URL", "https://sandbox.example.com/rooms", "origin"),
    ],
)
def test_bad_values_name_the_variable_and_what_it_accepts(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert name in str(caught.value)
    assert says in str(caught.value)


def test_a_short_webhook_secret_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CVI_WEBHOOK_SECRET", "tooshort")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "CVI_WEBHOOK_SECRET" in str(caught.value)
    assert "tooshort" not in str(caught.value)


def test_start_up_stops_on_a_bad_value() -> None:
    env = {"PATH": "/usr/bin:/bin", "CVI_SANDBOX_MAX_CONCURRENT": "zero"}
    result = subprocess.run(
        [sys.executable, "-c", "import cvi_app.cvi_app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "CVI_SANDBOX_MAX_CONCURRENT" in result.stderr


def test_a_generated_webhook_secret_survives_a_restart(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = load_settings().webhook_secret.get_secret_value()
    second = load_settings().webhook_secret.get_secret_value()
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / ".data" / "webhook_secret").stat().st_mode & 0o077 == 0


def _sandbox_keys(env: dict[str, str]) -> list[str]:
    """The key `sandbox_api_key()` gives, asked twice in one fresh process."""
    script = (
        "from cvi_app.config import get_settings, sandbox_api_key; "
        "print(sandbox_api_key()); print(sandbox_api_key()); print(repr(get_settings()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def test_the_sandbox_key_is_the_configured_one() -> None:
    first, second, shown = _sandbox_keys({"CVI_SANDBOX_API_KEY": "configured-sandbox-key"})
    assert first == second == "configured-sandbox-key"
    assert "configured-sandbox-key" not in shown


def test_without_a_configured_key_each_process_makes_its_own_random_one() -> None:
    first, second, shown = _sandbox_keys({})
    other, _, _ = _sandbox_keys({"CVI_SANDBOX_API_KEY": "   "})
    assert first == second
    assert len(first) >= 32
    assert other != first
    assert first not in shown
