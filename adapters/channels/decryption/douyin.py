"""Douyin shop (抖店): ``order.batchDecrypt`` turns ``encrypt_post_*`` ciphertext into clear text.

The call is ``POST {gateway}/order/batchDecrypt`` with ``app_key``,
``method=order.batchDecrypt``, ``access_token``, ``timestamp`` (unix
seconds), ``v=2``, ``sign_method`` and ``sign`` in the query string and the
business parameters as the JSON body (``param_json``, signed byte for
byte): ``{"cipher_infos": [{"auth_id": <order id>, "cipher_text": "#..#"}]}``,
at most 50 ciphertexts per call, so up to 16 orders (name, phone, address).
The answer::

    {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "log_id": "...",
     "data": {"decrypt_infos": [{"auth_id": "...", "cipher_text": "...", "decrypt_text": "...",
                                 "err_no": 0, "err_msg": "", "is_virtual_tel": false, ...}],
              "custom_err": {"err_code": 0, "err_msg": ""}}}

A refusal keeps the envelope: ``code`` 40003 with ``sub_code``
``isv.signature-invalid`` or ``isv.access-token-expired``, 30001 (no
permission or shop authorisation gone), 60000 (throttled); ``50002`` with
``isv.business-failed:300008`` means some items failed, each with its
``err_no``. A virtual phone number reads ``number-extension``.

Channel ``config["api"]``: ``app_key``, ``app_secret``, ``access_token``;
optional ``sign_method`` (``hmac-sha256`` or ``md5``), ``base_url``
(``https://openapi-fxg.jinritemai.com``), ``timeout_seconds``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters import wire
from adapters.channels.decryption.batches import in_chunks
from adapters.channels.decryption.transport import Account, Clients, account, bad_answer, post_json
from adapters.channels.platform_signing import DOUYIN_SIGN_METHODS, DOUYIN_VERSION, douyin_param_json, douyin_sign
from adapters.reader import Reader
from domain.contacts.ports import ClearReceiver, Decrypted, DecryptRefused, SealedReceiver
from domain.inbound.normalized import PayloadError

SOURCE = "douyin"
METHOD = "order.batchDecrypt"
PATH = "/order/batchDecrypt"
DEFAULT_URL = "https://openapi-fxg.jinritemai.com"
MAX_CIPHERS_PER_CALL = 50
ORDERS_PER_CALL = MAX_CIPHERS_PER_CALL // 3
SUCCESS = 10000
PARTIAL = "isv.business-failed:300008"
SESSION_SUB_CODES = frozenset({"isv.access-token-expired", "isv.access-token-no-existed", "isv.access-token-invalid",
                               "dop.authorization-no-existed", "dop.authorization-closed"})
RETRYABLE_CODES = frozenset({20000, 20001, 60000})
_FIELDS = (("name", "name_cipher"), ("phone", "phone_cipher"), ("address", "address_cipher"))


def refusal(answer: Mapping[str, Any]) -> DecryptRefused:
    """A Douyin envelope with a non-success ``code`` as a typed refusal."""
    code = str(answer.get("code", "")).strip() or "UNKNOWN"
    sub_code = str(answer.get("sub_code") or "").strip()
    message = str(answer.get("sub_msg") or answer.get("msg") or "refused")[:200]
    return DecryptRefused(SOURCE, f"{code}/{sub_code}" if sub_code else code, message,
                          session_expired=sub_code in SESSION_SUB_CODES,
                          retryable=code.isdigit() and int(code) in RETRYABLE_CODES)


class DouyinDecryptor:
    """The port :class:`~domain.contacts.ContactDecryptor` for Douyin shops."""

    def __init__(self, clients: Clients, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clients = clients
        self.clock = clock

    async def decrypt(self, config: Mapping[str, Any], batch: Sequence[SealedReceiver]) -> Decrypted:
        target = account(SOURCE, config, token_key="access_token", default_url=DEFAULT_URL,
                         sign_methods=DOUYIN_SIGN_METHODS)
        return await in_chunks(list(batch), ORDERS_PER_CALL, lambda r: r.order_id, lambda part: self._call(target, part))

    def signed_request(self, target: Account, part: Sequence[SealedReceiver]) -> tuple[dict[str, str], str]:
        """(query parameters, body) of one call."""
        body = douyin_param_json({"cipher_infos": [{"auth_id": r.external_id, "cipher_text": getattr(r, cipher)}
                                                   for r in part for _, cipher in _FIELDS if getattr(r, cipher)]})
        timestamp = str(int(self.clock().timestamp()))
        query = {"app_key": target.app_key, "method": METHOD, "access_token": target.token, "timestamp": timestamp,
                 "v": DOUYIN_VERSION, "sign_method": target.sign_method}
        query["sign"] = douyin_sign(app_key=target.app_key, app_secret=target.app_secret, method=METHOD,
                                    param_json=body, timestamp=timestamp, sign_method=target.sign_method)
        return query, body

    async def _call(self, target: Account, part: list[SealedReceiver]) -> Decrypted:
        query, body = self.signed_request(target, part)
        answer = await post_json(self.clients, SOURCE, target, PATH, params=query, content=body.encode(),
                                 headers={"content-type": "application/json;charset=UTF-8"})
        try:
            return _read(Reader(answer), part)
        except PayloadError as error:
            raise bad_answer(SOURCE, error) from None


def _read(answer: Reader, part: list[SealedReceiver]) -> Decrypted:
    code = answer.opt("code", wire.integer)
    partial = code == 50002 and answer.text("sub_code") == PARTIAL
    if code != SUCCESS and not partial:
        raise refusal(answer.data)
    slots = {(r.external_id, getattr(r, cipher)): (r.order_id, name) for r in part for name, cipher in _FIELDS
             if getattr(r, cipher)}
    found: dict[int, dict[str, str]] = defaultdict(dict)
    errors: dict[int, str] = {}
    for item in answer.obj("data").objs("decrypt_infos", required=False):
        slot = slots.get((item.opt("auth_id", wire.ident) or "", item.text("cipher_text")))
        if slot is None:
            continue
        order_id, name = slot
        err_no = item.opt("err_no", wire.integer) or 0
        if err_no != 0:
            errors[order_id] = str(err_no)
            continue
        found[order_id][name] = item.text("decrypt_text")
    receivers = {order_id: ClearReceiver(**values) for order_id, values in found.items() if any(values.values())}
    refused = {r.order_id: errors.get(r.order_id, "NOT_RETURNED") for r in part if r.order_id not in receivers}
    return Decrypted(receivers, refused)
