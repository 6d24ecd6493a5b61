"""The Redis check: it answers PING, when `REFLEX_REDIS_URL` is set."""

from __future__ import annotations

from cvi_app.doctor.masking import _mask_url, mask_secrets
from cvi_app.doctor.network import _network_problem
from cvi_app.doctor.result import DEFAULT_TIMEOUT, CheckResult, _result


def check_redis(
    redis_url: str | None, *, db_url: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> CheckResult:
    """Whether Redis answers PING, when `REFLEX_REDIS_URL` is set (skipped otherwise).

    Args:
        redis_url: The configured Redis URL, or None when none is.
        db_url: The database URL, when known: the cluster shape needs PostgreSQL, not SQLite.
        timeout: Seconds to wait for the connection and the answer.
    """
    if redis_url is None:
        return _result(
            "redis",
            "info",
            "Redis: skipped (REFLEX_REDIS_URL unset: one process with an in-process bus)",
        )
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    shown = _mask_url(redis_url)
    fix = "start Redis, or correct REFLEX_REDIS_URL (make run-cluster starts one here)"
    try:
        client = redis.Redis.from_url(
            redis_url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError as exc:
        return _result(
            "redis",
            "fail",
            f"Redis: REFLEX_REDIS_URL {shown} is not a Redis URL ({mask_secrets(str(exc))})",
            "use a URL like redis://host:6379/0",
        )
    try:
        with client:
            client.ping()
    except redis.AuthenticationError:
        return _result(
            "redis",
            "fail",
            f"Redis at {shown} refused the password",
            "check the password in REFLEX_REDIS_URL",
        )
    except redis.TimeoutError:
        return _result("redis", "fail", f"Redis at {shown}: no answer within {timeout:g} s", fix)
    except redis.ConnectionError as exc:
        return _result(
            "redis",
            "fail",
            f"Redis at {shown} is not reachable: {_network_problem(exc, redis_url, timeout)}",
            fix,
        )
    except redis.RedisError as exc:
        return _result(
            "redis",
            "fail",
            f"Redis at {shown} did not answer PING: {mask_secrets(str(exc))}",
            fix,
        )
    if db_url is not None and db_url.startswith("sqlite"):
        return _result(
            "redis",
            "warn",
            f"Redis at {shown} answers PING, but the database is SQLite: the processes of a "
            "cluster would not share it",
            "set REFLEX_DB_URL to PostgreSQL (postgresql+psycopg://user:password@host/dbname)",
        )
    return _result("redis", "ok", f"Redis at {shown} answers PING")
