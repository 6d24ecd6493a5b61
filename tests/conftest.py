"""Fixtures every test folder can use: the real databases (SQLite and PostgreSQL) and Redis."""

pytest_plugins = ["tests.support.databases", "tests.support.redis_server"]
