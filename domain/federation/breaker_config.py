"""The stock-drift breaker's settings, kept in the ERP connection's config next to the adapter's own keys.

    threshold, close_after = breaker_settings(erp.config)     # 0.05, 30 minutes by default
    port = systems.erp(erp.adapter, adapter_config(erp.config), key=...)   # the adapter never sees them

``drift_threshold`` is a fraction (0.05 = 5% of SKUs or of units) and
``drift_close_after_minutes`` how long the difference must stay under it
before the breaker closes by itself. Adapters refuse keys they do not know,
so these two are taken out before a config reaches one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

THRESHOLD_KEY = "drift_threshold"
CLOSE_AFTER_KEY = "drift_close_after_minutes"
KEYS = frozenset({THRESHOLD_KEY, CLOSE_AFTER_KEY})
DEFAULT_THRESHOLD = 0.05
DEFAULT_CLOSE_AFTER_MINUTES = 30.0


def adapter_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config without the breaker's keys: what the ERP adapter reads."""
    return {key: value for key, value in config.items() if key not in KEYS}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check(config: Mapping[str, Any]) -> None:
    """Refuse (``ValueError`` naming the key) breaker settings that are not numbers in range."""
    if THRESHOLD_KEY in config and not (_number(config[THRESHOLD_KEY]) and 0 < config[THRESHOLD_KEY] < 1):
        raise ValueError(f"{THRESHOLD_KEY}: a fraction between 0 and 1, e.g. 0.05 for 5%")
    if CLOSE_AFTER_KEY in config and not (_number(config[CLOSE_AFTER_KEY]) and 0 <= config[CLOSE_AFTER_KEY] <= 7 * 24 * 60):
        raise ValueError(f"{CLOSE_AFTER_KEY}: minutes, 0 to 10080")


def breaker_settings(config: Mapping[str, Any]) -> tuple[float, timedelta]:
    """The threshold and the quiet time before closing; defaults where the config says nothing usable."""
    try:
        check(config)
    except ValueError:
        return DEFAULT_THRESHOLD, timedelta(minutes=DEFAULT_CLOSE_AFTER_MINUTES)
    return (float(config.get(THRESHOLD_KEY, DEFAULT_THRESHOLD)),
            timedelta(minutes=float(config.get(CLOSE_AFTER_KEY, DEFAULT_CLOSE_AFTER_MINUTES))))
