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
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.notifications.ports import redacted
from resolvers import ids
from resolvers import notifications as resolvers
from schema.errors import UserError, attempt
from schema.types import PageInfo


@strawberry.enum
class NotificationTarget(Enum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    EMAIL = "email"


@strawberry.enum
class NotificationLanguage(Enum):
    ZH = "zh"
    EN = "en"


@strawberry.enum
class NotificationSeverity(Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@strawberry.enum
class NotificationDeliveryStatus(Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DIGESTED = "digested"


@strawberry.type(description="Where a tenant's alerts go: a WeCom or DingTalk group robot, or mailboxes.")
class NotificationRoute:
    id: strawberry.ID
    name: str
    target: NotificationTarget
    config: JSON = strawberry.field(description="The target's settings with every secret hidden (****1a2b).")
    kinds: list[str] = strawberry.field(description="Alert kinds or categories (e.g. low_stock, stock); empty: all.")
    min_severity: NotificationSeverity
    warehouses: list[strawberry.ID] = strawberry.field(description="Empty: alerts of every warehouse (and none).")
    language: NotificationLanguage
    rate_per_minute: int = strawberry.field(description="More messages in a minute are folded into one digest.")
    active: bool
    created_at: datetime

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
    id: strawberry.ID
    route: strawberry.ID
    event_id: int = strawberry.field(description="The alert's lineage row (negative for a digest).")
    alert: strawberry.ID | None
    status: NotificationDeliveryStatus
    title: str
    body: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    sent_at: datetime | None
    created_at: datetime
    digest_of: list[strawberry.ID]

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


@strawberry.type
class NotificationDeliveryConnection:
    nodes: list[NotificationDelivery]
    page_info: PageInfo


@strawberry.input
class CreateNotificationRouteInput:
    name: str
    target: NotificationTarget
    config: JSON
    kinds: list[str] = strawberry.field(default_factory=list, description="Empty: all kinds.")
    min_severity: NotificationSeverity = NotificationSeverity.INFO
    warehouses: list[strawberry.ID] = strawberry.field(default_factory=list, description="Empty: all warehouses.")
    language: NotificationLanguage = NotificationLanguage.ZH
    rate_per_minute: int = 20
    active: bool = True


@strawberry.input
class UpdateNotificationRouteInput:
    id: strawberry.ID
    name: str | None = None
    config: JSON | None = strawberry.field(default=None, description="Keys given replace the stored ones.")
    kinds: list[str] | None = None
    min_severity: NotificationSeverity | None = None
    warehouses: list[strawberry.ID] | None = None
    language: NotificationLanguage | None = None
    rate_per_minute: int | None = None
    active: bool | None = None


@strawberry.type
class NotificationRoutePayload:
    route: NotificationRoute | None
    errors: list[UserError]


@strawberry.type
class DeleteNotificationRoutePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]


@strawberry.type(description="What happened to the test message.")
class NotificationTestPayload:
    delivered: bool
    error: str | None = strawberry.field(description="The messenger's refusal or why it could not be reached.")
    retryable: bool
    errors: list[UserError]


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
        first: int = 20,
        after: str | None = None,
        status: NotificationDeliveryStatus | None = None,
        route: strawberry.ID | None = None,
    ) -> NotificationDeliveryConnection:
        page = await resolvers.deliveries_page(info.context, route, [status.value] if status else [], first, after)
        return NotificationDeliveryConnection(
            nodes=[NotificationDelivery.from_row(row) for row in page.rows],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Send alerts to a WeCom or DingTalk group, or by email.")
    async def create_notification_route(self, info: Info, input: CreateNotificationRouteInput) -> NotificationRoutePayload:
        values = {"name": input.name, "target": input.target.value, "config": input.config, "kinds": input.kinds,
                  "min_severity": input.min_severity.value, "language": input.language.value,
                  "rate_per_minute": input.rate_per_minute, "active": input.active}
        return await _route_payload(lambda: resolvers.create(info.context, values, input.warehouses))

    @strawberry.mutation(description="Change a route; fields left out stay as they are.")
    async def update_notification_route(self, info: Info, input: UpdateNotificationRouteInput) -> NotificationRoutePayload:
        values = {key: _value(getattr(input, key)) for key in
                  ("name", "config", "kinds", "min_severity", "language", "rate_per_minute", "active")}
        return await _route_payload(lambda: resolvers.update(info.context, input.id, values, input.warehouses))

    @strawberry.mutation(description="Remove a route and its delivery log.")
    async def delete_notification_route(self, info: Info, id: strawberry.ID) -> DeleteNotificationRoutePayload:
        pk, errors = await attempt(lambda: resolvers.delete(info.context, id))
        return DeleteNotificationRoutePayload(
            deleted_id=strawberry.ID(ids.encode("NotificationRoute", pk)) if pk else None, errors=errors)

    @strawberry.mutation(description="Send a test message through the route now and say how it went.")
    async def test_notification_route(self, info: Info, id: strawberry.ID) -> NotificationTestPayload:
        outcome, errors = await attempt(lambda: resolvers.send_test(info.context, id))
        if outcome is None:
            return NotificationTestPayload(delivered=False, error=None, retryable=False, errors=errors)
        return NotificationTestPayload(delivered=outcome.delivered, error=outcome.error or None,
                                       retryable=outcome.retryable, errors=[])
