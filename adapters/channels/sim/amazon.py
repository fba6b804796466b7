"""A simulated Amazon seller: Login with Amazon tokens and the SP-API Orders v0 list, order and items calls.

    POST /auth/o2/token                                  grant_type=refresh_token (form), as api.amazon.com
    GET  /orders/v0/orders?MarketplaceIds=…&LastUpdatedAfter=…&LastUpdatedBefore=…&MaxResultsPerPage=…
    GET  /orders/v0/orders?MarketplaceIds=…&NextToken=…
    GET  /orders/v0/orders/{id}
    GET  /orders/v0/orders/{id}/orderItems[?NextToken=…]   (``items_page`` items per page)

As SP-API answers: 403 ``Unauthorized`` for a missing, unknown or expired
``x-amz-access-token``; 400 ``InvalidInput`` for a missing ``MarketplaceIds``
or ``LastUpdatedAfter``, ``MaxResultsPerPage`` outside 1–100, a bad
``NextToken``, or a ``LastUpdatedBefore`` less than 2 minutes before the
request; 404 ``NotFound``; the throttling fault is a 429 ``QuotaExceeded``
with ``x-amzn-RateLimit-Limit`` (the fault's rate, else the operation's
default plan), the error fault an HTTP 500. LWA answers 401
``invalid_client`` / 400 ``invalid_grant``. Amazon's order notifications go
to SQS/EventBridge, not to a webhook: this simulator pushes nothing.
"""

from __future__ import annotations

import base64
import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import wire
from adapters.channels.sim import order_index
from adapters.channels.sim.core import Platform, Protocol, Push, SimOrder
from domain.inbound.normalized import PayloadError

CLIENT_ID = "amzn1.application-oa2-client.sim0000000000000000000000000000"
CLIENT_SECRET = "amzn1.oa2-cs.v1.sim-secret"
REFRESH_TOKEN = "Atzr|sim-refresh-token"
MARKETPLACE = "ATVPDKIKX0DER"
LAG = timedelta(minutes=2)
DEFAULT_RATES = {"getOrders": "0.0167", "getOrder": "0.5", "getOrderItems": "0.5"}
_SKUS = {"SKU-A": ("B00X4WHP5E", "Stoneware Mug 350 ml", 1999),
         "SKU-B": ("B07ZPKN6YR", "Longjing Green Tea 250 g", 3999), "SKU-C": ("B08L5M9Q2T", "Bamboo Tray", 2450),
         "SKU-D": ("B09K3H7N1C", "Tea Towel, Linen", 1275), "SKU-E": ("B0C1X2Y3Z4", "Cast Iron Teapot", 5900)}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(cents: int) -> dict[str, str]:
    return {"CurrencyCode": "USD", "Amount": f"{cents // 100}.{cents % 100:02d}"}


def _errors(status: int, code: str, message: str, details: str = "", **headers: str) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message, "details": details}]}, status_code=status,
                        headers=headers)


def _when(text: str | None) -> datetime | None:
    try:
        return wire.iso_time(text, "time") if text else None
    except PayloadError:
        return None


