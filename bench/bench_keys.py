"""The server keys every benchmark runs with: the benchmark process seeds with them and the servers it starts
read with them, so sealed secrets and phone look-up keys agree on both sides.

    bench_keys.use()                                  # in the benchmark process, before seeding
    env = {**os.environ, **bench_keys.ENV}            # for the server it starts
"""

from __future__ import annotations

from domain import masking
from models import sealing

PHONE_KEY = "bench-phone-key-0123456789abcdef"
DATA_KEY = "YmVuY2gtZGF0YS1rZXktMDEyMzQ1Njc4OWFiY2RlZmc="
AUDIT_KEY = "YmVuY2gtYXVkaXQtc2lnbmluZy1zZWVkLTAxMjM0NTY="  # production refuses to start without a signing seed
ENV = {"ORDERGRAPH_PHONE_HASH_KEY": PHONE_KEY, "ORDERGRAPH_DATA_KEYS": DATA_KEY, "ORDERGRAPH_AUDIT_SIGNING_KEY": AUDIT_KEY}


def use() -> None:
    masking.use_phone_key(PHONE_KEY)
    sealing.use_keys([DATA_KEY])
