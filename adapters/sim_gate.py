"""What a simulator does before it answers an API call: count it, delay it, throttle it, fail a share of them.

    gate = Gate(random.Random(7), calls)                  # calls: a Counter the simulator reports
    gate.configure(faults)                                # anything with rate_per_s, burst, error_rate, latency_ms
    verdict = await gate.admit("order.searchList")       # None: answer; "throttled" or "error": refuse
    gate.retry_after()                                    # seconds until a call may go ahead (takes no token)

Each simulator turns a refusal into its platform's own answer (a throttling
code, an HTTP 429 with ``Retry-After``, an HTTP 500).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Protocol


class TokenBucket:
    """``rate`` calls per second with bursts of ``burst``; ``rate`` 0 means no limit."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, max(burst, 1)
        self.tokens = float(self.burst)
        self.at = time.monotonic()

    def take(self) -> float:
        """0 when the call may go ahead (a token is spent), else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def wait(self) -> float:
        """What :meth:`take` would answer now, without taking a token: 0 when a call may go ahead."""
        if self.rate <= 0:
            return 0.0
        tokens = min(self.burst, self.tokens + (time.monotonic() - self.at) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


class CallFaults(Protocol):
    """The faults a gate applies (each simulator's own ``Faults`` has these and more)."""

    rate_per_s: float
    burst: int
    error_rate: float
    latency_ms: int


class Gate:
    """Counts calls per operation (and ``throttled``, ``errors``) and applies latency, rate and error faults."""

    def __init__(self, rng: random.Random, calls: Counter[str]) -> None:
        self.rng, self.calls = rng, calls
        self.bucket = TokenBucket(0.0, 1)
        self.error_rate, self.latency_ms = 0.0, 0

    def configure(self, faults: CallFaults) -> None:
        self.bucket = TokenBucket(faults.rate_per_s, faults.burst)
        self.error_rate, self.latency_ms = faults.error_rate, faults.latency_ms

    async def admit(self, operation: str) -> str | None:
        self.calls[operation] += 1
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.bucket.take() > 0:
            self.calls["throttled"] += 1
            return "throttled"
        if self.error_rate and self.rng.random() < self.error_rate:
            self.calls["errors"] += 1
            return "error"
        return None

    def retry_after(self) -> float:
        """Seconds until the next call may go ahead (at least one token's time); it takes no token."""
        rate = self.bucket.rate
        return max(self.bucket.wait(), 1.0 / rate if rate else 1.0)


class OutgoingLimit:
    """How many pushes a simulator has in flight at once, per event loop, like a real platform's sender.

    Without it a receiver that falls behind queues thousands of requests in one client, and httpcore's pool
    spends its time matching them to connections (quadratic in the queue): the simulators' own process then
    stalls and every simulator stops answering, which is not the fault being simulated.
    """

    def __init__(self, in_flight: int) -> None:
        self.in_flight = in_flight
        self._by_loop: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def get(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._by_loop:
            self._by_loop = {known: gate for known, gate in self._by_loop.items() if not known.is_closed()}
            self._by_loop[loop] = asyncio.Semaphore(self.in_flight)
        return self._by_loop[loop]


#: Shared by every simulator's pushes in a process.
PUSHES_IN_FLIGHT = OutgoingLimit(64)
