"""Messages that only announce orders (Taobao TMC, Douyin and WeChat messages): fetch each order, then apply it.

    answer = await receive_announced(tenant_id, channel, ("4012876645139902417",), body, headers,
                                     formats=FORMATS, replay=None, apply=apply_fetched)

Each announced order is fetched through the channel's pull API (the same
client the poller uses) and applied as a whole order. When the platform
cannot be asked (throttled, down) the answer is 503 so the sender pushes the
message again (orders already applied are then ``unchanged``); when the
channel has no API account, or the platform refuses it, the message is
quarantined with the reason, to be replayed once the account is fixed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Throttled
from domain.inbound.formats import Formats
from domain.inbound.pipeline import Answer, Replay, quarantined
from models import Channel


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an announced order could not be fetched; ``retry``: ask the platform to send the message again."""

    code: str
    reason: str
    retry: bool


async def fetch_announced(formats: Formats, channel: Channel, external_id: str) -> bytes | Refusal:
    """The whole order a message announced, from the channel's API (as the poller fetches it)."""
    api_config = (channel.config or {}).get("api") or {}
    try:
        api = formats.apis.for_channel(channel.kind, api_config) if formats.apis and api_config else None
        if api is None:
            return Refusal("announcement_unfetched",
                           f"the message only announces order {external_id}: connect the channel's platform API "
                           "account (updateChannel apiAccount), then replay it", False)
        return await api.fetch(external_id)
    except (Throttled, ApiUnavailable) as error:
        return Refusal("fetch_failed", f"order {external_id} could not be fetched: {error.message}", True)
    except ApiRefused as error:
        return Refusal("fetch_refused", f"the platform refused to give order {external_id}: {error.message}", False)


async def receive_announced(tenant_id: int, channel: Channel, external_ids: Sequence[str], body: bytes,
                            headers: Mapping[str, str], *, formats: Formats, replay: Replay | None,
                            apply: Callable[[str, bytes], Awaitable[Answer]],
                            resolve: Callable[[Replay, dict[str, object]], Awaitable[None]]) -> Answer:
    """Fetch and apply every announced order; one answer for the message (see the module docstring).

    ``apply(external_id, body)`` applies one fetched order; ``resolve`` closes the quarantined message of a successful replay.
    """
    answers: list[Answer] = []
    for external_id in external_ids:
        fetched = await fetch_announced(formats, channel, external_id)
        if isinstance(fetched, Refusal):
            if fetched.retry:
                return Answer(503, {"status": "retry", "error": fetched.code, "reason": fetched.reason}, fetched.code)
            return await quarantined(tenant_id, "channel", channel.code, body, headers, fetched.code, fetched.reason,
                                     "content", 422, True, replay)
        answers.append(await apply(external_id, fetched))
    if replay and all(answer.http_status == 200 for answer in answers):
        await resolve(replay, {"orders": [answer.body.get("order") for answer in answers]})
    if len(answers) == 1:
        return answers[0]
    worst = max(answers, key=lambda answer: answer.http_status)
    body_json = {"status": "applied" if worst.http_status == 200 else worst.body.get("status"),
                 "orders": [answer.body for answer in answers]}
    return Answer(worst.http_status, body_json, worst.outcome,
                  order_ids=[order_id for answer in answers for order_id in answer.order_ids])
