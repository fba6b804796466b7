"""Notification routes in GraphQL (admins only): where alerts go, the delivery log, a test message.

Targets and their ``config`` (JSON; secrets are shown only as ``****1a2b`` and
may be sent back that way to keep them):

- ``WECOM``: ``{"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}`` or ``{"key": "…"}``;
- ``DINGTALK``: ``{"webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=…", "secret": "SEC…",
  "keyword": "…"}`` (``secret`` signs each request; ``keyword`` for robots secured by keyword);
- ``EMAIL``: ``{"host": "smtp.example.com", "port": 587, "starttls": true, "username": "…", "password": "…",
  "from": "alerts@example.com", "to": ["ops@example.com"]}``.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.notifications.ports import redacted
from resolvers import ids
from resolvers import notifications as resolvers
from schema.arguments import After, First
from schema.errors import UserError, attempt
from schema.connections import Connection


@strawberry.enum(description="Where a route sends: a WeCom or DingTalk group robot, or email.")
class NotificationTarget(Enum):
    WECOM = strawberry.enum_value("wecom", description="A WeCom (企业微信) group robot; config: `webhook_url` or `key`.")
    DINGTALK = strawberry.enum_value("dingtalk", description="A DingTalk (钉钉) group robot; config: `webhook_url`, optional `secret` and `keyword`.")
    EMAIL = strawberry.enum_value("email", description="Email over SMTP; config: host, port, starttls, username, password, from, to.")


@strawberry.enum(description="The language messages are written in.")
class NotificationLanguage(Enum):
    ZH = strawberry.enum_value("zh", description="Simplified Chinese.")
    EN = strawberry.enum_value("en", description="English.")


@strawberry.enum(description="The lowest alert severity a route sends.")
class NotificationSeverity(Enum):
    INFO = strawberry.enum_value("info", description="Every alert.")
    WARNING = strawberry.enum_value("warning", description="Warning and critical alerts.")
    CRITICAL = strawberry.enum_value("critical", description="Critical alerts only.")


@strawberry.enum(description="Where a notification delivery stands.")
class NotificationDeliveryStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Waiting to be sent, or to be retried (see `nextAttemptAt`).")
    SENT = strawberry.enum_value("sent", description="The messenger accepted it.")
    FAILED = strawberry.enum_value("failed", description="Given up: refused for good, or failed six times (see `lastError`).")
    DIGESTED = strawberry.enum_value("digested", description="Over the route's rate limit: folded into that minute's digest.")


@strawberry.type(description="Where a tenant's alerts go: a WeCom or DingTalk group robot, or mailboxes.")
class NotificationRoute:
    id: strawberry.ID = strawberry.field(description="The route's global id.")
    name: str = strawberry.field(description="The route's name, for people.")
    target: NotificationTarget = strawberry.field(description="Where it sends.")
    config: JSON = strawberry.field(description="The target's settings with every secret hidden (****1a2b).")
    kinds: list[str] = strawberry.field(description="Alert kinds or categories (e.g. low_stock, stock); empty: all.")
    min_severity: NotificationSeverity = strawberry.field(description="The lowest severity it sends.")
    warehouses: list[strawberry.ID] = strawberry.field(description="Empty: alerts of every warehouse (and none).")
    language: NotificationLanguage = strawberry.field(description="The language of its messages.")
    rate_per_minute: int = strawberry.field(description="More messages in a minute are folded into one digest.")
    active: bool = strawberry.field(description="false: it sends nothing; deliveries wait until it is on again.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @classmethod
    def from_row(cls, row: Any) -> NotificationRoute:
        return cls(
            id=strawberry.ID(ids.encode("NotificationRoute", row.id)),
            name=row.name,
            target=NotificationTarget(row.target),
            config=redacted(row.config),
            kinds=list(row.kinds or []),
            min_severity=NotificationSeverity(row.min_severity),
            warehouses=[strawberry.ID(ids.encode("Warehouse", pk)) for pk in row.warehouse_ids or []],
            language=NotificationLanguage(row.language),
            rate_per_minute=row.rate_per_minute,
            active=row.active,
            created_at=row.created_at,
        )


@strawberry.type(description="One message owed to one route; a digest lists the deliveries it stands for.")
class NotificationDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's global id.")
    route: strawberry.ID = strawberry.field(description="The route's id.")
    event_id: int = strawberry.field(description="The alert's lineage row (negative for a digest).")
    alert: strawberry.ID | None = strawberry.field(description="The alert's id; null for a digest.")
    status: NotificationDeliveryStatus = strawberry.field(description="Where the delivery stands.")
    title: str = strawberry.field(description="The message's title.")
    body: str = strawberry.field(description="The message's text (no personal data).")
    attempts: int = strawberry.field(description="How many times sending was tried.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is (re)tried next (UTC); null once sent or failed.")
    last_error: str = strawberry.field(description="The last attempt's error; empty if none.")
    sent_at: datetime | None = strawberry.field(description="When the messenger accepted it (UTC); null if not yet.")
    created_at: datetime = strawberry.field(description="When it was queued (UTC).")
    digest_of: list[strawberry.ID] = strawberry.field(
        description="For a digest: the deliveries it stands for; empty otherwise.")

    @classmethod
    def from_row(cls, row: Any) -> NotificationDelivery:
        return cls(
            id=strawberry.ID(ids.encode("NotificationDelivery", row.id)),
            route=strawberry.ID(ids.encode("NotificationRoute", row.route_id)),
            event_id=row.event_id,
            alert=strawberry.ID(ids.encode("Alert", row.alert_id)) if row.alert_id else None,
            status=NotificationDeliveryStatus(row.status),
            title=row.title,
            body=row.body,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            last_error=row.last_error,
            sent_at=row.sent_at,
            created_at=row.created_at,
            digest_of=[strawberry.ID(ids.encode("NotificationDelivery", pk)) for pk in row.digest_of or []],
        )


@strawberry.type(description="Notification deliveries, a page at a time.")
class NotificationDeliveryConnection(Connection[NotificationDelivery]):
    pass


@strawberry.input(description="A new notification route.")
class CreateNotificationRouteInput:
    name: str = strawberry.field(description="The route's name, for people.")
    target: NotificationTarget = strawberry.field(description="Where it sends.")
    config: JSON = strawberry.field(description="The target's settings, secrets included (see the target's values).")
    kinds: list[str] = strawberry.field(default_factory=list, description="Empty: all kinds.")
    min_severity: NotificationSeverity = strawberry.field(default=NotificationSeverity.INFO, description="The lowest severity it sends; INFO by default.")
    warehouses: list[strawberry.ID] = strawberry.field(default_factory=list, description="Empty: all warehouses.")
    language: NotificationLanguage = strawberry.field(default=NotificationLanguage.ZH, description="The language of its messages; ZH by default.")
    rate_per_minute: int = strawberry.field(default=20, description="At most this many messages a minute (20 by default); the excess goes into a digest.")
    active: bool = strawberry.field(default=True, description="false creates it switched off.")


@strawberry.input(description="Changes to a notification route; omitted fields stay as they are.")
class UpdateNotificationRouteInput:
    id: strawberry.ID = strawberry.field(description="The route's id.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    config: JSON | None = strawberry.field(default=None, description="Keys given replace the stored ones.")
    kinds: list[str] | None = strawberry.field(default=None, description="Alert kinds or categories to send; empty: all.")
    min_severity: NotificationSeverity | None = strawberry.field(default=None, description="The lowest severity to send.")
    warehouses: list[strawberry.ID] | None = strawberry.field(default=None, description="Warehouse ids to send alerts of; empty: all.")
    language: NotificationLanguage | None = strawberry.field(default=None, description="The language of its messages.")
    rate_per_minute: int | None = strawberry.field(default=None, description="At most this many messages a minute; the excess goes into a digest.")
    active: bool | None = strawberry.field(default=None, description="Switch the route on or off.")


@strawberry.type(description="The result of creating or changing a route.")
class NotificationRoutePayload:
    route: NotificationRoute | None = strawberry.field(
        description="The route as stored (secrets hidden); null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (FORBIDDEN for roles other than admin); empty on success.")


@strawberry.type(description="The result of removing a route.")
class DeleteNotificationRoutePayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The removed route's id; null on error.")
    errors: list[UserError] = strawberry.field(description="Why nothing was removed; empty on success.")


@strawberry.type(description="What happened to the test message.")
class NotificationTestPayload:
    delivered: bool = strawberry.field(description="true if the messenger accepted the test message.")
    error: str | None = strawberry.field(description="The messenger's refusal or why it could not be reached.")
    retryable: bool = strawberry.field(description="true if trying again later may work.")
    errors: list[UserError] = strawberry.field(description="Why no test was sent (e.g. no such route); empty otherwise.")


def _value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


async def _route_payload(action: Any) -> NotificationRoutePayload:
    row, errors = await attempt(action)
    return NotificationRoutePayload(route=NotificationRoute.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="Your tenant's notification routes (admins).")
    async def notification_routes(self, info: Info) -> list[NotificationRoute]:
        return [NotificationRoute.from_row(row) for row in await resolvers.list_routes(info.context)]

    @strawberry.field(description="The notification delivery log, newest first (admins). `first` is 0-100.")
    async def notification_deliveries(
        self,
        info: Info,
        first: First = 20,
        after: After = None,
        status: Annotated[NotificationDeliveryStatus | None, strawberry.argument(description="Only deliveries in this status.")] = None,
        route: Annotated[strawberry.ID | None, strawberry.argument(description="Only deliveries of this route (its id).")] = None,
    ) -> NotificationDeliveryConnection:
        page = await resolvers.deliveries_page(info.context, route, [status.value] if status else [], first, after)
        return NotificationDeliveryConnection.of(page, NotificationDelivery.from_row)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Send alerts to a WeCom or DingTalk group, or by email.")
    async def create_notification_route(self, info: Info, input: Annotated[CreateNotificationRouteInput, strawberry.argument(description="The route.")]) -> NotificationRoutePayload:
        values = {"name": input.name, "target": input.target.value, "config": input.config, "kinds": input.kinds,
                  "min_severity": input.min_severity.value, "language": input.language.value,
                  "rate_per_minute": input.rate_per_minute, "active": input.active}
        return await _route_payload(lambda: resolvers.create(info.context, values, input.warehouses))

    @strawberry.mutation(description="Change a route; fields left out stay as they are.")
    async def update_notification_route(self, info: Info, input: Annotated[UpdateNotificationRouteInput, strawberry.argument(description="The route's id and what to change.")]) -> NotificationRoutePayload:
        values = {key: _value(getattr(input, key)) for key in
                  ("name", "config", "kinds", "min_severity", "language", "rate_per_minute", "active")}
        return await _route_payload(lambda: resolvers.update(info.context, input.id, values, input.warehouses))

    @strawberry.mutation(description="Remove a route and its delivery log.")
    async def delete_notification_route(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The route's id.")]) -> DeleteNotificationRoutePayload:
        pk, errors = await attempt(lambda: resolvers.delete(info.context, id))
        return DeleteNotificationRoutePayload(
            deleted_id=strawberry.ID(ids.encode("NotificationRoute", pk)) if pk else None, errors=errors)

    @strawberry.mutation(description="Send a test message through the route now and say how it went.")
    async def test_notification_route(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The route's id.")]) -> NotificationTestPayload:
        outcome, errors = await attempt(lambda: resolvers.send_test(info.context, id))
        if outcome is None:
            return NotificationTestPayload(delivered=False, error=None, retryable=False, errors=errors)
        return NotificationTestPayload(delivered=outcome.delivered, error=outcome.error or None,
                                       retryable=outcome.retryable, errors=[])