class AmazonProtocol:
    """SP-API Orders v0 over the core's orders (see the module docstring)."""

    kind = "amazon"

    def __init__(self, *, token_ttl: int = 3600, items_page: int = 30) -> None:
        self.token_ttl, self.items_page = token_ttl, items_page
        self.tokens: dict[str, float] = {}  # access token -> monotonic expiry

    # ------------------------------------------------------------------ orders

    def new_id(self, seq: int) -> str:
        return f"{902 + seq % 10:03d}-{seq:07d}-{seq * 7_919 % 10_000_000:07d}"

    def initial_status(self) -> str:
        return "Unshipped"

    def new_detail(self, seq: int, external_id: str, rng: random.Random) -> dict[str, Any]:
        items = []
        for index, sku in enumerate(rng.sample(sorted(_SKUS), rng.randint(1, 3))):
            quantity = rng.randint(1, 3)
            items.append({"sku": sku, "item_id": f"{52_852_651_000_000 + seq * 10 + index}", "quantity": quantity,
                          "cents": _SKUS[sku][2] * quantity, "shipping": rng.choice((0, 0, 499)),
                          "tax": rng.choice((0, 120)), "promotion": rng.choice((0, 0, 200))})
        return {"items": items, "prime": rng.random() < 0.5, "gift": rng.random() < 0.2,
                "buyer": rng.choice(("Grace Hopper", "Ada Lovelace", "Alan Turing"))}

    def render_order(self, order: SimOrder) -> dict[str, Any]:
        items, shipped = order.detail["items"], order.status == "Shipped"
        total = sum(i["cents"] + i["shipping"] + i["tax"] - i["promotion"] for i in items)
        count = sum(i["quantity"] for i in items)
        return {"AmazonOrderId": order.external_id, "PurchaseDate": _iso(order.created_at),
                "LastUpdateDate": _iso(order.updated_at), "OrderStatus": order.status, "FulfillmentChannel": "MFN",
                "SalesChannel": "Amazon.com", "ShipServiceLevel": "Std US D2D Dom", "OrderTotal": _money(total),
                "NumberOfItemsShipped": count if shipped else 0, "NumberOfItemsUnshipped": 0 if shipped else count,
                "PaymentMethod": "Other", "PaymentMethodDetails": ["Standard"], "MarketplaceId": MARKETPLACE,
                "ShipmentServiceLevelCategory": "Standard", "OrderType": "StandardOrder",
                "EarliestShipDate": _iso(order.created_at + timedelta(hours=14)),
                "LatestShipDate": _iso(order.created_at + timedelta(days=2)), "IsBusinessOrder": False,
                "IsPrime": order.detail["prime"], "IsPremiumOrder": False, "IsGlobalExpressEnabled": False,
                "IsReplacementOrder": "false", "IsSoldByAB": False, "IsISPU": False, "IsAccessPointOrder": False,
                "ShippingAddress": {"Name": order.detail["buyer"], "AddressLine1": "410 Terry Ave N", "City": "SEATTLE",
                                    "StateOrRegion": "WA", "PostalCode": "98109-5210", "CountryCode": "US",
                                    "Phone": "+1 206-555-0100", "AddressType": "Residential"},
                "BuyerInfo": {"BuyerEmail": f"{order.seq:015d}@marketplace.amazon.com"}}

    def render_items(self, order: SimOrder) -> list[dict[str, Any]]:
        shipped = order.status == "Shipped"
        return [{"ASIN": _SKUS[i["sku"]][0], "SellerSKU": i["sku"], "OrderItemId": i["item_id"],
                 "Title": _SKUS[i["sku"]][1], "QuantityOrdered": i["quantity"],
                 "QuantityShipped": i["quantity"] if shipped else 0, "ProductInfo": {"NumberOfItems": "1"},
                 "ItemPrice": _money(i["cents"]), "ShippingPrice": _money(i["shipping"]), "ItemTax": _money(i["tax"]),
                 "PromotionDiscount": _money(i["promotion"]), "IsGift": "true" if order.detail["gift"] else "false",
                 "ConditionId": "New", "ConditionSubtypeId": "New", "IsTransparency": False}
                for i in order.detail["items"]]

    # ------------------------------------------------------------------ tokens

    def revoke_tokens(self) -> None:
        """Every access token issued so far now answers 403 "has expired": clients must renew."""
        self.tokens = {token: 0.0 for token in self.tokens}

    def _token_problem(self, request: Request) -> Response | None:
        token = request.headers.get("x-amz-access-token", "")
        expiry = self.tokens.get(token)
        details = ("Access token is missing in the request header." if not token else
                   "The access token you provided is revoked, malformed or invalid." if expiry is None else
                   "The access token you provided has expired." if expiry <= time.monotonic() else "")
        return _errors(403, "Unauthorized", "Access to requested resource is denied.", details) if details else None

    # ------------------------------------------------------------------ HTTP

    def routes(self, platform: Platform) -> list[Route]:
        async def refused(request: Request, operation: str) -> Response | None:
            verdict = await platform.gate(operation)
            if verdict == "throttled":
                rate = f"{platform.faults.rate_per_s:g}" if platform.faults.rate_per_s else DEFAULT_RATES[operation]
                return _errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.",
                               **{"x-amzn-RateLimit-Limit": rate})
            if verdict == "error":
                return _errors(500, "InternalFailure", "We encountered an internal error. Please try again.")
            return self._token_problem(request)

        def answer(payload: dict[str, Any], operation: str) -> JSONResponse:
            rate = f"{platform.faults.rate_per_s:g}" if platform.faults.rate_per_s else DEFAULT_RATES[operation]
            return JSONResponse({"payload": payload}, headers={"x-amzn-RateLimit-Limit": rate,
                                                               "x-amzn-RequestId": secrets.token_hex(8)})

        async def lwa_token(request: Request) -> Response:
            platform.calls["token"] += 1
            try:
                form = wire.parse_form(await request.body())
            except PayloadError:
                form = {}
            if form.get("grant_type") != "refresh_token":
                return JSONResponse({"error": "unsupported_grant_type", "error_description": "grant_type"}, 400)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return JSONResponse({"error": "invalid_client", "error_description": "Client authentication failed"},
                                    401)
            if form.get("refresh_token") != REFRESH_TOKEN:
                return JSONResponse({"error": "invalid_grant", "error_description":
                                     "The request has an invalid grant parameter : refresh_token"}, 400)
            token = "Atza|sim" + secrets.token_urlsafe(24)
            self.tokens[token] = time.monotonic() + self.token_ttl
            return JSONResponse({"access_token": token, "refresh_token": REFRESH_TOKEN, "token_type": "bearer",
                                 "expires_in": self.token_ttl})

        async def get_orders(request: Request) -> Response:
            problem = await refused(request, "getOrders")
            if problem:
                return problem
            query = request.query_params
            marketplaces = [m for m in query.get("MarketplaceIds", "").split(",") if m]
            if not marketplaces:
                return _errors(400, "InvalidInput", "Missing required 'MarketplaceIds'.")
            if query.get("NextToken"):
                read = order_index.read_cursor(query["NextToken"])
                if read is None:
                    return _errors(400, "InvalidInput", "Invalid NextToken.")
                start, end, after = read
                size = platform.page_size(100)
                since, until = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
            else:
                since = _when(query.get("LastUpdatedAfter"))
                latest = datetime.now(UTC) - LAG
                until = _when(query.get("LastUpdatedBefore")) if query.get("LastUpdatedBefore") else latest
                size_text = query.get("MaxResultsPerPage", "100")
                if since is None or until is None:
                    return _errors(400, "InvalidInput", "LastUpdatedAfter (ISO 8601) is required; the simulator "
                                                        "lists by update time only.")
                if until > latest or until < since:
                    return _errors(400, "InvalidInput", "LastUpdatedBefore must be on or after LastUpdatedAfter and "
                                                        "at least 2 minutes before the time of the request.")
                if not size_text.isdigit() or not 1 <= int(size_text) <= 100:
                    return _errors(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100.")
                (start, end), after, size = order_index.seconds(since, until), None, platform.page_size(int(size_text))
            orders, more = platform.index.page(start, end, after=after, size=size) if MARKETPLACE in marketplaces \
                else ([], False)
            payload: dict[str, Any] = {"Orders": [self.render_order(o) for o in orders],
                                       "LastUpdatedBefore": _iso(until)}
            if more:
                payload["NextToken"] = order_index.cursor(start, end, order_index.key(orders[-1]))
            platform.after_page(since, until)  # after the page is rendered: a touched order moves on, the cursor stays
            return answer(payload, "getOrders")

        async def get_order(request: Request) -> Response:
            problem = await refused(request, "getOrder")
            if problem:
                return problem
            order = platform.orders.get(request.path_params["order_id"])
            if order is None:
                return _errors(404, "NotFound", "The requested order was not found.")
            return answer(self.render_order(order), "getOrder")

        async def get_items(request: Request) -> Response:
            problem = await refused(request, "getOrderItems")
            if problem:
                return problem
            order = platform.orders.get(request.path_params["order_id"])
            if order is None:
                return _errors(404, "NotFound", "The requested order was not found.")
            token, offset = request.query_params.get("NextToken", ""), 0
            if token:
                try:
                    order_id, _, number = base64.urlsafe_b64decode(token.encode()).decode().rpartition(":")
                    offset = int(number) if order_id == order.external_id else -1
                except ValueError:
                    offset = -1
                if offset < 0:
                    return _errors(400, "InvalidInput", "Invalid NextToken.")
            items = self.render_items(order)
            payload: dict[str, Any] = {"AmazonOrderId": order.external_id,
                                       "OrderItems": items[offset:offset + self.items_page]}
            if offset + self.items_page < len(items):
                next_offset = f"{order.external_id}:{offset + self.items_page}".encode()
                payload["NextToken"] = base64.urlsafe_b64encode(next_offset).decode()
            return answer(payload, "getOrderItems")

        return [Route("/auth/o2/token", lwa_token, methods=["POST"]),
                Route("/orders/v0/orders", get_orders, methods=["GET"]),
                Route("/orders/v0/orders/{order_id}", get_order, methods=["GET"]),
                Route("/orders/v0/orders/{order_id}/orderItems", get_items, methods=["GET"])]

    def push(self, order: SimOrder, secret: str) -> Push | None:
        return None  # Amazon notifies through SQS / EventBridge, which OrderGraph does not take


def protocol() -> Protocol:
    return AmazonProtocol()


def account_config(base_url: str) -> dict[str, Any]:
    """The channel ``config["api"]`` pointing the SP-API client (and its LWA token calls) at this simulator."""
    base = base_url.rstrip("/")
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
            "marketplace_ids": [MARKETPLACE], "base_url": base, "token_url": f"{base}/auth/o2/token"}
