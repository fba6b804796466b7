"""The key cache asks the database once per key however many sockets re-check it at the same moment."""

from __future__ import annotations

import asyncio

import pytest

from api import auth
from api.auth import KeyCache
from domain.actor import Actor, Role

ACTOR = Actor(tenant_id=1, role=Role.PARTNER, name="p", source="graphql-ws", key_id=1)


class Store:
    """Stands in for ``authenticate``: counts look-ups, each taking a moment; may fail or answer None (revoked)."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.answer: Actor | None = ACTOR

    async def authenticate(self, secret: str, source: str = "graphql") -> Actor | None:
        self.calls += 1
        failing = self.fail
        await asyncio.sleep(0.02)
        if failing:
            raise ConnectionError("database away")
        return self.answer


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    store = Store()
    monkeypatch.setattr(auth, "authenticate", store.authenticate)
    return store


async def test_a_thousand_concurrent_checks_of_one_key_make_one_lookup(store: Store) -> None:
    cache = KeyCache(ttl=10)
    actors = await asyncio.gather(*(cache.actor_for("og_key", "graphql-ws") for _ in range(1000)))
    assert actors == [ACTOR] * 1000
    assert store.calls == 1


async def test_a_failed_lookup_fails_its_caller_and_the_waiters_ask_again(store: Store) -> None:
    cache = KeyCache(ttl=10)
    store.fail = True
    first = asyncio.create_task(cache.actor_for("og_key"))
    await asyncio.sleep(0)
    store.fail = False  # the waiters' own look-ups succeed
    waiters = [asyncio.create_task(cache.actor_for("og_key")) for _ in range(5)]
    with pytest.raises(ConnectionError):
        await first
    assert await asyncio.gather(*waiters) == [ACTOR] * 5
    assert store.calls == 2  # the failed one, then one for all five waiters


async def test_a_revoked_key_is_seen_after_the_ttl(store: Store) -> None:
    cache = KeyCache(ttl=0.05)
    assert await cache.actor_for("og_key") == ACTOR
    store.answer = None
    assert await cache.actor_for("og_key") == ACTOR  # still within the ttl
    await asyncio.sleep(0.06)
    assert await cache.actor_for("og_key") is None
