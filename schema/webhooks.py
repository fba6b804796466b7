"""Partner webhooks in GraphQL: endpoints, secrets, the delivery log, replays.

Admins manage all of their tenant's endpoints; a partner key manages only the
endpoints it registered (others' are NOT_FOUND to it); other roles get FORBIDDEN.

Deliveries follow the Standard Webhooks spec: headers ``webhook-id`` (stable
per event, dedupe on it), ``webhook-timestamp`` and ``webhook-signature``
(``v1,<base64 HMAC-SHA256>``; two signatures while a rotated secret is still valid).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from resolvers import ids
from resolvers import webhooks as resolvers
from schema.errors import UserError, attempt
from schema.types import PageInfo


@strawberry.enum
class WebhookEndpointStatus(Enum):
    ACTIVE = "active"
    DISABLED = "disabled"


@strawberry.enum
class WebhookDeliveryStatus(Enum):
    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type(description="A signing secret, shown only by its prefix after creation.")
class WebhookSecretInfo:
    prefix: str
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="Set while a rotated-out secret is still valid.")


@strawberry.type(description="One HTTP attempt of a delivery.")
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None = strawberry.field(description="Null when no response arrived (timeout, refused).")
    latency_ms: float
    error: str
    response_excerpt: str

    @classmethod
    def from_row(cls, row: Any) -> WebhookAttempt:
        return cls(
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            error=row.error,
            response_excerpt=row.response_excerpt,
        )


def _attempt_loader(info: Info) -> DataLoader[int, list[Any]]:
    ctx = info.context
    loader = getattr(ctx, "webhook_attempts", None)
    if loader is None:

        async def load(keys: list[int]) -> list[list[Any]]:
            grouped = await resolvers.attempts_of(keys)
            return [grouped[key] for key in keys]

        loader = DataLoader(load_fn=load)
        ctx.webhook_attempts = loader
    return loader


@strawberry.type(description="One event owed to one endpoint, with every attempt.")
class WebhookDelivery:
    id: strawberry.ID
    webhook_id: str = strawberry.field(description="The webhook-id header: the same for every attempt and replay.")
    event_id: int
    event_type: str
    status: WebhookDeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: JSON
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(ids.encode("WebhookDelivery", row.id)),
            webhook_id=row.message_id,
            event_id=row.event_id,
            event_type=row.event_type,
            status=WebhookDeliveryStatus(row.status),
            attempt_count=row.attempt_count,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            payload=row.payload,
            pk=row.id,
        )

    @strawberry.field(description="Oldest first: when, status code or error, latency.")
    async def attempts(self, info: Info) -> list[WebhookAttempt]:
        return [WebhookAttempt.from_row(row) for row in await _attempt_loader(info).load(self.pk)]


@strawberry.type
class WebhookDeliveryConnection:
    nodes: list[WebhookDelivery]
    page_info: PageInfo


@strawberry.type(description="A partner URL receiving signed event deliveries.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[str] = strawberry.field(description="Empty: every event type. `order.*` matches a prefix.")
    channels: list[strawberry.ID] = strawberry.field(description="Empty: every channel.")
    status: WebhookEndpointStatus
    disabled_reason: str
    disabled_at: datetime | None
    failing_since: datetime | None
    created_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(ids.encode("WebhookEndpoint", row.id)),
            url=row.url,
            description=row.description,
            event_types=list(row.event_types or []),
            channels=[strawberry.ID(ids.encode("Channel", pk)) for pk in row.channel_ids or []],
            status=WebhookEndpointStatus(row.status),
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            failing_since=row.failing_since,
            created_at=row.created_at,
            pk=row.id,
        )

    @strawberry.field
    async def secrets(self) -> list[WebhookSecretInfo]:
        return [
            WebhookSecretInfo(prefix=row.secret[:10] + "…", created_at=row.created_at, expires_at=row.expires_at)
            for row in await resolvers.secrets_of(self.pk)
        ]

    @strawberry.field(description="The delivery log, newest first. `first` is 0-100.")
    async def deliveries(
        self,
        info: Info,
        status: list[WebhookDeliveryStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> WebhookDeliveryConnection:
        page = await resolvers.deliveries_page(
            info.context, self.id, [s.value for s in status or ()], since, until, first, after
        )
        return WebhookDeliveryConnection(
            nodes=[WebhookDelivery.from_row(row) for row in page.rows],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )


@strawberry.input
class RegisterWebhookEndpointInput:
    url: str
    description: str = ""
    event_types: list[str] = strawberry.field(default_factory=list, description="Empty: all. e.g. order.shipped, order.*")
    channels: list[strawberry.ID] = strawberry.field(default_factory=list, description="Empty: all channels")


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = None
    description: str | None = None
    event_types: list[str] | None = None
    channels: list[strawberry.ID] | None = None


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(description="A new signing secret (whsec_…), shown once.")
    errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None
    errors: list[UserError]


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The endpoint removed, with its secrets and delivery log.")
    errors: list[UserError]


@strawberry.type
class WebhookReplayPayload:
    queued: int = strawberry.field(description="How many deliveries were queued again (or created).")
    errors: list[UserError]


async def _endpoint_payload(action: Any, *, with_secret: bool = False) -> WebhookEndpointPayload:
    result, errors = await attempt(action)
    if result is None:
        return WebhookEndpointPayload(endpoint=None, secret=None, errors=errors)
    row, secret = result if with_secret else (result, None)
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row), secret=secret, errors=[])


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Webhook endpoints: all of the tenant's for admins, its own for a partner key.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint.from_row(row) for row in await resolvers.endpoints(info.context)]

    @strawberry.field
    async def webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpoint | None:
        row = await resolvers.endpoint(info.context, id)
        return WebhookEndpoint.from_row(row) if row else None

    @strawberry.field
    async def webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDelivery | None:
        row = await resolvers.delivery(info.context, id)
        return WebhookDelivery.from_row(row) if row else None


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register a partner endpoint; the answer carries its signing secret, once.")
    async def register_webhook_endpoint(self, info: Info, input: RegisterWebhookEndpointInput) -> WebhookEndpointPayload:
        return await _endpoint_payload(
            lambda: resolvers.register(info.context, input.url, input.description, input.event_types, input.channels),
            with_secret=True,
        )

    @strawberry.mutation
    async def update_webhook_endpoint(self, info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        return await _endpoint_payload(
            lambda: resolvers.update(info.context, input.id, input.url, input.description, input.event_types, input.channels)
        )

    @strawberry.mutation(description="Remove an endpoint, its secrets and its delivery log.")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> DeleteWebhookEndpointPayload:
        deleted, errors = await attempt(lambda: resolvers.delete(info.context, id))
        return DeleteWebhookEndpointPayload(deleted_id=strawberry.ID(deleted) if deleted else None, errors=errors)

    @strawberry.mutation(
        description="A new signing secret. The old one stays valid for `graceHours` (both signatures are sent meanwhile)."
    )
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID, grace_hours: float = 24.0) -> WebhookEndpointPayload:
        return await _endpoint_payload(lambda: resolvers.rotate(info.context, id, grace_hours), with_secret=True)

    @strawberry.mutation(description="Stop deliveries; pending ones wait until the endpoint is enabled again.")
    async def disable_webhook_endpoint(self, info: Info, id: strawberry.ID, reason: str = "") -> WebhookEndpointPayload:
        return await _endpoint_payload(lambda: resolvers.disable(info.context, id, reason))

    @strawberry.mutation(description="Resume deliveries and clear the disable alert.")
    async def enable_webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
        return await _endpoint_payload(lambda: resolvers.enable(info.context, id))

    @strawberry.mutation(description="Send one delivery again (same webhook-id) with a fresh retry schedule.")
    async def replay_webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        row, errors = await attempt(lambda: resolvers.replay_one(info.context, id))
        return WebhookDeliveryPayload(delivery=WebhookDelivery.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Send again every event in [since, until) this endpoint wants, including ones it never received."
    )
    async def replay_webhook_deliveries(
        self, info: Info, endpoint: strawberry.ID, since: datetime, until: datetime
    ) -> WebhookReplayPayload:
        count, errors = await attempt(lambda: resolvers.replay_range(info.context, endpoint, since, until))
        return WebhookReplayPayload(queued=count or 0, errors=errors)
