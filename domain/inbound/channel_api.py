"""What a sales channel's pull API must offer the pollers, whatever its protocol.

    api = apis.for_channel(channel)            # adapters.channels.api: TOP, Pinduoduo, Douyin, WeChat, SP-API, Shopify
    page = await api.list_updated(Window(start, end), page=None)
    for listed in page.orders:
        body = listed.body or await api.fetch(listed.external_id)
        # ``body`` is the platform's own order JSON, read by the channel's webhook format

A call answers, or raises :class:`Throttled` (the platform asked us to slow
down: wait ``retry_after`` seconds and ask again), :class:`ApiUnavailable`
(timeout, connection refused, 5xx: nothing is known, ask again later) or
:class:`ApiRefused` (the platform said no: bad credentials, expired session,
a parameter it does not accept — retrying will not help).  Times are
timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol


class ChannelApiError(Exception):
    """Base of what a channel API call can end in besides an answer; never holds a secret or personal data."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Throttled(ChannelApiError):
    """The platform refused for rate (HTTP 429, or its own throttling code); ask again after ``retry_after`` s."""

    def __init__(self, message: str, *, retry_after: float = 1.0, code: str = "") -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ApiUnavailable(ChannelApiError):
    """The platform could not be asked or did not answer (timeout, refused connection, 5xx)."""


class ApiRefused(ChannelApiError):
    """The platform answered no for a reason retrying cannot fix (credentials, session, parameters)."""


@dataclass(frozen=True, slots=True)
class Window:
    """Orders modified in ``[start, end]`` (both inclusive, as the platforms' list APIs read them)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Listed:
    """One order a list call named: its platform id, when it last changed, and its whole body if the list gave it."""

    external_id: str
    updated_at: datetime | None = None
    #: Writes the platform's order JSON as the channel's webhook format reads it, when the list answers whole
    #: orders — only when asked: most orders a poll lists are already held and never need it.
    render: Callable[[], bytes] | None = None

    @property
    def body(self) -> bytes | None:
        """The order's JSON when the list answered it whole (written now)."""
        return self.render() if self.render is not None else None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list call; ``next_page`` is the opaque token for the next one (``None``: the last page)."""

    orders: tuple[Listed, ...]
    next_page: str | None = None
    #: How many orders the whole window holds, when the platform says (checks that paging lost none).
    total: int | None = None


class ChannelApi(Protocol):
    """One shop's pull API on one platform."""

    #: The platform's name for logs and alerts ("taobao", "amazon", …).
    kind: str
    #: The longest window one list call may ask for (Taobao: 1 day; Pinduoduo: 30 minutes; …).
    #: A client may also set ``lag``: how far behind now a window must end (SP-API: 2 minutes); default none.
    max_window: timedelta

    async def list_updated(self, window: Window, page: str | None) -> Page:
        """The orders modified within ``window``, one page (``page=None``: the first)."""
        ...

    async def fetch(self, external_id: str) -> bytes:
        """One whole order as the platform's JSON, readable by the channel's webhook format."""
        ...


class ChannelApis(Protocol):
    """Builds the pull API client for a channel from its kind and sealed ``config["api"]``."""

    def for_channel(self, kind: str, config: dict[str, Any]) -> ChannelApi | None:
        """``None`` when the kind has no pull API; :class:`ApiRefused` when the account is incomplete."""
        ...
