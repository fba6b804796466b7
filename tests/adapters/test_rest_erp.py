"""A REST ERP described only by data (URLs and JMESPath maps), against the simulator's REST mode over HTTP.

The config is checked when a merchant saves it, naming the bad key; the
adapter builds its requests and reads the answers with the maps, asks for a
page of orders in one call, saves once per order number, and turns the ERP's
own error codes into refusals and its outages into unavailability.
"""

from __future__ import annotations

import copy

import pytest
from erp_support import bodies, fresh_key, running_erp, sales_order, seed_orders

from adapters.erp.rest import RestErp
from adapters.erp.sim_faults import Profile
from adapters.erp.simulator import DEFAULT_ACCOUNT, rest_config
from adapters.systems import SYSTEMS
from domain.federation.ports import Exchange, SystemRefused, SystemUnavailable


def rest(base_url: str, **extra: object) -> RestErp:
    return RestErp(rest_config(base_url, **extra), key=fresh_key())


async def test_a_sales_order_is_saved_once_per_order_number_through_the_configured_body() -> None:
    async with running_erp() as erp:
        adapter = rest(erp.base_url)
        request = sales_order("OG000000042", ("SKU-A", 2), prices={"SKU-A": "19.90"})
        first = await adapter.save_sales_order(request, trace=[])
        second = await adapter.save_sales_order(request, trace=[])
        assert first == second and first.startswith("XSDD")
        assert erp.sim.calls["rest:save"] == 1
        [saved] = erp.sim.books.now.orders.values()
        assert saved.fields == {"F_OrderNo": "OG000000042"}
        assert [(line.sku, line.qty, str(line.price)) for line in saved.lines] == [("SKU-A", 2, "19.90")]


async def test_fifty_orders_are_one_call_and_read_through_the_maps() -> None:
    async with running_erp() as erp:
        numbers = [f"OG{n:09d}" for n in range(1, 51)]
        seed_orders(erp.sim, numbers, ref_field="F_OrderNo")
        erp.sim.books.set_quantities("OG000000003", "shipped", {"SKU-A": 3, "SKU-B": 1})
        erp.sim.books.set_status("OG000000003", "C")
        trace: list[Exchange] = []
        states = await rest(erp.base_url).sales_orders(numbers[1:] + ["OG-UNKNOWN"], trace=trace)   # 50, one page
        assert erp.sim.calls["rest:orders"] == 1 and len(trace) == 1
        assert "orderNos=OG000000002%2C" in trace[0].url        # what was asked is in the evidence
        three = states["OG000000003"]
        assert (three.known, three.status, three.amount) == (True, "AUDITED", "35.50")
        assert three.ordered == {"SKU-A": 3, "SKU-B": 1} and three.shipped == {"SKU-A": 3, "SKU-B": 1}
        assert three.updated_at is not None and three.updated_at.utcoffset().total_seconds() == 0
        assert not states["OG-UNKNOWN"].known


async def test_pages_follow_the_configured_page_size() -> None:
    async with running_erp() as erp:
        numbers = [f"OG{n:09d}" for n in range(1, 51)]
        seed_orders(erp.sim, numbers, ref_field="F_OrderNo")
        config = rest_config(erp.base_url)
        config["operations"]["sales_orders"]["page_size"] = 20
        states = await RestErp(config, key=fresh_key()).sales_orders(numbers, trace=[])
        assert erp.sim.calls["rest:orders"] == 3 and all(s.known for s in states.values())


async def test_stock_is_read_for_the_warehouse_in_the_path_with_drift_applied() -> None:
    async with running_erp(profile=Profile.read({"stock_drift": {"warehouse": "CK 01", "share": -0.5}})) as erp:
        erp.sim.set_stock("CK 01", {"SKU-A": 40, "SKU-B": 7})
        figures = await rest(erp.base_url).stock("CK 01", ["SKU-A", "SKU-C"], trace=[])
        assert (figures["SKU-A"].on_hand, figures["SKU-A"].available) == (20, 20)
        assert figures["SKU-A"].as_of is not None
        assert figures["SKU-C"].on_hand == 0 and "SKU-B" not in figures
        assert erp.sim.calls["rest:stock"] == 1


