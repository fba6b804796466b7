"""One ``Settings`` object, read from environment variables with sane defaults.

    DATABASE_URL   sqlite://var/ordergraph.sqlite3 (default) or postgres://user@host:5432/db
    REDIS_URL      redis://127.0.0.1:6379/0 to fan events out across processes (optional)
    ORDERGRAPH_ENV development (default) or production: no GraphiQL, no introspection, masked errors
    HOST, PORT     where ``ordergraph serve`` listens (127.0.0.1:8000)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite://var/ordergraph.sqlite3"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    max_query_depth: int = 12
    max_aliases: int = 20
    max_tokens: int = 3000
    max_subscriptions_per_connection: int = 20
    max_page_size: int = 100
    key_cache_seconds: float = 10.0
    poll_interval: float = 0.25
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=os.environ.get("REDIS_URL") or None,
            env=os.environ.get("ORDERGRAPH_ENV", "development"),
            host=os.environ.get("HOST", "127.0.0.1"),
            port=_int("PORT", 8000),
            max_query_depth=_int("ORDERGRAPH_MAX_DEPTH", 12),
            max_aliases=_int("ORDERGRAPH_MAX_ALIASES", 20),
            max_tokens=_int("ORDERGRAPH_MAX_TOKENS", 3000),
            max_subscriptions_per_connection=_int("ORDERGRAPH_MAX_SUBSCRIPTIONS", 20),
        )
