"""How the simulated tracking providers write a waybill's scans: their query answers and their signed pushes.

    result = kuaidi100_result("SF123", "shunfeng", scans)        # a query answer = a push's lastResult
    body, headers = push("kdniao", "SF123", "SF", scans, secret=app_key)

Scans are kept in OrderGraph's shipment vocabulary (``IN_TRANSIT``…) and
written with each provider's own codes: Kuaidi100 ``state``/``statusCode``
with the state's name, Kdniao ``State``/``StateEx``/``Action``, AfterShip
``tag``/``subtag``. Chinese providers write Beijing wall-clock time; AfterShip
checkpoints carry a +08:00 offset. The shapes are what the push parsers in
``adapters.carriers`` read (see their samples under ``tests/adapters/samples``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters import signing, wire
from adapters.carriers import aftership, kdniao, kuaidi100

#: shipment status -> ((Kuaidi100 state, its name), Kdniao StateEx, (AfterShip tag, subtag))
CODES: dict[str, tuple[tuple[str, str], str, tuple[str, str]]] = {
    "LABEL_CREATED": (("102", "待揽收"), "10", ("InfoReceived", "InfoReceived_001")),
    "PICKED_UP": (("1", "揽收"), "1", ("InTransit", "InTransit_002")),
    "IN_TRANSIT": (("0", "在途"), "2", ("InTransit", "InTransit_001")),
    "CUSTOMS": (("8", "清关"), "6", ("InTransit", "InTransit_006")),
    "OUT_FOR_DELIVERY": (("5", "派件"), "202", ("OutForDelivery", "OutForDelivery_001")),
    "AT_PICKUP_POINT": (("501", "投柜或驿站"), "211", ("AvailableForPickup", "AvailableForPickup_001")),
    "ATTEMPT_FAILED": (("204", "派件异常"), "405", ("AttemptFail", "AttemptFail_001")),
    "DELIVERED": (("3", "签收"), "301", ("Delivered", "Delivered_001")),
    "EXCEPTION": (("2", "疑难"), "4", ("Exception", "Exception_001")),
    "RETURNING": (("6", "退回"), "407", ("Exception", "Exception_010")),
    "RETURNED": (("4", "退签"), "406", ("Exception", "Exception_011")),
}
KDNIAO_PUSH_TYPE = "102"


@dataclass
class Scan:
    status: str
    at: datetime
    text: str = ""
    location: str = ""


def china(at: datetime) -> str:
    return at.astimezone(wire.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def kuaidi100_result(number: str, com: str, scans: Sequence[Scan]) -> dict[str, Any]:
    """The real-time query answer, which is also a push's ``lastResult`` (traces newest first)."""
    data = [{"time": china(s.at), "ftime": china(s.at), "context": s.text, "areaName": s.location,
             "status": CODES[s.status][0][1], "statusCode": CODES[s.status][0][0]} for s in reversed(scans)]
    return {"message": "ok", "nu": number, "ischeck": "1" if scans and scans[-1].status == "DELIVERED" else "0",
            "condition": "F00", "com": com, "status": "200",
            "state": CODES[scans[-1].status][0][0] if scans else "0", "data": data}


def kdniao_item(number: str, shipper: str, scans: Sequence[Scan], ebusiness_id: str) -> dict[str, Any]:
    """The 8001 answer, which is also one ``Data`` item of a push (traces oldest first)."""
    state_ex = CODES[scans[-1].status][1] if scans else "0"
    return {"EBusinessID": ebusiness_id, "ShipperCode": shipper, "LogisticCode": number, "Success": True,
            "State": state_ex[0], "StateEx": state_ex, "Location": scans[-1].location if scans else "",
            "Traces": [{"AcceptTime": china(s.at), "AcceptStation": s.text, "Location": s.location,
                        "Action": CODES[s.status][1]} for s in scans]}


def aftership_tracking(number: str, slug: str, scans: Sequence[Scan]) -> dict[str, Any]:
    """A tracking object as the API returns it and a webhook's ``msg`` carries it."""
    tag, subtag = CODES[scans[-1].status][2] if scans else ("Pending", "Pending_001")
    return {"id": uuid.uuid5(uuid.NAMESPACE_URL, f"{slug}/{number}").hex, "tracking_number": number, "slug": slug,
            "active": tag != "Delivered", "tag": tag, "subtag": subtag, "origin_country_region": "CHN",
            "destination_country_region": "CHN",
            "checkpoints": [{"slug": slug, "city": s.location, "location": s.location, "country_region": "CHN",
                             "message": s.text, "tag": CODES[s.status][2][0], "subtag": CODES[s.status][2][1],
                             "checkpoint_time": s.at.astimezone(wire.CHINA_TZ).isoformat(),
                             "created_at": s.at.isoformat()} for s in scans]}


def push(provider: str, number: str, company: str, scans: Sequence[Scan], *, secret: str,
         ebusiness_id: str = "") -> tuple[bytes, dict[str, str]]:
    """One push of the waybill's whole history, signed as the provider signs it.

    ``secret``: Kuaidi100 the subscription's salt, Kdniao the AppKey, AfterShip the webhook secret.
    """
    form = {"content-type": "application/x-www-form-urlencoded"}
    if provider == "kuaidi100":
        last = kuaidi100_result(number, company, scans)
        param = compact({"status": "shutdown" if last["ischeck"] == "1" else "polling", "billstatus": "got",
                         "message": "", "autoCheck": "0", "comOld": "", "comNew": "", "lastResult": last})
        return str(httpx.QueryParams({"param": param, "sign": kuaidi100.sign(param, secret)})).encode(), form
    if provider == "kdniao":
        data = compact({"PushTime": china(datetime.now(UTC)), "EBusinessID": ebusiness_id, "Count": "1",
                        "Data": [kdniao_item(number, company, scans, ebusiness_id)]})
        body = httpx.QueryParams({"RequestData": data, "DataSign": kdniao.sign(data, secret),
                                  "RequestType": KDNIAO_PUSH_TYPE})
        return str(body).encode(), form
    tags = [CODES[s.status][2][0] for s in scans]
    raw = compact({"event": "tracking_update", "event_id": str(uuid.uuid4()), "ts": int(datetime.now(UTC).timestamp()),
                   "is_tracking_first_tag": bool(tags) and tags[-1] not in tags[:-1],
                   "msg": aftership_tracking(number, company, scans)}).encode()
    return raw, {"content-type": "application/json",
                 aftership.SIGNATURE_HEADER: signing.hmac_sha256_base64(secret, raw)}
