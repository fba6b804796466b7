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
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from resolvers import ids
from resolvers import webhooks as resolvers
from schema.arguments import After, First
from schema.errors import UserError, attempt
from schema.connections import Connection


@strawberry.enum(description="Whether an endpoint receives deliveries.")
class WebhookEndpointStatus(Enum):
    ACTIVE = strawberry.enum_value("active", description="Receives deliveries.")
    DISABLED = strawberry.enum_value("disabled", description="Receives nothing (by hand or after failing too long); deliveries wait until it is enabled.")


@strawberry.enum(description="Where a webhook delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Waiting for its first attempt or its next retry.")
    DELIVERING = strawberry.enum_value("delivering", description="Being sent now.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="The endpoint answered 2xx.")
    FAILED = strawberry.enum_value("failed", description="Given up after the retry schedule; replay it to try again.")


@strawberry.type(description="A signing secret, shown only by its prefix after creation.")
class WebhookSecretInfo:
    prefix: str = strawberry.field(description="The first characters of the secret, to tell secrets apart.")
    created_at: datetime = strawberry.field(description="When the secret was made (UTC).")
    expires_at: datetime | None = strawberry.field(description="Set while a rotated-out secret is still valid.")


@strawberry.type(description="One HTTP attempt of a delivery.")
class WebhookAttempt:
    attempted_at: datetime = strawberry.field(description="When the attempt was made (UTC).")
    status_code: int | None = strawberry.field(description="Null when no response arrived (timeout, refused).")
    latency_ms: float = strawberry.field(description="How long the endpoint took to answer, in milliseconds.")
    error: str = strawberry.field(description="Why it failed; empty on success.")
    response_excerpt: str = strawberry.field(description="The start of the endpoint's response body.")

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
    id: strawberry.ID = strawberry.field(description="The delivery's global id.")
    webhook_id: str = strawberry.field(description="The webhook-id header: the same for every attempt and replay.")
    event_id: int = strawberry.field(description="The lineage event it carries (`OrderEvent.eventId`).")
    event_type: str = strawberry.field(description="The event's type, e.g. `order.shipped`.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempt_count: int = strawberry.field(description="How many HTTP attempts were made.")
    next_attempt_at: datetime | None = strawberry.field(description="When it is tried next (UTC); null when done.")
    last_status_code: int | None = strawberry.field(description="The last attempt's HTTP status; null if none answered.")
    last_error: str = strawberry.field(description="The last attempt's error; empty if none.")
    created_at: datetime = strawberry.field(description="When it was queued (UTC).")
    delivered_at: datetime | None = strawberry.field(description="When the endpoint answered 2xx (UTC); null if not yet.")
    payload: JSON = strawberry.field(description="The JSON body sent.")
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


@strawberry.type(description="Webhook deliveries, a page at a time.")
class WebhookDeliveryConnection(Connection[WebhookDelivery]):
    pass


@strawberry.type(description="A partner URL receiving signed event deliveries.")
class WebhookEndpoint:
    id: strawberry.ID = strawberry.field(description="The endpoint's global id.")
    url: str = strawberry.field(description="Where deliveries are POSTed.")
    description: str = strawberry.field(description="A note for people; may be empty.")
    event_types: list[str] = strawberry.field(description="Empty: every event type. `order.*` matches a prefix.")
    channels: list[strawberry.ID] = strawberry.field(description="Empty: every channel.")
    status: WebhookEndpointStatus = strawberry.field(description="Whether it receives deliveries.")
    disabled_reason: str = strawberry.field(description="Why it was disabled; empty while active.")
    disabled_at: datetime | None = strawberry.field(description="When it was disabled (UTC); null while active.")
    failing_since: datetime | None = strawberry.field(
        description="Since when every delivery has failed (UTC); null while it succeeds.")
    created_at: datetime = strawberry.field(description="When it was registered (UTC).")
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

    @strawberry.field(description="Its signing secrets (two while a rotated-out one is still valid), by prefix only.")
    async def secrets(self) -> list[WebhookSecretInfo]:
        return [
            WebhookSecretInfo(prefix=row.secret[:10] + "…", created_at=row.created_at, expires_at=row.expires_at)
            for row in await resolvers.secrets_of(self.pk)
        ]

    @strawberry.field(description="The delivery log, newest first. `first` is 0-100.")
    async def deliveries(
        self,
        info: Info,
        status: Annotated[list[WebhookDeliveryStatus] | None, strawberry.argument(description="Only deliveries in these statuses; null for all.")] = None,
        since: Annotated[datetime | None, strawberry.argument(description="Only deliveries of events recorded at or after this time.")] = None,
        until: Annotated[datetime | None, strawberry.argument(description="Only deliveries of events recorded before this time.")] = None,
        first: First = 20,
        after: After = None,
    ) -> WebhookDeliveryConnection:
        page = await resolvers.deliveries_page(
            info.context, self.id, [s.value for s in status or ()], since, until, first, after
        )
        return WebhookDeliveryConnection.of(page, WebhookDelivery.from_row)


@strawberry.input(description="A new partner endpoint.")
class RegisterWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where to POST deliveries (http or https; in production private and loopback addresses are refused).")
    description: str = strawberry.field(default="", description="A note for people.")
    event_types: list[str] = strawberry.field(default_factory=list, description="Empty: all. e.g. order.shipped, order.*")
    channels: list[strawberry.ID] = strawberry.field(default_factory=list, description="Empty: all channels")


@strawberry.input(description="Changes to an endpoint; omitted fields stay as they are.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint's id.")
    url: str | None = strawberry.field(default=None, description="A new URL.")
    description: str | None = strawberry.field(default=None, description="A new note.")
    event_types: list[str] | None = strawberry.field(default=None, description="Event types to send; empty: all; `order.*` matches a prefix.")
    channels: list[strawberry.ID] | None = strawberry.field(default=None, description="Channel ids to send events of; empty: all.")


@strawberry.type(description="The result of an endpoint mutation.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint as it is now; null when `errors` is not empty.")
    secret: str | None = strawberry.field(description="A new signing secret (whsec_…), shown once.")
    errors: list[UserError] = strawberry.field(
        description="Why nothing changed (FORBIDDEN for roles other than admin and partner); empty on success.")


@strawberry.type(description="The result of replaying a delivery.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        description="The delivery, queued again; null when `errors` is not empty.")
    errors: list[UserError] = strawberry.field(description="Why it was not replayed; empty on success.")


@strawberry.type(description="The result of removing an endpoint.")
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The endpoint removed, with its secrets and delivery log.")
    errors: list[UserError] = strawberry.field(description="Why nothing was removed; empty on success.")


@strawberry.type(description="The result of replaying a time range.")
class WebhookReplayPayload:
    queued: int = strawberry.field(description="How many deliveries were queued again (or created).")
    errors: list[UserError] = strawberry.field(description="Why nothing was replayed; empty on success.")


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

    @strawberry.field(description="One endpoint by id; null if there is none you may see.")
    async def webhook_endpoint(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")]) -> WebhookEndpoint | None:
        row = await resolvers.endpoint(info.context, id)
        return WebhookEndpoint.from_row(row) if row else None

    @strawberry.field(description="One delivery by id, with its attempts; null if there is none you may see.")
    async def webhook_delivery(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The delivery's id.")]) -> WebhookDelivery | None:
        row = await resolvers.delivery(info.context, id)
        return WebhookDelivery.from_row(row) if row else None


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register a partner endpoint; the answer carries its signing secret, once.")
    async def register_webhook_endpoint(self, info: Info, input: Annotated[RegisterWebhookEndpointInput, strawberry.argument(description="The endpoint.")]) -> WebhookEndpointPayload:
        return await _endpoint_payload(
            lambda: resolvers.register(info.context, input.url, input.description, input.event_types, input.channels),
            with_secret=True,
        )

    @strawberry.mutation(description="Change an endpoint's URL, note or what it receives.")
    async def update_webhook_endpoint(self, info: Info, input: Annotated[UpdateWebhookEndpointInput, strawberry.argument(description="The endpoint's id and what to change.")]) -> WebhookEndpointPayload:
        return await _endpoint_payload(
            lambda: resolvers.update(info.context, input.id, input.url, input.description, input.event_types, input.channels)
        )

    @strawberry.mutation(description="Remove an endpoint, its secrets and its delivery log.")
    async def delete_webhook_endpoint(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")]) -> DeleteWebhookEndpointPayload:
        deleted, errors = await attempt(lambda: resolvers.delete(info.context, id))
        return DeleteWebhookEndpointPayload(deleted_id=strawberry.ID(deleted) if deleted else None, errors=errors)

    @strawberry.mutation(
        description="A new signing secret. The old one stays valid for `graceHours` (both signatures are sent meanwhile)."
    )
    async def rotate_webhook_secret(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")], grace_hours: Annotated[float, strawberry.argument(description="How long the old secret stays valid (deliveries carry both signatures meanwhile), in hours; 24 by default.")] = 24.0) -> WebhookEndpointPayload:
        return await _endpoint_payload(lambda: resolvers.rotate(info.context, id, grace_hours), with_secret=True)

    @strawberry.mutation(description="Stop deliveries; pending ones wait until the endpoint is enabled again.")
    async def disable_webhook_endpoint(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")], reason: Annotated[str, strawberry.argument(description="Why, shown as `disabledReason`.")] = "") -> WebhookEndpointPayload:
        return await _endpoint_payload(lambda: resolvers.disable(info.context, id, reason))

    @strawberry.mutation(description="Resume deliveries and clear the disable alert.")
    async def enable_webhook_endpoint(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")]) -> WebhookEndpointPayload:
        return await _endpoint_payload(lambda: resolvers.enable(info.context, id))

    @strawberry.mutation(description="Send one delivery again (same webhook-id) with a fresh retry schedule.")
    async def replay_webhook_delivery(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The delivery's id.")]) -> WebhookDeliveryPayload:
        row, errors = await attempt(lambda: resolvers.replay_one(info.context, id))
        return WebhookDeliveryPayload(delivery=WebhookDelivery.from_row(row) if row else None, errors=errors)

    @strawberry.mutation(
        description="Send again every event in [since, until) this endpoint wants, including ones it never received."
    )
    async def replay_webhook_deliveries(
        self, info: Info, endpoint: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")], since: Annotated[datetime, strawberry.argument(description="Start of the range (inclusive; ISO 8601).")], until: Annotated[datetime, strawberry.argument(description="End of the range (exclusive; ISO 8601).")]
    ) -> WebhookReplayPayload:
        count, errors = await attempt(lambda: resolvers.replay_range(info.context, endpoint, since, until))
        return WebhookReplayPayload(queued=count or 0, errors=errors)
