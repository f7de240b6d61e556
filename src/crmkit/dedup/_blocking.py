"""Blocking: which pairs of contacts are compared at all.

Every key kind is its own equi-join: rows are sorted by (key, row) and every
pair inside a block of equal keys becomes a candidate.  A block larger than
the kind's cap (a shared ``info@`` address, a call-centre number, a very
common name) is skipped and reported: a value that many contacts share is no
evidence on its own.  Pairs are integers ``lo * n + hi`` with ``lo < hi``;
each remembers, as a bit mask, which key kinds found it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.dedup._table import (
    COMPANY,
    COMPANY_STOP_WORDS,
    KIND_NAMES,
    PERSON,
    ContactTable,
    IntArray,
    _Pool,
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


@attrs.frozen
class KeyRows:
    """The keys of one kind: ``keys[i]`` is an integer key of row ``rows[i]``.

    Equal integers are equal keys; ``decode`` turns one back into text.
    """

    kind: str
    rows: IntArray
    keys: IntArray
    decode: Callable[[int], str]


def _explode(codes: IntArray, starts: IntArray, lengths: IntArray) -> tuple[IntArray, IntArray]:
    """For each position *i*: ``lengths[codes[i]]`` entries ``starts[codes[i]] + 0, 1, ...``.

    Returns (position repeated, flat index).
    """
    counts = lengths[codes]
    pos = np.repeat(np.arange(len(codes)), counts)
    first = np.cumsum(counts) - counts
    within = np.arange(int(counts.sum())) - np.repeat(first, counts)
    return pos, np.repeat(starts[codes], counts) + within


def _lookup_codes(values: IntArray, codes: IntArray) -> IntArray:
    """``values[codes]``, ``-1`` where a code is ``-1``."""
    padded = np.append(values, -1)
    return padded[np.where(codes >= 0, codes, len(values))]


def key_rows(table: ContactTable) -> Iterator[KeyRows]:
    """The blocking keys of every row, one :class:`KeyRows` per key kind (``KEY_KINDS`` order)."""
    kinds = table.kind.astype(np.int64)

    def per_slot(kind: str, codes: npt.NDArray[np.int32], pool: Any) -> KeyRows:
        size = max(len(pool), 1)
        rows, keys = [], []
        for s in range(codes.shape[1]):
            have = np.flatnonzero(codes[:, s] >= 0)
            rows.append(have)
            keys.append(kinds[have] * size + codes[have, s])

        def decode(key: int) -> str:
            return f"{KIND_NAMES[key // size]}|{pool[key % size]}"

        return KeyRows(kind, np.concatenate(rows), np.concatenate(keys), decode)

    yield per_slot("email", table.email, table.email_pool)
    yield per_slot("phone", table.phone, table.phone_pool)

    # name: Kölner Phonetik of the last name plus the first initial; and the
    # codes of both names together in either order, which also finds first
    # and last names swapped.  (First-name code plus last initial found more
    # true pairs, but only ones that never scored as matches, at four times
    # the pairs; see docs/duplicates.md.)
    phon_pool = _Pool()
    phon = np.fromiter(
        (phon_pool.code(v) for v in table.name_phonetic), np.int64, len(table.name_phonetic)
    )
    init_pool = _Pool()
    init = np.fromiter(
        (init_pool.code(v[:1]) for v in table.name_pool), np.int64, len(table.name_pool)
    )
    n_phon, n_init = max(len(phon_pool.values), 1), len(init_pool.values) + 1
    offset = n_phon * n_init
    first, last = table.first.astype(np.int64), table.last.astype(np.int64)
    person = kinds == PERSON
    ph_first, ph_last = _lookup_codes(phon, first), _lookup_codes(phon, last)
    in_first = _lookup_codes(init, first)
    a = np.flatnonzero(person & (ph_last >= 0))
    c = np.flatnonzero(person & (ph_first >= 0) & (ph_last >= 0))
    lo, hi = np.minimum(ph_first[c], ph_last[c]), np.maximum(ph_first[c], ph_last[c])
    name_keys = np.concatenate([
        ph_last[a] * n_init + np.where(in_first[a] >= 0, in_first[a], n_init - 1),
        offset + lo * n_phon + hi,
    ])  # fmt: skip

    def decode_name(key: int) -> str:
        if key >= offset:
            x, y = divmod(key - offset, n_phon)
            return f"{phon_pool.values[x]}+{phon_pool.values[y]}"
        x, y = divmod(key, n_init)
        initial = init_pool.values[y] if y < n_init - 1 else ""
        return f"{phon_pool.values[x]}|{initial}"

    yield KeyRows("name", np.concatenate([a, c]), name_keys, decode_name)

    # company name: the whole base name and each of its tokens.
    bases = table.base_pool
    tokens = _Pool()
    token_lists = [
        [tokens.code(t) for t in sorted(set(str(v).split()))
         if len(t) >= 3 and t not in COMPANY_STOP_WORDS]
        for v in bases
    ]  # fmt: skip
    lengths = np.fromiter((len(t) for t in token_lists), np.int64, len(token_lists))
    flat = np.fromiter((t for ts in token_lists for t in ts), np.int64, int(lengths.sum()))
    starts = np.cumsum(lengths) - lengths
    n_base = max(len(bases), 1)
    rows_c = np.flatnonzero((kinds == COMPANY) & (table.base >= 0))
    base_codes = table.base[rows_c].astype(np.int64)
    pos, idx = _explode(base_codes, starts, lengths)

    def decode_company(key: int) -> str:
        if key < n_base:
            return "=" + str(bases[key]).replace(" ", "")
        return tokens.values[key - n_base]

    yield KeyRows(
        "company_name",
        np.concatenate([rows_c, rows_c[pos]]),
        np.concatenate([base_codes, n_base + flat[idx]]),
        decode_company,
    )

    # domain: a company's own domains; a person's company domain plus name key.
    domain = table.primary_domain().astype(np.int64)
    dpool = table.domain_pool
    n_dom = max(len(dpool), 1)
    p_rows = np.flatnonzero(person & (domain >= 0) & (ph_last >= 0))
    c_rows = np.flatnonzero((kinds == COMPANY) & (domain >= 0))
    site = table.site.astype(np.int64)
    s_rows = np.flatnonzero((kinds == COMPANY) & (site >= 0) & (site != domain))
    c_offset = n_dom * n_phon

    def decode_domain(key: int) -> str:
        if key >= c_offset:
            return f"c|{dpool[key - c_offset]}"
        x, y = divmod(key, n_phon)
        return f"p|{dpool[x]}|{phon_pool.values[y]}"

    yield KeyRows(
        "domain",
        np.concatenate([p_rows, c_rows, s_rows]),
        np.concatenate(
            [
                domain[p_rows] * n_phon + ph_last[p_rows],
                c_offset + domain[c_rows],
                c_offset + site[s_rows],
            ]
        ),
        decode_domain,
    )
    # address: postal code plus street and house number.
    yield per_slot("address", table.address[:, None], table.address_pool)


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
    for bit, found_keys in enumerate(key_rows(table)):
        kind = found_keys.kind
        cap = caps.get(kind, DEFAULT_CAPS[kind])
        lo, hi, big, sizes = block_pairs(found_keys.rows, found_keys.keys, cap)
        capped.extend(
            CappedKey(kind=kind, value=found_keys.decode(int(c)), count=int(s), cap=cap)
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
