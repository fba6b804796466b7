"""Load the sample wire payloads kept next to these tests (decoded exactly, as production does)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from adapters import wire

SAMPLES = Path(__file__).parent / "samples"


def raw(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def load(name: str) -> Any:
    return wire.load_json(raw(name))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)
