"""What the notification use cases need from a messenger (WeCom, DingTalk, email), in plain shapes.

    notifier = notifiers["dingtalk"]                   # adapters.notify.NOTIFIERS, handed in by api/ or resolvers/
    try:
        await notifier.send(route.config, Notice(title="…", body="…", language="zh"))
    except NotifyFailed as failure:
        failure.reason, failure.retryable              # "errcode 130101: send too fast", True

A route's ``config`` is the normalised dict ``domain.notifications.config``
makes (secrets included: it is sealed at rest). It must never be logged or
shown: :func:`redacted` is the only form that leaves the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

#: Config keys holding a secret (a robot's key or token, a signing secret, an SMTP password).
SECRET_KEYS = frozenset({"key", "access_token", "secret", "password", "webhook_url"})
#: How a secret is shown: never its value, at most its last four characters.
HIDDEN = "****"


@dataclass(frozen=True, slots=True)
class Notice:
    """One message. ``body`` is light Markdown (``**bold**``, ``- item`` lines, bare URLs)."""

    title: str
    body: str
    language: str = "zh"


class NotifyFailed(Exception):
    """The messenger did not take the message. ``retryable``: trying again later may succeed."""

    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.retryable = retryable


class Notifier(Protocol):
    async def send(self, config: Mapping[str, Any], notice: Notice) -> None:
        """Deliver ``notice`` to the target ``config`` names, or raise :class:`NotifyFailed`."""
        ...


#: Target name (``wecom``, ``dingtalk``, ``email``) -> its notifier.
Notifiers = Mapping[str, Notifier]


def hide(value: Any) -> str:
    """``****1a2b`` for a long secret, ``****`` for a short one (its end would give too much away)."""
    text = str(value or "")
    return HIDDEN + text[-4:] if len(text) >= 16 else HIDDEN


def redacted(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config with every secret hidden: the only form logs and GraphQL ever see."""
    return {key: (hide(value) if key in SECRET_KEYS and value else value) for key, value in (config or {}).items()}


def is_hidden(value: Any) -> bool:
    """A value a client sent back as it was shown (``****1a2b``): keep the stored secret."""
    return isinstance(value, str) and value.startswith(HIDDEN)
