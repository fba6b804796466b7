"""Pinduoduo: ``pdd.open.decrypt.batch`` turns receiver ciphertext (``~...~``) into clear text.

The request is a form POST to the POP gateway (``/api/router``) with the
common parameters ``type``, ``client_id``, ``access_token``, ``timestamp``
(unix seconds, within 10 minutes of the platform's clock), ``data_type=JSON``,
``version=V1`` and ``sign``, and ``data_list``: a JSON array of
``{data_tag, encrypted_data}`` where ``data_tag`` is the order number
(``order_sn``) the ciphertext belongs to; at most 100 items per call, so
each call carries up to 33 orders (name, phone, address). The answer::

    {"open_decrypt_batch_response": {"data_decrypt_list": [
        {"data_tag": "...", "encrypted_data": "~...~", "decrypted_data": "...", "data_type": 6,
         "error_code": 0, "error_msg": "", "virtual_number_type": 0, "virtual_identify_number": ""}]}}

Each item has its own ``error_code`` (0: decrypted). A refused call is
``{"error_response": {"error_code": 10019, "error_msg": "access_token已过期", ...}}``
(20004: bad sign, 52101/70031: throttled). A virtual phone number comes back
as the number plus an extension, shown ``number-extension``.

Channel ``config["api"]``: ``app_key`` (the POP ``client_id``),
``app_secret`` (``client_secret``), ``access_token``; optional ``base_url``
(``https://gw-api.pinduoduo.com``), ``timeout_seconds``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters import wire
from adapters.channels.decryption.batches import in_chunks
from adapters.channels.decryption.transport import Account, Clients, account, bad_answer, post_json
from adapters.channels.platform_signing import pdd_sign
from adapters.reader import Reader
from domain.contacts.ports import ClearReceiver, Decrypted, DecryptRefused, SealedReceiver
from domain.inbound.normalized import PayloadError

SOURCE = "pinduoduo"
TYPE = "pdd.open.decrypt.batch"
PATH = "/api/router"
DEFAULT_URL = "https://gw-api.pinduoduo.com"
MAX_ITEMS_PER_CALL = 100
ORDERS_PER_CALL = MAX_ITEMS_PER_CALL // 3
SESSION_CODES = frozenset({"10019", "20032"})
RETRYABLE_CODES = frozenset({"50000", "50001", "50002", "52001", "52002", "52101", "52102", "52103", "70031"})
_FIELDS = (("name", "name_cipher"), ("phone", "phone_cipher"), ("address", "address_cipher"))


def refusal(error: Mapping[str, Any]) -> DecryptRefused:
    """A POP ``error_response`` as a typed refusal."""
    code = str(error.get("error_code", "")).strip() or "UNKNOWN"
    sub_code = str(error.get("sub_code") or "").strip()
    message = str(error.get("sub_msg") or error.get("error_msg") or "refused")[:200]
    shown = f"{code}/{sub_code}" if sub_code and sub_code != code else code
    return DecryptRefused(SOURCE, shown, message, session_expired=code in SESSION_CODES,
                          retryable=code in RETRYABLE_CODES)


class PinduoduoDecryptor:
    """The port :class:`~domain.contacts.ContactDecryptor` for Pinduoduo shops."""

    def __init__(self, clients: Clients, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clients = clients
        self.clock = clock

    async def decrypt(self, config: Mapping[str, Any], batch: Sequence[SealedReceiver]) -> Decrypted:
        target = account(SOURCE, config, token_key="access_token", default_url=DEFAULT_URL, sign_methods=("md5",))
        return await in_chunks(list(batch), ORDERS_PER_CALL, lambda r: r.order_id, lambda part: self._call(target, part))

    def signed_form(self, target: Account, part: Sequence[SealedReceiver]) -> dict[str, str]:
        items = [{"data_tag": r.external_id, "encrypted_data": getattr(r, cipher)}
                 for r in part for _, cipher in _FIELDS if getattr(r, cipher)]
        form = {
            "type": TYPE,
            "client_id": target.app_key,
            "access_token": target.token,
            "timestamp": str(int(self.clock().timestamp())),
            "data_type": "JSON",
            "version": "V1",
            "data_list": json.dumps(items, ensure_ascii=False, separators=(",", ":")),
        }
        form["sign"] = pdd_sign(form, target.app_secret)
        return form

    async def _call(self, target: Account, part: list[SealedReceiver]) -> Decrypted:
        form = self.signed_form(target, part)
        answer = await post_json(self.clients, SOURCE, target, PATH, data=form)
        try:
            return _read(Reader(answer), part)
        except PayloadError as error:
            raise bad_answer(SOURCE, error) from None


def _phone(item: Reader, clear: str) -> str:
    extension = item.text("virtual_identify_number")
    return f"{clear}-{extension}" if extension and clear else clear


def _read(answer: Reader, part: list[SealedReceiver]) -> Decrypted:
    if answer.has("error_response"):
        error = answer.data["error_response"]
        raise refusal(error if isinstance(error, Mapping) else {})
    slots = {(r.external_id, getattr(r, cipher)): (r.order_id, name) for r in part for name, cipher in _FIELDS
             if getattr(r, cipher)}
    found: dict[int, dict[str, str]] = defaultdict(dict)
    errors: dict[int, str] = {}
    for item in answer.obj("open_decrypt_batch_response").objs("data_decrypt_list", required=False):
        slot = slots.get((item.opt("data_tag", wire.ident) or "", item.text("encrypted_data")))
        if slot is None:
            continue
        order_id, name = slot
        code = item.opt("error_code", wire.integer) or 0
        if code != 0:
            errors[order_id] = str(code)
            continue
        clear = item.text("decrypted_data")
        found[order_id][name] = _phone(item, clear) if name == "phone" else clear
    receivers = {order_id: ClearReceiver(**values) for order_id, values in found.items() if any(values.values())}
    refused = {r.order_id: errors.get(r.order_id, "NOT_RETURNED") for r in part if r.order_id not in receivers}
    return Decrypted(receivers, refused)
