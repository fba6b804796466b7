"""The Kingdee K3 Cloud adapter against the local simulator over real HTTP.

It must log in the way K3 Cloud does and keep the session, renew it once when
K3 says it is lost, save a sales order at most once per order number, ask
for a whole page of orders or SKUs in one ExecuteBillQuery, turn K3's
"HTTP 200 but IsSuccess false" into a refusal with K3's message, give up
fast while the breaker is open, and keep no secret, session or personal data
in the evidence.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC

import httpx
import pytest
from erp_support import bodies, fresh_key, running_erp, sales_order, seed_orders

from adapters.erp.common import redact
from adapters.erp.kingdee import KingdeeErp
from adapters.erp.sim_faults import Profile
from adapters.erp.simulator import DEFAULT_ACCOUNT, kingdee_config
from adapters.systems import SYSTEMS
from api.cli import build_parser
from api.settings import Settings
from domain.federation.ports import Exchange, SystemRefused, SystemUnavailable


def kingdee(base_url: str, **extra: object) -> KingdeeErp:
    return KingdeeErp(kingdee_config(base_url, **extra), key=fresh_key())


# ------------------------------------------------------------------ login and session


async def test_logs_in_once_and_reuses_the_session_for_later_calls() -> None:
    async with running_erp() as erp:
        adapter = kingdee(erp.base_url)
        trace: list[Exchange] = []
        await adapter.sales_orders(["OG1"], trace=trace)
        await adapter.stock("CK001", ["SKU-A"], trace=trace)
        assert erp.sim.calls["login"] == 1
        assert [e.operation for e in trace] == ["Login", "ExecuteBillQuery:SAL_SaleOrder",
                                                "ExecuteBillQuery:STK_Inventory"]
        assert all(e.outcome == "ok" for e in trace)


async def test_a_new_adapter_for_the_same_connection_keeps_the_session() -> None:
    """The registry makes an adapter per call: the session belongs to the connection, not the instance."""
    async with running_erp() as erp:
        key = fresh_key()
        for _ in range(3):
            await KingdeeErp(kingdee_config(erp.base_url), key=key).sales_orders(["OG1"], trace=[])
        assert erp.sim.calls["login"] == 1


async def test_app_secret_login_works_and_a_wrong_secret_is_refused_with_kingdees_message() -> None:
    async with running_erp() as erp:
        await kingdee(erp.base_url, auth="app_secret").sales_orders(["OG1"], trace=[])
        trace: list[Exchange] = []
        with pytest.raises(SystemRefused) as refused:
            await kingdee(erp.base_url, auth="app_secret", app_secret="not-the-secret").sales_orders(["OG1"],
                                                                                                  trace=trace)
        assert refused.value.code == "LOGIN_0"
        assert "应用ID或密钥不正确" in refused.value.message
        assert trace[-1].outcome == "error"


async def test_a_lost_session_is_renewed_once_and_the_call_answers() -> None:
    async with running_erp() as erp:
        seed_orders(erp.sim, ["OG1"])
        adapter = kingdee(erp.base_url)
        await adapter.sales_orders(["OG1"], trace=[])
        async with httpx.AsyncClient() as control:
            assert (await control.post(f"{erp.base_url}/_sim/sessions/expire")).json() == {"expired": 1}
        trace: list[Exchange] = []
        states = await adapter.sales_orders(["OG1"], trace=trace)
        assert states["OG1"].known
        assert erp.sim.calls["login"] == 2
        assert [e.operation for e in trace] == ["ExecuteBillQuery:SAL_SaleOrder", "Login",
                                                "ExecuteBillQuery:SAL_SaleOrder"]


async def test_sessions_that_time_out_are_renewed() -> None:
    async with running_erp(profile=Profile(session_ttl_s=0.3)) as erp:
        adapter = kingdee(erp.base_url)
        await adapter.sales_orders(["OG1"], trace=[])
        await asyncio.sleep(0.4)
        await adapter.sales_orders(["OG1"], trace=[])
        assert erp.sim.calls["login"] == 2
        assert erp.sim.calls["query:SAL_SaleOrder"] == 3   # one refused for the lost session, asked again


# ------------------------------------------------------------------ save


async def test_saving_twice_with_the_same_order_number_keeps_one_sales_order() -> None:
    async with running_erp() as erp:
        adapter = kingdee(erp.base_url)
        request = sales_order("OG000000042", ("SKU-A", 2), ("SKU-B", 1), prices={"SKU-A": "19.90", "SKU-B": "5.50"})
        first = await adapter.save_sales_order(request, trace=[])
        second = await adapter.save_sales_order(request, trace=[])
        assert first == second == "OG000000042"                  # FBillNo is our order number
        assert list(erp.sim.books.now.orders) == ["OG000000042"]
        assert erp.sim.calls["save"] == 1
        saved = erp.sim.books.now.orders["OG000000042"]
        assert saved.customer == "CUST-0001"
        assert [(line.sku, line.qty, str(line.price), line.warehouse) for line in saved.lines] == [
            ("SKU-A", 2, "19.90", "CK001"), ("SKU-B", 1, "5.50", "CK001")]
        assert saved.date.astimezone(UTC).hour == 2                # sent as China time, read back as the same moment


async def test_with_a_custom_reference_field_the_erp_numbers_the_bill_and_a_second_save_finds_it() -> None:
    async with running_erp() as erp:
        adapter = kingdee(erp.base_url, order_no_field="F_OG_OrderNo")
        request = sales_order("OG000000043", ("SKU-A", 1))
        first = await adapter.save_sales_order(request, trace=[])
        second = await adapter.save_sales_order(request, trace=[])
        assert first == second and first.startswith("XSDD")
        assert len(erp.sim.books.now.orders) == 1
        assert erp.sim.books.now.orders[first].fields == {"F_OG_OrderNo": "OG000000043"}
        states = await adapter.sales_orders(["OG000000043"], trace=[])
        assert states["OG000000043"].ordered == {"SKU-A": 1}


async def test_a_material_kingdee_does_not_know_is_refused_with_its_message_and_nothing_is_saved() -> None:
    async with running_erp() as erp:
        erp.sim.books.materials = {"SKU-A"}
        trace: list[Exchange] = []
        with pytest.raises(SystemRefused) as refused:
            await kingdee(erp.base_url).save_sales_order(sales_order("OG9", ("SKU-A", 1), ("SKU-X", 1)), trace=trace)
        assert "SKU-X" in refused.value.message and "FMaterialId" in refused.value.message
        assert refused.value.code == "11"
        assert erp.sim.books.now.orders == {}
        save = [e for e in trace if e.operation == "Save"]
        assert len(save) == 1 and save[0].outcome == "error" and "SKU-X" in save[0].error


async def test_a_sales_order_without_customer_is_refused_before_anything_is_sent() -> None:
    async with running_erp() as erp:
        with pytest.raises(SystemRefused) as refused:
            await kingdee(erp.base_url).save_sales_order(sales_order("OG9", ("SKU-A", 1), customer=""), trace=[])
        assert refused.value.code == "INVALID" and refused.value.message.startswith("customer_code")
        assert erp.sim.calls["http"] == 0


# ------------------------------------------------------------------ batched reads


async def test_fifty_orders_are_read_in_one_query_with_status_and_quantities_per_sku() -> None:
    async with running_erp() as erp:
        numbers = [f"OG{n:09d}" for n in range(1, 51)]
        seed_orders(erp.sim, numbers)
        erp.sim.books.set_quantities("OG000000007", "shipped", {"SKU-A": 2})
        erp.sim.books.set_quantities("OG000000007", "invoiced", {"SKU-A": 1})
        erp.sim.books.set_status("OG000000007", "C")
        adapter = kingdee(erp.base_url)
        await adapter.sales_orders(["warm-up"], trace=[])                # the login is not part of the batch
        erp.sim.reset()
        trace: list[Exchange] = []
        states = await adapter.sales_orders(numbers + ["OG-UNKNOWN"], trace=trace)
        assert erp.sim.calls["http"] == 1 and len(trace) == 1
        assert set(states) == set(numbers) | {"OG-UNKNOWN"}
        seven = states["OG000000007"]
        assert (seven.known, seven.status) == (True, "C")
        assert seven.ordered == {"SKU-A": 3, "SKU-B": 1}
        assert seven.shipped == {"SKU-A": 2, "SKU-B": 0}
        assert seven.invoiced == {"SKU-A": 1, "SKU-B": 0}
        assert seven.amount == "35.5"
        assert seven.updated_at is not None and seven.updated_at.tzinfo is not None
        assert states["OG000000008"].status == "A"
        unknown = states["OG-UNKNOWN"]
        assert (unknown.known, unknown.status, dict(unknown.ordered)) == (False, "", {})


async def test_order_numbers_beyond_a_page_go_in_one_query_per_page() -> None:
    async with running_erp() as erp:
        numbers = [f"OG{n:09d}" for n in range(1, 51)]
        seed_orders(erp.sim, numbers)
        states = await kingdee(erp.base_url, page_size=20).sales_orders(numbers, trace=[])
        assert erp.sim.calls["query:SAL_SaleOrder"] == 3
        assert all(state.known for state in states.values())


async def test_inventory_for_fifty_skus_is_one_query_summed_per_sku_for_that_warehouse_only() -> None:
    async with running_erp() as erp:
        skus = [f"SKU-{n:03d}" for n in range(50)]
        erp.sim.set_stock("CK001", {sku: n for n, sku in enumerate(skus)})
        erp.sim.set_stock("CK002", {"SKU-001": 999})
        adapter = kingdee(erp.base_url)
        await adapter.stock("CK001", ["warm-up"], trace=[])
        erp.sim.reset()
        figures = await adapter.stock("CK001", skus + ["SKU-NONE"], trace=[])
        assert erp.sim.calls["http"] == 1
        assert figures["SKU-001"].on_hand == 1 and figures["SKU-049"].on_hand == 49
        assert (figures["SKU-NONE"].on_hand, figures["SKU-NONE"].available) == (0, 0)


async def test_stock_drift_on_one_warehouse_shows_in_its_figures_only() -> None:
    drift = Profile.read({"stock_drift": {"warehouse": "CK001", "share": 0.1}})
    async with running_erp(profile=drift) as erp:
        erp.sim.set_stock("CK001", {"SKU-A": 100})
        erp.sim.set_stock("CK002", {"SKU-A": 100})
        adapter = kingdee(erp.base_url)
        assert (await adapter.stock("CK001", ["SKU-A"], trace=[]))["SKU-A"].on_hand == 110
        assert (await adapter.stock("CK002", ["SKU-A"], trace=[]))["SKU-A"].on_hand == 100


async def test_a_stale_replica_answers_what_was_true_a_while_ago() -> None:
    async with running_erp(profile=Profile(stale_s=0.5)) as erp:
        seed_orders(erp.sim, ["OG1"])
        await asyncio.sleep(0.6)
        erp.sim.books.set_quantities("OG1", "shipped", {"SKU-A": 3})
        adapter = kingdee(erp.base_url)
        assert (await adapter.sales_orders(["OG1"], trace=[]))["OG1"].shipped["SKU-A"] == 0
        await asyncio.sleep(0.6)
        assert (await adapter.sales_orders(["OG1"], trace=[]))["OG1"].shipped["SKU-A"] == 3


# ------------------------------------------------------------------ outages and the breaker


async def test_an_outage_window_makes_calls_unavailable_until_it_ends() -> None:
    async with running_erp() as erp:
        erp.sim.profile = Profile.read({"outages": [{"after_s": 0, "for_s": 0.6}]})
        adapter = kingdee(erp.base_url, retries=0)
        trace: list[Exchange] = []
        with pytest.raises(SystemUnavailable):
            await adapter.sales_orders(["OG1"], trace=trace)
        assert (trace[-1].status_code, trace[-1].outcome) == (503, "error")
        await asyncio.sleep(0.7)
        assert not (await adapter.sales_orders(["OG1"], trace=[]))["OG1"].known


async def test_repeated_failures_open_the_breaker_and_calls_then_fail_fast_without_asking() -> None:
    async with running_erp(profile=Profile(down=True)) as erp:
        adapter = kingdee(erp.base_url, retries=0)
        for _ in range(5):
            with pytest.raises(SystemUnavailable):
                await adapter.sales_orders(["OG1"], trace=[])
        asked = erp.sim.calls["http"]
        assert asked == 5
        trace: list[Exchange] = []
        started = time.perf_counter()
        with pytest.raises(SystemUnavailable) as unavailable:
            await adapter.sales_orders(["OG1"], trace=trace)
        assert time.perf_counter() - started < 0.2
        assert "circuit open" in unavailable.value.message
        assert erp.sim.calls["http"] == asked
        assert trace[-1].outcome == "unreachable"


async def test_an_unreachable_erp_is_unavailable_not_a_crash() -> None:
    adapter = KingdeeErp(kingdee_config("http://127.0.0.1:9"), key=fresh_key())
    trace: list[Exchange] = []
    with pytest.raises(SystemUnavailable):
        await adapter.sales_orders(["OG1"], trace=trace)
    assert trace and all(e.outcome == "unreachable" for e in trace)


# ------------------------------------------------------------------ evidence


async def test_evidence_holds_no_password_session_or_integration_user_in_clear() -> None:
    async with running_erp() as erp:
        seed_orders(erp.sim, ["OG1"])
        trace: list[Exchange] = []
        adapter = kingdee(erp.base_url)
        await adapter.sales_orders(["OG1"], trace=trace)
        await adapter.save_sales_order(sales_order("OG2", ("SKU-A", 1)), trace=trace)
        erp.sim.expire_sessions()
        await adapter.stock("CK001", ["SKU-A"], trace=trace)
        await kingdee(erp.base_url, auth="app_secret").sales_orders(["OG1"], trace=trace)
        evidence = bodies(trace)
        assert sum(e.operation == "Login" for e in trace) == 3
        assert erp.sim.sessions, "the simulator handed out sessions"
        for secret in [DEFAULT_ACCOUNT.password, DEFAULT_ACCOUNT.app_secret, DEFAULT_ACCOUNT.username,
                       DEFAULT_ACCOUNT.acct_id, *erp.sim.sessions]:
            assert secret not in evidence
        login = json.loads(next(e for e in trace if e.operation == "Login").response_body)
        assert login["KDSVCSessionId"] == "***" and login["Context"]["SessionId"] == "***"
        assert "OG1" in evidence and "SKU-A" in evidence                  # the business content stays readable


def test_personal_data_in_an_erp_body_is_masked_at_any_depth_and_inside_json_strings() -> None:
    body = json.dumps({"formid": "SAL_SaleOrder", "data": json.dumps({"Model": {
        "FLinkMan": "张伟", "FLinkPhone": "13800138001", "FReceiveAddress": "文三路 100 号 5 幢 301 室",
        "FSaleOrderEntry": [{"FMaterialId": {"FNumber": "SKU-A"}}]}}, ensure_ascii=False)}, ensure_ascii=False)
    shown = redact(body)
    for clear in ("张伟", "13800138001", "文三路"):
        assert clear not in shown
    assert "138****8001" in shown and "SKU-A" in shown


# ------------------------------------------------------------------ config


@pytest.mark.parametrize(("config", "named"), [
    ({"acct_id": "a", "username": "u", "password": "p"}, "base_url"),
    ({"base_url": "ftp://k3/", "acct_id": "a", "username": "u", "password": "p"}, "base_url"),
    ({"base_url": "http://k3/", "username": "u", "password": "p"}, "acct_id"),
    ({"base_url": "http://k3/", "acct_id": "a", "username": "u"}, "password"),
    ({"base_url": "http://k3/", "acct_id": "a", "username": "u", "auth": "app_secret", "app_id": "i"}, "app_secret"),
    ({"base_url": "http://k3/", "acct_id": "a", "username": "u", "password": "p", "pasword": "p"}, "pasword"),
    ({"base_url": "http://k3/", "acct_id": "a", "username": "u", "password": "p", "page_size": 0}, "page_size"),
    ({"base_url": "http://k3/", "acct_id": "a", "username": "u", "password": "p", "order_no_field": "x; drop"},
     "order_no_field"),
])
def test_a_config_kingdee_cannot_use_is_refused_naming_the_key(config: dict, named: str) -> None:
    with pytest.raises(ValueError) as refused:
        SYSTEMS.check("erp", "kingdee", config)
    assert str(refused.value).startswith(f"{named}:")


def test_the_registry_knows_kingdee_and_refuses_an_unknown_adapter() -> None:
    config = kingdee_config("http://127.0.0.1:9200")
    SYSTEMS.check("erp", "kingdee", config)
    assert isinstance(SYSTEMS.erp("kingdee", config, key=fresh_key()), KingdeeErp)
    with pytest.raises(ValueError, match="^adapter:"):
        SYSTEMS.check("erp", "sap", config)


def test_sim_erp_refuses_a_profile_with_a_bad_fault_naming_it(tmp_path, capsys) -> None:  # noqa: ANN001
    profile = tmp_path / "faults.json"
    profile.write_text(json.dumps({"latency_ms": 50, "error_rate": 2}))
    args = build_parser().parse_args(["sim", "erp", "--port", "9", "--profile", str(profile)])
    with pytest.raises(SystemExit) as exited:
        args.func(Settings(), args)
    assert exited.value.code == 2
    assert "error_rate" in capsys.readouterr().err
