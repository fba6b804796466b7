"""A request's reason (``OrderGraph-Reason``) is recorded on every lineage row it writes without its own."""

from __future__ import annotations

from urllib.parse import quote

from models import OrderEvent
from tests.intake_support import GENERIC_MAPPING, SECRET

REGISTER = """mutation($input: RegisterChannelInput!) { registerChannel(input: $input) { errors { message } } }"""


async def _register(gql, key: str, code: str, **headers: str) -> None:  # type: ignore[no-untyped-def]
    answer = await gql.post(key, REGISTER, {"input": {"code": code, "kind": "generic", "name": code, "secret": SECRET,
                                                       "mapping": GENERIC_MAPPING}}, **headers)
    assert answer.status_code == 200 and answer.json()["data"]["registerChannel"]["errors"] == [], answer.text


async def _rows_since(first_id: int) -> list[OrderEvent]:
    return list(await OrderEvent.filter(id__gt=first_id).exclude(type__startswith="lineage.").order_by("id"))


async def test_a_configuration_change_carries_the_reason_its_request_gave(world, gql) -> None:  # type: ignore[no-untyped-def]
    last = await OrderEvent.all().order_by("-id").first()
    start = last.id if last else 0
    why = "双十一前新增小程序渠道 (ticket OPS-4411)"
    await _register(gql, world.keys["admin"], "mini1", **{"OrderGraph-Reason": quote(why)})
    rows = await _rows_since(start)
    assert rows, "registering a channel writes lineage"
    assert all(row.reason.startswith(why + " — ") and "registered" in row.reason for row in rows), rows


async def test_without_the_header_nothing_is_invented_and_control_characters_are_dropped(world, gql) -> None:  # type: ignore[no-untyped-def]
    last = await OrderEvent.all().order_by("-id").first()
    start = last.id if last else 0
    await _register(gql, world.keys["admin"], "mini2")
    assert {row.reason for row in await _rows_since(start)} == {"channel mini2 (generic) registered"}
    start = (await OrderEvent.all().order_by("-id").first()).id
    await _register(gql, world.keys["admin"], "mini3", **{"OrderGraph-Reason": quote("line one\nline two") + "x" * 600})
    reasons = {row.reason for row in await _rows_since(start)}
    assert len(reasons) == 1
    (reason,) = reasons
    assert reason.startswith("line oneline two") and len(reason) == 500


async def test_a_hold_release_keeps_its_own_reason_after_the_requests(world, gql) -> None:  # type: ignore[no-untyped-def]
    from domain.actor import Role
    from resolvers.ids import encode
    from tests.helpers import paid_order

    order = await paid_order(world.actor(Role.OPS), world.channel.id)
    key = world.keys["ops"]
    held = await gql.post(key, """mutation($i: HoldOrderInput!) { holdOrder(input: $i) { errors { code } } }""",
                          {"i": {"id": encode("Order", order.id), "reasons": ["fraud check"]}})
    assert held.json()["data"]["holdOrder"]["errors"] == []
    released = await gql.post(key, """mutation($i: ReleaseHoldInput!) { releaseHold(input: $i) { errors { code } } }""",
                              {"i": {"id": encode("Order", order.id), "reason": "buyer called back"}},
                              **{"OrderGraph-Reason": "ticket CS-1"})
    assert released.json()["data"]["releaseHold"]["errors"] == []
    event = await OrderEvent.filter(order_id=order.id, type="order.hold_released").first()
    assert event is not None and event.reason == "ticket CS-1 — buyer called back (lifted: fraud check)"
