"""Receiver decryption, one module per platform, as the port ``domain.contacts`` asks for.

    from adapters.channels.decryption import DECRYPTORS
    revealed = await reveal_receivers(actor, order_ids, DECRYPTORS)

``DECRYPTORS`` maps a channel kind to its platform's decryption API:
``taobao`` (``taobao.top.oaid.decrypt``), ``pinduoduo``
(``pdd.open.decrypt.batch``) and ``douyin`` (``order.batchDecrypt``). Each
reads the channel's ``config["api"]`` (keys documented in its module and in
``transport``), signs with :mod:`adapters.channels.platform_signing` and
reuses one HTTP client per gateway. ``simulator`` serves all three APIs
locally (``ordergraph sim decrypt``); ``sealing`` makes its ciphertext.
"""

from __future__ import annotations

from adapters.channels.decryption.douyin import DouyinDecryptor
from adapters.channels.decryption.pinduoduo import PinduoduoDecryptor
from adapters.channels.decryption.taobao import TaobaoDecryptor
from adapters.channels.decryption.transport import Clients
from domain.contacts.ports import ContactDecryptor

#: The HTTP clients every decryptor shares: one per gateway (and event loop).
CLIENTS = Clients()

DECRYPTORS: dict[str, ContactDecryptor] = {
    "taobao": TaobaoDecryptor(CLIENTS),
    "pinduoduo": PinduoduoDecryptor(CLIENTS),
    "douyin": DouyinDecryptor(CLIENTS),
}


async def aclose() -> None:
    """Close the shared clients of the running event loop (application shutdown)."""
    await CLIENTS.aclose()
