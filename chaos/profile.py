"""A fault profile as data: what the day looks like and what goes wrong in it (YAML).

    profile = load(Path("chaos/profiles/chaos.yaml"))
    profile.messages.duplicate      # 0.05: share of channel pushes sent twice
    profile.incidents[0].kind       # "wms_outage", at "11:00" for 120 s

Two clocks. The *business* clock is the simulated day (``--hours``, compressed
``--speed`` times): when orders arrive, how long a warehouse takes to ship, how
late a delayed push is — all business time, divided by the speed on the wall.
*Incidents* (an outage, throttling, a killed process, a Redis restart) start at
a business time of day but last **wall-clock** seconds (``for``), because what
they test — how fast OrderGraph notices, how it recovers — happens in real
seconds whatever the speed. Durations are written ``90s``, ``2m``, ``1h``.

A bad value is a :class:`ProfileError` naming the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INCIDENT_KINDS = ("wms_outage", "erp_drift", "channel_throttle", "process_kill", "redis_restart")
CHANNEL_KINDS = ("taobao", "pinduoduo", "douyin", "wechat_channels", "amazon", "shopify")
PROFILES = Path(__file__).parent / "profiles"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class ProfileError(ValueError):
    """The profile cannot be used; the message names the key."""


@dataclass(frozen=True)
class Messages:
    """Faults on every push a channel, the WMS or a carrier sends (shares of all pushes)."""

    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    delay_max_s: float = 0.0  # business seconds
    drop: float = 0.0  # channel pushes never sent: only the poller can find those orders
    wms_callback_drop: float = 0.0  # WMS confirmations never sent: only the sweep can find those shipments
    carrier_push_drop: float = 0.0  # carrier pushes never sent: only a tracking query finds those scans
    late_scans: float = 0.0  # parcels whose in-transit scan arrives after a later one


@dataclass(frozen=True)
class Incident:
    kind: str
    at_s: float  # business seconds since the day began
    for_s: float  # wall seconds
    target: str = ""  # the warehouse, channel kind; empty for process and Redis incidents
    share: float = 0.0  # erp_drift: on-hand off by this share
    rate_per_s: float = 0.0  # channel_throttle: the API's allowance meanwhile


@dataclass(frozen=True)
class Profile:
    name: str
    channels: tuple[str, ...] = ("taobao", "pinduoduo", "douyin", "shopify")
    warehouses: tuple[str, ...] = ("SH", "GZ")
    peak_hours: tuple[int, ...] = (10, 11, 20, 21)
    cancel_share: float = 0.03
    ship_after_s: tuple[float, float] = (3600.0, 6 * 3600.0)  # business seconds after the order reached the WMS
    scan_after_s: tuple[float, ...] = (3600.0, 3 * 3600.0, 8 * 3600.0, 10 * 3600.0)  # picked up, in transit, out, delivered
    messages: Messages = field(default_factory=Messages)
    incidents: tuple[Incident, ...] = ()
    settle_s: float = 120.0  # wall seconds the judge waits for convergence after the day without seeing progress
    settle_max_s: float = 1800.0  # wall seconds it waits at most, progress or not
    server: dict[str, str] = field(default_factory=dict)  # extra environment for the OrderGraph processes


def silent_after_hours(profile: Profile, speed: float) -> float:
    """How long (wall hours) a parcel may go without a scan before OrderGraph should ask the carrier: past the
    day's longest normal gap between scans, as the 12 h default is for a real day — so only a parcel whose
    push was lost is asked, not every parcel between two scans."""
    gaps = [later - earlier for earlier, later in zip((0.0, *profile.scan_after_s), profile.scan_after_s)]
    return (max(gaps) / speed * 1.1 + 5.0) / 3600


def load(path: Path | str) -> Profile:
    """Read a profile file; a bare name (``chaos``) means ``chaos/profiles/<name>.yaml``."""
    file = Path(path)
    if not file.is_file() and not file.suffix:
        file = PROFILES / f"{path}.yaml"
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ProfileError(f"{file}: {error}") from None
    return parse(data, default_name=file.stem)


def parse(data: Any, *, default_name: str = "profile") -> Profile:
    if not isinstance(data, dict):
        raise ProfileError("a profile is a mapping")
    _known(data, "", {"name", "channels", "warehouses", "day", "messages", "incidents", "settle", "settle_max", "server"})
    day = _mapping(data.get("day", {}), "day")
    _known(day, "day.", {"peak_hours", "cancel_share", "ship_after", "scans_after"})
    channels = tuple(_list(data.get("channels", list(Profile.channels)), "channels"))
    for kind in channels:
        if kind not in CHANNEL_KINDS:
            raise ProfileError(f"channels: {kind!r} is not one of {', '.join(CHANNEL_KINDS)}")
    warehouses = tuple(str(code) for code in _list(data.get("warehouses", list(Profile.warehouses)), "warehouses"))
    if not warehouses or not channels:
        raise ProfileError("channels and warehouses: at least one each")
    ship_after = _list(day.get("ship_after", ["1h", "6h"]), "day.ship_after")
    if len(ship_after) != 2:
        raise ProfileError("day.ship_after: [shortest, longest]")
    scans = tuple(duration(item, "day.scans_after") for item in _list(day.get("scans_after", ["1h", "3h", "8h", "10h"]),
                                                                       "day.scans_after"))
    if len(scans) != 4 or list(scans) != sorted(scans):
        raise ProfileError("day.scans_after: four growing durations (picked up, in transit, out for delivery, delivered)")
    server = _mapping(data.get("server", {}), "server")
    return Profile(
        name=str(data.get("name") or default_name),
        channels=channels,
        warehouses=warehouses,
        peak_hours=tuple(int(hour) for hour in _list(day.get("peak_hours", list(Profile.peak_hours)), "day.peak_hours")),
        cancel_share=share(day.get("cancel_share", 0.03), "day.cancel_share"),
        ship_after_s=(duration(ship_after[0], "day.ship_after"), duration(ship_after[1], "day.ship_after")),
        scan_after_s=scans,
        messages=_messages(_mapping(data.get("messages", {}), "messages")),
        incidents=tuple(_incident(item, index, warehouses, channels)
                        for index, item in enumerate(_list(data.get("incidents", []), "incidents"))),
        settle_s=duration(data.get("settle", "120s"), "settle"),
        settle_max_s=duration(data.get("settle_max", "30m"), "settle_max"),
        server={str(key): str(value) for key, value in server.items()},
    )


def _messages(data: dict[str, Any]) -> Messages:
    _known(data, "messages.", {"duplicate", "reorder", "delay", "drop", "wms_callback_drop", "carrier_push_drop",
                               "late_scans"})
    delay = data.get("delay", {})
    if isinstance(delay, dict):
        _known(delay, "messages.delay.", {"share", "max"})
        delay_share, delay_max = share(delay.get("share", 0), "messages.delay.share"), duration(delay.get("max", "0s"), "messages.delay.max")
    else:
        raise ProfileError("messages.delay: {share: 0.1, max: 10m}")
    return Messages(
        duplicate=share(data.get("duplicate", 0), "messages.duplicate"),
        reorder=share(data.get("reorder", 0), "messages.reorder"),
        delay=delay_share, delay_max_s=delay_max,
        drop=share(data.get("drop", 0), "messages.drop"),
        wms_callback_drop=share(data.get("wms_callback_drop", 0), "messages.wms_callback_drop"),
        carrier_push_drop=share(data.get("carrier_push_drop", 0), "messages.carrier_push_drop"),
        late_scans=share(data.get("late_scans", 0), "messages.late_scans"),
    )


def _incident(item: Any, index: int, warehouses: tuple[str, ...], channels: tuple[str, ...]) -> Incident:
    where = f"incidents[{index}]"
    data = _mapping(item, where)
    _known(data, f"{where}.", {"kind", "at", "for", "warehouse", "channel", "share", "rate_per_s"})
    kind = data.get("kind")
    if kind not in INCIDENT_KINDS:
        raise ProfileError(f"{where}.kind: one of {', '.join(INCIDENT_KINDS)}")
    target = ""
    if kind in ("wms_outage", "erp_drift"):
        target = str(data.get("warehouse", warehouses[0]))
        if target not in warehouses:
            raise ProfileError(f"{where}.warehouse: {target!r} is not one of the profile's warehouses")
    if kind == "channel_throttle":
        target = str(data.get("channel", channels[0]))
        if target not in channels:
            raise ProfileError(f"{where}.channel: {target!r} is not one of the profile's channels")
    return Incident(kind=kind, at_s=clock(data.get("at"), f"{where}.at"), for_s=duration(data.get("for", "60s"), f"{where}.for"),
                    target=target, share=float(data.get("share", 0.08)),
                    rate_per_s=float(data.get("rate_per_s", 0.5)))


def duration(value: Any, where: str) -> float:
    """``"90s"``, ``"2m"``, ``"1h"``, ``"250ms"`` or a number of seconds -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ProfileError(f"{where}: a duration such as 90s, 2m, 1h (got {value!r})")
    return float(match.group(1)) * _UNITS[match.group(2)]


def clock(value: Any, where: str) -> float:
    """``"11:30"`` (business time of day) -> seconds since the day began."""
    match = re.match(r"^\s*(\d{1,2}):(\d{2})\s*$", str(value))
    if not match or int(match.group(2)) > 59:
        raise ProfileError(f"{where}: a time of day such as 11:30 (got {value!r})")
    return int(match.group(1)) * 3600.0 + int(match.group(2)) * 60.0


def share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ProfileError(f"{where}: a share from 0 to 1 (got {value!r})")
    return float(value)


def _known(data: dict[str, Any], prefix: str, keys: set[str]) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise ProfileError(f"{prefix}{unknown[0]}: unknown key (known: {', '.join(sorted(keys))})")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: a mapping")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProfileError(f"{where}: a list")
    return value
