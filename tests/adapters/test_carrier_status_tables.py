"""Every status a tracking provider documents maps to the design vocabulary, with no "unmapped code" alert.

The code lists below are the providers' published ones (Kdniao ``State``/``StateEx``,
Kuaidi100 ``state`` with ``resultv2`` and ``param.status``, AfterShip tags and
subtags); a code outside them is new and must still alert with its raw value.
"""

from __future__ import annotations

import pytest

from domain.inbound.normalized import InboundTracking
from domain.inbound.status_mapping import Mappings, Table
from domain.statuses import ShipmentStatus as S
from domain.tracking.carrier_pushes import push_status

KDNIAO = {  # StateEx (State 1-4 share the code space)
    "1": S.PICKED_UP, "2": S.IN_TRANSIT, "201": S.IN_TRANSIT, "204": S.IN_TRANSIT, "205": S.IN_TRANSIT,
    "206": S.IN_TRANSIT, "202": S.OUT_FOR_DELIVERY, "211": S.AT_PICKUP_POINT, "3": S.DELIVERED, "301": S.DELIVERED,
    "302": S.DELIVERED, "304": S.DELIVERED, "311": S.DELIVERED, "4": S.EXCEPTION, "401": S.EXCEPTION,
    "402": S.EXCEPTION, "403": S.EXCEPTION, "404": S.RETURNING, "405": S.ATTEMPT_FAILED, "406": S.RETURNED,
    "407": S.RETURNING, "412": S.EXCEPTION, "413": S.EXCEPTION, "414": S.EXCEPTION, "415": S.EXCEPTION,
    "416": S.ATTEMPT_FAILED, "417": S.EXCEPTION, "418": S.EXCEPTION, "419": S.OUT_FOR_DELIVERY, "420": S.EXCEPTION,
    "421": S.EXCEPTION, "422": S.EXCEPTION, "423": S.EXCEPTION, "5": S.IN_TRANSIT, "6": S.CUSTOMS, "601": S.CUSTOMS,
    "602": S.CUSTOMS, "603": S.IN_TRANSIT, "604": S.EXCEPTION, "10": S.LABEL_CREATED,
}
KUAIDI100 = {  # state, resultv2 codes and the names resultv2=1 traces carry instead
    "1": S.PICKED_UP, "揽收": S.PICKED_UP, "101": S.LABEL_CREATED, "102": S.LABEL_CREATED, "103": S.PICKED_UP,
    "已揽收": S.PICKED_UP, "0": S.IN_TRANSIT, "在途": S.IN_TRANSIT, "1001": S.IN_TRANSIT, "1002": S.IN_TRANSIT,
    "1003": S.IN_TRANSIT, "5": S.OUT_FOR_DELIVERY, "派件": S.OUT_FOR_DELIVERY, "501": S.AT_PICKUP_POINT,
    "3": S.DELIVERED, "签收": S.DELIVERED, "301": S.DELIVERED, "302": S.DELIVERED, "303": S.DELIVERED,
    "304": S.DELIVERED, "6": S.RETURNING, "退回": S.RETURNING, "4": S.RETURNED, "退签": S.RETURNED,
    "401": S.EXCEPTION, "14": S.RETURNING, "拒签": S.RETURNING, "7": S.IN_TRANSIT, "转投": S.IN_TRANSIT,
    "2": S.EXCEPTION, "疑难": S.EXCEPTION, "201": S.EXCEPTION, "202": S.EXCEPTION, "203": S.RETURNING,
    "204": S.ATTEMPT_FAILED, "205": S.EXCEPTION, "206": S.ATTEMPT_FAILED, "207": S.EXCEPTION, "208": S.EXCEPTION,
    "209": S.EXCEPTION, "210": S.EXCEPTION, "8": S.CUSTOMS, "清关": S.CUSTOMS, "10": S.CUSTOMS, "11": S.CUSTOMS,
    "12": S.IN_TRANSIT, "13": S.EXCEPTION,
}
AFTERSHIP_TAGS = {
    "InfoReceived": S.LABEL_CREATED, "InTransit": S.IN_TRANSIT, "OutForDelivery": S.OUT_FOR_DELIVERY,
    "AttemptFail": S.ATTEMPT_FAILED, "Delivered": S.DELIVERED, "AvailableForPickup": S.AT_PICKUP_POINT,
    "Exception": S.EXCEPTION, "Expired": S.EXPIRED,
}
#: Subtags whose meaning is more than their tag's; every other documented subtag means its tag.
AFTERSHIP_REFINED = {"InTransit_002": S.PICKED_UP, "InTransit_006": S.CUSTOMS, "Exception_010": S.RETURNING,
                     "Exception_011": S.RETURNED}