async def test_the_erps_own_error_code_becomes_a_refusal_with_its_message() -> None:
    async with running_erp() as erp:
        erp.sim.books.materials = {"SKU-A"}
        trace: list[Exchange] = []
        with pytest.raises(SystemRefused) as refused:
            await rest(erp.base_url).save_sales_order(sales_order("OG9", ("SKU-Z", 1)), trace=trace)
        assert refused.value.code == "40401" and "SKU-Z" in refused.value.message
        [save] = [e for e in trace if e.operation == "save_sales_order"]
        assert save.outcome == "error" and "SKU-Z" in save.error
        assert erp.sim.books.now.orders == {}


async def test_a_wrong_token_is_refused_and_the_token_is_never_evidence() -> None:
    async with running_erp() as erp:
        trace: list[Exchange] = []
        with pytest.raises(SystemRefused) as refused:
            await rest(erp.base_url, token="stolen").sales_orders(["OG1"], trace=trace)
        assert refused.value.code == "401"
        await rest(erp.base_url).sales_orders(["OG1"], trace=trace)
        assert DEFAULT_ACCOUNT.rest_token not in bodies(trace) and "stolen" not in bodies(trace)


async def test_an_outage_is_unavailable() -> None:
    async with running_erp(profile=Profile(down=True)) as erp:
        trace: list[Exchange] = []
        with pytest.raises(SystemUnavailable):
            await rest(erp.base_url, retries=1).stock("CK001", ["SKU-A"], trace=trace)
        assert [e.status_code for e in trace] == [503, 503]


async def test_an_answer_the_maps_cannot_read_is_unavailable_naming_the_map() -> None:
    async with running_erp() as erp:
        seed_orders(erp.sim, ["OG1"], ref_field="F_OrderNo")
        config = rest_config(erp.base_url)
        config["operations"]["sales_orders"]["ordered"] = "sku"       # a code where a quantity belongs
        with pytest.raises(SystemUnavailable) as unavailable:
            await RestErp(config, key=fresh_key()).sales_orders(["OG1"], trace=[])
        assert unavailable.value.code == "MALFORMED" and "ordered" in unavailable.value.message


# ------------------------------------------------------------------ config checks


def _broken(change) -> dict:  # noqa: ANN001 - a function editing the config in place
    config = copy.deepcopy(rest_config("http://erp.example.com"))
    change(config)
    return config


@pytest.mark.parametrize(("change", "named"), [
    (lambda c: c.pop("operations"), "operations"),
    (lambda c: c["operations"].pop("stock"), "operations.stock"),
    (lambda c: c.update(operatons={}), "operatons"),
    (lambda c: c.update(base_url="erp.example.com"), "base_url"),
    (lambda c: c["operations"]["sales_orders"].update(status="status[?"), "operations.sales_orders.status"),
    (lambda c: c["operations"]["sales_orders"].pop("items"), "operations.sales_orders.items"),
    (lambda c: c["operations"]["stock"].update(path="/v1/{warehouse}/stock"), "operations.stock.path"),
    (lambda c: c["operations"]["stock"].update(onhand="onHand"), "operations.stock.onhand"),
    (lambda c: c["operations"]["save_sales_order"].update(params={"a": "b"}), "operations.save_sales_order.params"),
    (lambda c: c["operations"]["sales_orders"]["params"].update(bad="join(',',"),
     "operations.sales_orders.params.bad"),
    (lambda c: c["operations"]["sales_orders"].update(page_size=0), "operations.sales_orders.page_size"),
    (lambda c: c.update(refused_when="code !="), "refused_when"),
    (lambda c: c.update(time_format="rfc"), "time_format"),
])
def test_a_config_the_adapter_cannot_use_is_refused_naming_the_key(change, named: str) -> None:  # noqa: ANN001
    with pytest.raises(ValueError) as refused:
        SYSTEMS.check("erp", "rest_erp", _broken(change))
    assert str(refused.value).startswith(f"{named}:"), str(refused.value)


def test_the_simulators_config_is_valid_and_the_registry_builds_it() -> None:
    config = rest_config("http://erp.example.com")
    SYSTEMS.check("erp", "rest_erp", config)
    assert isinstance(SYSTEMS.erp("rest_erp", config, key=fresh_key()), RestErp)
