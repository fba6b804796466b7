"""RFC 6962 Merkle tree arithmetic: the right edge (O(log n) appends), roots, and proofs (§2.1.1, §2.1.2).

    edge = Frontier.empty(); edge.append(leaf); edge.root()
    inclusion_path(index, leaves[:size]); consistency_path(m, leaves[:n])
    verify_inclusion(leaf, index, size, path, root); verify_consistency(m, n, root_m, root_n, path)

``tools/verify_lineage.py`` repeats the two ``verify_*`` functions (standard library only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

EMPTY_ROOT = hashlib.sha256(b"").digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass
class Frontier:
    """The roots of the perfect subtrees that make up a tree of ``size`` leaves, largest (leftmost) first."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @classmethod
    def empty(cls) -> Frontier:
        return cls()

    def append(self, leaf: bytes) -> None:
        carry, size = leaf, self.size
        while size & 1:
            carry = node(self.hashes.pop(), carry)
            size >>= 1
        self.hashes.append(carry)
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            root = node(left, root)
        return root


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes, iteratively (O(n), no recursion)."""
    edge = Frontier()
    for leaf in leaves:
        edge.append(leaf)
    return edge.root()


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    if hi - lo == 1:
        return leaves[lo]
    edge = Frontier()
    for index in range(lo, hi):
        edge.append(leaves[index])
    return edge.root()


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1 for leaf ``index`` among ``leaves`` (n = len(leaves))."""
    path: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    if not 0 <= index < hi:
        raise ValueError("index outside the tree")
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(_mth(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaves, lo, lo + k))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2 (n = len(leaves), 0 < m <= n)."""
    n = len(leaves)
    if not 0 < m <= n:
        raise ValueError("sizes must satisfy 0 < first <= second")

    def subproof(m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        size = hi - lo
        if m == size:
            return [] if complete else [_mth(leaves, lo, hi)]
        k = _split(size)
        if m <= k:
            return subproof(m, lo, lo + k, complete) + [_mth(leaves, lo + k, hi)]
        return subproof(m - k, lo + k, hi, False) + [_mth(leaves, lo, lo + k)]

    return subproof(m, 0, n, True)


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2 check of an inclusion path."""
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


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2 check of a consistency path between sizes ``m`` <= ``n``."""
    if m == n:
        return not path and root_m == root_n
    if not 0 < m < n or not path:
        return False
    path = list(path)
    if m & (m - 1) == 0:  # m is a power of two: the old root is the first node
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
