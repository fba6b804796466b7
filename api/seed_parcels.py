"""The demo's parcels: carriers with their own waybill formats and wording, and journeys a courier would recognise.

    parcel = plan_parcel(rng, CARRIERS["SF"], "上海", "杭州", "西湖区", shipped_at)
    parcel.waybill, parcel.scans, parcel.estimated_delivery

A journey starts in the shipping warehouse's city and ends in the delivery
address's city: picked up within hours of the hand-over, sorted at the origin
hub, a line-haul of hours to a day or two (by distance), out for delivery the
morning after arriving in the destination city, signed for there. Times are
planned in China local time (couriers work days) and returned in UTC.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone

from domain.statuses import ShipmentStatus as S

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

#: City -> (latitude, longitude, the district its sorting hub is in).
CITIES: dict[str, tuple[float, float, str]] = {
    "上海": (31.23, 121.47, "上海青浦"),
    "广州": (23.13, 113.26, "广州白云"),
    "天津": (39.13, 117.20, "天津武清"),
    "杭州": (30.27, 120.16, "杭州萧山"),
    "深圳": (22.54, 114.06, "深圳宝安"),
    "北京": (39.90, 116.40, "北京顺义"),
    "成都": (30.57, 104.07, "成都双流"),
    "南京": (32.06, 118.80, "南京江宁"),
    "武汉": (30.59, 114.31, "武汉东西湖"),
}
COURIERS = ("王师傅", "李师傅", "张师傅", "刘师傅", "陈师傅", "赵师傅", "周师傅")
SIGNERS = ("本人", "本人", "本人", "家人", "公司前台", "门卫")


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


@dataclass(frozen=True, slots=True)
class Carrier:
    """One carrier: its normalised code, how its waybill numbers look and how its scans read."""

    code: str  # as domain.inbound.carrier_codes.normalize returns it
    name: str
    waybill: Callable[[random.Random], str]
    picked_up: str
    at_hub: str
    leaving_hub: str
    out_for_delivery: str
    signed: str
    hub_suffix: str


CARRIERS: dict[str, Carrier] = {
    "SF": Carrier(
        "SF", "顺丰速运", lambda rng: "SF1" + _digits(rng, 12),
        picked_up="顺丰速运 已收取快件", at_hub="快件到达 【{hub}】",
        leaving_hub="快件已发车，正发往 【{next}】", out_for_delivery="【{district}】快件交给{courier}，正在派送途中",
        signed="快件已签收，签收人：{signer}，感谢使用顺丰", hub_suffix="集散中心",
    ),
    "ZTO": Carrier(
        "ZTO", "中通快递",
        lambda rng: rng.choice(("75", "73", "78")) + _digits(rng, 12) if rng.random() < 0.7 else "7" + _digits(rng, 11),
        picked_up="【{city}】中通快递 已揽收", at_hub="快件已到达 【{hub}】",
        leaving_hub="快件离开 【{hub}】 已发往 【{next}】", out_for_delivery="【{district}】快递员 {courier} 正在派件",
        signed="已签收，签收人：{signer}，感谢使用中通快递", hub_suffix="中转部",
    ),
    "YTO": Carrier(
        "YTO", "圆通速递", lambda rng: "YT" + rng.choice("6789") + _digits(rng, 12),
        picked_up="【{city}】圆通速递 已揽收", at_hub="快件已到达 【{hub}】",
        leaving_hub="快件已从 【{hub}】 发出，准备发往 【{next}】", out_for_delivery="【{district}】{courier} 正在派件",
        signed="快件已签收，签收人：{signer}", hub_suffix="转运中心",
    ),
    "JD": Carrier(
        "JD", "京东物流", lambda rng: "JDV" + _digits(rng, 12) if rng.random() < 0.5 else "JD00" + _digits(rng, 11),
        picked_up="京东快递 已收取快件", at_hub="您的快件已到达 【{hub}】",
        leaving_hub="您的快件在 【{hub}】 分拣完成，发往 【{next}】", out_for_delivery="【{district}】配送员 {courier} 正在为您派件",
        signed="您的快件已签收，签收人：{signer}，感谢您使用京东物流", hub_suffix="分拣中心",
    ),
    "JT": Carrier(
        "JT", "极兔速递", lambda rng: "JT" + rng.choice("3456") + _digits(rng, 12),
        picked_up="【{city}】极兔速递 已揽收", at_hub="快件到达 【{hub}】",
        leaving_hub="快件离开 【{hub}】，发往 【{next}】", out_for_delivery="【{district}】快递员 {courier} 正在派件",
        signed="快件已签收，签收人：{signer}", hub_suffix="转运中心",
    ),
    "EMS": Carrier(
        "EMS", "中国邮政EMS", lambda rng: "11" + _digits(rng, 11) if rng.random() < 0.7 else "E" + rng.choice("ABCMR") + _digits(rng, 9) + "CN",
        picked_up="【{city}】邮政EMS 已收寄", at_hub="到达 【{hub}】",
        leaving_hub="离开 【{hub}】，发往 【{next}】", out_for_delivery="【{district}】投递员 {courier} 正在投递",
        signed="已妥投，签收人：{signer}", hub_suffix="邮件处理中心",
    ),
}


@dataclass(frozen=True, slots=True)
class Scan:
    status: S
    at: datetime  # UTC
    description: str
    location: str  # the city, as warehouses and addresses name it
    raw_code: str  # Kdniao's code for it (State / StateEx), as a push from Kdniao would carry


#: Kdniao codes for each step (see domain.inbound.status_maps.KDNIAO).
PICKED_UP, IN_TRANSIT, ARRIVED_IN_CITY, OUT_FOR_DELIVERY, SIGNED = "1", "2", "201", "202", "301"


@dataclass(frozen=True, slots=True)
class Parcel:
    carrier: str
    waybill: str
    shipped_at: datetime
    estimated_delivery: datetime
    scans: tuple[Scan, ...]  # the whole planned journey, oldest first; the caller keeps what has happened by now


def distance_km(origin: str, destination: str) -> float:
    """Great-circle distance between two known cities."""
    lat1, lng1, _ = CITIES[origin]
    lat2, lng2, _ = CITIES[destination]
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    cosine = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371 * math.acos(max(-1.0, min(1.0, cosine)))


def line_haul_hours(rng: random.Random, origin: str, destination: str) -> float:
    """Hub to hub: none in one city, hours nearby, a day or two across the country."""
    km = distance_km(origin, destination)
    if origin == destination:
        return 0.0
    if km < 300:
        return rng.uniform(4, 9)
    if km < 1200:
        return rng.uniform(12, 24)
    return rng.uniform(24, 42)


def hub(carrier: Carrier, city: str) -> str:
    return CITIES[city][2] + carrier.hub_suffix


def _next_morning(moment: datetime, rng: random.Random) -> datetime:
    """A courier's round on the day after ``moment`` (China time), between 08:00 and 10:30."""
    local = moment.astimezone(CHINA)
    day = local.date() + timedelta(days=1)
    start = datetime.combine(day, time(8, 0), tzinfo=CHINA)
    return (start + timedelta(minutes=rng.randint(0, 150))).astimezone(UTC)