AFTERSHIP_SUBTAGS = (
    [f"Delivered_00{n}" for n in range(1, 6)] + ["AvailableForPickup_001"]
    + [f"Exception_{n:03d}" for n in range(1, 22)] + [f"AttemptFail_00{n}" for n in range(1, 4)]
    + [f"InTransit_{n:03d}" for n in range(1, 14)] + ["InfoReceived_001"]
    + [f"OutForDelivery_00{n}" for n in (1, 3, 4)] + ["Expired_001"]
)
DEFAULTS = Mappings({})


def _push(provider: str, code: str, **extra_codes: str) -> InboundTracking:
    return InboundTracking(provider=provider, carrier="SF", tracking_no="SF1", status_code=code, events=(),
                           estimated_delivery=None, extra_codes=extra_codes)


@pytest.mark.parametrize(("code", "expected"), KDNIAO.items())
def test_every_kdniao_state_maps_without_an_alert(code: str, expected: S) -> None:
    assert push_status(_push("kdniao", code), DEFAULTS) == (expected, [])


@pytest.mark.parametrize(("code", "expected"), KUAIDI100.items())
def test_every_kuaidi100_state_of_a_polling_push_maps_without_an_alert(code: str, expected: S) -> None:
    assert push_status(_push("kuaidi100", code, push_status="polling"), DEFAULTS) == (expected, [])


@pytest.mark.parametrize("subscription", ["polling", "updateall", "shutdown"])
def test_routine_kuaidi100_subscription_states_defer_to_the_parcel_state(subscription: str) -> None:
    assert push_status(_push("kuaidi100", "1", push_status=subscription), DEFAULTS) == (S.PICKED_UP, [])


def test_a_kuaidi100_abort_expires_the_tracking() -> None:
    assert push_status(_push("kuaidi100", "0", push_status="abort"), DEFAULTS) == (S.EXPIRED, [])


@pytest.mark.parametrize("subtag", AFTERSHIP_SUBTAGS)
def test_every_aftership_subtag_maps_without_an_alert(subtag: str) -> None:
    tag = subtag.split("_")[0]
    expected = AFTERSHIP_REFINED.get(subtag, AFTERSHIP_TAGS[tag])
    assert push_status(_push("aftership", tag, subtag=subtag), DEFAULTS) == (expected, [])


@pytest.mark.parametrize("tag", AFTERSHIP_TAGS)
def test_a_first_update_under_any_tag_raises_no_alert(tag: str) -> None:
    expected = S.PICKED_UP if tag == "InTransit" else AFTERSHIP_TAGS[tag]
    assert push_status(_push("aftership", tag, first_tag=tag), DEFAULTS) == (expected, [])


@pytest.mark.parametrize(("provider", "code", "extra"), [("kdniao", "0", {"State": "0"}),
                                                         ("aftership", "Pending", {"subtag": "Pending_001"})])
def test_no_information_yet_states_nothing_and_raises_nothing(provider: str, code: str, extra: dict) -> None:
    assert push_status(_push(provider, code, **extra), DEFAULTS) == (None, [])


@pytest.mark.parametrize(
    ("push", "expected"),
    [(_push("kdniao", "499", State="2"), (S.IN_TRANSIT, ["kdniao:499"])),  # the coarse State still places it
     (_push("kuaidi100", "9"), (None, ["kuaidi100:9"])),
     (_push("kuaidi100", "0", push_status="paused"), (S.IN_TRANSIT, ["kuaidi100.push_status:paused"])),
     (_push("aftership", "Lost", subtag="Lost_001"), (None, ["aftership:Lost"]))],
)
def test_a_genuinely_unknown_code_is_still_reported_raw(push: InboundTracking, expected: tuple) -> None:
    assert push_status(push, DEFAULTS) == expected


def test_a_tenant_that_unmaps_a_silent_code_hears_about_it() -> None:
    tenant = Mappings({"kuaidi100.push_status": Table("kuaidi100.push_status", 1, {"polling": None})})
    assert push_status(_push("kuaidi100", "1", push_status="polling"), tenant) == (
        S.PICKED_UP, ["kuaidi100.push_status:polling"])
