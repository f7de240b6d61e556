"""Comparing candidate pairs field by field and scoring them (Fellegi–Sunter).

Each field of a pair gets a *level* (0 = missing on either side, 1 = exact,
then graded levels down to "different").  Each level has a weight in bits,
``log2(m / u)``: how much more often that level occurs among duplicates than
among non-duplicates.  A pair's score is the prior plus the sum of its
field weights; its probability is ``2**score / (1 + 2**score)``.

Agreement on a value many contacts share (an ``info@`` address, a
switchboard, an office building) weighs less: the exact weight drops by
``log2(holders - 1)`` but never below the "shared" level.

Everything here is columnar: arrays of levels per field, string similarity
through rapidfuzz's ``process.cpdist`` on distinct value pairs only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt
from rapidfuzz import distance, fuzz, process

from crmkit.dedup._table import COMPANY, PERSON, SLOTS, ContactTable, IntArray

FloatArray = npt.NDArray[np.float64]
LevelArray = npt.NDArray[np.int8]

#: Level names per field; the index is the level code.
LEVELS: Final[Mapping[str, tuple[str, ...]]] = {
    "first_name": ("missing", "exact", "close", "similar", "different"),
    "last_name": ("missing", "exact", "close", "similar", "different"),
    "email": ("missing", "exact", "shared", "close", "same domain", "different"),
    "phone": ("missing", "exact", "shared", "different"),
    "address": ("missing", "exact", "same street", "same postal code", "different"),
    "employer": ("missing", "same", "different"),
    "company_name": ("missing", "exact", "close", "similar", "different"),
    "legal_form": ("missing", "same", "different"),
    "vat_id": ("missing", "same", "different"),
    "domain": ("missing", "same", "different"),
}

PERSON_FIELDS: Final = ("first_name", "last_name", "email", "phone", "address", "employer")
COMPANY_FIELDS: Final = (
    "company_name", "legal_form", "vat_id", "email", "domain", "phone", "address",
)  # fmt: skip

#: Default weights in bits per field and level (index = level code), by kind.
DEFAULT_WEIGHTS: Final[Mapping[str, Mapping[str, tuple[float, ...]]]] = {
    "person": {
        "first_name": (0.0, 5.0, 4.0, 0.5, -4.5),
        "last_name": (0.0, 6.0, 4.5, 0.0, -4.0),
        "email": (0.0, 15.0, 1.0, 8.0, 1.0, -2.0),
        "phone": (0.0, 14.0, 1.0, -2.0),
        "address": (0.0, 12.0, 2.0, 0.5, -3.0),
        "employer": (0.0, 2.0, -2.0),
    },
    "company": {
        "company_name": (0.0, 13.0, 9.0, 1.0, -4.5),
        "legal_form": (0.0, 0.5, -1.0),
        "vat_id": (0.0, 15.0, -8.0),
        "email": (0.0, 10.0, 2.0, 2.0, 1.0, -1.0),
        "domain": (0.0, 8.0, -1.0),
        "phone": (0.0, 12.0, 1.0, -2.0),
        "address": (0.0, 10.0, 2.0, 0.0, -2.0),
    },
}

#: The prior (bits) per kind: the score of a pair about which nothing is known.
DEFAULT_PRIOR: Final[Mapping[str, float]] = {"person": -16.0, "company": -16.0}

#: A phone number shared by two persons at the same address (a landline)
#: adds at most this much to the address (the two are one piece of evidence).
HOUSEHOLD_PHONE: Final = 3.0

#: Similarity bounds of the "close" and "similar" levels.
CLOSE: Final = 0.9
SIMILAR: Final = 0.8
COMPANY_CLOSE: Final = 0.93
COMPANY_SIMILAR: Final = 0.85

EMAIL_CLOSE: Final = 0.93
#: Among at least this many persons, an exact name weighs ``log2(0.9 / f)``
#: for its frequency *f* among them (within the bounds below), so a common
#: name is weaker evidence than a rare one; among fewer, the default weight.
MIN_POPULATION: Final = 1000
NAME_BOUNDS: Final[Mapping[str, tuple[float, float]]] = {
    "first_name": (2.0, 9.0),
    "last_name": (3.0, 10.0),
}

#: Fields whose exact level drops for values many contacts share.
SHARED_VALUE_FIELDS: Final = ("email", "phone", "address")


@attrs.frozen(kw_only=True)
class Comparison:
    """The levels of one kind's candidate pairs: one int8 array per field.

    ``holders`` holds, per field with shared-value adjustment, how many
    contacts hold the agreeing value (0 where the level is not exact);
    ``adjust`` the frequency-based weight of an exact name (NaN where there
    is none); ``swapped`` marks pairs whose names agree crosswise.
    """

    kind: str
    fields: tuple[str, ...]
    levels: Mapping[str, LevelArray]
    holders: Mapping[str, IntArray]
    swapped: npt.NDArray[np.bool_]
    adjust: Mapping[str, FloatArray] = attrs.field(factory=dict)


def _similarity(
    pool: npt.NDArray[np.object_],
    a: npt.NDArray[np.int32],
    b: npt.NDArray[np.int32],
    scorer: Any,
    scale: float = 1.0,
) -> FloatArray:
    """Similarity of pool values ``a[i]`` and ``b[i]`` (NaN where one is missing).

    Each distinct pair of values is compared once.
    """
    out = np.full(len(a), np.nan)
    have = (a >= 0) & (b >= 0)
    if not have.any():
        return out
    lo = np.minimum(a[have], b[have]).astype(np.int64)
    hi = np.maximum(a[have], b[have]).astype(np.int64)
    key = lo * max(len(pool), 1) + hi
    uniq, inverse = np.unique(key, return_inverse=True)
    ua, ub = uniq // max(len(pool), 1), uniq % max(len(pool), 1)
    sims = process.cpdist(pool[ua], pool[ub], scorer=scorer, workers=2, dtype=np.float32)
    out[have] = np.asarray(sims, dtype=np.float64)[inverse.ravel()] / scale
    out[have & (a == b)] = 1.0
    return out


def _graded(
    sim: FloatArray, exact: npt.NDArray[np.bool_], close: float, similar: float
) -> LevelArray:
    level = np.zeros(len(sim), dtype=np.int8)
    present = ~np.isnan(sim)
    level[present] = 4
    level[present & (sim >= similar)] = 3
    level[present & (sim >= close)] = 2
    level[exact & present] = 1
    return level


def _take(values: npt.NDArray[Any], codes: npt.NDArray[np.int32], fill: Any) -> npt.NDArray[Any]:
    """``values[codes]`` with *fill* where a code is ``-1`` (missing)."""
    padded = np.append(values, np.asarray([fill], dtype=values.dtype))
    return padded[np.where(codes >= 0, codes, len(values))]


def _slot_match(
    codes: npt.NDArray[np.int32], rank: npt.NDArray[np.int64], left: IntArray, right: IntArray
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """The value both rows hold with the lowest *rank* (``-1`` if none), and
    whether each side has any value.  The choice does not depend on the order
    of the two rows or of their values."""
    a, b = codes[left], codes[right]
    shared = np.full(len(left), -1, dtype=np.int32)
    best = np.full(len(left), np.iinfo(np.int64).max, dtype=np.int64)
    for i in range(SLOTS):
        col = a[:, i]
        valid = col >= 0
        r = _take(rank, col, 0)
        for j in range(SLOTS):
            hit = valid & (col == b[:, j]) & (r < best)
            shared = np.where(hit, col, shared)
            best = np.where(hit, r, best)
    has_a = np.asarray((a >= 0).any(axis=1), dtype=bool)
    has_b = np.asarray((b >= 0).any(axis=1), dtype=bool)
    return shared, has_a, has_b


def compare(table: ContactTable, left: IntArray, right: IntArray, kind: int) -> Comparison:
    """The field levels of the pairs ``(left[i], right[i])``, all of one *kind*."""
    n = len(left)
    levels: dict[str, LevelArray] = {}
    holders: dict[str, IntArray] = {}
    fields: tuple[str, ...]
    swapped = np.zeros(n, dtype=bool)
    adjust: dict[str, FloatArray] = {}
    jw = distance.JaroWinkler.normalized_similarity

    # --- e-mail ---------------------------------------------------------------
    rank = table.email_is_role.astype(np.int64) * (1 << 40) + table.email_count
    shared, has_a, has_b = _slot_match(table.email, rank, left, right)
    both = has_a & has_b
    email = np.zeros(n, dtype=np.int8)
    email[both] = 5
    exact = shared >= 0
    role = np.zeros(n, dtype=bool)
    role[exact] = table.email_is_role[shared[exact]]
    count = np.zeros(n, dtype=np.int64)
    count[exact] = table.email_count[shared[exact]]
    if kind == PERSON:
        prim_a, prim_b = table.email[left, 0], table.email[right, 0]
        sim = _similarity(table.email_pool, prim_a, prim_b, jw)
        dom_a = _take(table.email_domain, prim_a, -1)
        dom_b = _take(table.email_domain, prim_b, -1)
        same_domain = both & (dom_a >= 0) & (dom_a == dom_b)
        # A typo in the local part: same domain, same digits ("max.meier7@gmx.de"
        # and "max.meier8@gmx.de" are two mailboxes), similar otherwise.
        same_digits = _take(table.email_digits, prim_a, -2) == _take(table.email_digits, prim_b, -3)
        same_host = _take(table.email_host, prim_a, -2) == _take(table.email_host, prim_b, -3)
        email[same_domain] = 4
        email[both & (sim >= EMAIL_CLOSE) & same_digits & same_host] = 3
        email[exact & role] = 2
        email[exact & ~role] = 1
    else:
        email[exact] = 1
    levels["email"] = email
    holders["email"] = np.where(email == 1, count, 0)

    # --- phone ------------------------------------------------------------------
    rank = table.phone_is_shared.astype(np.int64) * (1 << 40) + table.phone_count
    shared, has_a, has_b = _slot_match(table.phone, rank, left, right)
    phone = np.zeros(n, dtype=np.int8)
    phone[has_a & has_b] = 3
    exact = shared >= 0
    count = np.zeros(n, dtype=np.int64)
    count[exact] = table.phone_count[shared[exact]]
    if kind == PERSON:
        switch = np.zeros(n, dtype=bool)
        switch[exact] = table.phone_is_shared[shared[exact]]
        phone[exact & switch] = 2
        phone[exact & ~switch] = 1
    else:
        phone[exact] = 1
    levels["phone"] = phone
    holders["phone"] = np.where(phone == 1, count, 0)

    # --- address ----------------------------------------------------------------
    pa, pb = table.postal[left], table.postal[right]
    sa, sb = table.street[left], table.street[right]
    aa, ab = table.address[left], table.address[right]
    address = np.zeros(n, dtype=np.int8)
    present = ((pa >= 0) | (sa >= 0)) & ((pb >= 0) | (sb >= 0))
    address[present] = 4
    address[present & (pa >= 0) & (pa == pb)] = 3
    address[present & (sa >= 0) & (sa == sb)] = 2
    same = (aa >= 0) & (aa == ab)
    address[same] = 1
    levels["address"] = address
    holders["address"] = np.where(same, _take(table.address_count, aa, 0), 0)

    if kind == PERSON:
        fa, fb = table.first[left], table.first[right]
        la, lb = table.last[left], table.last[right]
        pool = table.name_pool
        ff = _similarity(pool, fa, fb, jw)
        ll = _similarity(pool, la, lb, jw)
        straight = np.nan_to_num(ff) + np.nan_to_num(ll)
        cand = ~((fa == fb) & (la == lb)) & (fa >= 0) & (fb >= 0) & (la >= 0) & (lb >= 0)
        fl = np.full(n, np.nan)
        lf = np.full(n, np.nan)
        idx = np.flatnonzero(cand)
        if len(idx):
            fl[idx] = _similarity(pool, fa[idx], lb[idx], jw)
            lf[idx] = _similarity(pool, la[idx], fb[idx], jw)
        cross = np.nan_to_num(fl) + np.nan_to_num(lf)
        swapped = cand & (cross > straight + 0.1)
        # Crosswise, the better-agreeing name counts as the last name (either
        # way round gives the same result, so the score stays symmetric).
        e1, e2 = fa == lb, la == fb
        s1, s2 = np.nan_to_num(fl, nan=-1.0), np.nan_to_num(lf, nan=-1.0)
        second_better = (e2 & ~e1) | ((e2 == e1) & (s2 > s1))
        x_last = np.where(second_better, lf, fl)
        x_first = np.where(second_better, fl, lf)
        x_last_exact = np.where(second_better, e2, e1)
        x_first_exact = np.where(second_better, e1, e2)
        ff = np.where(swapped, x_first, ff)
        ll = np.where(swapped, x_last, ll)
        f_exact = np.where(swapped, x_first_exact, fa == fb)
        l_exact = np.where(swapped, x_last_exact, la == lb)
        levels["first_name"] = _graded(ff, f_exact, CLOSE, SIMILAR)
        levels["last_name"] = _graded(ll, l_exact, CLOSE, SIMILAR)
        if table.persons >= MIN_POPULATION:
            first_value = np.where(swapped, np.where(second_better, fa, la), fa)
            last_value = np.where(swapped, np.where(second_better, la, fa), la)
            for field, value in (("first_name", first_value), ("last_name", last_value)):
                exact_here = levels[field] == 1
                freq = _take(table.name_count, value, 1) / table.persons
                tf = np.clip(np.log2(0.9 / np.maximum(freq, 1e-9)), *NAME_BOUNDS[field])
                adjust[field] = np.where(exact_here, tf, np.nan)
        ea, eb = table.employer[left], table.employer[right]
        employer = np.zeros(n, dtype=np.int8)
        employer[(ea[:, 0] >= 0) & (eb[:, 0] >= 0)] = 2
        for i in range(2):
            for j in range(2):
                employer[(ea[:, i] >= 0) & (ea[:, i] == eb[:, j])] = 1
        levels["employer"] = employer
        fields = PERSON_FIELDS
    else:
        ba, bb = table.base[left], table.base[right]
        pool = table.base_pool
        sim = np.fmax(
            _similarity(pool, ba, bb, jw),
            _similarity(pool, ba, bb, fuzz.token_set_ratio, scale=100.0),
        )
        levels["company_name"] = _graded(sim, ba == bb, COMPANY_CLOSE, COMPANY_SIMILAR)
        fa_, fb_ = table.form[left], table.form[right]
        form = np.zeros(n, dtype=np.int8)
        form[(fa_ >= 0) & (fb_ >= 0)] = 2
        form[(fa_ >= 0) & (fa_ == fb_)] = 1
        levels["legal_form"] = form
        va, vb = table.vat[left], table.vat[right]
        vat = np.zeros(n, dtype=np.int8)
        vat[(va >= 0) & (vb >= 0)] = 2
        vat[(va >= 0) & (va == vb)] = 1
        levels["vat_id"] = vat
        levels["domain"] = _domain_levels(table, left, right)
        fields = COMPANY_FIELDS
    return Comparison(
        kind="person" if kind == PERSON else "company",
        fields=fields,
        levels=levels,
        holders=holders,
        swapped=swapped,
        adjust=adjust,
    )


def _domain_levels(table: ContactTable, left: IntArray, right: IntArray) -> LevelArray:
    """Companies: do their web and (non-free) e-mail domains meet?"""
    n = len(left)

    def domains(rows: IntArray) -> npt.NDArray[np.int32]:
        out = np.full((len(rows), SLOTS + 1), -1, dtype=np.int32)
        out[:, 0] = table.site[rows]
        for s in range(SLOTS):
            col = table.email[rows, s]
            have = col >= 0
            out[have, s + 1] = table.email_domain[col[have]]
        return out

    a, b = domains(left), domains(right)
    level = np.zeros(n, dtype=np.int8)
    level[(a >= 0).any(axis=1) & (b >= 0).any(axis=1)] = 2
    for i in range(SLOTS + 1):
        for j in range(SLOTS + 1):
            level[(a[:, i] >= 0) & (a[:, i] == b[:, j])] = 1
    return level


#: Fields whose exact agreement identifies one contact among *n*: their
#: weight grows with the population as the prior falls (see ``DedupConfig``).
IDENTIFIERS: Final = ("email", "phone", "address", "vat_id", "domain")


def field_weights(
    comparison: Comparison,
    weights: Mapping[str, tuple[float, ...]],
    boost: float = 0.0,
) -> dict[str, FloatArray]:
    """The weight (bits) each field contributes to each pair, shared values discounted.

    *boost* is added to the exact level of the identifying fields.
    """
    out: dict[str, FloatArray] = {}
    for field in comparison.fields:
        table = np.asarray(weights[field], dtype=np.float64)
        if boost and field in IDENTIFIERS:
            table = table.copy()
            table[1] += boost
        w = table[comparison.levels[field]]
        if field in comparison.adjust:
            tf = comparison.adjust[field]
            w = np.where(np.isnan(tf), w, tf)
        if field in comparison.holders:
            count = comparison.holders[field]
            many = count > 2
            if many.any():
                floor = table[2] if field in ("email", "phone") else table[3]
                drop = np.log2(np.maximum(count[many] - 1, 1).astype(np.float64))
                w[many] = np.maximum(w[many] - drop, floor)
        out[field] = w
    if "phone" in out and "address" in out and comparison.kind == "person":
        both = (comparison.levels["phone"] == 1) & (comparison.levels["address"] == 1)
        out["phone"] = np.where(both, np.minimum(out["phone"], HOUSEHOLD_PHONE), out["phone"])
    return out


def total(
    prior: float, contributions: Mapping[str, FloatArray], fields: tuple[str, ...]
) -> FloatArray:
    """Prior plus the field weights, added in field order."""
    first = contributions[fields[0]]
    score = np.full(len(first), prior, dtype=np.float64)
    for field in fields:
        score = score + contributions[field]
    return score


def probability(score: float) -> float:
    """The match probability of a score in bits."""
    if score > 60:
        return 1.0
    if score < -60:
        return 0.0
    odds = 2.0 ** float(score)
    return float(odds / (1.0 + odds))


def bits(p: float) -> float:
    """The score (bits) of a match probability (0 < p < 1)."""
    return math.log2(p / (1.0 - p))


def estimate(
    comparison: Comparison,
    weights: Mapping[str, tuple[float, ...]],
    prior: float,
    iterations: int = 15,
) -> tuple[dict[str, tuple[float, ...]], float] | None:
    """Weights and prior re-estimated from the pairs by expectation-maximisation.

    Starts from *weights*; returns ``None`` (keep the defaults) when the
    estimate is implausible: fewer than 1,000 pairs, a match share outside
    0.01 %–90 %, or an exact level that ends up weaker than "different".
    """
    if len(comparison.swapped) < 1000:
        return None
    contributions = field_weights(comparison, weights)
    score = total(prior, contributions, comparison.fields)
    new: dict[str, tuple[float, ...]] = dict(weights)
    share = 0.5
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp2(-np.clip(score, -60, 60)))
        share = float(p.mean())
        if not 1e-4 < share < 0.9:
            return None
        score = np.full(len(p), math.log2(share / (1 - share)))
        for field in comparison.fields:
            lv = comparison.levels[field]
            k = len(weights[field])
            m = np.bincount(lv, weights=p, minlength=k)
            u = np.bincount(lv, weights=1 - p, minlength=k)
            m_present, u_present = m[1:].sum(), u[1:].sum()
            estimated = [0.0]
            for level in range(1, k):
                mm = max(m[level] / max(m_present, 1e-12), 1e-5)
                uu = max(u[level] / max(u_present, 1e-12), 1e-5)
                estimated.append(float(np.clip(math.log2(mm / uu), -15, 25)))
            new[field] = tuple(estimated)
            score = score + np.asarray(estimated)[lv]
    for field in comparison.fields:
        row = new[field]
        if row[1] <= row[-1]:
            return None
    return new, math.log2(share / (1 - share))


__all__ = [
    "COMPANY",
    "COMPANY_FIELDS",
    "DEFAULT_PRIOR",
    "DEFAULT_WEIGHTS",
    "LEVELS",
    "PERSON",
    "PERSON_FIELDS",
    "Comparison",
    "bits",
    "compare",
    "estimate",
    "field_weights",
    "probability",
    "total",
]
