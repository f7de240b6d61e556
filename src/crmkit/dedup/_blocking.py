"""Blocking: which pairs of contacts are compared at all.

Every key kind is its own equi-join: rows are sorted by (key, row) and every
pair inside a block of equal keys becomes a candidate.  A block larger than
the kind's cap (a shared ``info@`` address, a call-centre number, a very
common name) is skipped and reported: a value that many contacts share is no
evidence on its own.  Pairs are integers ``lo * n + hi`` with ``lo < hi``;
each remembers, as a bit mask, which key kinds found it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.dedup._table import (
    COMPANY,
    COMPANY_STOP_WORDS,
    KIND_NAMES,
    PERSON,
    SLOTS,
    ContactTable,
    IntArray,
)

#: The key kinds in bit order (bit *i* of a pair's mask = ``KEY_KINDS[i]``).
KEY_KINDS: Final = ("email", "phone", "name", "company_name", "domain", "address")

#: Default block-size caps per key kind.
DEFAULT_CAPS: Final[Mapping[str, int]] = {
    "email": 30,
    "phone": 30,
    "name": 120,
    "company_name": 60,
    "domain": 60,
    "address": 30,
}


@attrs.frozen(kw_only=True)
class CappedKey:
    """A blocking key shared by more contacts than its cap allows.

    It found no pairs on its own; pairs that share it and another key are
    still found, and it still counts (with less weight) when they are scored.
    """

    kind: str
    value: str
    count: int
    cap: int


@attrs.frozen(kw_only=True)
class Blocks:
    """The candidate pairs: rows ``left < right`` and the mask of key kinds that found each."""

    left: IntArray
    right: IntArray
    keys: npt.NDArray[np.uint8]
    capped: tuple[CappedKey, ...]
    found_per_kind: Mapping[str, int]


def key_rows(table: ContactTable) -> Iterator[tuple[str, IntArray, list[str]]]:
    """Per key kind: the row numbers and the key strings (one entry per key of a row)."""
    kinds = table.kind
    # e-mail: every address.
    rows: list[IntArray] = []
    keys: list[str] = []
    pool = table.email_pool
    for s in range(SLOTS):
        col = table.email[:, s]
        have = np.flatnonzero(col >= 0)
        rows.append(have)
        keys.extend(f"{KIND_NAMES[kinds[i]]}|{pool[col[i]]}" for i in have)
    yield "email", np.concatenate(rows), keys
    # phone: every number.
    rows, keys = [], []
    pool = table.phone_pool
    for s in range(SLOTS):
        col = table.phone[:, s]
        have = np.flatnonzero(col >= 0)
        rows.append(have)
        keys.extend(f"{KIND_NAMES[kinds[i]]}|{pool[col[i]]}" for i in have)
    yield "phone", np.concatenate(rows), keys
    # name: Kölner Phonetik of the last name plus the first initial, and the
    # same with first and last name swapped (persons).
    names = table.name_pool
    phon = table.name_phonetic
    persons = np.flatnonzero((kinds == PERSON) & (table.last >= 0))
    r1: list[int] = []
    k1: list[str] = []
    for i in persons.tolist():
        last = int(table.last[i])
        first = int(table.first[i])
        initial = names[first][:1] if first >= 0 else ""
        k1.append(f"{phon[last]}|{initial}")
        r1.append(i)
        if first >= 0:
            k1.append(f"{phon[first]}|{names[last][:1]}")
            r1.append(i)
    yield "name", np.asarray(r1, dtype=np.int64), k1
    # company name: the whole base name and each of its tokens.
    companies = np.flatnonzero((kinds == COMPANY) & (table.base >= 0))
    r2: list[int] = []
    k2: list[str] = []
    bases = table.base_pool
    for i in companies.tolist():
        base = bases[table.base[i]]
        k2.append("=" + base.replace(" ", ""))
        r2.append(i)
        for token in set(base.split()):
            if len(token) >= 3 and token not in COMPANY_STOP_WORDS:
                k2.append(token)
                r2.append(i)
    yield "company_name", np.asarray(r2, dtype=np.int64), k2
    # domain: a company's own domains; a person's company domain plus name key.
    domain = table.primary_domain()
    dpool = table.domain_pool
    r3: list[int] = []
    k3: list[str] = []
    for i in np.flatnonzero(domain >= 0).tolist():
        if kinds[i] == PERSON:
            last = int(table.last[i])
            if last >= 0:
                k3.append(f"p|{dpool[domain[i]]}|{phon[last]}")
                r3.append(i)
        else:
            k3.append(f"c|{dpool[domain[i]]}")
            r3.append(i)
    for i in np.flatnonzero((table.site >= 0) & (kinds == COMPANY)).tolist():
        if table.site[i] != domain[i]:
            k3.append(f"c|{dpool[table.site[i]]}")
            r3.append(i)
    yield "domain", np.asarray(r3, dtype=np.int64), k3
    # address: postal code plus street and house number.
    have = np.flatnonzero(table.address >= 0)
    apool = table.address_pool
    yield (
        "address",
        have.astype(np.int64),
        [f"{KIND_NAMES[kinds[i]]}|{apool[table.address[i]]}" for i in have],
    )


def _codes(keys: list[str]) -> tuple[IntArray, list[str]]:
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(k, len(index)) for k in keys), np.int64, len(keys))
    return codes, list(index)


def block_pairs(
    rows: IntArray, keys: IntArray, cap: int
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """All pairs of rows that share a key, in blocks of at most *cap* rows.

    Returns ``(lo, hi, capped_key_codes, capped_sizes)``.
    """
    order = np.lexsort((rows, keys))
    k = keys[order]
    r = rows[order]
    if len(k) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    keep = np.ones(len(k), dtype=bool)
    keep[1:] = (k[1:] != k[:-1]) | (r[1:] != r[:-1])
    k, r = k[keep], r[keep]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    too_big = sizes > cap
    ok = (sizes >= 2) & ~too_big
    s_ok, n_ok = starts[ok], sizes[ok]
    if len(s_ok) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, k[starts[too_big]], sizes[too_big]
    # Element e at offset o of a block of size n pairs with offsets o+1 .. n-1.
    total = int(n_ok.sum())
    first_elem = np.cumsum(n_ok) - n_ok
    pos = np.arange(total) - np.repeat(first_elem, n_ok)
    elem = np.repeat(s_ok, n_ok) + pos
    partners = np.repeat(n_ok, n_ok) - 1 - pos
    left = np.repeat(elem, partners)
    first_pair = np.cumsum(partners) - partners
    offset = np.arange(len(left)) - np.repeat(first_pair, partners) + 1
    right = left + offset
    a, b = r[left], r[right]
    return np.minimum(a, b), np.maximum(a, b), k[starts[too_big]], sizes[too_big]


def candidate_pairs(table: ContactTable, caps: Mapping[str, int]) -> Blocks:
    """The candidate pairs of *table* by every key kind, united."""
    n = table.size
    all_codes: list[IntArray] = []
    all_bits: list[npt.NDArray[np.uint8]] = []
    capped: list[CappedKey] = []
    found: dict[str, int] = {}
    for bit, (kind, rows, keys) in enumerate(key_rows(table)):
        codes, values = _codes(keys)
        cap = caps.get(kind, DEFAULT_CAPS[kind])
        lo, hi, big, sizes = block_pairs(rows, codes, cap)
        capped.extend(
            CappedKey(kind=kind, value=values[int(c)], count=int(s), cap=cap)
            for c, s in zip(big, sizes, strict=True)
        )
        found[kind] = len(lo)
        all_codes.append(lo * n + hi)
        all_bits.append(np.full(len(lo), 1 << bit, dtype=np.uint8))
    codes = np.concatenate(all_codes) if all_codes else np.zeros(0, np.int64)
    bits = np.concatenate(all_bits) if all_bits else np.zeros(0, np.uint8)
    order = np.argsort(codes, kind="stable")
    codes, bits = codes[order], bits[order]
    if len(codes):
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        mask = np.bitwise_or.reduceat(bits, starts)
        codes = codes[starts]
    else:
        mask = bits
    capped.sort(key=lambda c: (-c.count, c.kind, c.value))
    return Blocks(
        left=codes // max(n, 1),
        right=codes % max(n, 1),
        keys=mask.astype(np.uint8),
        capped=tuple(capped),
        found_per_kind=found,
    )


def key_names(mask: int) -> tuple[str, ...]:
    """The key kinds in a pair's mask."""
    return tuple(k for bit, k in enumerate(KEY_KINDS) if mask & (1 << bit))
