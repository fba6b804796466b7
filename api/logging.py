"""Logging set-up.

The ORM's query log carries parameter values (phones, names), so it is pinned
at INFO whatever the root level: personal data never reaches the logs.
"""

from __future__ import annotations

import logging
import os

from api.settings import Settings


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("tortoise.db_client").setLevel(logging.INFO)
