"""Gateway notices at POST /hooks/{tenant}/pay/{gateway}: WeChat Pay v3 and Alipay, signed with keys made here.

The notices are built in this module straight from the published formats
(WeChat Pay: SHA256withRSA over "timestamp\\nnonce\\nbody\\n" with the platform
certificate's key, resource sealed with AES-256-GCM under the API v3 key;
Alipay: RSA2 over the sorted k=v pairs without sign and sign_type), not with
the adapters' own code, so a misreading of the format on either side shows.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from tortoise import connections

from adapters.payments import simulator
from domain.inbound.normalized import InboundAddress, InboundLine, InboundOrder
from domain.intake.apply import Arrival, apply_order, channel_actor
from domain.orders.create import NewLine, NewOrder, NewPayment, create_order
from domain.payments.ports import NoticeRefused
from domain.statuses import PaymentStatus
from models import Alert, Order, OrderEvent, Payment, PaymentNotice
from models.order import order_no
from tests.live_fixtures import live_server

WECHAT_TXN = "4200001234202611223456789012"
ALIPAY_TRADE_NO = "2026112222001412345678901234"


# ------------------------------------------------------------------ keys and signed notices, made here


@dataclass
class Keys:
    wechat: rsa.RSAPrivateKey  # WeChat Pay's platform key (the gateway's, signing its notices)
    cert: x509.Certificate  # its self-signed platform certificate
    api_v3_key: str  # the merchant's API v3 key (32 bytes)
    alipay: rsa.RSAPrivateKey  # Alipay's key
    stranger: rsa.RSAPrivateKey  # someone else's

    @property
    def serial(self) -> str:
        return format(self.cert.serial_number, "X")


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys() -> Keys:
    wechat = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WeChat Pay platform (test)")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(wechat.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(wechat, hashes.SHA256()))
    return Keys(wechat=wechat, cert=cert, api_v3_key=secrets.token_hex(16), alipay=_key(), stranger=_key())


def wechat_config(keys: Keys) -> dict[str, Any]:
    return {"mchid": "1900000109", "api_v3_key": keys.api_v3_key,
            "platform_certificate": keys.cert.public_bytes(serialization.Encoding.PEM).decode()}


def alipay_config(keys: Keys) -> dict[str, Any]:
    der = keys.alipay.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"app_id": "2021000000000001", "alipay_public_key": base64.b64encode(der).decode()}  # as the open platform shows it


def wechat_notice(keys: Keys, *, out_trade_no: str = "", transaction_id: str = WECHAT_TXN, total_fen: int = 10000,
                  notice_id: str | None = None, timestamp: int | None = None, signer: rsa.RSAPrivateKey | None = None,
                  api_v3_key: str | None = None, trade_state: str = "SUCCESS") -> tuple[bytes, dict[str, str]]:
    transaction = {"mchid": "1900000109", "appid": "wxd678efh567hg6787", "out_trade_no": out_trade_no,
                   "transaction_id": transaction_id, "trade_type": "JSAPI", "trade_state": trade_state,
                   "success_time": "2026-11-22T10:34:56+08:00",
                   "amount": {"total": total_fen, "payer_total": total_fen, "currency": "CNY", "payer_currency": "CNY"}}
    nonce = secrets.token_hex(6)  # 12 characters
    sealed = AESGCM((api_v3_key or keys.api_v3_key).encode()).encrypt(
        nonce.encode(), json.dumps(transaction).encode(), b"transaction")
    body = json.dumps({
        "id": notice_id or f"EV-{secrets.token_hex(6)}", "create_time": "2026-11-22T10:34:57+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                     "ciphertext": base64.b64encode(sealed).decode(), "associated_data": "transaction", "nonce": nonce},
    }, ensure_ascii=False).encode()
    stamp, sign_nonce = str(timestamp if timestamp is not None else int(time.time())), secrets.token_hex(16)
    message = f"{stamp}\n{sign_nonce}\n".encode() + body + b"\n"
    signature = (signer or keys.wechat).sign(message, padding.PKCS1v15(), hashes.SHA256())
    return body, {"Wechatpay-Serial": keys.serial, "Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": sign_nonce,
                  "Wechatpay-Signature": base64.b64encode(signature).decode(), "Content-Type": "application/json"}


def alipay_notice(keys: Keys, *, out_trade_no: str = "", trade_no: str = ALIPAY_TRADE_NO, total: str = "100.00",
                  notify_id: str | None = None, trade_status: str = "TRADE_SUCCESS",
                  signer: rsa.RSAPrivateKey | None = None) -> bytes:
    params = {"notify_time": "2026-11-22 14:10:49", "notify_type": "trade_status_sync",
              "notify_id": notify_id or secrets.token_hex(16), "app_id": "2021000000000001", "charset": "utf-8",
              "version": "1.0", "trade_no": trade_no, "out_trade_no": out_trade_no, "trade_status": trade_status,
              "total_amount": total, "receipt_amount": total, "gmt_payment": "2026-11-22 14:10:47",
              "subject": "龙井 250g", "buyer_id": "2088102116773037"}
    text = "&".join(f"{k}={params[k]}" for k in sorted(params))
    signature = (signer or keys.alipay).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return urlencode({**params, "sign": base64.b64encode(signature).decode(), "sign_type": "RSA2"}).encode()


# ------------------------------------------------------------------ the tenant's side

SAVE_GATEWAY = """mutation ($gateway: String!, $config: JSON!) {
  savePaymentGateway(gateway: $gateway, config: $config) { account { gateway hookPath shown } errors { code field message } }
}"""
NOTICES = """query ($outcome: [PaymentNoticeOutcome!]) {
  paymentNotices(outcome: $outcome, first: 20) { edges { node { id gateway noticeId outcome reason amount
    payment { id } candidates { id orderNumber kind amount } } } }
}"""
RESOLVE = """mutation ($id: ID!, $paymentId: ID!) {
  resolvePaymentNotice(id: $id, paymentId: $paymentId) { notice { outcome resolvedBy payment { id flags confirmedAt } }
    errors { code field message } }
}"""
PAYMENTS = """query ($channel: String!, $externalId: String!) {
  orderByExternalId(channel: $channel, externalId: $externalId) {
    payments { id kind amount status reference normalizedReference gatewayReference flags confirmedAt orderNumber } }
}"""


async def save_gateways(http: httpx.AsyncClient, world: Any, keys: Keys) -> None:
    for gateway, config in (("wechatpay", wechat_config(keys)), ("alipay", alipay_config(keys))):
        response = await http.post("/graphql", json={"query": SAVE_GATEWAY, "variables": {"gateway": gateway, "config": config}},
                                   headers={"authorization": f"Bearer {world.keys['admin']}"})
        saved = response.json()["data"]["savePaymentGateway"]
        assert saved["errors"] == [] and saved["account"]["hookPath"] == f"/hooks/acme/pay/{gateway}", saved
        assert keys.api_v3_key not in response.text  # the API v3 key is never handed back


async def paid_order(world: Any, external_id: str, reference: str, amount: str = "100.00", gateway: str = "wechatpay",
                     status: PaymentStatus = PaymentStatus.PAID) -> Order:
    return await create_order(world.actor(), NewOrder(
        channel_id=world.channel.id, external_id=external_id, lines=[NewLine("TEA", 1, Decimal(amount))],
        payment=NewPayment(gateway=gateway, amount=Decimal(amount), reference=reference, status=status)))


async def only_payment(order: Order) -> Payment:
    return await Payment.get(order_id=order.id)


async def open_alerts(kind: str) -> list[Alert]:
    return list(await Alert.filter(kind=kind, cleared_at__isnull=True))


async def confirmed_events() -> int:
    return await OrderEvent.filter(type="payment.confirmed").count()


# ------------------------------------------------------------------ WeChat Pay v3


async def test_a_signed_wechat_notice_over_http_confirms_the_payment(db, world, keys):
    # the channel recorded the payment as the ERP writes it; the gateway names it by its own transaction id
    order = await paid_order(world, "WX-1", "wx 4200-0012-3420-2611-2234-5678-9012", status=PaymentStatus.PENDING)
    async with live_server(db) as (base, _app):
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            await save_gateways(http, world, keys)
            body, headers = wechat_notice(keys, out_trade_no="OG-UNKNOWN", notice_id="EV-2026112201")
            response = await http.post("/hooks/acme/pay/wechatpay", content=body, headers=headers)
            assert (response.status_code, response.content) == (200, b"")
            data = (await http.post("/graphql", json={"query": PAYMENTS, "variables": {"channel": "tmall", "externalId": "WX-1"}},
                                    headers={"authorization": f"Bearer {world.keys['finance']}"})).json()["data"]
    payment = await only_payment(order)
    assert (payment.status, payment.gateway_reference, payment.flags) == ("PAID", WECHAT_TXN, [])
    assert payment.confirmed_at is not None and payment.paid_at is not None
    notice = await PaymentNotice.get(notice_id="EV-2026112201")
    assert (notice.outcome, notice.payment_id, notice.amount) == ("applied", payment.id, Decimal("100.00"))  # type: ignore[attr-defined]
    assert notice.payload_ref and notice.payload_ref.startswith("sha256:")
    event = await OrderEvent.get(type="payment.confirmed", order_id=order.id)
    assert event.actor == "gateway:wechatpay" and event.after["gateway_reference"] == WECHAT_TXN
    shown = data["orderByExternalId"]["payments"][0]
    assert shown["kind"] == "payment" and shown["normalizedReference"] == WECHAT_TXN
    assert (shown["gatewayReference"], shown["flags"], shown["orderNumber"]) == (WECHAT_TXN, [], order_no(order.id))
    assert shown["confirmedAt"] is not None and shown["status"] == "PAID"
    # the stored keys are sealed at rest
    raw = await connections.get("default").execute_query_dict('SELECT "config" FROM "payment_gateway_account"')
    assert len(raw) == 2 and all(row["config"].startswith("gAAAAA") and keys.api_v3_key not in row["config"] for row in raw)


async def test_tampered_wrong_key_and_stale_notices_are_refused_and_nothing_moves(world, gql, keys):
    order = await paid_order(world, "WX-2", WECHAT_TXN, status=PaymentStatus.PENDING)
    await save_gateways(gql.http, world, keys)
    body, headers = wechat_notice(keys, notice_id="EV-REAL")
    tampered = body.replace(b'"EV-REAL"', b'"EV-FAKE"')
    wrong_signer = wechat_notice(keys, notice_id="EV-OTHER-KEY", signer=keys.stranger)
    stale = wechat_notice(keys, notice_id="EV-STALE", timestamp=int(time.time()) - 3600)
    wrong_v3 = wechat_notice(keys, notice_id="EV-V3", api_v3_key=secrets.token_hex(16))
    unknown_serial = (body, {**headers, "Wechatpay-Serial": "1234ABCD"})
    cases = [((tampered, headers), 401), (wrong_signer, 401), (stale, 401), (wrong_v3, 400), (unknown_serial, 401)]
    for (payload, sent_headers), status in cases:
        response = await gql.http.post("/hooks/acme/pay/wechatpay", content=payload, headers=sent_headers)
        assert response.status_code == status, response.text
        assert response.json()["code"] == "FAIL" and response.json()["message"]
    payment = await only_payment(order)
    assert (payment.status, payment.confirmed_at, payment.gateway_reference) == ("PENDING", None, "")
    refused = await PaymentNotice.filter(outcome="refused").order_by("id")
    assert len(refused) == 5 and all(row.notice_id.startswith("refused:") for row in refused)
    assert [row.reason.split(" (")[0] for row in refused] == [
        "Wechatpay-Signature does not verify", "Wechatpay-Signature does not verify",
        "Wechatpay-Timestamp is more than 300 s off: a stale or replayed notice",
        "resource does not decrypt with this account's API v3 key",
        "no platform certificate or public key with serial '1234ABCD'"]
    assert await confirmed_events() == 0
    # the forged copy did not take the real notice's id: the real one still applies
    response = await gql.http.post("/hooks/acme/pay/wechatpay", content=body, headers=headers)
    assert response.status_code == 200
    assert (await only_payment(order)).status == "PAID" and await confirmed_events() == 1


async def test_a_tenant_without_keys_or_an_unknown_gateway_is_refused(world, gql, keys):
    body, headers = wechat_notice(keys)
    response = await gql.http.post("/hooks/acme/pay/wechatpay", content=body, headers=headers)
    assert response.status_code == 404 and response.json()["code"] == "FAIL"
    assert (await PaymentNotice.get()).reason.startswith("no wechatpay account")
    assert (await gql.http.post("/hooks/acme/pay/paypal", content=body, headers=headers)).status_code == 404
    assert (await gql.http.post("/hooks/nobody/pay/wechatpay", content=body, headers=headers)).status_code == 404
    assert await PaymentNotice.all().count() == 1


# ------------------------------------------------------------------ Alipay


async def test_an_alipay_notice_is_confirmed_and_answered_success(world, gql, keys):
    order = await paid_order(world, "ALI-1", "ALI-2026112222001412345678901234 ", gateway="erp")
    await save_gateways(gql.http, world, keys)
    response = await gql.http.post("/hooks/acme/pay/alipay", content=alipay_notice(keys, notify_id="n-1"),
                                   headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert (response.status_code, response.text) == (200, "success")
    payment = await only_payment(order)
    assert (payment.gateway_reference, payment.flags, payment.confirmed_at is not None) == (ALIPAY_TRADE_NO, [], True)
    assert (await PaymentNotice.get(notice_id="n-1")).outcome == "applied"
    # a forged one is answered "fail" (Alipay retries) and applies nothing
    forged = alipay_notice(keys, notify_id="n-2", trade_no="2026112222001400000000000000", signer=keys.stranger)
    response = await gql.http.post("/hooks/acme/pay/alipay", content=forged,
                                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert (response.status_code, response.text) == (401, "fail")
    assert await confirmed_events() == 1


async def test_the_simulator_signs_as_the_gateways_do(world, gql):
    generated = simulator.GatewayKeys.generate()
    for external_id, reference in (("SIM-1", "OG-SIM-1"), ("SIM-2", ALIPAY_TRADE_NO)):
        await create_order(world.actor(), NewOrder(
            channel_id=world.channel.id, external_id=external_id, lines=[NewLine("TEA", 1, Decimal("118.00"))],
            payment=NewPayment(gateway="wechatpay", amount=Decimal("118.00"), reference=reference)))
    for gateway, config in (("wechatpay", generated.wechat_config()), ("alipay", generated.alipay_config())):
        response = await gql.http.post("/graphql", json={"query": SAVE_GATEWAY, "variables": {"gateway": gateway, "config": config}},
                                       headers={"authorization": f"Bearer {world.keys['admin']}"})
        assert response.json()["data"]["savePaymentGateway"]["errors"] == [], response.text
    body, headers = simulator.wechat_notice(generated, {"out_trade_no": "OG-SIM-1", "transaction_id": WECHAT_TXN,
                                                        "trade_state": "SUCCESS", "amount": {"total": 11800, "currency": "CNY"}})
    assert (await gql.http.post("/hooks/acme/pay/wechatpay", content=body, headers=headers)).status_code == 200
    form = simulator.alipay_notice(generated, {"notify_id": "sim-1", "out_trade_no": "OG-SIM-2", "trade_no": ALIPAY_TRADE_NO,
                                               "trade_status": "TRADE_FINISHED", "total_amount": "118.00"})
    assert (await gql.http.post("/hooks/acme/pay/alipay", content=form)).text == "success"
    assert [(n.outcome, n.amount) for n in await PaymentNotice.all().order_by("id")] == [
        ("applied", Decimal("118.00")), ("applied", Decimal("118.00"))]


# ------------------------------------------------------------------ duplicates and double counting


async def test_a_duplicate_notice_is_applied_once_and_money_is_never_counted_twice(world, gql, keys):
    order = await paid_order(world, "DUP-1", WECHAT_TXN)
    await save_gateways(gql.http, world, keys)
    body, headers = wechat_notice(keys, notice_id="EV-DUP")
    for _ in range(3):  # the gateway retries until answered
        response = await gql.http.post("/hooks/acme/pay/wechatpay", content=body, headers=headers)
        assert (response.status_code, response.content) == (200, b"")
    assert await PaymentNotice.filter(notice_id="EV-DUP").count() == 1 and await confirmed_events() == 1
    first = await only_payment(order)
    # a new notice for the same transaction: recognised, kept as duplicate, nothing re-applied
    again = wechat_notice(keys, notice_id="EV-DUP-2")
    assert (await gql.http.post("/hooks/acme/pay/wechatpay", content=again[0], headers=again[1])).status_code == 200
    assert (await PaymentNotice.get(notice_id="EV-DUP-2")).outcome == "duplicate"
    # another transaction for the already confirmed payment would count it twice: refused, alerted
    second = wechat_notice(keys, notice_id="EV-TWICE", out_trade_no=WECHAT_TXN, transaction_id="4200001234202611220000000001")
    assert (await gql.http.post("/hooks/acme/pay/wechatpay", content=second[0], headers=second[1])).status_code == 200
    twice = await PaymentNotice.get(notice_id="EV-TWICE")
    assert twice.outcome == "refused" and "count the money twice" in twice.reason
    assert [a.order_id for a in await open_alerts("payment.over")] == [order.id]  # type: ignore[attr-defined]
    after = await only_payment(order)
    assert (after.gateway_reference, after.confirmed_at, await confirmed_events()) == (WECHAT_TXN, first.confirmed_at, 1)


# ------------------------------------------------------------------ matching: none, several, a person decides


async def test_an_unknown_reference_is_unmatched_and_alerted_then_matched_by_a_person(world, gql, keys):
    order = await paid_order(world, "UNM-1", "MERCHANT-REF-77")
    await save_gateways(gql.http, world, keys)
    form = alipay_notice(keys, notify_id="n-unknown", out_trade_no="OG-NOBODY", trade_no="2026112222009999999999999999")
    assert (await gql.http.post("/hooks/acme/pay/alipay", content=form)).text == "success"  # kept: retrying changes nothing
    notice = await PaymentNotice.get(notice_id="n-unknown")
    assert notice.outcome == "unmatched" and notice.payment_id is None  # type: ignore[attr-defined]
    alerts = await open_alerts("payment.unmatched")
    assert len(alerts) == 1 and "no payment has reference 'OG-NOBODY'" in alerts[0].message
    queue = (await gql(world.keys["finance"], NOTICES, {}))["paymentNotices"]["edges"]
    assert [edge["node"]["noticeId"] for edge in queue] == ["n-unknown"]
    payment = await only_payment(order)
    resolved = (await gql(world.keys["finance"], RESOLVE, {"id": queue[0]["node"]["id"],
                                                            "paymentId": _gid("Payment", payment.id)}))["resolvePaymentNotice"]
    assert resolved["errors"] == [] and resolved["notice"]["outcome"] == "RESOLVED"
    assert await open_alerts("payment.unmatched") == []
    assert (await only_payment(order)).gateway_reference == "2026112222009999999999999999"


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def test_two_candidates_make_an_ambiguous_notice_a_person_resolves(world, gql, keys):
    # the same reference on two orders (a channel that reuses the buyer's payment for a split order)
    first = await paid_order(world, "AMB-1", "TB:" + WECHAT_TXN, status=PaymentStatus.PENDING)
    second = await paid_order(world, "AMB-2", "ERP-" + WECHAT_TXN, status=PaymentStatus.PENDING)
    await save_gateways(gql.http, world, keys)
    body, headers = wechat_notice(keys, notice_id="EV-AMB")
    assert (await gql.http.post("/hooks/acme/pay/wechatpay", content=body, headers=headers)).status_code == 200
    notice = await PaymentNotice.get(notice_id="EV-AMB")
    p1, p2 = await only_payment(first), await only_payment(second)
    assert notice.outcome == "ambiguous" and notice.candidates == [p1.id, p2.id]
    assert len(await open_alerts("payment.ambiguous")) == 1 and await confirmed_events() == 0
    node = (await gql(world.keys["ops"], NOTICES, {"outcome": ["AMBIGUOUS"]}))["paymentNotices"]["edges"][0]["node"]
    assert [c["orderNumber"] for c in node["candidates"]] == [order_no(first.id), order_no(second.id)]
    # a warehouse key may not decide where money goes
    refused = (await gql(world.keys["warehouse"], RESOLVE, {"id": node["id"], "paymentId": _gid("Payment", p2.id)}))
    assert refused["resolvePaymentNotice"]["errors"][0]["code"] == "FORBIDDEN"
    done = (await gql(world.keys["finance"], RESOLVE, {"id": node["id"], "paymentId": _gid("Payment", p2.id)}))
    assert done["resolvePaymentNotice"]["notice"]["outcome"] == "RESOLVED"
    assert done["resolvePaymentNotice"]["notice"]["resolvedBy"]
    assert ((await only_payment(second)).status, (await only_payment(first)).status) == ("PAID", "PENDING")
    assert await open_alerts("payment.ambiguous") == [] and await confirmed_events() == 1
    event = await OrderEvent.get(type="payment.confirmed")
    assert event.order_id == second.id and event.actor != "gateway:wechatpay"  # type: ignore[attr-defined]
    # once resolved, it cannot be resolved again (to the other payment: that would count the money twice)
    again = (await gql(world.keys["finance"], RESOLVE, {"id": node["id"], "paymentId": _gid("Payment", p1.id)}))
    assert again["resolvePaymentNotice"]["errors"][0]["code"] == "CONFLICT"
    assert (await only_payment(first)).confirmed_at is None


# ------------------------------------------------------------------ amounts


async def test_partial_and_over_payments_are_flagged_and_alerted(world, gql, keys):
    short = await paid_order(world, "AMT-1", "4200001234202611220000000011")
    over = await paid_order(world, "AMT-2", "4200001234202611220000000022")
    await save_gateways(gql.http, world, keys)
    for txn, fen in (("4200001234202611220000000011", 8000), ("4200001234202611220000000022", 12000)):
        body, headers = wechat_notice(keys, transaction_id=txn, total_fen=fen)
        assert (await gql.http.post("/hooks/acme/pay/wechatpay", content=body, headers=headers)).status_code == 200
    assert ((await only_payment(short)).flags, (await only_payment(over)).flags) == (["partial"], ["over"])
    assert (await only_payment(short)).amount == Decimal("100.00")  # the expected amount is kept; the notice has 80.00
    assert [a.order_id for a in await open_alerts("payment.partial")] == [short.id]  # type: ignore[attr-defined]
    assert [a.order_id for a in await open_alerts("payment.over")] == [over.id]  # type: ignore[attr-defined]
    shown = (await gql(world.keys["ops"], PAYMENTS, {"channel": "tmall", "externalId": "AMT-1"}))
    assert shown["orderByExternalId"]["payments"][0]["flags"] == ["partial"]


# ------------------------------------------------------------------ pre-sale: deposit then balance


def presale(step: str, status: str, paid: str, updated: datetime, paid_at: datetime | None) -> InboundOrder:
    return InboundOrder(
        source="taobao", external_id="PRE-1", status_code=status, lines=(InboundLine("TEA", 1, Decimal("118.00")),),
        currency="CNY", total_amount=Decimal("118.00"), paid_amount=Decimal(paid), updated_at=updated,
        placed_at=updated, customer_name="", customer_phone="", address=InboundAddress(province="浙江省", city="杭州市"),
        payment_reference=ALIPAY_TRADE_NO, payment_gateway="alipay", extra_codes={"step_trade_status": step},
        paid_at=paid_at)


async def test_a_presale_deposit_then_balance_are_two_payments_each_confirmed(world, gql, keys):
    t0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    actor = channel_actor(world.tenant.id, world.channel.code)
    await apply_order(actor, world.channel, presale("FRONT_PAID_FINAL_NOPAID", "WAIT_BUYER_PAY", "20.00", t0, None),
                      Arrival())
    order = await Order.get(external_id="PRE-1")
    assert order.status == "DEPOSIT_PAID"
    assert [(p.kind, p.amount) for p in await Payment.filter(order_id=order.id)] == [("deposit", Decimal("20.00"))]
    final = t0 + timedelta(days=3)
    await apply_order(actor, world.channel, presale("FRONT_PAID_FINAL_PAID", "WAIT_SELLER_SEND_GOODS", "118.00", final, final),
                      Arrival())
    rows = await Payment.filter(order_id=order.id).order_by("id")
    assert [(p.kind, p.amount, p.status, p.normalized_reference) for p in rows] == [
        ("deposit", Decimal("20.00"), "PAID", ALIPAY_TRADE_NO), ("balance", Decimal("98.00"), "PAID", ALIPAY_TRADE_NO)]
    # a later update from the channel (shipped) leaves both as they are: the balance is not set to the total
    await apply_order(actor, world.channel, presale("FRONT_PAID_FINAL_PAID", "WAIT_BUYER_CONFIRM_GOODS", "118.00",
                                                    final + timedelta(days=1), final), Arrival())
    assert [p.amount for p in await Payment.filter(order_id=order.id).order_by("id")] == [Decimal("20.00"), Decimal("98.00")]
    # Alipay's notices for the two steps share the trade's reference: each confirms the payment of its amount
    await save_gateways(gql.http, world, keys)
    for notify_id, total in (("pre-balance", "98.00"), ("pre-deposit", "20.00")):
        form = alipay_notice(keys, notify_id=notify_id, total=total, out_trade_no=ALIPAY_TRADE_NO,
                             trade_no="2026112222001400000000000" + ("001" if total == "98.00" else "002"))
        assert (await gql.http.post("/hooks/acme/pay/alipay", content=form)).text == "success"
    rows = await Payment.filter(order_id=order.id).order_by("id")
    assert [(p.kind, p.flags, p.confirmed_at is not None) for p in rows] == [("deposit", [], True), ("balance", [], True)]
    data = await gql(world.keys["ops"], PAYMENTS, {"channel": "tmall", "externalId": "PRE-1"})
    assert [(p["kind"], p["amount"]) for p in data["orderByExternalId"]["payments"]] == [("deposit", "20.00"), ("balance", "98.00")]


async def test_gateway_keys_are_checked_before_they_are_saved(world, gql, keys):
    bad = {**wechat_config(keys), "api_v3_key": "short"}
    saved = (await gql(world.keys["admin"], SAVE_GATEWAY, {"gateway": "wechatpay", "config": bad}))["savePaymentGateway"]
    assert saved["errors"][0]["code"] == "VALIDATION" and saved["errors"][0]["field"] == "config"
    not_admin = (await gql(world.keys["ops"], SAVE_GATEWAY, {"gateway": "alipay", "config": alipay_config(keys)}))
    assert not_admin["savePaymentGateway"]["errors"][0]["code"] == "FORBIDDEN"
    unknown = (await gql(world.keys["admin"], SAVE_GATEWAY, {"gateway": "paypal", "config": {}}))
    assert unknown["savePaymentGateway"]["errors"][0]["field"] == "gateway"
    # a partial save keeps the rest: a rotated certificate without sending the API v3 key again
    await save_gateways(gql.http, world, keys)
    rotated = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rotated")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(rotated.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(rotated, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    result = (await gql(world.keys["admin"], SAVE_GATEWAY, {"gateway": "wechatpay", "config": {"platform_certificate": pem}}))
    shown = result["savePaymentGateway"]["account"]["shown"]
    assert shown["api_v3_key_set"] is True and shown["certificates"][0]["serial"] == format(cert.serial_number, "X")
    assert keys.api_v3_key not in json.dumps(result)


# ------------------------------------------------------------------ the adapters' other published shapes


def test_wechat_public_key_mode_and_alipay_gbk_notices_verify(keys):
    from adapters.payments.alipay import Alipay
    from adapters.payments.wechatpay import WeChatPayV3

    now = datetime.now(UTC)
    pem = keys.wechat.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    config = WeChatPayV3().check_config({"api_v3_key": keys.api_v3_key, "public_key_id": "PUB_KEY_ID_0114232134912410",
                                         "public_key": pem})
    body, headers = wechat_notice(keys, notice_id="EV-PUBKEY", total_fen=1)
    headers["Wechatpay-Serial"] = "PUB_KEY_ID_0114232134912410"
    notice = WeChatPayV3().read_notice(config, body, headers, now=now, tolerance=300)
    assert (notice.notice_id, notice.amount, notice.paid, notice.transaction_id) == ("EV-PUBKEY", Decimal("0.01"), True, WECHAT_TXN)
    assert notice.paid_at == datetime(2026, 11, 22, 2, 34, 56, tzinfo=UTC)
    # Alipay in GBK: the signed text is encoded in the notice's charset, the form percent-encoded in it too
    params = {"notify_id": "gbk-1", "charset": "gbk", "trade_no": ALIPAY_TRADE_NO, "out_trade_no": "OG1",
              "trade_status": "TRADE_SUCCESS", "total_amount": "9.90", "subject": "龙井茶", "app_id": "2021000000000001"}
    text = "&".join(f"{k}={params[k]}" for k in sorted(params)).encode("gbk")
    sign = base64.b64encode(keys.alipay.sign(text, padding.PKCS1v15(), hashes.SHA256())).decode()
    form = urlencode({**params, "sign": sign, "sign_type": "RSA2"}, encoding="gbk").encode()
    read = Alipay().read_notice(Alipay().check_config(alipay_config(keys)), form, {}, now=now, tolerance=300)
    assert (read.notice_id, read.amount, read.paid, read.details["out_biz_no"]) == ("gbk-1", Decimal("9.90"), True, None)
    # RSA (SHA-1) is not accepted
    legacy = urlencode({**params, "sign": sign, "sign_type": "RSA"}, encoding="gbk").encode()
    with pytest.raises(NoticeRefused, match="not RSA2"):
        Alipay().read_notice(Alipay().check_config(alipay_config(keys)), legacy, {}, now=now, tolerance=300)
