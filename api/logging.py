"""Logging set-up: personal data and access secrets never reach the logs.

The database drivers' query logs carry parameter values (phones, names), so
they are pinned at INFO whatever the root level. A signed tracking link
(``/track/t/<token>``) opens an order's page for whoever holds it, so the
access log keeps the path and drops the token. The HTTP client's request log
prints whole URLs, and some platforms take their access token in the query
string (WeChat, Douyin, Pinduoduo's router): it is pinned at WARNING.
"""

from __future__ import annotations

import logging
import os
import re

from api.settings import Settings

#: Loggers that print SQL with its parameters at DEBUG.
QUERY_LOGGERS = ("tortoise.db_client", "aiosqlite")
#: Loggers that print request URLs (with their query strings) at INFO or DEBUG.
URL_LOGGERS = ("httpx", "httpcore")

_TRACKING_TOKEN = re.compile(r"(/track(?:/[^/?\s]+)*/t/)[^/?\s]+")


class RedactTrackingTokens(logging.Filter):
    """Rewrite uvicorn's access-log path argument (client, method, path, version, status) without the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], _TRACKING_TOKEN.sub(r"\1[token]", args[2]), *args[3:])
        return True


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for name in QUERY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    for name in URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTrackingTokens) for f in access.filters):
        access.addFilter(RedactTrackingTokens())
