"""Turning alert lineage rows into notification deliveries, exactly once per (route, event).

    feed = NotificationFanout(link="https://og.example.com/graphql")
    Dispatcher(feed, reader=OutboxReader(...)).run()     # the leader's job (api/notify_tasks.py)

An outbox consumer with its own cursor (``notifications``). For every
``alert.raised`` / ``alert.reopened`` (and ``alert.updated`` that raised the
severity) it writes one pending :class:`NotificationDelivery` per active route
of the tenant that matches the alert (``routes.matches``), with the text
already rendered in the route's language; ``alert.resolved`` /
``alert.cleared`` give a short "resolved" follow-up to the same routes. The
deliveries and the cursor move in ONE transaction, and the unique (route,
event) turns a second leader's attempt into ``CursorMoved`` instead of a
duplicate. Then it rings :data:`DOORBELL` so the sender goes at once.

The alert's facts come from the row's ``after``; a key missing there (rows
written before alerts carried them) is read from the alert itself.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.notifications import text
from domain.notifications.routes import matches, severity_rank
from domain.notifications.text import AlertFacts
from events import cursor as cursors
from events import signals
from events.cursor import CursorMoved
from events.outbox import newest_id
from models import Alert, NotificationDelivery, NotificationRoute, OrderEvent

CURSOR = "notifications"
#: The doorbell the sender listens on.
DOORBELL = "notifications"
RAISED = {"alert.raised": "raised", "alert.reopened": "reopened", "alert.updated": "escalated"}
RESOLVED = frozenset({"alert.resolved", "alert.cleared"})
FACT_KEYS = ("alert_id", "kind", "severity", "subject", "warehouse_id", "channel_id", "message")


def change_of(row: OrderEvent) -> str | None:
    """``raised``, ``reopened``, ``escalated``, ``resolved`` or None (nothing to tell anyone)."""
    if row.type in RESOLVED:
        return "resolved"
    change = RAISED.get(row.type)
    if change == "escalated":
        before = row.before if isinstance(row.before, dict) else {}
        after = row.after if isinstance(row.after, dict) else {}
        if "severity" not in before or severity_rank(str(after.get("severity"))) <= severity_rank(str(before["severity"])):
            return None
    return change


async def facts_of(rows: list[OrderEvent]) -> dict[int, AlertFacts]:
    """Event id -> the alert's facts; rows whose alert cannot be found are left out."""
    found: dict[int, AlertFacts] = {}
    afters = {row.id: (row.after if isinstance(row.after, dict) else {}) for row in rows}
    incomplete = [row for row in rows if any(key not in afters[row.id] for key in FACT_KEYS)]
    ids = {afters[row.id]["alert_id"] for row in incomplete if isinstance(afters[row.id].get("alert_id"), int)}
    alerts = {alert.id: alert for alert in await Alert.filter(id__in=ids)} if ids else {}
    for row in rows:
        after = afters[row.id]
        alert_id = after.get("alert_id") if isinstance(after.get("alert_id"), int) else None
        alert = alerts.get(alert_id) if alert_id is not None else None
        if alert_id is None:  # an old-style clearing row: the latest alert of that kind on that order
            alert = await Alert.filter(tenant_id=row.tenant_id, order_id=row.order_id,  # type: ignore[attr-defined]
                                       kind=str(after.get("kind") or "")).order_by("-id").first()
            if alert is None:
                continue
            alert_id = alert.id
        facts = {key: getattr(alert, key) for key in FACT_KEYS[1:]} if alert is not None else {}
        facts.update({key: after[key] for key in FACT_KEYS[1:] if key in after})
        if not facts.get("kind"):
            continue
        found[row.id] = AlertFacts(
            alert_id=alert_id, kind=str(facts["kind"]), severity=str(facts.get("severity") or "warning"),
            message=str(facts.get("message") or ""), subject=str(facts.get("subject") or ""),
            order_id=row.order_id,  # type: ignore[attr-defined]
            warehouse_id=facts.get("warehouse_id"), channel_id=facts.get("channel_id"), at=row.created_at,
        )
    return found


def delivery_for(route: NotificationRoute, row: OrderEvent, facts: AlertFacts, change: str, link: str,
                 now: datetime) -> NotificationDelivery:
    if change == "resolved":
        notice = text.resolved_notice(facts, route.language, link=link)
    else:
        notice = text.alert_notice(facts, route.language, link=link, change=change)
    return NotificationDelivery(
        route_id=route.id, tenant_id=row.tenant_id, event_id=row.id, alert_id=facts.alert_id,  # type: ignore[attr-defined]
        status="pending", title=notice.title[:200], body=notice.body, next_attempt_at=now,
        event_created_at=row.created_at,
    )


class NotificationFanout:
    """The consumer (see the module docstring). ``link``: where a reader opens the alert (the GraphQL URL)."""

    name = CURSOR
    #: With no alert in a batch the stored cursor is advanced at most this often (re-reading is harmless).
    LAZY_SECONDS = 5.0

    def __init__(self, link: str = "") -> None:
        self.link = link
        self._stored: int | None = None
        self._saved_at = 0.0

    async def start_position(self) -> int:
        self._stored = await cursors.load_or_start(CURSOR, await newest_id())
        self._saved_at = time.monotonic()
        return self._stored

    async def consume(self, rows: list[OrderEvent], previous: int) -> None:
        alerting = [(row, change) for row in rows if (change := change_of(row))]
        if not alerting and time.monotonic() - self._saved_at < self.LAZY_SECONDS:
            return
        deliveries = await self._deliveries(alerting) if alerting else []
        try:
            async with in_transaction():
                if deliveries:
                    await NotificationDelivery.bulk_create(deliveries)
                await cursors.advance(CURSOR, self._stored, rows[-1].id)
        except IntegrityError:
            raise CursorMoved(CURSOR) from None
        self._stored = rows[-1].id
        self._saved_at = time.monotonic()
        if deliveries:
            signals.ring(DOORBELL)

    async def _deliveries(self, alerting: list[tuple[OrderEvent, str]]) -> list[NotificationDelivery]:
        tenants = {row.tenant_id for row, _ in alerting}  # type: ignore[attr-defined]
        routes: dict[int, list[NotificationRoute]] = defaultdict(list)
        for route in await NotificationRoute.filter(tenant_id__in=tenants, active=True).order_by("id"):
            routes[route.tenant_id].append(route)  # type: ignore[attr-defined]
        if not routes:
            return []
        facts = await facts_of([row for row, _ in alerting if row.tenant_id in routes])  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        out: list[NotificationDelivery] = []
        for row, change in alerting:
            found = facts.get(row.id)
            if found is None:
                continue
            for route in routes.get(row.tenant_id, ()):  # type: ignore[attr-defined]
                if matches(route, found):
                    out.append(delivery_for(route, row, found, change, self.link, now))
        return out

