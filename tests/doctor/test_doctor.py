"""`make doctor` against real parts: the sandbox REST API over HTTP standing in for Tavus, real
SQLite files, the test run's Redis, a real child interpreter for daily-python, and the command
itself in a subprocess."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from alembic import command
from cvi_app.config import Settings, load_settings
from cvi_app.doctor import (
    CheckResult,
    check_api,
    check_daily,
    check_database,
    check_public_url,
    check_redis,
    check_settings,
    mask_secrets,
    run_checks,
)
from cvi_app.sandbox.app import create_sandbox_app, sandbox_of
from cvi_app.store.migrate import alembic_config
from tests.support.redis_server import RedisServer
from tests.support.servers import free_port, serve_asgi

ROOT = Path(__file__).resolve().parents[2]
KEY = "doctor-key-Zq8Lw3vN"
WRONG_KEY = "doctor-wrong-Kp2Xr7"
WEBHOOK_SECRET = "doctor-webhook-secret-0123456789"
SECRET_KEY = "doctor-secret-key-0123456789abcdefghij"

MakeSettings = Callable[..., Settings]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("TAVUS_", "CVI_")) or name in ("REFLEX_REDIS_URL", "REFLEX_DB_URL"):
            monkeypatch.delenv(name)
    # Set, so that loading the settings never writes the generated ones under .data/.
    monkeypatch.setenv("CVI_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("CVI_SECRET_KEY", SECRET_KEY)


@pytest.fixture
def settings_with(monkeypatch: pytest.MonkeyPatch) -> MakeSettings:
    def make(**env: str) -> Settings:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return load_settings()

    return make


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, Starlette]]:
    """The sandbox served over HTTP at both `/v2` (as Tavus) and `/sandbox/v2` (as mounted)."""
    app = create_sandbox_app(api_key=KEY, prefixes=("", "/sandbox"), words_per_second=1000.0)
    with serve_asgi(app, lifespan="on") as root:
        yield root, app


@pytest.fixture
def migrated(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "migrated.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def counts(root: str) -> tuple[int, int]:
    """How many personas and replicas the sandbox has, asked directly."""
    headers = {"x-api-key": KEY}
    personas = httpx.get(f"{root}/v2/personas", params={"limit": 100}, headers=headers)
    replicas = httpx.get(f"{root}/v2/replicas", params={"limit": 100}, headers=headers)
    return personas.json()["total_count"], replicas.json()["total_count"]


def printed(results: list[CheckResult]) -> str:
    return "\n".join(result.line() for result in results)


# --- the API ----------------------------------------------------------------------------------


def test_a_key_the_api_accepts_is_ok_with_counts_of_personas_and_replicas(
    sandbox: tuple[str, Starlette], settings_with: MakeSettings
) -> None:
    root, _ = sandbox
    settings = settings_with(TAVUS_API_KEY=KEY, TAVUS_API_BASE=f"{root}/v2")
    result = check_api(settings)
    personas, replicas = counts(root)
    assert personas > 0 and replicas > 0
    assert result.status == "ok", result.line()
    assert result.message == (
        f"Tavus API at {root}/v2: key accepted, {personas} personas, {replicas} replicas"
    )
    assert KEY not in result.line()


def test_a_refused_key_fails_with_where_to_get_one(
    sandbox: tuple[str, Starlette], settings_with: MakeSettings
) -> None:
    root, _ = sandbox
    settings = settings_with(TAVUS_API_KEY=WRONG_KEY, TAVUS_API_BASE=f"{root}/v2")
    result = check_api(settings)
    assert result.status == "fail"
    assert result.line() == (
        "FAIL  Tavus API key refused (401). "
        "Fix: check TAVUS_API_KEY at https://platform.tavus.io/api-keys"
    )


def test_an_unreachable_base_fails_quickly_in_plain_words(settings_with: MakeSettings) -> None:
    port = free_port()
    settings = settings_with(TAVUS_API_KEY=KEY, TAVUS_API_BASE=f"http://127.0.0.1:{port}/v2")
    started = time.monotonic()
    result = check_api(settings)
    assert time.monotonic() - started < 3
    assert result.status == "fail"
    assert result.message == (
        f"Tavus API at http://127.0.0.1:{port}/v2 is not reachable: "
        f"nothing accepts connections at 127.0.0.1:{port} (connection refused)"
    )
    assert result.fix is not None and "TAVUS_API_BASE" in result.fix
    assert "Traceback" not in result.line() and "Errno" not in result.line()


def test_an_api_that_does_not_answer_in_time_fails_within_the_timeout(
    sandbox: tuple[str, Starlette], settings_with: MakeSettings
) -> None:
    root, app = sandbox
    sandbox_of(app).registry.faults.inject("/personas", delay=3.0)
    settings = settings_with(TAVUS_API_KEY=KEY, TAVUS_API_BASE=f"{root}/v2")
    started = time.monotonic()
    result = check_api(settings, timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert result.status == "fail"
    assert result.message == f"Tavus API at {root}/v2: no answer within 0.5 s"


def test_the_mounted_sandbox_not_running_is_information_not_failure(
    settings_with: MakeSettings,
) -> None:
    port = free_port()
    settings = settings_with(CVI_PUBLIC_URL=f"http://127.0.0.1:{port}")
    result = check_api(settings)
    assert result.status == "info"
    assert result.message == (
        f"Sandbox API at http://127.0.0.1:{port}/sandbox/v2: "
        "not running (start the app with make run)"
    )


def test_the_running_mounted_sandbox_is_checked_like_tavus(
    sandbox: tuple[str, Starlette], settings_with: MakeSettings
) -> None:
    root, _ = sandbox
    settings = settings_with(CVI_PUBLIC_URL=root, CVI_SANDBOX_API_KEY=KEY)
    result = check_api(settings)
    personas, replicas = counts(root)
    assert result.status == "ok", result.line()
    assert result.message == (
        f"Sandbox API at {root}/sandbox/v2: key accepted, {personas} personas, {replicas} replicas"
    )


def test_the_running_mounted_sandbox_with_the_apps_own_random_key_is_seen_answering(
    sandbox: tuple[str, Starlette], settings_with: MakeSettings
) -> None:
    root, _ = sandbox
    result = check_api(settings_with(CVI_PUBLIC_URL=root))
    assert result.status == "info"
    assert result.message.startswith(f"Sandbox API at {root}/sandbox/v2: running;")
    assert "CVI_SANDBOX_API_KEY" in result.message


def test_a_sandbox_service_is_checked_with_its_key(
    sandbox: tuple[str, Starlette], settings_with: MakeSettings
) -> None:
    root, _ = sandbox
    result = check_api(settings_with(CVI_SANDBOX_URL=root, CVI_SANDBOX_API_KEY=KEY))
    assert result.status == "ok", result.line()
    assert result.message.startswith(f"Sandbox service API at {root}/sandbox/v2: key accepted, ")


def test_a_sandbox_service_refusing_the_key_fails_naming_the_variable(
    sandbox: tuple[str, Starlette], settings_with: MakeSettings
) -> None:
    root, _ = sandbox
    result = check_api(settings_with(CVI_SANDBOX_URL=root, CVI_SANDBOX_API_KEY=WRONG_KEY))
    assert result.status == "fail"
    assert result.message == "Sandbox service API key refused (401)"
    assert result.fix == "set CVI_SANDBOX_API_KEY to the key the sandbox service accepts"


def test_an_unreachable_sandbox_service_fails_with_how_to_start_it(
    settings_with: MakeSettings,
) -> None:
    port = free_port()
    settings = settings_with(CVI_SANDBOX_URL=f"http://127.0.0.1:{port}", CVI_SANDBOX_API_KEY=KEY)
    result = check_api(settings)
    assert result.status == "fail"
    assert "(connection refused)" in result.message
    assert result.fix is not None and "python -m cvi_app.sandbox" in result.fix
    assert "CVI_SANDBOX_URL" in result.fix
    assert KEY not in result.line()


# --- the database -----------------------------------------------------------------------------


def test_a_migrated_database_is_ok(migrated: str) -> None:
    result = check_database(migrated)
    assert result.status == "ok", result.line()
    assert "at the latest migration" in result.message


def test_an_empty_database_fails_with_make_migrate(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    result = check_database(f"sqlite:///{path}")
    assert result.status == "fail"
    assert result.message.endswith("has no migration applied")
    assert result.fix == "make migrate"


def test_a_database_file_that_does_not_exist_fails_and_is_not_made(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "cvi.db"
    result = check_database(f"sqlite:///{path}")
    assert result.status == "fail"
    assert result.fix == "make migrate"
    assert not path.exists() and not path.parent.exists()


def test_a_database_behind_the_latest_migration_fails_with_make_migrate(migrated: str) -> None:
    command.downgrade(alembic_config(migrated), "-1")
    result = check_database(migrated)
    assert result.status == "fail"
    assert "behind the latest" in result.message
    assert result.fix == "make migrate"


def test_an_unreachable_database_fails_in_plain_words_without_its_password() -> None:
    port = free_port()
    url = f"postgresql+psycopg://cvi:hunter2pw@127.0.0.1:{port}/cvi_studio"
    started = time.monotonic()
    result = check_database(url)
    assert time.monotonic() - started < 5
    assert result.status == "fail"
    assert result.message == (
        f"Database postgresql+psycopg://***@127.0.0.1:{port}/cvi_studio is not reachable: "
        f"nothing accepts connections at 127.0.0.1:{port} (connection refused)"
    )
    assert "hunter2pw" not in result.line()


# --- Redis ------------------------------------------------------------------------------------


def test_a_reachable_redis_answers_ping(redis_server: RedisServer) -> None:
    result = check_redis(redis_server.url, db_url="postgresql+psycopg://cvi@db/cvi")
    assert result.line() == f"ok    Redis at {redis_server.url} answers PING"


def test_redis_beside_a_sqlite_database_is_a_warning(redis_server: RedisServer) -> None:
    result = check_redis(redis_server.url, db_url="sqlite:///.data/cvi_studio.db")
    assert result.status == "warn"
    assert result.fix is not None and "PostgreSQL" in result.fix


def test_an_unreachable_redis_fails_quickly_without_its_password() -> None:
    port = free_port()
    started = time.monotonic()
    result = check_redis(f"redis://:s3cretpw@127.0.0.1:{port}/0")
    assert time.monotonic() - started < 3
    assert result.status == "fail"
    assert result.message == (
        f"Redis at redis://***@127.0.0.1:{port}/0 is not reachable: "
        f"nothing accepts connections at 127.0.0.1:{port} (connection refused)"
    )
    assert "s3cretpw" not in result.line()


def test_without_a_redis_url_the_redis_check_is_skipped() -> None:
    result = check_redis(None)
    assert result.status == "info"
    assert "skipped" in result.message


# --- the public URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://localhost:8000", "http://127.0.0.1:8000", "https://10.1.2.3", "http://studio"]
)
def test_a_local_public_url_in_tavus_mode_is_a_warning(
    url: str, settings_with: MakeSettings
) -> None:
    result = check_public_url(settings_with(TAVUS_API_KEY=KEY, CVI_PUBLIC_URL=url))
    assert result.line() == (
        f"warn  Public URL {url} is not reachable from Tavus: webhooks will not arrive. "
        "Fix: set CVI_PUBLIC_URL to an https address Tavus can reach (e.g. a tunnel)"
    )


def test_a_public_https_address_in_tavus_mode_is_ok(settings_with: MakeSettings) -> None:
    result = check_public_url(settings_with(TAVUS_API_KEY=KEY, CVI_PUBLIC_URL="https://8.8.8.8"))
    assert result.status == "ok", result.line()


def test_localhost_is_fine_in_sandbox_mode(settings_with: MakeSettings) -> None:
    result = check_public_url(settings_with(CVI_PUBLIC_URL="http://localhost:8000"))
    assert result.status == "ok"


def test_localhost_is_a_warning_when_the_sandbox_service_is_on_another_machine(
    settings_with: MakeSettings,
) -> None:
    settings = settings_with(
        CVI_SANDBOX_URL="http://sandbox.example.com:8100", CVI_SANDBOX_API_KEY=KEY
    )
    result = check_public_url(settings)
    assert result.status == "warn"
    assert "sandbox service" in result.message


# --- daily-python -----------------------------------------------------------------------------


def test_daily_python_initialises_in_tavus_mode(settings_with: MakeSettings) -> None:
    result = check_daily(settings_with(TAVUS_API_KEY=KEY))
    assert result.status == "ok", result.line()
    assert result.message.endswith("imports and initialises")


def test_daily_python_is_only_information_in_sandbox_mode(settings_with: MakeSettings) -> None:
    result = check_daily(settings_with())
    assert result.status == "info"
    assert "only needed in tavus mode" in result.message


def test_an_interpreter_without_daily_python_fails_in_tavus_mode(
    settings_with: MakeSettings,
) -> None:
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("no system python3 to try")
    probe = subprocess.run([python, "-c", "import daily"], capture_output=True, check=False)
    if probe.returncode == 0:
        pytest.skip("the system python3 has daily-python")
    result = check_daily(settings_with(TAVUS_API_KEY=KEY), python=python)
    assert result.status == "fail"
    assert result.message.startswith("daily-python is not installed")
    assert result.fix is not None and result.fix.startswith("make setup")
    sandbox_result = check_daily(settings_with(TAVUS_API_KEY=""), python=python)
    assert sandbox_result.status == "info"


# --- settings, masking and the whole run --------------------------------------------------------


def test_a_bad_variable_is_named_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAVUS_API_BASE", "ftp://tavus")
    result, settings = check_settings()
    assert settings is None
    assert result.status == "fail"
    assert result.message.startswith("Settings: TAVUS_API_BASE: ")
    assert "Traceback" not in result.line()


def test_a_bad_secret_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVI_SECRET_KEY", "short-secret-xyz")
    result, _ = check_settings()
    assert result.status == "fail"
    assert "CVI_SECRET_KEY" in result.message
    assert "short-secret-xyz" not in result.line()


def test_secrets_and_url_credentials_are_masked() -> None:
    text = "key abcd1234 at postgresql+psycopg://ada:pw@db/x and redis://:pw2@r:6379/0"
    assert mask_secrets(text, ["abcd1234"]) == (
        "key *** at postgresql+psycopg://***@db/x and redis://***@r:6379/0"
    )


def test_run_checks_reports_every_check_in_order(
    sandbox: tuple[str, Starlette],
    settings_with: MakeSettings,
    migrated: str,
    redis_server: RedisServer,
) -> None:
    root, _ = sandbox
    settings = settings_with(TAVUS_API_KEY=KEY, TAVUS_API_BASE=f"{root}/v2")
    results = run_checks(settings, db_url=migrated, environ={"REFLEX_REDIS_URL": redis_server.url})
    assert [r.name for r in results] == [
        "mode",
        "api",
        "daily",
        "public_url",
        "database",
        "redis",
    ]
    assert [r.status for r in results] == ["ok", "ok", "ok", "warn", "ok", "warn"]
    assert KEY not in printed(results)


# --- the command ------------------------------------------------------------------------------


def run_doctor(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAVUS_", "CVI_")) and k not in ("REFLEX_REDIS_URL", "REFLEX_DB_URL")
    }
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "cvi_app.doctor"],
        cwd=ROOT,
        env={
            **clean,
            "CVI_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CVI_SECRET_KEY": SECRET_KEY,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_passes_with_warnings_and_never_prints_the_key(
    sandbox: tuple[str, Starlette], migrated: str, redis_server: RedisServer
) -> None:
    root, _ = sandbox
    done = run_doctor(
        TAVUS_API_KEY=KEY,
        TAVUS_API_BASE=f"{root}/v2",
        REFLEX_DB_URL=migrated,
        REFLEX_REDIS_URL=redis_server.url,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "ok    Mode: tavus (TAVUS_API_KEY set)" in lines
    assert any(line.startswith(f"ok    Tavus API at {root}/v2: key accepted, ") for line in lines)
    assert any(line.startswith("warn  Public URL http://localhost:8000 ") for line in lines)
    assert any(line.startswith("ok    Database ") for line in lines)
    assert KEY not in done.stdout + done.stderr
    assert SECRET_KEY not in done.stdout and WEBHOOK_SECRET not in done.stdout


def test_the_command_fails_on_a_refused_key_and_never_prints_it(
    sandbox: tuple[str, Starlette], migrated: str
) -> None:
    root, _ = sandbox
    done = run_doctor(TAVUS_API_KEY=WRONG_KEY, TAVUS_API_BASE=f"{root}/v2", REFLEX_DB_URL=migrated)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "FAIL  Tavus API key refused (401). "
        "Fix: check TAVUS_API_KEY at https://platform.tavus.io/api-keys"
    ) in done.stdout.splitlines()
    assert WRONG_KEY not in done.stdout + done.stderr


def test_the_command_fails_on_an_unmigrated_database(tmp_path: Path) -> None:
    done = run_doctor(
        CVI_PUBLIC_URL=f"http://127.0.0.1:{free_port()}",
        REFLEX_DB_URL=f"sqlite:///{tmp_path / 'none.db'}",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert any(
        line.startswith("FAIL  Database ") and line.endswith("Fix: make migrate")
        for line in done.stdout.splitlines()
    )
    assert any(
        line.startswith("info  Sandbox API ") and "not running" in line
        for line in done.stdout.splitlines()
    )


def test_the_command_names_a_bad_variable_and_exits_1() -> None:
    done = run_doctor(TAVUS_API_BASE="tavusapi.com")
    assert done.returncode == 1
    assert done.stdout.startswith("FAIL  Settings: TAVUS_API_BASE: ")
    assert "Traceback" not in done.stdout + done.stderr