def plan_parcel(rng: random.Random, carrier: Carrier, origin: str, destination: str, district: str,
                shipped_at: datetime) -> Parcel:
    """The journey of one parcel handed to ``carrier`` at ``shipped_at`` in ``origin``, for ``destination``."""
    origin_hub, destination_hub = hub(carrier, origin), hub(carrier, destination)
    words = {"city": origin, "district": f"{destination}{district}", "courier": rng.choice(COURIERS),
             "signer": rng.choice(SIGNERS), "hub": origin_hub, "next": destination_hub}
    picked = shipped_at + timedelta(minutes=rng.randint(40, 300))
    sorted_at = picked + timedelta(minutes=rng.randint(90, 300))
    scans = [Scan(S.PICKED_UP, picked, carrier.picked_up.format(**words), origin, PICKED_UP),
             Scan(S.IN_TRANSIT, sorted_at, carrier.at_hub.format(**words), origin, IN_TRANSIT)]
    arrived = sorted_at
    if origin != destination:
        leaving = sorted_at + timedelta(minutes=rng.randint(60, 180))
        arrived = leaving + timedelta(hours=line_haul_hours(rng, origin, destination))
        scans += [Scan(S.IN_TRANSIT, leaving, carrier.leaving_hub.format(**words), origin, IN_TRANSIT),
                  Scan(S.IN_TRANSIT, arrived, carrier.at_hub.format(**{**words, "hub": destination_hub}), destination,
                       ARRIVED_IN_CITY)]
    out = _next_morning(arrived, rng)
    signed = out + timedelta(minutes=rng.randint(45, 360))
    scans += [Scan(S.OUT_FOR_DELIVERY, out, carrier.out_for_delivery.format(**words), destination, OUT_FOR_DELIVERY),
              Scan(S.DELIVERED, signed, carrier.signed.format(**words), destination, SIGNED)]
    # What the carrier promises at hand-over: the planned delivery day, by the evening (never before the hand-over).
    promised_day = out.astimezone(CHINA).date() + timedelta(days=rng.choice((0, 0, 1)))
    estimated = datetime.combine(promised_day, time(20, 0), tzinfo=CHINA).astimezone(UTC)
    return Parcel(carrier.code, carrier.waybill(rng), shipped_at, estimated, tuple(scans))


def journey_hours(parcel: Parcel) -> float:
    """From hand-over to signature."""
    return (parcel.scans[-1].at - parcel.shipped_at).total_seconds() / 3600


def working_hours(moment: datetime, rng: random.Random) -> datetime:
    """``moment`` moved into the warehouse's working day (09:00-18:00 China time), never later than given."""
    local = moment.astimezone(CHINA)
    if 9 <= local.hour < 18:
        return moment
    day = local.date() if local.hour >= 18 else local.date() - timedelta(days=1)
    return datetime.combine(day, time(rng.randint(14, 17), rng.randint(0, 59)), tzinfo=CHINA).astimezone(UTC)
