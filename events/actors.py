"""How an actor is shown outside: by the label the merchant chose, never by part of a key's secret.

    >>> public_actor("key:og_AbCdEfGh(ops desk)"), public_actor("key:og_AbCdEfGh"), public_actor("ops desk (ops key)")
    ('ops desk', 'API key', 'ops desk (ops key)')

Lineage written before keys were named by label kept ``key:<prefix>(<label>)``;
this turns such rows into the label too, wherever rows leave the database.
Names with the key's owner (``Li Wei <li.wei@acme.cn> via ops desk (ops key)``,
see ``domain.tenants.accounts.key_label``) are shown as they are: the owner is
staff identity, not a customer's personal data.
"""

from __future__ import annotations

import re

_LEGACY = re.compile(r"^key:og_[A-Za-z0-9_-]+(?:\((?P<label>.*)\))?$")


def public_actor(name: str) -> str:
    legacy = _LEGACY.match(name)
    if legacy is None:
        return name
    return legacy.group("label") or "API key"
