#!/usr/bin/env python3
"""Offline verifier for exported OrderGraph lineage (standard library + ``cryptography`` only).

    python tools/verify_lineage.py export.jsonl --public-key BASE64   # or a {"record": "public_key"} line
    python tools/verify_lineage.py export.jsonl --public-key-file key.json --full

The file holds JSON lines, each with a ``record`` kind:

* ``event``       one lineage row in the canonical fields (id, tenant_id, order_id, type, actor, source,
                  reason, before, after, payload_ref, created_at)
* ``checkpoint``  tenant_id, tree_size, root_hash, signed_at, key_id, signature (base64)
* ``inclusion``   event_id, index, tree_size, leaf_hash, path, root_hash (``domain.audit.verify``)
* ``consistency`` first, second, path, first_root, second_root
* ``public_key``  public_key (base64 raw Ed25519), key_id

Checks: every checkpoint's Ed25519 signature; every event's recomputed leaf hash against its inclusion
proof, and the proof against the signed root of that size; every consistency proof against the signed
roots; with ``--full`` (the file holds the whole log up to a checkpoint) the root recomputed from the
events. Exit 0 when everything verifies, 1 naming the first failure. See docs/audit.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FIELDS = ("id", "tenant_id", "order_id", "type", "actor", "source", "reason", "before", "after", "payload_ref",
          "created_at")


def utc_text(text: str) -> str:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_of(event: dict[str, Any]) -> bytes:
    form = {name: event.get(name) for name in FIELDS}
    form["created_at"] = utc_text(event["created_at"])
    data = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node(root_of(leaves[:k]), root_of(leaves[k:]))


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, path: list[bytes]) -> bool:
    if m == n:
        return not path and root_m == root_n
    if not 0 < m < n or not path:
        return False
    path = list(path)
    if m & (m - 1) == 0:
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


def note(checkpoint: dict[str, Any]) -> bytes:
    return (f"ordergraph-lineage/v1\n{checkpoint['tenant_id']}\n{checkpoint['tree_size']}\n"
            f"{checkpoint['root_hash']}\n{utc_text(checkpoint['signed_at'])}\n").encode()


def b64(text: str) -> bytes:
    return base64.b64decode(text)


class Failure(Exception):
    pass


def check(records: list[dict[str, Any]], public_key: bytes | None, full: bool = False) -> list[str]:
    """Verify ``records``; return what was checked, raise ``Failure`` naming the first problem."""
    done: list[str] = []
    for record in records:
        if record.get("record") == "public_key" and public_key is None:
            public_key = b64(record["public_key"])
    if public_key is None:
        raise Failure("no public key: pass --public-key (GET /audit/public-key) or include a public_key record")
    key = Ed25519PublicKey.from_public_bytes(public_key)
    events = {int(r["id"]): r for r in records if r.get("record") == "event"}
    roots: dict[tuple[int, int], bytes] = {}
    checkpoints = [r for r in records if r.get("record") == "checkpoint"]
    for proof in records:  # checkpoints embedded in proofs count too
        for name in ("checkpoint", "first_checkpoint", "second_checkpoint"):
            if isinstance(proof.get(name), dict) and proof.get("record") in {"inclusion", "consistency"}:
                checkpoints.append(proof[name])
    for checkpoint in checkpoints:
        try:
            key.verify(b64(checkpoint["signature"]), note(checkpoint))
        except InvalidSignature:
            raise Failure(f"checkpoint tenant {checkpoint['tenant_id']} size {checkpoint['tree_size']}: "
                          "forged (the signature does not verify)") from None
        roots[(int(checkpoint["tenant_id"]), int(checkpoint["tree_size"]))] = b64(checkpoint["root_hash"])
        done.append(f"checkpoint size {checkpoint['tree_size']}: signature ok")

    def signed_root(tenant: int, size: int, claimed: str, what: str) -> bytes:
        root = roots.get((tenant, size))
        if root is None:
            raise Failure(f"{what}: no signed checkpoint of size {size} in the file")
        if b64(claimed) != root:
            raise Failure(f"{what}: its root differs from the signed checkpoint of size {size}")
        return root

    for proof in (r for r in records if r.get("record") == "inclusion"):
        what = f"event {proof['event_id']}"
        event = events.get(int(proof["event_id"]))
        leaf = b64(proof["leaf_hash"])
        if event is not None and leaf_of(event) != leaf:
            raise Failure(f"{what}: edited (its content does not hash to the sealed leaf)")
        root = signed_root(int(proof["tenant_id"]), int(proof["tree_size"]), proof["root_hash"], what)
        if not verify_inclusion(leaf, int(proof["index"]), int(proof["tree_size"]), [b64(h) for h in proof["path"]],
                                root):
            raise Failure(f"{what}: the inclusion proof does not lead to the signed root")
        done.append(f"{what}: included at index {proof['index']} of {proof['tree_size']}")
    for proof in (r for r in records if r.get("record") == "consistency"):
        what = f"consistency {proof['first']} -> {proof['second']}"
        tenant = int(proof["tenant_id"])
        first = signed_root(tenant, int(proof["first"]), proof["first_root"], what)
        second = signed_root(tenant, int(proof["second"]), proof["second_root"], what)
        if not verify_consistency(int(proof["first"]), int(proof["second"]), first, second,
                                  [b64(h) for h in proof["path"]]):
            raise Failure(f"{what}: the log was rewritten between the two checkpoints")
        done.append(f"{what}: ok")
    if full:
        leaves = [leaf_of(events[i]) for i in sorted(events)]
        for (tenant, size), root in sorted(roots.items()):
            if size <= len(leaves) and root_of(leaves[:size]) != root:
                raise Failure(f"events 1..{size} of the file do not give the root signed at size {size}")
            done.append(f"full log up to size {size}: root ok")
    if not done:
        raise Failure("nothing to verify: no checkpoint or proof in the file")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", help="the exported JSONL")
    parser.add_argument("--public-key", help="base64 raw Ed25519 public key (GET /audit/public-key)")
    parser.add_argument("--public-key-file", help="the JSON document served at /audit/public-key")
    parser.add_argument("--full", action="store_true", help="the file holds the whole log: recompute the root")
    args = parser.parse_args(argv)
    key = None
    if args.public_key:
        key = b64(args.public_key)
    elif args.public_key_file:
        with open(args.public_key_file, encoding="utf-8") as handle:
            key = b64(json.load(handle)["public_key"])
    with open(args.file, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    try:
        done = check(records, key, args.full)
    except Failure as failure:
        print(f"FAILED: {failure}")
        return 1
    for line in done:
        print(line)
    print(f"OK: {len(done)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
