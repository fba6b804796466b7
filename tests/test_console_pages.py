"""The console's second slice over plain HTTP: webhooks, rules, stock, channels, policy, live board, report PDF.

Each page is the API seen by a person: what a role may not do shows the API's
refusal (403), never a 500, and a secret never reaches a page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from console.live import changes
from domain.actor import Role
from domain.webhooks import endpoints as webhook_endpoints
from models import Alert, Rule, WebhookDelivery
from resolvers import ids
from tests.helpers import paid_order
from tests.stock_fixtures import stock_up
from tests.test_console import held_order, person, signed_in

EN = {"accept-language": "en"}
REGISTER = """mutation($input: RegisterWebhookEndpointInput!) {
  registerWebhookEndpoint(input: $input) { endpoint { id } secret errors { code } } }"""
REPLAY_RANGE = """mutation($e: ID!, $s: DateTime!, $u: DateTime!) {
  replayWebhookDeliveries(endpoint: $e, since: $s, until: $u) { queued errors { code } } }"""
SAFETY = "mutation($i: SetSafetyStockInput!) { setSafetyStock(input: $i) { errors { code } } }"
ADJUST = "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { errors { code } } }"
CHANNEL_SECRET = "whsec_c29tZSBjaGFubmVsIHNlY3JldCBmb3IgdGVzdHM="


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def failed_delivery(world: Any, gql: Any) -> tuple[str, WebhookDelivery, str]:
    """An endpoint (its id and secret) with one failed delivery of an order event."""
    registered = (await gql(world.keys["admin"], REGISTER, {"input": {"url": "https://partner.example.com/hooks"}}))
    endpoint_id, secret = registered["registerWebhookEndpoint"]["endpoint"]["id"], registered["registerWebhookEndpoint"]["secret"]
    pk = ids.decode(endpoint_id)[1]
    await webhook_endpoints.disable_endpoint(world.actor(Role.ADMIN), pk, "kept quiet while testing")
    await paid_order(world.actor(), world.channel.id, "WH-1")
    since, until = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1)
    queued = await gql(world.keys["admin"], REPLAY_RANGE, {"e": endpoint_id, "s": since.isoformat(), "u": until.isoformat()})
    assert queued["replayWebhookDeliveries"]["queued"] == 1
    delivery = await WebhookDelivery.get(endpoint_id=pk)
    await WebhookDelivery.filter(id=delivery.id).update(status="failed", retry_index=9, last_error="HTTP 502 from partner")
    return endpoint_id, delivery, secret


async def test_webhook_log_shows_deliveries_and_replays_one(world, gql, browser):
    endpoint_id, delivery, secret = await failed_delivery(world, gql)
    token = await signed_in(browser, await person(world, Role.ADMIN))
    page = await browser.get("/console/webhooks", headers=EN)
    assert page.status_code == 200
    assert "https://partner.example.com/hooks" in page.text and "FAILED" in page.text and "HTTP 502 from partner" in page.text
    assert delivery.message_id in page.text and secret not in page.text and secret[:10] in page.text  # prefix only
    failed_only = await browser.get("/console/webhooks", params={"endpoint": endpoint_id, "status": "SUCCEEDED"}, headers=EN)
    assert "No deliveries match." in failed_only.text
    replayed = await browser.post("/console/webhooks/replay", data={
        "csrf": token, "id": ids.encode("WebhookDelivery", delivery.id), "endpoint": endpoint_id})
    assert replayed.status_code == 303 and "done=replay" in replayed.headers["location"]
    after = await browser.get(replayed.headers["location"], headers=EN)
    assert "Delivery queued again." in after.text
    stored = await WebhookDelivery.get(id=delivery.id)
    assert stored.status == "pending" and stored.retry_index == 0
    no_token = await browser.post("/console/webhooks/replay", data={"id": ids.encode("WebhookDelivery", delivery.id)})
    assert no_token.status_code == 403


async def test_webhook_log_is_refused_to_other_roles_with_the_apis_message(world, gql, browser):
    _, delivery, _ = await failed_delivery(world, gql)
    token = await signed_in(browser, await person(world, Role.OPS))
    page = await browser.get("/console/webhooks", headers=EN)
    assert page.status_code == 403 and "Not done:" in page.text and "partner.example.com" not in page.text
    replay = await browser.post("/console/webhooks/replay", data={"csrf": token, "id": ids.encode("WebhookDelivery", delivery.id)},
                                headers=EN)
    assert replay.status_code == 403 and 'role="alert"' in replay.text
    assert (await WebhookDelivery.get(id=delivery.id)).status == "failed"


async def test_rule_from_a_template_dry_runs_and_turns_on(world, browser):
    paid = await paid_order(world.actor(), world.channel.id, "RULE-1")
    token = await signed_in(browser, await person(world, Role.OPS))
    page = await browser.get("/console/rules", headers=EN)
    assert page.status_code == 200 and "merge_suggestion" in page.text and "No rules yet" in page.text
    made = await browser.post("/console/rules/act", data={"csrf": token, "action": "template", "template": "merge_suggestion",
                                                         "name": "paid orders to merge"})
    assert made.status_code == 303
    rule = await Rule.get(name="paid orders to merge")
    assert rule.enabled is False
    shown = await browser.get(made.headers["location"], headers=EN)
    assert "Rule created from the template (off)." in shown.text and "order.status" in shown.text
    rule_id = ids.encode("Rule", rule.id)
    ran = await browser.post("/console/rules/act", data={"csrf": token, "action": "dry_run", "rule": rule_id, "days": "7"},
                             headers=EN)
    assert ran.status_code == 200 and "Dry run over the last 7 days" in ran.text
    assert "orders hit" in ran.text and "evaluating" in ran.text and "Evaluation errors" in ran.text
    assert f"/console/orders/OG{paid.id:09d}" in ran.text  # the paid order was hit, with a link to it
    assert not (await Rule.get(id=rule.id)).enabled  # a dry run changes nothing
    on = await browser.post("/console/rules/act", data={"csrf": token, "action": "enable", "rule": rule_id})
    assert on.status_code == 303 and (await Rule.get(id=rule.id)).enabled
    bad = await browser.post("/console/rules/act", data={"csrf": token, "action": "template", "template": "no_such"}, headers=EN)
    assert bad.status_code == 404 and "no template" in bad.text


async def test_rules_are_refused_to_roles_that_may_not_edit(world, browser):
    token = await signed_in(browser, await person(world, Role.FINANCE))
    made = await browser.post("/console/rules/act", data={"csrf": token, "action": "template", "template": "merge_suggestion"},
                              headers=EN)
    assert made.status_code == 403 and "Not done:" in made.text
    assert await Rule.all().count() == 0
    missing = await browser.get("/console/rules", params={"rule": ids.encode("Rule", 999999)}, headers=EN)
    assert missing.status_code in (403, 404)


async def test_stock_page_shows_levels_per_warehouse_and_highlights_low_stock(world, gql, browser):
    await stock_up(world, {"TEA-001": {"SH": 10, "GZ": 30}})
    sh = ids.encode("Warehouse", world.warehouses[0].id)
    await gql(world.keys["ops"], SAFETY, {"i": {"warehouse": sh, "sku": "TEA-001", "safety": 8}})
    await gql(world.keys["ops"], ADJUST, {"i": {"warehouse": sh, "sku": "TEA-001", "delta": -4, "reason": "damage"}})
    assert await Alert.filter(kind="low_stock").count() == 1
    await signed_in(browser, await person(world, Role.AUDITOR))
    page = await browser.get("/console/stock", headers=EN)
    assert page.status_code == 200 and "Warehouses" in page.text and "TEA-001" in page.text
    assert page.text.count('<tr class="low">') == 1  # SH (6 left, safety 8) is low; GZ is not
    low = await browser.get("/console/stock", params={"low": "1"}, headers=EN)
    rows = low.text.split('class="grid stock"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    assert rows.count("<tr") == rows.count('<tr class="low">') == 1 and ">6</b>" in rows  # only SH, 6 available


async def test_channel_setup_shows_urls_never_secrets_and_admins_only(world, gql, browser):
    await gql(world.keys["admin"], "mutation($s: String!) { updateChannel(input: {code: \"tmall\", secret: $s}) { errors { code } } }",
              {"s": CHANNEL_SECRET})
    await signed_in(browser, await person(world, Role.ADMIN))
    page = await browser.get("/console/channels", headers=EN)
    assert page.status_code == 200
    assert "http://test/hooks/acme/tmall" in page.text and "Set" in page.text and CHANNEL_SECRET not in page.text
    async with httpx.AsyncClient(transport=browser._transport, base_url="http://test") as other:
        await signed_in(other, await person(world, Role.OPS))
        refused = await other.get("/console/channels", headers=EN)
    assert refused.status_code == 403 and "Not done:" in refused.text and "/hooks/acme/tmall" not in refused.text
    assert "Tmall flagship" in refused.text  # the polling state stays visible


async def test_allocation_policy_is_shown_and_saved_through_the_api(world, browser):
    token = await signed_in(browser, await person(world, Role.ADMIN))
    page = await browser.get("/console/policy", headers=EN)
    assert page.status_code == 200 and "Not available yet" in page.text  # no history in the API
    broken = await browser.post("/console/policy", data={"csrf": token, "config": "{not json"}, headers=EN)
    assert broken.status_code == 422 and "JSON" in broken.text
    refused_by_api = await browser.post("/console/policy", data={"csrf": token, "config": '{"strategy": "nowhere"}'}, headers=EN)
    assert refused_by_api.status_code == 422 and "Not done:" in refused_by_api.text
    saved = await browser.post("/console/policy", data={"csrf": token, "config": '{"strategy": "priority"}'})
    assert saved.status_code == 303, saved.text[:2000]
    after = await browser.get(saved.headers["location"], headers=EN)
    assert "Saved as version 1." in after.text and "priority" in after.text and "Test Admin" in after.text
    async with httpx.AsyncClient(transport=browser._transport, base_url="http://test") as other:
        ops_token = await signed_in(other, await person(world, Role.FINANCE))
        refused = await other.post("/console/policy", data={"csrf": ops_token, "config": '{"strategy": "priority"}'}, headers=EN)
    assert refused.status_code == 403 and "Not done:" in refused.text


async def test_board_stream_says_changed_when_an_alert_of_the_tenant_changes(world, gql, app, browser):
    _, alert_id = await held_order(world, gql, "LIVE-1")
    token = await signed_in(browser, await person(world, Role.OPS))
    board = await browser.get("/console/board", headers=EN)
    assert 'data-live="/console/board/live"' in board.text and "/console/static/live.js" in board.text
    assert "Refresh" in board.text and "script-src 'self'" in board.headers["content-security-policy"]
    script = await browser.get("/console/static/live.js")
    assert script.status_code == 200 and "EventSource" in script.text
    stream = changes(app.state.bus, world.tenant.id)
    assert await anext(stream) == "retry: 5000\n\n"
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    acked = await browser.post("/console/board/act", data={"action": "acknowledge", "id": alert_id, "csrf": token})
    assert acked.status_code == 303
    assert (await asyncio.wait_for(waiting, timeout=20)).startswith("event: changed\n")
    await stream.aclose()


async def test_report_downloads_as_a_weekly_pdf(world, gql, browser):
    await held_order(world, gql, "PDF-1")
    await signed_in(browser, await person(world, Role.ADMIN))
    page = await browser.get("/console/report", headers=EN)
    assert "/console/report.pdf?days=7" in page.text and "Weekly report (PDF)" in page.text
    pdf = await browser.get("/console/report.pdf", headers=EN)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    assert "7d.pdf" in pdf.headers["content-disposition"]
