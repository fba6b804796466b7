"""Console accounts: create people, check passwords with a lockout, open and close sessions.

    user = await create_user("demo", "li.wei@example.cn", "Li Wei", Role.OPS, password)
    outcome = await sign_in("li.wei@example.cn", password)     # SignIn(user=…) or SignIn(refused=True / locked=True)
    token, session = await open_session(outcome.user)         # the cookie gets ``token``, the table its hash
    session = await session_for(token)                        # None when unknown or expired

Passwords are hashed with argon2id (argon2-cffi's defaults) and never logged.
After ``MAX_FAILURES`` wrong passwords in a row an account is locked for
``LOCK_MINUTES``; an unknown email costs the same hashing time and gets the
same answer as a wrong password, and is locked out the same way (counted in
memory per process, since there is no row to count on).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError

from domain.actor import Actor, Role
from domain.errors import Duplicate, ValidationFailed
from domain.tenants.accounts import tenant_and_role
from models import ConsoleSession, ConsoleUser

MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 12
MIN_PASSWORD = 10
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
#: Failures for emails that have no account: email -> (count, locked until, monotonic seconds).
_unknown: dict[str, tuple[int, float]] = {}


def clean_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not (3 <= len(value) <= 254) or "@" not in value or any(c.isspace() for c in value):
        raise ValidationFailed("an email address like name@example.cn", field="email")
    return value


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(user: ConsoleUser) -> Actor:
    """The caller the API sees: the person's role and tenant, named so the lineage says who it was."""
    return Actor(tenant_id=user.tenant_id, role=Role(user.role), name=f"{user.display_name} <{user.email}> (console)"[:200],
                 source="console")


async def create_user(tenant_slug: str, email: str, name: str, role: Role | str, password: str) -> ConsoleUser:
    tenant, role = await tenant_and_role(tenant_slug, role)
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed("a display name of 1 to 100 characters", field="name")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password of at least {MIN_PASSWORD} characters", field="password")
    address = clean_email(email)
    if await ConsoleUser.exists(email=address):
        raise Duplicate(f"a console user {address} exists already", field="email")
    try:
        return await ConsoleUser.create(tenant=tenant, email=address, display_name=name, role=role.value,
                                        password_hash=_hasher.hash(password))
    except IntegrityError:
        raise Duplicate(f"a console user {address} exists already", field="email") from None


@dataclass(frozen=True, slots=True)
class SignIn:
    user: ConsoleUser | None = None
    locked: bool = False


async def sign_in(email: str, password: str, *, now: datetime | None = None) -> SignIn:
    """The user when the password is right and the account not locked; otherwise why not (locked or not)."""
    now = now or datetime.now(UTC)
    try:
        address = clean_email(email)
    except ValidationFailed:
        address = (email or "").strip().lower()[:254]
    user = await ConsoleUser.filter(email=address, disabled=False).first()
    if user is None:
        return _unknown_failure(address, password)
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(locked=True)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        failures = user.failed_attempts + 1
        locked = failures >= MAX_FAILURES
        await ConsoleUser.filter(id=user.id).update(
            failed_attempts=0 if locked else failures, locked_until=now + timedelta(minutes=LOCK_MINUTES) if locked else None)
        return SignIn()
    updates: dict[str, object] = {"failed_attempts": 0, "locked_until": None, "last_sign_in_at": now}
    if _hasher.check_needs_rehash(user.password_hash):
        updates["password_hash"] = _hasher.hash(password)
    await ConsoleUser.filter(id=user.id).update(**updates)
    await user.refresh_from_db()
    return SignIn(user=user)


def _unknown_failure(address: str, password: str) -> SignIn:
    """Cost and answer as for a wrong password, lockout included."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass
    count, until = _unknown.get(address, (0, 0.0))
    if until > time.monotonic():
        return SignIn(locked=True)
    count += 1
    if len(_unknown) > 10_000:
        _unknown.clear()
    _unknown[address] = (0, time.monotonic() + LOCK_MINUTES * 60) if count >= MAX_FAILURES else (count, 0.0)
    return SignIn()


async def open_session(user: ConsoleUser, *, hours: float = SESSION_HOURS) -> tuple[str, ConsoleSession]:
    token = secrets.token_urlsafe(32)
    session = await ConsoleSession.create(user=user, token_hash=hash_token(token), csrf_token=secrets.token_urlsafe(24),
                                          expires_at=datetime.now(UTC) + timedelta(hours=hours))
    return token, session


async def session_for(token: str | None) -> ConsoleSession | None:
    """The live session of this cookie value, with its user; expired sessions are deleted on sight."""
    if not token or len(token) > 128:
        return None
    session = await ConsoleSession.filter(token_hash=hash_token(token)).select_related("user").first()
    if session is None:
        return None
    if session.expires_at <= datetime.now(UTC) or session.user.disabled:
        await ConsoleSession.filter(id=session.id).delete()
        return None
    return session


async def close_session(token: str | None) -> None:
    if token:
        await ConsoleSession.filter(token_hash=hash_token(token)).delete()
