#!/usr/bin/env python3
"""Offline verifier for exported OrderGraph lineage (standard library + ``cryptography`` only).

    python tools/verify_lineage.py export.jsonl --public-key BASE64   # or a {"record": "public_key"} line
    python tools/verify_lineage.py export.jsonl --public-key-file key.json --full
    python tools/verify_lineage.py --export day.jsonl --public-key BASE64  # + day.jsonl.manifest.json; or .csv
    python tools/verify_lineage.py --pack OG000000042.zip --public-key BASE64
    python tools/verify_lineage.py export.jsonl --public-key NEW --public-key OLD   # after a key rotation

The file holds JSON lines, each with a ``record`` kind:

* ``event``       one lineage row in the canonical fields (id, tenant_id, order_id, type, actor, source,
                  reason, before, after, payload_ref, created_at)
* ``checkpoint``  tenant_id, tree_size, root_hash, signed_at, key_id, signature (base64)
* ``inclusion``   event_id, index, tree_size, leaf_hash, path, root_hash (``domain.audit.verify``)
* ``consistency`` first, second, path, first_root, second_root
* ``public_key``  public_key (base64 raw Ed25519), key_id, optionally ``previous`` (as /audit/public-key)

Each checkpoint names the key that signed it (``key_id``: the first 16 hex digits of SHA-256 of the raw
public key); the verifier picks that key among the ones given, so checkpoints signed before a rotation
verify with the earlier public key, and one whose key is not given fails naming its key id.

Checks: every checkpoint's Ed25519 signature; every event's recomputed leaf hash against its inclusion
proof, and the proof against the signed root of that size; every consistency proof against the signed
roots; with ``--full`` (the file holds the whole log up to a checkpoint) the root recomputed from the
events. Exit 0 when everything verifies, 1 naming the first failure. See docs/audit.md.

**Exports** (``ordergraph lineage export``, the ``startLineageExport`` job, an evidence pack's
``lineage.jsonl``): see ``check_export`` below — the body's SHA-256, the checkpoint's signature, every
record's canonical row against its human fields, the multiproof of all sealed rows against the signed root,
the counts. Prints ``N events verified against checkpoint of size n signed at T, U unsealed``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import sys
import zipfile
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
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


def key_id_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def keys_of_document(document: dict[str, Any]) -> list[bytes]:
    """The raw public keys of a ``/audit/public-key`` document (or a ``public_key`` record): current, then previous."""
    found = [b64(document["public_key"])] if document.get("public_key") else []
    found += [b64(entry["public_key"]) for entry in document.get("previous") or [] if entry.get("public_key")]
    return found


def check(records: list[dict[str, Any]], public_key: bytes | list[bytes] | None, full: bool = False) -> list[str]:
    """Verify ``records`` with the given public key(s) (else the file's ``public_key`` records); return what was
    checked, raise ``Failure`` naming the first problem."""
    done: list[str] = []
    given = [public_key] if isinstance(public_key, bytes) else list(public_key or [])
    if not given:
        for record in records:
            if record.get("record") == "public_key":
                given += keys_of_document(record)
    if not given:
        raise Failure("no public key: pass --public-key (GET /audit/public-key) or include a public_key record")
    try:
        keys = {key_id_of(raw): Ed25519PublicKey.from_public_bytes(raw) for raw in given}
    except ValueError as error:
        raise Failure(f"a public key is not a 32-byte Ed25519 key: {error}") from None

    def key_for(checkpoint: dict[str, Any]) -> list[Ed25519PublicKey]:
        wanted = checkpoint.get("key_id")
        if not wanted:  # a checkpoint without its key id: any given key may have signed it
            return list(keys.values())
        if wanted not in keys:
            raise Failure(f"checkpoint tenant {checkpoint['tenant_id']} size {checkpoint['tree_size']}: signed with "
                          f"key {wanted}, which is not among the public keys given ({', '.join(keys)}); pass it "
                          "too (the `previous` list of GET /audit/public-key)")
        return [keys[wanted]]
    events = {int(r["id"]): r for r in records if r.get("record") == "event"}
    roots: dict[tuple[int, int], bytes] = {}
    checkpoints = [r for r in records if r.get("record") == "checkpoint"]
    for proof in records:  # checkpoints embedded in proofs count too
        for name in ("checkpoint", "first_checkpoint", "second_checkpoint"):
            if isinstance(proof.get(name), dict) and proof.get("record") in {"inclusion", "consistency"}:
                checkpoints.append(proof[name])
    for checkpoint in checkpoints:
        if not any(_signed_by(key, checkpoint) for key in key_for(checkpoint)):
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


def _signed_by(key: Ed25519PublicKey, checkpoint: dict[str, Any]) -> bool:
    try:
        key.verify(b64(checkpoint["signature"]), note(checkpoint))
    except InvalidSignature:
        return False
    return True


# ---------------------------------------------------------------- exports: records, manifest, one multiproof

EMPTY_ROOT = hashlib.sha256(b"").digest()


# Copied from domain/audit/multiproof.py: keep _split, _node and root_from identical.
def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from(leaves: Sequence[tuple[int, bytes]], size: int, hashes: Sequence[bytes]) -> bytes:
    """The root that ``(index, leaf hash)`` pairs (sorted by index) and the proof ``hashes`` give."""
    indices = [index for index, _ in leaves]
    if any(b <= a for a, b in zip(indices, indices[1:])):
        raise ValueError("leaf indices must be sorted and unique")
    if indices and not 0 <= indices[0] <= indices[-1] < size:
        raise ValueError(f"a leaf index lies outside the tree of size {size}")
    if size == 0:
        if hashes:
            raise ValueError("the proof has extra hashes")
        return EMPTY_ROOT
    remaining = iter(hashes)

    def walk(lo: int, hi: int, a: int, b: int) -> bytes:
        if a == b:
            found = next(remaining, None)
            if found is None:
                raise ValueError("the proof is missing hashes")
            return found
        if hi - lo == 1:
            return leaves[a][1]
        k = _split(hi - lo)
        mid = bisect_left(indices, lo + k, a, b)
        return _node(walk(lo, lo + k, a, mid), walk(lo + k, hi, mid, b))

    root = walk(0, size, 0, len(indices))
    if next(remaining, None) is not None:
        raise ValueError("the proof has extra hashes")
    return root


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _plain(value: Any) -> Any:
    """Before/after as the export shows them: JSON text stored in a row is shown decoded."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _names(global_id: Any, pk: Any) -> bool:
    if not isinstance(global_id, str) or isinstance(pk, bool) or not isinstance(pk, int):
        return False
    try:
        decoded = base64.b64decode(global_id, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    kind, _, number = decoded.partition(":")
    return bool(kind) and number == str(pk)


def without_gids(value: Any) -> Any:
    """Before/after less the ``<name>_gid`` an export adds beside each ``<name>_id`` (nested too)."""
    if isinstance(value, list):
        return [without_gids(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: without_gids(item) for key, item in value.items()
            if not (isinstance(key, str) and key.endswith("_gid") and _names(item, value.get(key[:-4] + "_id")))}


def _text(value: Any) -> str:
    """A value as the CSV export writes it."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def _same_moment(shown: Any, sealed_at: str) -> bool:
    try:
        return utc_text(str(shown)) == utc_text(sealed_at)
    except ValueError:
        return False


def _human_problem(record: dict[str, Any], row: dict[str, Any], fmt: str) -> str | None:
    """The first human field of ``record`` that disagrees with its sealed ``row`` (None: all agree)."""
    order_id = row.get("order_id")
    ref = row.get("payload_ref")
    expected: dict[str, Any] = {
        "id": row["id"], "global_id": gid("OrderEvent", row["id"]),
        "order": f"OG{order_id:09d}" if order_id else None, "order_gid": gid("Order", order_id) if order_id else None,
        "type": row["type"], "actor": row["actor"], "source": row["source"], "reason": row["reason"],
        "payload_sha256": ref[len("sha256:"):] if isinstance(ref, str) and ref.startswith("sha256:") else None,
    }
    if fmt == "jsonl":
        expected["payload_ref"] = ref
    for name, value in expected.items():
        shown = record.get(name)
        if (shown != value) if fmt == "jsonl" else (_text(shown) != _text(value)):
            return f"{name} is {shown!r} in the record but {value!r} in its sealed row"
    for name in ("recorded_utc", "recorded_local"):
        if not _same_moment(record.get(name), row["created_at"]):
            return f"{name} is {record.get(name)!r} but the sealed row was recorded at {row['created_at']}"
    for name in ("before", "after"):
        value, shown = _plain(row.get(name)), record.get(name)
        if fmt == "csv":
            if not isinstance(value, (dict, list)):
                if shown != _text(value):
                    return f"{name} is {shown!r} in the record but {value!r} in its sealed row"
                continue
            try:
                shown = json.loads(shown)
            except ValueError:
                return f"{name} is not JSON"
        if without_gids(shown) != without_gids(value):
            return f"{name} differs from its sealed row"
    return None


def read_export(body: bytes, fmt: str) -> list[dict[str, Any]]:
    """The records of an export body; CSV rows turned into JSONL's ``sealed`` shape."""
    text = body.decode("utf-8")
    if fmt == "jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError:
                    raise Failure(f"line {number}: not JSON") from None
        return records
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"id", "leaf_index", "sealed_row", "sealed_leaf_hash"} - set(reader.fieldnames or ())
    if missing:
        raise Failure(f"the CSV has no {', '.join(sorted(missing))} column (exported before exports were sealed?)")
    records = []
    for cells in reader:
        record: dict[str, Any] = dict(cells)
        try:
            record["id"] = int(cells["id"])
            if not cells["leaf_index"]:
                record["sealed"] = None
            elif cells["sealed_row"]:
                record["sealed"] = {"index": int(cells["leaf_index"]), "row": json.loads(cells["sealed_row"])}
            else:
                record["sealed"] = {"index": int(cells["leaf_index"]), "leaf_hash": cells["sealed_leaf_hash"]}
        except ValueError as bad:
            raise Failure(f"record {len(records) + 1}: unreadable id or sealed columns ({bad})") from None
        records.append(record)
    return records


def _verify_checkpoint(checkpoint: dict[str, Any], tenant_id: Any, public_keys: list[bytes]) -> bytes:
    """The checkpoint's root once its signature verifies under the given key its ``key_id`` names."""
    if checkpoint.get("tenant_id") != tenant_id:
        raise Failure(f"the checkpoint is of tenant {checkpoint.get('tenant_id')}, the export of tenant {tenant_id}")
    keys = {key_id_of(raw): raw for raw in public_keys}
    raw = keys.get(checkpoint.get("key_id"))  # type: ignore[arg-type]
    if raw is None:
        raise Failure(f"the checkpoint was signed by key {checkpoint.get('key_id')}, which is not among the public "
                      f"keys given ({', '.join(keys)})")
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(b64(checkpoint["signature"]), note(checkpoint))
    except (InvalidSignature, ValueError, KeyError):
        raise Failure(f"checkpoint of size {checkpoint.get('tree_size')}: forged (the signature does not verify "
                      "under the given public key)") from None
    if "note" in checkpoint and checkpoint["note"] != note(checkpoint).decode():
        raise Failure("the checkpoint's note differs from its fields")
    return b64(checkpoint["root_hash"])


def check_export(body: bytes, manifest: dict[str, Any], public_key: bytes | list[bytes] | None) -> str:
    """Verify an export's body against its manifest; return the summary line, raise ``Failure`` naming the
    first problem. Order: the checkpoint's signature; each record (sealed row well formed, its human fields
    equal to it, ids and leaf indices increasing, nothing sealed after an unsealed record); the manifest's
    counts; the multiproof of every sealed leaf against the signed root; the body's SHA-256."""
    given = [public_key] if isinstance(public_key, bytes) else list(public_key or [])
    if not given:
        raise Failure("no public key: pass --public-key or --public-key-file (GET /audit/public-key), "
                      "obtained independently of the export")
    fmt = manifest.get("format")
    if fmt not in ("jsonl", "csv"):
        raise Failure(f"the manifest's format is {fmt!r}, not jsonl or csv")
    tenant_id = manifest.get("tenant_id")
    checkpoint = manifest.get("checkpoint")
    root = _verify_checkpoint(checkpoint, tenant_id, given) if checkpoint else None
    size = int(checkpoint["tree_size"]) if checkpoint else 0
    records = read_export(body, fmt)
    leaves: list[tuple[int, bytes]] = []
    by_type: Counter[str] = Counter()
    unsealed = withheld = 0
    previous_id = previous_index = -1
    first_unsealed: str | None = None
    for number, record in enumerate(records, 1):
        what = f"record {number} (event {record.get('id')})"
        if "sealed" not in record:
            raise Failure(f"{what}: no sealed entry (exported before exports were sealed?)")
        if not isinstance(record.get("id"), int) or record["id"] <= previous_id:
            raise Failure(f"{what}: out of id order (the export is written in id order)")
        previous_id = record["id"]
        by_type[str(record.get("type"))] += 1
        sealed = record["sealed"]
        if sealed is None:
            unsealed += 1
            first_unsealed = first_unsealed or what
            continue
        if first_unsealed is not None:
            raise Failure(f"{what}: sealed, yet an earlier event ({first_unsealed}) is not")
        index = sealed.get("index") if isinstance(sealed, dict) else None
        if not isinstance(index, int) or not 0 <= index < size:
            raise Failure(f"{what}: its leaf index {index!r} is not in the signed tree of size {size}")
        if index <= previous_index:
            raise Failure(f"{what}: leaf index {index} repeats or goes back (leaves follow event ids)")
        previous_index = index
        row = sealed.get("row")
        if row is None:
            try:
                leaf = base64.b64decode(sealed["leaf_hash"], validate=True)
            except (KeyError, ValueError):
                leaf = b""
            if len(leaf) != 32:
                raise Failure(f"{what}: neither a sealed row nor a leaf hash")
            withheld += 1
            leaves.append((index, leaf))
            continue
        if not isinstance(row, dict) or set(row) != set(FIELDS):
            raise Failure(f"{what}: the sealed row does not have exactly the canonical fields")
        if row["tenant_id"] != tenant_id:
            raise Failure(f"{what}: the sealed row is of tenant {row['tenant_id']}, not {tenant_id}")
        problem = _human_problem(record, row, fmt)
        if problem:
            raise Failure(f"{what}: {problem}")
        try:
            leaves.append((index, leaf_of(row)))
        except (KeyError, TypeError, ValueError):
            raise Failure(f"{what}: the sealed row's created_at is not a time") from None
    sealed_count = len(leaves)
    wanted = {"count": len(records), "sealed": sealed_count, "unsealed": unsealed, "withheld": withheld,
              "counts_by_type": dict(sorted(by_type.items())),
              "first_id": records[0]["id"] if records else None, "last_id": records[-1]["id"] if records else None}
    for name, value in wanted.items():
        if manifest.get(name, 0 if name == "withheld" else None) != value:
            raise Failure(f"the file holds {name} = {value}, the manifest says {manifest.get(name)!r} "
                          "(a record was dropped or added)")
    if leaves:
        proof = manifest.get("proof")
        if root is None or not isinstance(proof, dict):
            raise Failure(f"{sealed_count} records are sealed but the manifest has no checkpoint or proof "
                          f"({manifest.get('proof_error', 'missing')})")
        if proof.get("tree_size") != size:
            raise Failure(f"the proof is for tree size {proof.get('tree_size')}, the checkpoint's is {size}")
        try:
            got = root_from(leaves, size, [b64(h) for h in proof.get("hashes", [])])
        except ValueError as bad:
            raise Failure(f"the multiproof does not fit the sealed records: {bad}") from None
        if got != root:
            raise Failure("the sealed rows and the proof do not lead to the signed root (a sealed row was "
                          "edited, or a sealed record dropped, added or moved)")
    if hashlib.sha256(body).hexdigest() != manifest.get("body_sha256") or len(body) != manifest.get("body_bytes"):
        raise Failure("the file's SHA-256 or size differs from the manifest's body_sha256/body_bytes")
    if checkpoint is None:
        return f"0 events verified (no signed checkpoint yet), {unsealed} unsealed"
    line = (f"{sealed_count - withheld} events verified against checkpoint of size {size} signed at "
            f"{checkpoint['signed_at']}, {unsealed} unsealed")
    return line + (f", {withheld} withheld (leaf hash only: content not checked)" if withheld else "")


def read_pack(path: str) -> tuple[bytes, dict[str, Any]]:
    """An evidence pack's ``lineage.jsonl`` and ``manifest.json``, checked against its ``contents.json``."""
    try:
        with zipfile.ZipFile(path) as archive:
            body = archive.read("lineage.jsonl")
            manifest_bytes = archive.read("manifest.json")
            contents = json.loads(archive.read("contents.json"))["files"]
    except (KeyError, zipfile.BadZipFile, ValueError) as bad:
        raise Failure(f"not an evidence pack: {bad}") from None
    for name, data in (("lineage.jsonl", body), ("manifest.json", manifest_bytes)):
        if contents.get(name) != hashlib.sha256(data).hexdigest():
            raise Failure(f"{name} differs from the SHA-256 in contents.json")
    return body, json.loads(manifest_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", help="JSONL of event/checkpoint/inclusion/consistency records")
    parser.add_argument("--export", help="an export (JSONL or CSV) to verify with its manifest")
    parser.add_argument("--manifest", help="the export's manifest (default: EXPORT.manifest.json)")
    parser.add_argument("--pack", help="an evidence pack (zip): its lineage.jsonl against its manifest.json")
    parser.add_argument("--public-key", action="append", default=[],
                        help="base64 raw Ed25519 public key (GET /audit/public-key); repeat it for earlier keys")
    parser.add_argument("--public-key-file", action="append", default=[],
                        help="the JSON document served at /audit/public-key (current and previous keys)")
    parser.add_argument("--full", action="store_true", help="the file holds the whole log: recompute the root")
    args = parser.parse_args(argv)
    key = [b64(text) for text in args.public_key]
    for name in args.public_key_file:
        with open(name, encoding="utf-8") as handle:
            key += keys_of_document(json.load(handle))
    if args.export or args.pack:
        return _main_export(args, key)
    if not args.file:
        parser.error("give a FILE of records, --export EXPORT or --pack PACK")
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


def _main_export(args: argparse.Namespace, keys: list[bytes]) -> int:
    try:
        if args.pack:
            body, manifest = read_pack(args.pack)
        else:
            with open(args.export, "rb") as handle:
                body = handle.read()
            with open(args.manifest or args.export + ".manifest.json", encoding="utf-8") as handle:
                manifest = json.load(handle)
        summary = check_export(body, manifest, keys)
    except (Failure, OSError, ValueError) as failure:
        print(f"FAILED: {failure}")
        return 1
    print(f"OK: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
