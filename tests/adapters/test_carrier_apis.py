"""The tracking provider clients against the simulator, over real HTTP: subscribe, refusals, throttling, queries,
and the simulator's pushes accepted by the push formats' own signature checks and parsers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.carriers import sim as carrier_sim
from adapters.carriers.api import PROVIDER_APIS
from adapters.carriers.api.codes import COMPANIES
from adapters.channels.api import http
from adapters.formats import FORMATS
from domain.inbound import carrier_codes
from domain.inbound.normalized import InboundTracking
from domain.inbound.tracking_api import CREDENTIALS, UNSUPPORTED_CARRIER, ApiRefused, ApiUnavailable, Throttled
from tests.live_fixtures import serve_asgi

PROVIDERS = ("kuaidi100", "kdniao", "aftership")
#: provider -> the push's status code for OUT_FOR_DELIVERY
OUT_FOR_DELIVERY = {"kuaidi100": "5", "kdniao": "202", "aftership": "OutForDelivery"}


class Receiver:
    """The providers' push target: checks each push with the format OrderGraph's hook uses."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bool, list[InboundTracking]]] = []

    async def endpoint(self, request: Request) -> Response:
        provider, body = request.path_params["provider"], await request.body()
        wire_format = FORMATS.carriers[provider]
        form = wire_format.decode(body)
        verified = wire_format.verify(carrier_sim.account_secret(provider), body, dict(request.headers), form)
        self.received.append((provider, verified, wire_format.parse(body, form) if verified else []))
        return Response(status_code=200 if verified else 401)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks/acme/carrier/{provider}", self.endpoint, methods=["POST"])])


@pytest.fixture
async def served() -> AsyncIterator[tuple[carrier_sim.TrackingSimulator, str, Receiver, str]]:
    simulator, receiver = carrier_sim.TrackingSimulator(), Receiver()
    async with serve_asgi(simulator.app()) as base, serve_asgi(receiver.app()) as hooks:
        simulator.push_urls = {p: f"{hooks}/hooks/acme/carrier/{p}" for p in ("kdniao", "aftership")}
        try:
            yield simulator, base, receiver, hooks
        finally:
            await simulator.drain()
            await http.aclose()


def api(provider: str, base: str, **overrides: Any) -> Any:
    config = carrier_sim.account_config(provider, base) | overrides
    return PROVIDER_APIS.for_account(provider, config, carrier_sim.account_secret(provider))


def callback(hooks: str, provider: str) -> str:
    return f"{hooks}/hooks/acme/carrier/{provider}"


def test_every_provider_code_normalises_back_to_its_carrier() -> None:
    for provider, table in COMPANIES.items():
        for carrier, code in table.items():
            assert carrier_codes.normalize(code) == carrier, (provider, code)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_subscribe_then_already_subscribed_is_fine(served, provider: str) -> None:
    simulator, base, _receiver, hooks = served
    client = api(provider, base)
    await client.subscribe("SF", "SF1400000001", callback_url=callback(hooks, provider), phone_tail="5678")
    await client.subscribe("SF", "SF1400000001", callback_url=callback(hooks, provider), phone_tail="5678")
    [subscription] = simulator.listing()
    assert subscription["provider"] == provider and subscription["number"] == "SF1400000001"
    assert subscription["company"] == COMPANIES[provider]["SF"]
    if provider == "kuaidi100":
        assert subscription["callback_url"] == callback(hooks, "kuaidi100")


@pytest.mark.parametrize(("provider", "bad"), [("kuaidi100", {"key": "not-the-key"}),
                                               ("kdniao", {"app_key": "not-the-app-key"}),
                                               ("aftership", {"api_key": "asat_wrong"})])
