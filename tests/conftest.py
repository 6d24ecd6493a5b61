"""Fixtures every test folder can use: the real databases (SQLite and PostgreSQL)."""

pytest_plugins = ["tests.support.databases"]
