"""A simulated Shopify shop: the Admin REST order list and order calls, and signed ``orders/*`` webhooks.

    GET /admin/api/{version}/orders.json?status=any&updated_at_min=…&updated_at_max=…&limit=…
    GET /admin/api/{version}/orders.json?limit=…&page_info=…       (Link: <…page_info=…>; rel="next")
    GET /admin/api/{version}/orders/{id}.json

As Shopify answers: 401 ``{"errors": "[API] Invalid API key or access token …"}``
without a good ``X-Shopify-Access-Token``; 400 for ``limit`` outside 1–250, a
bad ``page_info`` or a filter sent along with one (it carries the filters
itself); every answer carries ``X-Shopify-Shop-Api-Call-Limit`` (calls in the
bucket / bucket size, from the throttling fault's token bucket, 40 without
one) and the throttling fault is a 429 with ``Retry-After``; the error fault
an HTTP 500. Orders are listed by (``updated_at``, id) with a key cursor, so
paging neither skips nor repeats an order that stays put; ``status`` is
read as ``any`` whatever is sent. Times are rendered in the shop's zone
(UTC-05:00), as Shopify does.

Pushes are the whole order, as Shopify's webhooks are: topic ``orders/create``
for a new order, ``orders/updated`` after, with ``X-Shopify-Hmac-Sha256``
(base64 HMAC-SHA256 of the body with the push secret), ``X-Shopify-Topic``,
``X-Shopify-Webhook-Id``, ``X-Shopify-Event-Id``, ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version`` and ``X-Shopify-Triggered-At``.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import signing, wire
from adapters.channels.sim import order_index
from adapters.channels.sim.core import Platform, Protocol, Push, SimOrder
from domain.inbound.normalized import PayloadError

ACCESS_TOKEN = "shpat_sim0000000000000000000000000000"
SHOP_DOMAIN = "sim-shop.myshopify.com"
API_VERSION = "2024-10"
SHOP_ZONE = timezone(timedelta(hours=-5))
_SKUS = {"SKU-A": ("Merino Scarf", 4500), "SKU-B": ("Wool Hat", 7500), "SKU-C": ("Alpaca Socks", 1800),
         "SKU-D": ("Cashmere Gloves", 6200), "SKU-E": ("Felt Slippers", 3900)}
_UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def _at(moment: datetime) -> str:
    return moment.astimezone(SHOP_ZONE).isoformat()


def _price(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _when(text: str | None) -> datetime | None:
    try:
        return wire.iso_time(text, "time") if text else None
    except PayloadError:
        return None


class ShopifyProtocol:
    """Shopify's REST order resource and webhooks over the core's orders (see the module docstring)."""

    kind = "shopify"

    def __init__(self, *, access_token: str = ACCESS_TOKEN) -> None:
        self.access_token = access_token

    # ------------------------------------------------------------------ orders

    def new_id(self, seq: int) -> str:
        return str(5_123_456_789_012_345_678 + seq * 1_024)

    def initial_status(self) -> str:
        return "paid/unfulfilled"

    def new_detail(self, seq: int, external_id: str, rng: random.Random) -> dict[str, Any]:
        lines = [{"id": 15_234_567_890_000_000 + seq * 10 + index, "sku": sku, "quantity": rng.randint(1, 3),
                  "cents": _SKUS[sku][1]}
                 for index, sku in enumerate(rng.sample(sorted(_SKUS), rng.randint(1, 3)))]
        goods = sum(line["cents"] * line["quantity"] for line in lines)
        discount = rng.choice((0, 0, 500))
        return {"lines": lines, "goods": goods, "discount": discount, "shipping": rng.choice((0, 1000)),
                "tax": (goods - discount) * 6 // 100,
                "customer": rng.choice((("Ada", "Lovelace"), ("Grace", "Hopper")))}

    def render(self, order: SimOrder) -> dict[str, Any]:
        detail, (financial, fulfillment) = order.detail, order.status.split("/", 1)
        first, last = detail["customer"]
        email = f"{first.lower()}.{order.seq}@example.com"
        total = detail["goods"] - detail["discount"] + detail["shipping"] + detail["tax"]
        address = {"first_name": first, "last_name": last, "name": f"{first} {last}", "address1": "1 Analytical Way",
                   "address2": "", "city": "Brooklyn", "province": "New York", "province_code": "NY", "zip": "11201",
                   "country": "United States", "country_code": "US", "phone": "+1 415-555-0123", "company": None}
        items = [{"id": line["id"], "admin_graphql_api_id": f"gid://shopify/LineItem/{line['id']}",
                  "fulfillable_quantity": 0 if fulfillment == "fulfilled" else line["quantity"],
                  "fulfillment_status": "fulfilled" if fulfillment == "fulfilled" else None, "gift_card": False,
                  "grams": 300, "name": _SKUS[line["sku"]][0], "price": _price(line["cents"]),
                  "product_id": 8_123_456_789_000 + int(line["sku"][-1], 16), "quantity": line["quantity"],
                  "requires_shipping": True, "sku": line["sku"], "taxable": True, "title": _SKUS[line["sku"]][0],
                  "total_discount": "0.00", "variant_id": 45_123_456_789_000 + int(line["sku"][-1], 16)}
                 for line in detail["lines"]]
        money = {"amount": _price(detail["shipping"]), "currency_code": "USD"}
        cancelled = financial in ("refunded", "voided")
        return {
            "id": int(order.external_id), "admin_graphql_api_id": f"gid://shopify/Order/{order.external_id}",
            "app_id": 580111, "browser_ip": "203.0.113.7", "buyer_accepts_marketing": False,
            "cancel_reason": "customer" if cancelled else None,
            "cancelled_at": _at(order.updated_at) if cancelled else None, "confirmation_number": f"Q{order.seq:08d}",
            "confirmed": True, "contact_email": email, "created_at": _at(order.created_at), "currency": "USD",
            "current_total_price": _price(total), "email": email, "financial_status": financial,
            "fulfillment_status": None if fulfillment == "unfulfilled" else fulfillment,
            "gateway": "shopify_payments", "name": f"#{1000 + order.seq}", "order_number": 1000 + order.seq,
            "payment_gateway_names": ["shopify_payments"], "phone": None, "presentment_currency": "USD",
            "processed_at": _at(order.paid_at), "source_name": "web",
            "subtotal_price": _price(detail["goods"] - detail["discount"]), "tags": "", "taxes_included": False,
            "test": False, "total_discounts": _price(detail["discount"]),
            "total_line_items_price": _price(detail["goods"]), "total_outstanding": "0.00",
            "total_price": _price(total), "total_tax": _price(detail["tax"]),
            "total_shipping_price_set": {"shop_money": money, "presentment_money": money},
            "updated_at": _at(order.updated_at), "billing_address": address,
            "customer": {"id": 6_234_567_890_123_000_000 + order.seq, "email": email, "first_name": first,
                         "last_name": last, "phone": "+14155550123", "state": "enabled", "currency": "USD"},
            "line_items": items, "shipping_address": address,
            "shipping_lines": [{"id": 4_123_456_789_000 + order.seq, "code": "Standard", "title": "Standard",
                                "price": _price(detail["shipping"]), "source": "shopify"}],
            "fulfillments": [{"id": 4_555_000_000_000 + order.seq, "status": "success", "tracking_company": "UPS",
                              "tracking_number": f"1Z999AA1{order.seq:010d}", "created_at": _at(order.updated_at),
                              "line_items": [{"id": line["id"]} for line in detail["lines"]]}]
            if fulfillment == "fulfilled" else [],
        }

    # ------------------------------------------------------------------ HTTP

    def routes(self, platform: Platform) -> list[Route]:
        def call_limit() -> str:
            """``X-Shopify-Shop-Api-Call-Limit``: calls in the bucket / its size (the fault's bucket, else 1/40)."""
            bucket = platform.bucket
            if not bucket.rate:
                return "1/40"
            return f"{max(1, bucket.burst - int(bucket.tokens))}/{bucket.burst}"

        async def refused(request: Request, operation: str) -> Response | None:
            verdict = await platform.gate(operation)
            if verdict == "throttled":
                return JSONResponse({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
                                               "resume uninterrupted service."}, status_code=429,
                                    headers={"Retry-After": f"{platform.retry_after():.1f}",
                                             "X-Shopify-Shop-Api-Call-Limit": call_limit()})
            if verdict == "error":
                return JSONResponse({"errors": "Internal Server Error"}, status_code=500)
            if request.headers.get("x-shopify-access-token") != self.access_token:
                return JSONResponse({"errors": _UNAUTHORIZED}, status_code=401)
            return None

        def answer(body: dict[str, Any], **headers: str) -> JSONResponse:
            return JSONResponse(body, headers={"X-Shopify-Shop-Api-Call-Limit": call_limit(),
                                               "X-Shopify-API-Version": API_VERSION, **headers})

        async def list_orders(request: Request) -> Response:
            problem = await refused(request, "orders.list")
            if problem:
                return problem
            query = request.query_params
            limit = query.get("limit", "50")
            if not limit.isdigit() or not 1 <= int(limit) <= 250:
                return JSONResponse({"errors": {"limit": ["must be between 1 and 250"]}}, status_code=400)
            if "page_info" in query:
                read = order_index.read_cursor(query["page_info"])
                extra = set(query) - {"page_info", "limit", "fields"}
                if read is None or extra:
                    return JSONResponse({"errors": {"page_info": [
                        "Invalid value." if read is None else f"cannot be combined with {', '.join(sorted(extra))}"]}},
                        status_code=400)
                start, end, after = read
                since, until = datetime.fromtimestamp(start, timezone.utc), datetime.fromtimestamp(end, timezone.utc)
            else:
                since = _when(query.get("updated_at_min")) or datetime(2000, 1, 1, tzinfo=timezone.utc)
                until = _when(query.get("updated_at_max")) or datetime.now(timezone.utc) + timedelta(days=1)
                (start, end), after = order_index.seconds(since, until), None
            orders, more = platform.index.page(start, end, after=after, size=platform.page_size(int(limit)))
            body = {"orders": [self.render(o) for o in orders]}
            headers = {}
            if more:
                page_info = order_index.cursor(start, end, order_index.key(orders[-1]))
                url = request.url.replace(query=f"limit={limit}&page_info={page_info}")
                headers["Link"] = f'<{url}>; rel="next"'
            platform.after_page(since, until)  # after the page is rendered: a touched order moves on, the cursor stays
            return answer(body, **headers)

        async def get_order(request: Request) -> Response:
            problem = await refused(request, "orders.get")
            if problem:
                return problem
            order = platform.orders.get(request.path_params["order_id"])
            if order is None:
                return JSONResponse({"errors": "Not Found"}, status_code=404)
            return answer({"order": self.render(order)})

        return [Route("/admin/api/{version}/orders.json", list_orders, methods=["GET"]),
                Route("/admin/api/{version}/orders/{order_id}.json", get_order, methods=["GET"])]

    # ------------------------------------------------------------------ pushes

    def push(self, order: SimOrder, secret: str) -> Push | None:
        body = json.dumps(self.render(order), ensure_ascii=False).encode()
        topic = "orders/create" if order.updated_at == order.created_at else "orders/updated"
        return Push(body, {"content-type": "application/json", "X-Shopify-Topic": topic,
                           "X-Shopify-Hmac-Sha256": signing.hmac_sha256_base64(secret, body),
                           "X-Shopify-Shop-Domain": SHOP_DOMAIN, "X-Shopify-API-Version": API_VERSION,
                           "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Event-Id": str(uuid.uuid4()),
                           "X-Shopify-Triggered-At": datetime.now(timezone.utc).isoformat()})


def protocol() -> Protocol:
    return ShopifyProtocol()


def account_config(base_url: str) -> dict[str, Any]:
    """The channel ``config["api"]`` pointing the Shopify client at this simulator (as the shop's domain)."""
    return {"base_url": base_url.rstrip("/"), "access_token": ACCESS_TOKEN, "api_version": API_VERSION}