async def test_a_bad_key_is_refused_as_credentials(served, provider: str, bad: dict[str, str]) -> None:
    simulator, base, _receiver, hooks = served
    with pytest.raises(ApiRefused) as refused:
        await api(provider, base, **bad).subscribe("ZTO", "ZT1400000002", callback_url=callback(hooks, provider),
                                                   phone_tail="5678")
    assert refused.value.code == CREDENTIALS
    assert not simulator.subscriptions


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_carrier_the_provider_does_not_serve_is_unsupported(served, provider: str) -> None:
    _simulator, base, _receiver, hooks = served
    with pytest.raises(ApiRefused) as refused:
        await api(provider, base).subscribe("Some Local Courier", "LC1", callback_url=callback(hooks, provider))
    assert refused.value.code == UNSUPPORTED_CARRIER


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_throttling_and_errors_in_each_providers_own_words(served, provider: str) -> None:
    simulator, base, _receiver, hooks = served
    client = api(provider, base)
    simulator.faults = carrier_sim.Faults(rate_per_s=0.01, burst=1)
    await client.subscribe("YTO", "YT1400000003", callback_url=callback(hooks, provider))
    with pytest.raises(Throttled) as throttled:
        await client.subscribe("YTO", "YT1400000004", callback_url=callback(hooks, provider))
    assert 0 < throttled.value.retry_after <= 120
    simulator.faults = carrier_sim.Faults(error_rate=1.0)
    with pytest.raises(ApiUnavailable):
        await client.query("YTO", "YT1400000003")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_query_returns_the_scans_read_by_the_push_parser(served, provider: str) -> None:
    simulator, base, _receiver, hooks = served
    simulator.faults = carrier_sim.Faults(push=False)
    client = api(provider, base)
    number = f"SF14000001{PROVIDERS.index(provider)}"
    assert await client.query("SF", number, phone_tail="5678") == [] or provider == "aftership"
    await client.subscribe("SF", number, callback_url=callback(hooks, provider), phone_tail="5678")
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    for hours, status in ((0, "PICKED_UP"), (6, "IN_TRANSIT"), (20, "OUT_FOR_DELIVERY")):
        simulator.add_scan(number, status, at=start + timedelta(hours=hours), location="上海市")
    [tracking] = await client.query("SF", number, phone_tail="5678")
    assert (tracking.provider, tracking.tracking_no) == (provider, number)
    assert carrier_codes.normalize(tracking.carrier) == "SF"
    assert tracking.status_code == OUT_FOR_DELIVERY[provider]
    assert [e.occurred_at for e in tracking.events] == [start, start + timedelta(hours=6), start + timedelta(hours=20)]
    assert not tracking.issues
    assert simulator.calls["push_200"] == 0  # pushing was off: only the query found them


async def test_sf_needs_the_phone_tail_to_be_queried(served) -> None:
    simulator, base, _receiver, _hooks = served
    simulator.add_scan("SF1400000200", "IN_TRANSIT")
    with pytest.raises(ApiRefused):
        await api("kuaidi100", base).query("SF", "SF1400000200")
    assert len(await api("kuaidi100", base).query("SF", "SF1400000200", phone_tail="5678")) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_pushes_are_signed_as_the_provider_signs_and_parse(served, provider: str) -> None:
    simulator, base, receiver, hooks = served
    number = f"JT14000003{PROVIDERS.index(provider)}"
    simulator.add_scan(number, "PICKED_UP")                  # known before the subscription: pushed at once
    await api(provider, base).subscribe("JT", number, callback_url=callback(hooks, provider))
    simulator.add_scan(number, "IN_TRANSIT")
    await simulator.drain()
    for _ in range(50):
        if len(receiver.received) >= 2:
            break
        await asyncio.sleep(0.02)
    assert [(p, ok) for p, ok, _ in receiver.received] == [(provider, True), (provider, True)]
    last = receiver.received[-1][2][0]
    assert last.tracking_no == number and len(last.events) == 2 and not last.issues
    assert simulator.calls["push_200"] == 2


async def test_a_missing_credential_is_named() -> None:
    with pytest.raises(ApiRefused) as refused:
        PROVIDER_APIS.for_account("kuaidi100", {"customer": "C"}, "salt")
    assert "config.key" in refused.value.message
    with pytest.raises(ApiRefused) as refused:  # subscribing needs no customer, querying does
        await PROVIDER_APIS.for_account("kuaidi100", {"key": "k"}, "salt").query("SF", "SF1", phone_tail="5678")
    assert "customer" in refused.value.message
    assert PROVIDER_APIS.for_account("cainiao", {}, "") is None


def test_credentials_never_leave_redacted() -> None:
    from domain.inbound.tracking_api import redacted

    config = carrier_sim.account_config("kuaidi100", "http://sim") | {"app_key": "", "api_key": "asat"}
    assert redacted(config) == {"key": "***", "customer": "SIMCUSTOMER0001", "base_url": "http://sim",
                                "app_key": "", "api_key": "***"}
