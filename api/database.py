"""Tortoise configuration, start-up and migration.

``TORTOISE_ORM`` is what ``tortoise makemigrations`` / ``tortoise migrate`` read
(see ``[tool.tortoise]`` in pyproject.toml).

SQLite runs in WAL mode with a busy timeout, so a CLI command (``seed``,
``catalog import``) can write while ``ordergraph serve`` holds the same file:
readers never block the writer, and a writer waits up to ``busy_timeout``
ms for another one instead of failing with "database is locked". Tortoise's
SQLite client runs every extra key of its ``credentials`` as a
``PRAGMA key=value`` on connect; keys given in the URL query win. The
pragmas alone are not enough: a transaction must also take the write lock
when it begins, see ``api.sqlite_engine``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from api.settings import DEFAULT_DATABASE_URL


#: Pragmas every SQLite connection starts with (see the module docstring).
SQLITE_PRAGMAS: dict[str, Any] = {"journal_mode": "WAL", "busy_timeout": 5000, "foreign_keys": "ON"}


#: PostgreSQL connections one process may hold (``?maxsize=N`` in the URL wins). Tortoise's default of 5 was
#: the ceiling of a busy server: intake, the webhook sender, the WMS pusher, the sweeps and the pollers all wait
#: for one of them, and at a peak the pusher got a turn about once a second.
POSTGRES_POOL_MAXSIZE = 20


def _connection(database_url: str) -> str | dict[str, Any]:
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    if database_url.startswith("postgres://"):
        config = expand_db_url(database_url)
        config["credentials"].setdefault("maxsize", POSTGRES_POOL_MAXSIZE)
        return config
    if not database_url.startswith("sqlite://"):
        return database_url
    config = expand_db_url(database_url)
    config["engine"] = "api.sqlite_engine"
    for pragma, value in SQLITE_PRAGMAS.items():
        config["credentials"].setdefault(pragma, value)
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {"models": {"models": ["models"], "migrations": "models.migrations", "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)


def _ensure_sqlite_folder(database_url: str) -> None:
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


async def init_db(database_url: str) -> None:
    """Connect. The global fallback makes the context visible to every request task."""
    _ensure_sqlite_folder(database_url)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def migrate(database_url: str) -> None:
    """Apply the committed migrations (idempotent)."""
    _ensure_sqlite_folder(database_url)
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


async def close_db() -> None:
    """Close the pool and release the global context (so a later ``init_db`` may set it again)."""
    await Tortoise.close_connections()


async def ping() -> None:
    """Raise if the database does not answer."""
    await connections.get("default").execute_query("SELECT 1")


async def with_db(settings: Any, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` with the database of ``settings`` connected (the CLI's commands)."""
    await init_db(settings.database_url)
    try:
        await work()
    finally:
        await close_db()
