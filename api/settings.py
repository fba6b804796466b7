"""One ``Settings`` object, read from environment variables with sane defaults.

    DATABASE_URL   sqlite://var/ordergraph.sqlite3 (default) or postgres://user@host:5432/db
    REDIS_URL      redis://127.0.0.1:6379/0 to fan events out across processes (optional)
    ORDERGRAPH_ENV development (default) or production: no GraphiQL, no introspection, masked errors
    HOST, PORT     where ``ordergraph serve`` listens (127.0.0.1:8000)
    ORDERGRAPH_PERSISTED_ONLY  1: partner keys may run only persisted queries (0; ``api.persisted``)

Live status and partner webhooks:

    ORDERGRAPH_PUBLIC_URL              the URL partners reach this server on; webhooks may not point at it
    ORDERGRAPH_LIVE_MAX_PENDING        events a subscriber may fall behind before it is dropped (1000)
    ORDERGRAPH_PARTNER_TIMEOUT         seconds per partner webhook request phase (10)
    ORDERGRAPH_PARTNER_CONCURRENCY     webhook requests in flight per process (16)
    ORDERGRAPH_PARTNER_LEASE           seconds a claimed delivery is reserved for its sender (60)
    ORDERGRAPH_PARTNER_DISABLE_AFTER_HOURS  failing this long and out of retries disables an endpoint (72)
    ORDERGRAPH_PARTNER_ALLOW_PRIVATE   1/0: may webhooks target private and loopback addresses (1, 0 in production)
    ORDERGRAPH_PARTNER_RETRY_DELAYS    seconds between attempts, comma-separated (5,300,1800,7200,18000,36000,50400,72000,86400)

The platform watching itself (see ``domain.platform``; alerts on every tenant's board):

    ORDERGRAPH_HEARTBEAT_SECONDS       each server process heartbeats this often; the leader reports one silent for
                                       3 intervals without a goodbye as lost (system.process_lost), 0 = off (5)
    ORDERGRAPH_BUS_DOWN_AFTER_SECONDS  a process's Redis connection down this long raises system.bus_down, 0 = at once (5)

Intake (webhooks, tracking, imports, idempotency):

    ORDERGRAPH_HOOK_MAX_BYTES          largest accepted webhook body (5 MiB)
    ORDERGRAPH_HOOK_CACHE_SECONDS      how long a worker caches tenants, channels and status tables (5)
    ORDERGRAPH_WEBHOOK_TOLERANCE       Standard Webhooks timestamp tolerance in seconds (300)
    ORDERGRAPH_PICKUP_ALERT_HOURS      "shipped but not moving" after this many hours without pick-up (24)
    ORDERGRAPH_MAINTENANCE_SECONDS     period of the in-process intake checks, 0 = off (300)
    ORDERGRAPH_IDEMPOTENCY_TTL_HOURS   how long Idempotency-Key answers are kept (24, never less)
    ORDERGRAPH_IDEMPOTENCY_LOCK_SECONDS a request in flight longer than this is presumed dead (60)
    ORDERGRAPH_IMPORT_DIR              the only folder server-side imports may read (var/imports)
    ORDERGRAPH_IMPORT_BATCH            rows committed per import transaction (1000)

WMS federation (delivery orders pushed from the leader, see ``domain.federation.delivery_push``):

    ORDERGRAPH_WMS_PUSH_CONCURRENCY    delivery orders in flight to WMSs at once (8)
    ORDERGRAPH_WMS_PUSH_LEASE          seconds a claimed delivery order is reserved for its sender (60)
    ORDERGRAPH_WMS_PUSH_RETRY_DELAYS   seconds between attempts, comma-separated (5,30,120,600,1800,3600,7200,14400,28800)
    ORDERGRAPH_WMS_PUSH_MAX_ATTEMPTS   attempts before a delivery order is failed and alerted (10)
    ORDERGRAPH_WMS_SWEEP_SECONDS       period of the leader's confirmation sweep (lost WMS callbacks), 0 = off (60)
    ORDERGRAPH_WMS_SWEEP_AFTER_SECONDS a delivery order accepted this long without a confirmation is asked about (600)
    ORDERGRAPH_WMS_SWEEP_EVERY_SECONDS ... and asked again at most this often while it stays unconfirmed (600)

Customer tracking page (``/track``, see ``public_tracking``):

    ORDERGRAPH_TRACKING_TENANT         tenant served at ``/track``; others at ``/track/{slug}`` ("demo")
    ORDERGRAPH_TRACKING_SECRET         HMAC key for sessions, links, CSRF and code hashes (required in production)
    ORDERGRAPH_AUDIT_SIGNING_KEY       base64 Ed25519 seed signing lineage checkpoints (required in production)
    ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS  comma-separated base64 Ed25519 public keys of earlier signing seeds:
                                       their checkpoints keep verifying after a rotation (docs/audit.md)
    ORDERGRAPH_AUDIT                   1/0: the leader seals lineage into the Merkle log (1)
    ORDERGRAPH_AUDIT_CHECKPOINT_EVERY  leaves per tenant between signed checkpoints (1000)
    ORDERGRAPH_AUDIT_CHECKPOINT_SECONDS  at most this long before new leaves are signed (60)
    ORDERGRAPH_TRACKING_LINK_DAYS      lifetime of minted ``/track/t/{token}`` links (30)
    ORDERGRAPH_TRACKING_FAIL_FLOOR_MS  a failed lookup never answers sooner than this (250)
    ORDERGRAPH_SMS_GATEWAY_URL         HTTP SMS gateway; unset = development sender that logs codes
    ORDERGRAPH_SMS_GATEWAY_TOKEN       bearer token for that gateway

ERP and WMS federation (read side):

    ORDERGRAPH_FEDERATION_CACHE_SECONDS   how long an ERP/WMS answer is reused by the federated fields (5; 0 = never)
    ORDERGRAPH_FEDERATION_BUDGET_SECONDS  time one GraphQL request may spend waiting on ERP/WMS (3)
    ORDERGRAPH_DRIFT_CHECK_SECONDS        period of the stock-drift check on the leader, 0 = off (600)

The second path (pull APIs, see ``domain.polling``; run by the leader):

    ORDERGRAPH_POLL_SECONDS               period of the channel pollers, 0 = off (60)
    ORDERGRAPH_POLL_OVERLAP_SECONDS       each run re-reads this far before its watermark (300)

Carrier subscriptions (see ``domain.tracking.subscriptions``; run by the leader):

    ORDERGRAPH_TRACKING_ROUND_SECONDS     period of subscribe / query silent parcels / detect stalls, 0 = off (300)
    ORDERGRAPH_TRACKING_CALLBACK_BASE     the URL tracking providers push to (default ORDERGRAPH_PUBLIC_URL)
    ORDERGRAPH_TRACKING_QUERY_AFTER_HOURS a subscribed parcel with no scan this long is queried directly (12)
    ORDERGRAPH_STALLED_HOURS              "stalled in transit" after this long without a scan, per carrier (SF=24,JD=24)
    ORDERGRAPH_STALLED_DEFAULT_HOURS      the same for every other carrier (48)

Notifications to WeCom / DingTalk groups and email (see ``domain.notifications``; run by the leader):

    ORDERGRAPH_NOTIFY                     1/0: turn alerts into messages on the notification routes (1)
    ORDERGRAPH_NOTIFY_RETRY_DELAYS        seconds between attempts, comma-separated (1,5,30,120,600)
    ORDERGRAPH_NOTIFY_MAX_ATTEMPTS        attempts before a message is given up (6)

Business rules (see ``domain.rules``; run by the leader):

    ORDERGRAPH_RULES                      1/0: evaluate enabled rules on events and schedules (1)
    ORDERGRAPH_RULES_SCHEDULE_SECONDS     how often scheduled rules are checked for being due, 0 = off (30)

The exception board (see ``domain.alerts.board``; run by the leader):

    ORDERGRAPH_ALERT_WAKE_SECONDS         how often snoozed alerts whose time passed are put back, 0 = off (30)

After-sales (see ``domain.after_sales.pushes``; run by the leader, woken at once after each commit):

    ORDERGRAPH_AFTER_SALE_PUSH_SECONDS    how often refund decisions owed to channels are looked for, 0 = off (2)

Daily reconciliation (see ``domain.reconciliation``; run by the leader):

    ORDERGRAPH_RECONCILE_HOUR             local hour (tenant's time zone) from which yesterday is reconciled, 0/-1 = off (6)
    ORDERGRAPH_RECONCILE_THRESHOLD        a difference above this share of the channel's figure is reported (0.005)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from domain import masking
from domain.audit import signing as audit_signing
from models import sealing

DEFAULT_DATABASE_URL = "sqlite://var/ordergraph.sqlite3"
DEV_TRACKING_SECRET = "dev-only-tracking-secret-change-me"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _hours_by_carrier(text: str) -> dict[str, float]:
    """``"SF=24,JD=24"`` -> ``{"SF": 24.0, "JD": 24.0}``; a bad entry is a ``ValueError`` naming it."""
    hours: dict[str, float] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        carrier, _, value = entry.partition("=")
        try:
            hours[carrier.strip().upper()] = float(value)
        except ValueError:
            raise ValueError(f"ORDERGRAPH_STALLED_HOURS: {entry!r} is not CARRIER=HOURS") from None
    return hours


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    max_query_depth: int = 12
    max_aliases: int = 20
    max_tokens: int = 3000
    max_query_bytes: int = 64 * 1024
    max_cost: int = 50_000
    max_body_bytes: int = 1024 * 1024
    persisted_only: bool = False  # ORDERGRAPH_PERSISTED_ONLY: partner keys may run only persisted queries
    max_subscriptions_per_connection: int = 20
    max_page_size: int = 100
    key_cache_seconds: float = 10.0
    poll_interval: float = 0.25
    public_url: str | None = None
    live_max_pending: int = 1000
    partner_timeout: float = 10.0
    partner_concurrency: int = 16
    partner_lease: float = 60.0
    partner_poll_interval: float = 1.0
    partner_disable_after_hours: float = 72.0
    partner_allow_private: bool = True
    partner_retry_delays: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    wms_push_concurrency: int = 8
    wms_push_lease: float = 60.0
    wms_push_poll_interval: float = 1.0
    wms_push_retry_delays: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800)
    wms_push_max_attempts: int = 10
    hook_max_bytes: int = 5 * 1024 * 1024
    hook_cache_seconds: float = 5.0
    webhook_tolerance_seconds: int = 300
    pickup_alert_hours: float = 24.0
    maintenance_interval_seconds: float = 300.0
    idempotency_ttl_hours: float = 24.0
    idempotency_lock_seconds: float = 60.0
    import_dir: str = "var/imports"
    import_batch_size: int = 1000
    tracking_tenant: str = "demo"
    tracking_secret: str = DEV_TRACKING_SECRET
    tracking_link_days: int = 30
    tracking_fail_floor_ms: int = 250
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    phone_hash_key: str | None = None
    data_keys: tuple[str, ...] = ()
    federation_cache_seconds: float = 5.0
    federation_budget_seconds: float = 3.0
    drift_check_seconds: float = 600.0
    wms_sweep_seconds: float = 60.0
    wms_sweep_after_seconds: float = 600.0
    wms_sweep_every_seconds: float = 600.0
    poll_seconds: float = 60.0
    poll_overlap_seconds: float = 300.0
    tracking_round_seconds: float = 300.0
    tracking_callback_base: str = ""
    tracking_query_after_hours: float = 12.0
    stalled_hours: dict[str, float] = field(default_factory=lambda: {"SF": 24.0, "JD": 24.0})
    stalled_default_hours: float = 48.0
    notify_enabled: bool = True
    rules_enabled: bool = True
    rules_schedule_seconds: float = 30.0
    notify_retry_delays: tuple[float, ...] = (1, 5, 30, 120, 600)
    notify_max_attempts: int = 6
    notify_poll_interval: float = 1.0
    alert_wake_seconds: float = 30.0
    reconcile_hour: int = 6
    reconcile_threshold: str = "0.005"
    after_sale_push_seconds: float = 2.0
    audit_enabled: bool = True
    audit_signing_key: str | None = None
    audit_previous_public_keys: tuple[str, ...] = ()
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: float = 60.0
    heartbeat_seconds: float = 5.0
    bus_down_after_seconds: float = 5.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def apply_secrets(self) -> None:
        """Hand the domain the server secrets it needs; production refuses to run without them."""
        if self.phone_hash_key is None and self.production:
            raise SystemExit("ORDERGRAPH_PHONE_HASH_KEY must be set in production (32+ random characters): "
                             "phone look-up keys are HMACs under it")
        if self.phone_hash_key is not None and len(self.phone_hash_key) < 16:
            raise SystemExit("ORDERGRAPH_PHONE_HASH_KEY needs at least 16 characters")
        masking.use_phone_key(self.phone_hash_key or masking.DEV_PHONE_KEY)
        if not self.data_keys and self.production:
            raise SystemExit("ORDERGRAPH_DATA_KEYS must be set in production: comma-separated Fernet keys "
                             "(`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`); "
                             "the first seals stored secrets, all open them")
        try:
            sealing.use_keys(list(self.data_keys) or [sealing.DEV_KEY])
        except ValueError as error:
            raise SystemExit(f"ORDERGRAPH_DATA_KEYS holds a key that is not a Fernet key: {error}") from None
        if self.audit_signing_key is None and self.production:
            raise SystemExit("ORDERGRAPH_AUDIT_SIGNING_KEY must be set in production: base64 of a random 32-byte "
                             "Ed25519 seed (`python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())'`)")
        try:
            audit_signing.use_key(self.audit_signing_key or audit_signing.DEV_SEED)
        except ValueError as error:
            raise SystemExit(f"ORDERGRAPH_AUDIT_SIGNING_KEY is not a base64 32-byte seed: {error}") from None
        try:
            audit_signing.use_previous_keys(self.audit_previous_public_keys)
        except ValueError as error:
            raise SystemExit(f"ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS holds a key that is not a base64 32-byte "
                             f"Ed25519 public key: {error}") from None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=os.environ.get("REDIS_URL") or None,
            env=os.environ.get("ORDERGRAPH_ENV", "development"),
            host=os.environ.get("HOST", "127.0.0.1"),
            port=_int("PORT", 8000),
            max_query_depth=_int("ORDERGRAPH_MAX_DEPTH", 12),
            max_aliases=_int("ORDERGRAPH_MAX_ALIASES", 20),
            max_tokens=_int("ORDERGRAPH_MAX_TOKENS", 3000),
            max_query_bytes=_int("ORDERGRAPH_MAX_QUERY_BYTES", 64 * 1024),
            max_cost=_int("ORDERGRAPH_MAX_COST", 50_000),
            max_body_bytes=_int("ORDERGRAPH_MAX_BODY_BYTES", 1024 * 1024),
            persisted_only=os.environ.get("ORDERGRAPH_PERSISTED_ONLY", "0").lower() in {"1", "true", "yes"},
            max_subscriptions_per_connection=_int("ORDERGRAPH_MAX_SUBSCRIPTIONS", 20),
            key_cache_seconds=_float("ORDERGRAPH_KEY_CACHE_SECONDS", 10.0),
            public_url=os.environ.get("ORDERGRAPH_PUBLIC_URL") or None,
            live_max_pending=_int("ORDERGRAPH_LIVE_MAX_PENDING", 1000),
            partner_timeout=float(os.environ.get("ORDERGRAPH_PARTNER_TIMEOUT") or 10.0),
            partner_concurrency=_int("ORDERGRAPH_PARTNER_CONCURRENCY", 16),
            partner_lease=float(os.environ.get("ORDERGRAPH_PARTNER_LEASE") or 60.0),
            partner_disable_after_hours=float(os.environ.get("ORDERGRAPH_PARTNER_DISABLE_AFTER_HOURS") or 72.0),
            partner_allow_private=os.environ.get(
                "ORDERGRAPH_PARTNER_ALLOW_PRIVATE", "0" if os.environ.get("ORDERGRAPH_ENV") == "production" else "1"
            ).lower() in {"1", "true", "yes"},
            partner_retry_delays=tuple(
                float(x) for x in (os.environ.get("ORDERGRAPH_PARTNER_RETRY_DELAYS") or "5,300,1800,7200,18000,36000,50400,72000,86400").split(",")
            ),
            wms_push_concurrency=_int("ORDERGRAPH_WMS_PUSH_CONCURRENCY", 8),
            wms_push_lease=_float("ORDERGRAPH_WMS_PUSH_LEASE", 60.0),
            wms_push_retry_delays=tuple(
                float(x) for x in (os.environ.get("ORDERGRAPH_WMS_PUSH_RETRY_DELAYS") or "5,30,120,600,1800,3600,7200,14400,28800").split(",")
            ),
            wms_push_max_attempts=_int("ORDERGRAPH_WMS_PUSH_MAX_ATTEMPTS", 10),
            hook_max_bytes=_int("ORDERGRAPH_HOOK_MAX_BYTES", 5 * 1024 * 1024),
            hook_cache_seconds=_float("ORDERGRAPH_HOOK_CACHE_SECONDS", 5.0),
            webhook_tolerance_seconds=_int("ORDERGRAPH_WEBHOOK_TOLERANCE", 300),
            pickup_alert_hours=_float("ORDERGRAPH_PICKUP_ALERT_HOURS", 24.0),
            maintenance_interval_seconds=_float("ORDERGRAPH_MAINTENANCE_SECONDS", 300.0),
            idempotency_ttl_hours=max(24.0, _float("ORDERGRAPH_IDEMPOTENCY_TTL_HOURS", 24.0)),
            idempotency_lock_seconds=_float("ORDERGRAPH_IDEMPOTENCY_LOCK_SECONDS", 60.0),
            import_dir=os.environ.get("ORDERGRAPH_IMPORT_DIR", "var/imports"),
            import_batch_size=_int("ORDERGRAPH_IMPORT_BATCH", 1000),
            tracking_tenant=os.environ.get("ORDERGRAPH_TRACKING_TENANT") or "demo",
            tracking_secret=os.environ.get("ORDERGRAPH_TRACKING_SECRET") or DEV_TRACKING_SECRET,
            tracking_link_days=_int("ORDERGRAPH_TRACKING_LINK_DAYS", 30),
            tracking_fail_floor_ms=_int("ORDERGRAPH_TRACKING_FAIL_FLOOR_MS", 250),
            sms_gateway_url=os.environ.get("ORDERGRAPH_SMS_GATEWAY_URL") or None,
            sms_gateway_token=os.environ.get("ORDERGRAPH_SMS_GATEWAY_TOKEN") or None,
            phone_hash_key=os.environ.get("ORDERGRAPH_PHONE_HASH_KEY") or None,
            data_keys=tuple(key.strip() for key in (os.environ.get("ORDERGRAPH_DATA_KEYS") or "").split(",") if key.strip()),
            federation_cache_seconds=_float("ORDERGRAPH_FEDERATION_CACHE_SECONDS", 5.0),
            federation_budget_seconds=_float("ORDERGRAPH_FEDERATION_BUDGET_SECONDS", 3.0),
            drift_check_seconds=_float("ORDERGRAPH_DRIFT_CHECK_SECONDS", 600.0),
            wms_sweep_seconds=_float("ORDERGRAPH_WMS_SWEEP_SECONDS", 60.0),
            wms_sweep_after_seconds=_float("ORDERGRAPH_WMS_SWEEP_AFTER_SECONDS", 600.0),
            wms_sweep_every_seconds=_float("ORDERGRAPH_WMS_SWEEP_EVERY_SECONDS", 600.0),
            poll_seconds=_float("ORDERGRAPH_POLL_SECONDS", 60.0),
            poll_overlap_seconds=_float("ORDERGRAPH_POLL_OVERLAP_SECONDS", 300.0),
            tracking_round_seconds=_float("ORDERGRAPH_TRACKING_ROUND_SECONDS", 300.0),
            tracking_callback_base=(os.environ.get("ORDERGRAPH_TRACKING_CALLBACK_BASE")
                                    or os.environ.get("ORDERGRAPH_PUBLIC_URL") or ""),
            tracking_query_after_hours=_float("ORDERGRAPH_TRACKING_QUERY_AFTER_HOURS", 12.0),
            stalled_hours=_hours_by_carrier(os.environ.get("ORDERGRAPH_STALLED_HOURS", "SF=24,JD=24")),
            stalled_default_hours=_float("ORDERGRAPH_STALLED_DEFAULT_HOURS", 48.0),
            notify_enabled=os.environ.get("ORDERGRAPH_NOTIFY", "1").lower() in {"1", "true", "yes"},
            rules_enabled=os.environ.get("ORDERGRAPH_RULES", "1").lower() in {"1", "true", "yes"},
            rules_schedule_seconds=_float("ORDERGRAPH_RULES_SCHEDULE_SECONDS", 30.0),
            notify_retry_delays=tuple(
                float(x) for x in (os.environ.get("ORDERGRAPH_NOTIFY_RETRY_DELAYS") or "1,5,30,120,600").split(",")
            ),
            notify_max_attempts=_int("ORDERGRAPH_NOTIFY_MAX_ATTEMPTS", 6),
            alert_wake_seconds=_float("ORDERGRAPH_ALERT_WAKE_SECONDS", 30.0),
            after_sale_push_seconds=_float("ORDERGRAPH_AFTER_SALE_PUSH_SECONDS", 2.0),
            reconcile_hour=_int("ORDERGRAPH_RECONCILE_HOUR", 6),
            reconcile_threshold=os.environ.get("ORDERGRAPH_RECONCILE_THRESHOLD") or "0.005",
            audit_enabled=os.environ.get("ORDERGRAPH_AUDIT", "1").lower() in {"1", "true", "yes"},
            audit_signing_key=os.environ.get("ORDERGRAPH_AUDIT_SIGNING_KEY") or None,
            audit_previous_public_keys=tuple(
                key.strip() for key in (os.environ.get("ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS") or "").split(",")
                if key.strip()),
            audit_checkpoint_every=_int("ORDERGRAPH_AUDIT_CHECKPOINT_EVERY", 1000),
            audit_checkpoint_seconds=_float("ORDERGRAPH_AUDIT_CHECKPOINT_SECONDS", 60.0),
            heartbeat_seconds=_float("ORDERGRAPH_HEARTBEAT_SECONDS", 5.0),
            bus_down_after_seconds=_float("ORDERGRAPH_BUS_DOWN_AFTER_SECONDS", 5.0),
        )
