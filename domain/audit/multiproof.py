"""One proof that many leaves are in an RFC 6962 tree: what an export carries so it verifies offline.

    ranges = proof_ranges([2, 5, 6], 1000)         # the subtrees whose roots the proof holds, left to right
    hashes = prove([2, 5, 6], leaves)               # in memory (tests); exports stream with RangeRoots
    root = root_from([(2, l2), (5, l5), (6, l6)], 1000, hashes)   # ValueError on extra/missing hashes

Shape: a left-to-right depth-first walk over RFC 6962's tree of [0, n) (each range split at the largest
power of two smaller than its size). A range holding no proven index contributes its MTH as the next proof
hash; a single proven leaf contributes nothing (the verifier hashes it from its row); any other range
recurses. A full export needs no hashes at all, a contiguous day about 2·log2(n), k scattered leaves at most
k·log2(n/k)+O(k). ``tools/verify_lineage.py`` repeats ``_split``, ``_node`` and ``root_from`` (standard
library only); keep them identical (``tests/test_lineage_offline_verify.py`` compares the sources).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence

from domain.audit.merkle import EMPTY_ROOT, Frontier


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check(indices: Sequence[int], size: int) -> None:
    if any(b <= a for a, b in zip(indices, indices[1:])):
        raise ValueError("indices must be sorted and unique")
    if indices and not 0 <= indices[0] <= indices[-1] < size:
        raise ValueError(f"indices must lie in [0, {size})")


def proof_ranges(indices: Sequence[int], size: int) -> list[tuple[int, int]]:
    """The ``[lo, hi)`` ranges whose MTHs make the proof of ``indices`` (sorted, unique) in a tree of ``size``."""
    _check(indices, size)
    out: list[tuple[int, int]] = []

    def walk(lo: int, hi: int, a: int, b: int) -> None:  # indices[a:b] are the ones in [lo, hi)
        if a == b:
            out.append((lo, hi))
            return
        if hi - lo == 1:
            return
        k = _split(hi - lo)
        mid = bisect_left(indices, lo + k, a, b)
        walk(lo, lo + k, a, mid)
        walk(lo + k, hi, mid, b)

    if size:
        walk(0, size, 0, len(indices))
    return out


class RangeRoots:
    """The MTHs of sorted, disjoint ranges, from the tree's leaves fed in index order (O(log n) memory)."""

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        self.ranges = list(ranges)
        self.hashes: list[bytes] = []
        self.position = 0
        self._next = 0
        self._edge = Frontier()

    @property
    def needed(self) -> int:
        """How many leaves (from index 0) the remaining ranges still need."""
        return self.ranges[-1][1] if self._next < len(self.ranges) else 0

    def feed(self, leaves: Iterable[bytes]) -> None:
        ranges, edge = self.ranges, self._edge
        for leaf in leaves:
            position = self.position
            self.position += 1
            if self._next >= len(ranges):
                return
            lo, hi = ranges[self._next]
            if position < lo:
                continue
            edge.append(leaf)
            if position == hi - 1:
                self.hashes.append(edge.root())
                edge = self._edge = Frontier()
                self._next += 1

    def finish(self) -> list[bytes]:
        if self._next < len(self.ranges):
            raise ValueError(f"the log holds {self.position} leaves; the proof needs {self.needed}")
        return self.hashes


def prove(indices: Sequence[int], leaves: Sequence[bytes]) -> list[bytes]:
    """The multiproof of ``indices`` among ``leaves`` (the whole tree, in memory)."""
    roots = RangeRoots(proof_ranges(indices, len(leaves)))
    roots.feed(leaves)
    return roots.finish()


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
