"""Taobao / Tmall: ``taobao.top.oaid.decrypt`` turns (tid, OAID) into the clear receiver.

Taobao sends the receiver masked and an OAID (Open Addressee ID) on the
trade; the OAID with its ``tid`` and a *scene* (why the merchant looks:
1001-1007 shipping, 2001 after-sales, 2002 customer care) is what TOP
decrypts. The request is a form POST to the TOP router (``/router/rest``)
with the system parameters ``method``, ``app_key``, ``session``,
``timestamp`` (China time), ``format=json``, ``v=2.0``, ``sign_method`` and
``sign``, and the business parameter ``query_list`` (a JSON array of
``{tid, oaid, scene}``, at most 20 per call). The answer::

    {"top_oaid_decrypt_response": {"request_id": "...",
      "receiver_list": {"receiver": [{"tid": "...", "oaid": "...", "name": "...", "mobile": "...",
                                      "phone": "", "address_detail": "...", "matched": true, ...}]}}}

(``receiver_list`` is a bare array when the app asks for ``simplify``.) A
refusal is ``{"error_response": {"code": 27, "msg": "Invalid session",
"sub_code": "invalid-sessionkey", ...}}``. ``matched: false`` means the OAID
is stale for that trade (re-fetch the trade).

Channel ``config["api"]``: ``app_key``, ``app_secret``, ``session`` (the
shop's TOP session key); optional ``scene`` (default ``1004``, other waybill
shipping), ``sign_method`` (``hmac-sha256``, ``md5`` or ``hmac``),
``base_url`` (``https://eco.taobao.com``), ``timeout_seconds``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters import wire
from adapters.channels.decryption.batches import in_chunks
from adapters.channels.decryption.transport import Account, Clients, account, bad_answer, post_json
from adapters.channels.platform_signing import top_sign, top_timestamp
from adapters.reader import Reader
from domain.contacts.ports import ClearReceiver, Decrypted, DecryptRefused, SealedReceiver
from domain.inbound.normalized import PayloadError

SOURCE = "taobao"
METHOD = "taobao.top.oaid.decrypt"
PATH = "/router/rest"
DEFAULT_URL = "https://eco.taobao.com"
MAX_PER_CALL = 20
DEFAULT_SCENE = "1004"
SIGN_METHODS = ("hmac-sha256", "md5", "hmac")
#: Codes by which TOP says the shop's session is no longer valid (re-authorise).
SESSION_CODES = frozenset({"26", "27", "53"})
SESSION_SUB_CODES = frozenset({"invalid-sessionkey", "session-expired", "session-not-exist"})


def refusal(error: Mapping[str, Any]) -> DecryptRefused:
    """A TOP ``error_response`` as a typed refusal (``code/sub_code``; the messages are the platform's)."""
    code = str(error.get("code", "")).strip()
    sub_code = str(error.get("sub_code") or "").strip()
    message = str(error.get("sub_msg") or error.get("msg") or "refused")[:200]
    expired = code in SESSION_CODES or sub_code in SESSION_SUB_CODES
    return DecryptRefused(SOURCE, f"{code}/{sub_code}" if sub_code else code or "UNKNOWN", message,
                          session_expired=expired, retryable=code in {"7", "15"})


class TaobaoDecryptor:
    """The port :class:`~domain.contacts.ContactDecryptor` for Taobao and Tmall shops."""

    def __init__(self, clients: Clients, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clients = clients
        self.clock = clock

    async def decrypt(self, config: Mapping[str, Any], batch: Sequence[SealedReceiver]) -> Decrypted:
        target = account(SOURCE, config, token_key="session", default_url=DEFAULT_URL, sign_methods=SIGN_METHODS)
        scene = str(config.get("scene") or DEFAULT_SCENE)
        askable = [receiver for receiver in batch if receiver.open_id]
        without = {receiver.order_id: "NO_OAID" for receiver in batch if not receiver.open_id}
        return await in_chunks(askable, MAX_PER_CALL, lambda r: r.order_id,
                               lambda part: self._call(target, scene, part), refused=without)

    def signed_form(self, target: Account, scene: str, part: Sequence[SealedReceiver]) -> dict[str, str]:
        form = {
            "method": METHOD,
            "app_key": target.app_key,
            "session": target.token,
            "timestamp": top_timestamp(self.clock()),
            "format": "json",
            "v": "2.0",
            "sign_method": target.sign_method,
            "query_list": json.dumps([{"tid": r.external_id, "oaid": r.open_id, "scene": scene} for r in part],
                                     ensure_ascii=False, separators=(",", ":")),
        }
        form["sign"] = top_sign(form, target.app_secret, target.sign_method)
        return form

    async def _call(self, target: Account, scene: str, part: list[SealedReceiver]) -> Decrypted:
        answer = await post_json(self.clients, SOURCE, target, PATH, data=self.signed_form(target, scene, part))
        try:
            return _read(Reader(answer), part)
        except PayloadError as error:
            raise bad_answer(SOURCE, error) from None


def _receivers(response: Reader) -> list[Reader]:
    listed = response.data.get("receiver_list")
    if isinstance(listed, dict):
        return response.obj("receiver_list").objs("receiver", required=False)
    return response.objs("receiver_list", required=False)


def _read(answer: Reader, part: list[SealedReceiver]) -> Decrypted:
    if answer.has("error_response"):
        raise refusal(answer.data["error_response"] if isinstance(answer.data["error_response"], Mapping) else {})
    by_key = {(r.external_id, r.open_id): r.order_id for r in part}
    receivers: dict[int, ClearReceiver] = {}
    refused: dict[int, str] = {}
    for item in _receivers(answer.obj("top_oaid_decrypt_response")):
        order_id = by_key.get((item.opt("tid", wire.ident) or "", item.text("oaid")))
        if order_id is None:
            continue
        if item.has("matched") and not item.req("matched", wire.boolean):
            refused[order_id] = "OAID_MISMATCH"
            continue
        receivers[order_id] = ClearReceiver(name=item.text("name"), phone=item.first_text("mobile", "phone"),
                                            address=item.text("address_detail"))
    for order_id in by_key.values():
        if order_id not in receivers and order_id not in refused:
            refused[order_id] = "NOT_RETURNED"
    return Decrypted(receivers, refused)
