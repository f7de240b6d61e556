"""Finding duplicates: blocking, scoring, thresholds, explanations, clusters."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.dedup import _blocking, _scoring
from crmkit.dedup._blocking import DEFAULT_CAPS, KEY_KINDS, candidate_pairs, key_rows
from crmkit.dedup._cluster import clusters as make_clusters
from crmkit.dedup._report import (
    DuplicatePair,
    DuplicateReport,
    Explanation,
    FieldEvidence,
    PairColumns,
    PairList,
)
from crmkit.dedup._table import (
    COMPANY,
    KIND_NAMES,
    PERSON,
    ContactTable,
    fingerprint_values,
    web_domain,
)
from crmkit.errors import ValidationError
from crmkit.model import Company, Contact, Person

#: Pairs scored at once; bounds the memory of the comparison arrays.
CHUNK: Final = 1_000_000
#: Histogram bins of the report (bits).
BIN_EDGES: Final = tuple(float(x) for x in range(-40, 41))


def _freeze_caps(value: Mapping[str, int] | None) -> Mapping[str, int]:
    caps = dict(DEFAULT_CAPS)
    for key, cap in (value or {}).items():
        if key not in KEY_KINDS:
            raise ValidationError.single(
                "caps", "dedup.unknown_key", value=key, choices=", ".join(KEY_KINDS)
            )
        if not isinstance(cap, int) or cap < 2:
            raise ValidationError.single("caps", "value.invalid", value=cap, reason="at least 2")
        caps[key] = cap
    return MappingProxyType(caps)


def _freeze_weights(
    value: Mapping[str, Mapping[str, Iterable[float]]] | None,
) -> Mapping[str, Mapping[str, tuple[float, ...]]]:
    out: dict[str, Mapping[str, tuple[float, ...]]] = {}
    for kind, defaults in _scoring.DEFAULT_WEIGHTS.items():
        given = dict((value or {}).get(kind, {}))
        table: dict[str, tuple[float, ...]] = {}
        for field, levels in defaults.items():
            row = tuple(float(w) for w in given.pop(field, levels))
            if len(row) != len(levels):
                raise ValidationError.single(
                    "weights", "dedup.weights", value=f"{kind}.{field}", count=len(levels)
                )
            table[field] = row
        if given:
            raise ValidationError.single(
                "weights", "value.choice", value=next(iter(given)), choices=", ".join(defaults)
            )
        out[kind] = MappingProxyType(table)
    return MappingProxyType(out)


def _freeze_prior(value: Mapping[str, float] | None) -> Mapping[str, float]:
    prior = dict(_scoring.DEFAULT_PRIOR)
    prior.update({k: float(v) for k, v in (value or {}).items() if k in prior})
    return MappingProxyType(prior)


@attrs.frozen(kw_only=True)
class DedupConfig:
    """Settings of duplicate detection; the defaults suit German contact data.

    * ``match_threshold`` / ``review_threshold`` — probabilities: pairs at or
      above ``match_threshold`` are duplicates, those at or above
      ``review_threshold`` go to the review queue;
    * ``caps`` — the largest block per key kind (see ``KEY_KINDS``);
    * ``weights`` / ``prior`` — bits per field level and the prior per kind
      (``"person"``, ``"company"``); only the ones given replace the defaults;
    * ``estimate`` — re-estimate weights from the data by EM (kept only when
      the estimate is plausible; the report says whether it was used);
    * ``linkage`` — how strongly two clusters must be linked to join;
    * ``population`` — the number of contacts of a kind the weights are set
      for: with *n* > ``population`` persons (or companies) the prior drops
      by ``log2(n / population)`` bits, since two random contacts are then
      less likely the same, and exact e-mail, phone, address, VAT id and
      domain rise by as much, since they still single out one contact; a
      shared name counts for less (``None``: no adjustment).
    """

    match_threshold: float = 0.9
    review_threshold: float = 0.5
    caps: Mapping[str, int] = attrs.field(default=None, converter=_freeze_caps)
    weights: Mapping[str, Mapping[str, tuple[float, ...]]] = attrs.field(
        default=None, converter=_freeze_weights
    )
    prior: Mapping[str, float] = attrs.field(default=None, converter=_freeze_prior)
    estimate: bool = False
    linkage: float = 0.45
    population: int | None = 100_000

    def __attrs_post_init__(self) -> None:
        r, m = self.review_threshold, self.match_threshold
        if not (isinstance(r, float | int) and isinstance(m, float | int) and 0 < r <= m < 1):
            raise ValidationError.single("match_threshold", "dedup.thresholds", review=r, match=m)
        if not 0 <= self.linkage <= 1:
            raise ValidationError.single(
                "linkage", "value.invalid", value=self.linkage, reason="between 0 and 1"
            )


@attrs.frozen(kw_only=True)
class BlockingKey:
    """One blocking key of a contact.

    ``kind`` is one of ``KEY_KINDS``; contacts with equal ``key`` are
    compared; ``lookup`` is the value to fetch candidates by (an e-mail
    address, an E.164 number, a last name, a company name token, a domain,
    ``"postal code|street"``).
    """

    kind: str
    key: str
    lookup: str


class _Scored:
    """The thresholded pairs of one run, as arrays, with what explains them."""

    def __init__(self) -> None:
        self.left: list[npt.NDArray[np.int64]] = []
        self.right: list[npt.NDArray[np.int64]] = []
        self.score: list[npt.NDArray[np.float64]] = []
        self.kind: list[npt.NDArray[np.int8]] = []
        self.keys: list[npt.NDArray[np.uint8]] = []
        self.swapped: list[npt.NDArray[np.bool_]] = []
        self.levels: list[dict[str, npt.NDArray[np.int8]]] = []
        self.weights: list[dict[str, npt.NDArray[np.float64]]] = []
        self.hist = np.zeros(len(BIN_EDGES) - 1, dtype=np.int64)


def _as_table(
    contacts: Iterable[Contact] | ContactTable,
    employers: Mapping[str, Collection[str]] | None,
) -> ContactTable:
    if isinstance(contacts, ContactTable):
        return contacts
    return ContactTable.from_contacts(contacts, employers=employers)


def _score_pairs(
    table: ContactTable,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    keys: npt.NDArray[np.uint8],
    config: DedupConfig,
    review_score: float,
    out: _Scored,
) -> tuple[dict[str, Mapping[str, tuple[float, ...]]], dict[str, float], bool]:
    """Score all pairs in chunks, keeping those at or above *review_score*."""
    weights: dict[str, Mapping[str, tuple[float, ...]]] = dict(config.weights)
    priors: dict[str, float] = dict(config.prior)
    boosts = {"person": 0.0, "company": 0.0}
    if config.population is not None:
        for kind, name in ((PERSON, "person"), (COMPANY, "company")):
            count = int((table.kind == kind).sum())
            if count > config.population:
                boosts[name] = math.log2(count / config.population)
                priors[name] -= boosts[name]
    estimated = False
    kinds = table.kind[left]
    for kind in (PERSON, COMPANY):
        name = KIND_NAMES[kind]
        idx = np.flatnonzero(kinds == kind)
        for start in range(0, len(idx), CHUNK):
            part = idx[start : start + CHUNK]
            lo, hi = left[part], right[part]
            comparison = _scoring.compare(table, lo, hi, kind)
            if start == 0 and config.estimate:
                found = _scoring.estimate(comparison, weights[name], priors[name])
                if found is not None:
                    weights[name], priors[name] = found[0], found[1]
                    estimated = True
            contributions = _scoring.field_weights(comparison, weights[name], boosts[name])
            score = _scoring.total(priors[name], contributions, comparison.fields)
            out.hist += np.histogram(np.clip(score, -40, 40), bins=BIN_EDGES)[0]
            keep = np.flatnonzero(score >= review_score)
            out.left.append(lo[keep])
            out.right.append(hi[keep])
            out.score.append(score[keep])
            out.kind.append(np.full(len(keep), kind, dtype=np.int8))
            out.keys.append(keys[part][keep])
            out.swapped.append(comparison.swapped[keep])
            out.levels.append({f: v[keep] for f, v in comparison.levels.items()})
            out.weights.append({f: v[keep] for f, v in contributions.items()})
    return weights, priors, estimated


def _values(table: ContactTable, field: str, i: int) -> str:
    """Row *i*'s value of *field*, as shown in an explanation."""
    if field == "first_name":
        return table.first_names[i]
    if field == "last_name":
        return table.last_names[i]
    if field == "company_name":
        return table.names[i]
    if field == "legal_form":
        code = int(table.form[i])
        return "" if code < 0 else str(table.form_pool[code])
    if field == "vat_id":
        return table.vat_ids[i]
    if field == "email":
        return ", ".join(table.emails[i])
    if field == "phone":
        return ", ".join(table.phones[i])
    if field == "address":
        place = " ".join(p for p in (table.postal_codes[i], table.cities[i]) if p)
        return ", ".join(p for p in (table.streets[i], place) if p)
    if field == "domain":
        doms = [web_domain(table.websites[i])] if table.websites[i] else []
        doms += [e.rpartition("@")[2].lower() for e in table.emails[i]]
        return ", ".join(dict.fromkeys(d for d in doms if d))
    if field == "employer":
        return ", ".join(table.employer_ids[i])
    return ""  # pragma: no cover - every field is listed above


@attrs.frozen
class _Pairs:
    """Thresholded pairs as arrays: rows, score, kind, key mask, levels and weights."""

    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    score: npt.NDArray[np.float64]
    kind: npt.NDArray[np.int8]
    keys: npt.NDArray[np.uint8]
    swapped: npt.NDArray[np.bool_]
    levels: Mapping[str, npt.NDArray[np.int8]]
    weights: Mapping[str, npt.NDArray[np.float64]]

    def __len__(self) -> int:
        return len(self.left)

    @classmethod
    def merge(cls, scored: _Scored) -> _Pairs:
        """One set of arrays from the scored chunks (fields a kind lacks are 0)."""

        def cat(parts: list[Any], dtype: Any) -> Any:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        n = sum(len(p) for p in scored.left)
        levels: dict[str, npt.NDArray[np.int8]] = {}
        weights: dict[str, npt.NDArray[np.float64]] = {}
        for f in dict.fromkeys((*_scoring.PERSON_FIELDS, *_scoring.COMPANY_FIELDS)):
            levels[f] = np.zeros(n, dtype=np.int8)
            weights[f] = np.zeros(n, dtype=np.float64)
        offset = 0
        for part, lv, wt in zip(scored.left, scored.levels, scored.weights, strict=True):
            size = len(part)
            for f, v in lv.items():
                levels[f][offset : offset + size] = v
                weights[f][offset : offset + size] = wt[f]
            offset += size
        return cls(
            left=cat(scored.left, np.int64),
            right=cat(scored.right, np.int64),
            score=cat(scored.score, np.float64),
            kind=cat(scored.kind, np.int8),
            keys=cat(scored.keys, np.uint8),
            swapped=cat(scored.swapped, bool),
            levels=levels,
            weights=weights,
        )

    def take(self, index: npt.NDArray[np.intp]) -> _Pairs:
        """The pairs at *index*, in that order."""
        return _Pairs(
            left=self.left[index],
            right=self.right[index],
            score=self.score[index],
            kind=self.kind[index],
            keys=self.keys[index],
            swapped=self.swapped[index],
            levels={f: v[index] for f, v in self.levels.items()},
            weights={f: v[index] for f, v in self.weights.items()},
        )


def _make_pair(
    table: ContactTable,
    pairs: _Pairs,
    i: int,
    priors: Mapping[str, float],
    match_score: float,
    *,
    orient: bool,
) -> DuplicatePair:
    """Pair *i* as a :class:`DuplicatePair` with its explanation.

    With *orient* the smaller id is on the left (reports); without, the
    pair's left row stays left (the contact of a single-candidate check).
    """
    kind = int(pairs.kind[i])
    fields = _scoring.PERSON_FIELDS if kind == PERSON else _scoring.COMPANY_FIELDS
    a, b = int(pairs.left[i]), int(pairs.right[i])
    if orient and table.ids[b] < table.ids[a]:
        a, b = b, a
    evidence = tuple(
        FieldEvidence(
            field=f,
            level=_scoring.LEVELS[f][int(pairs.levels[f][i])],
            weight=float(pairs.weights[f][i]),
            left=_values(table, f, a),
            right=_values(table, f, b),
        )
        for f in fields
    )
    prior = priors[KIND_NAMES[kind]]
    total = prior
    for e in evidence:
        total += e.weight
    return DuplicatePair(
        left_id=table.ids[a],
        right_id=table.ids[b],
        kind=KIND_NAMES[kind],
        score=total,
        probability=_scoring.probability(total),
        verdict="match" if total >= match_score else "review",
        explanation=Explanation(
            prior=prior,
            fields=evidence,
            keys=_blocking.key_names(int(pairs.keys[i])),
            swapped_names=bool(pairs.swapped[i]),
        ),
        left_label=table.describe(a),
        right_label=table.describe(b),
    )


def find_duplicates(
    contacts: Iterable[Contact] | ContactTable,
    config: DedupConfig | None = None,
    *,
    employers: Mapping[str, Collection[str]] | None = None,
    exclude: Collection[str] = frozenset(),
) -> DuplicateReport:
    """Scored, explained duplicate pairs and clusters among *contacts*.

    *contacts* is any iterable of :class:`~crmkit.Person` and
    :class:`~crmkit.Company` (or a :class:`ContactTable`).  Persons are only
    compared with persons, companies with companies.  *employers* maps a
    person id to the ids of the companies the person works for.  *exclude*
    holds :func:`decision_key` values of pairs already decided "not a
    duplicate"; they are left out while neither record changed.

    >>> from crmkit import Company
    >>> report = find_duplicates([
    ...     Company(name="Muster GmbH", emails=["info@muster.de"]),
    ...     Company(name="Muster Gesellschaft mbH", emails=["info@muster.de"]),
    ... ])
    >>> [p.verdict for p in report.pairs]
    ['match']
    """
    config = config or DedupConfig()
    table = _as_table(contacts, employers)
    blocks = candidate_pairs(table, config.caps)
    match_score = _scoring.bits(config.match_threshold)
    review_score = _scoring.bits(config.review_threshold)
    scored = _Scored()
    weights, priors, estimated = _score_pairs(
        table, blocks.left, blocks.right, blocks.keys, config, review_score, scored
    )
    pairs = _Pairs.merge(scored)
    if exclude and len(pairs):
        fingerprints: dict[int, str] = {}

        def fp(i: int) -> str:
            found = fingerprints.get(i)
            if found is None:
                found = fingerprints[i] = table.fingerprint(i)
            return found

        decided = np.fromiter(
            (
                _pair_key(table.ids[a], fp(a), table.ids[b], fp(b)) in exclude
                for a, b in zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)
            ),
            dtype=bool,
            count=len(pairs),
        )
        pairs = pairs.take(np.flatnonzero(~decided))
    pairs = pairs.take(np.lexsort((pairs.right, pairs.left, -pairs.score)))
    is_match = pairs.score >= match_score
    prob = 1.0 / (1.0 + np.exp2(-np.clip(pairs.score, -60, 60)))
    columns = PairColumns(left=pairs.left, right=pairs.right, score=pairs.score, match=is_match)

    def make(i: int) -> DuplicatePair:
        return _make_pair(table, pairs, i, priors, match_score, orient=True)

    groups = make_clusters(table.ids, pairs.left, pairs.right, prob, is_match, config.linkage)
    return DuplicateReport(
        pairs=PairList(columns, make),
        clusters=groups,
        capped=blocks.capped,
        contacts=table.size,
        candidates=len(blocks.left),
        match_threshold=config.match_threshold,
        review_threshold=config.review_threshold,
        match_score=match_score,
        review_score=review_score,
        histogram=tuple(int(c) for c in scored.hist),
        bin_edges=BIN_EDGES,
        weights=MappingProxyType(weights),
        priors=MappingProxyType(priors),
        estimated=estimated,
    )


def check_candidate(
    contact: Contact,
    candidates: Iterable[Contact],
    config: DedupConfig | None = None,
    *,
    employers: Mapping[str, Collection[str]] | None = None,
) -> tuple[DuplicatePair, ...]:
    """The likely duplicates of one (unsaved) *contact* among *candidates*, best first.

    Scores every candidate of the same kind exactly as
    :func:`find_duplicates` would (without blocking: fetch the candidates
    by :func:`blocking_keys`); returns the pairs at or above the review
    threshold, with ``left_id`` the contact's id (``explanation.keys`` is
    empty: no blocking took place).  Name frequencies need a population of
    1,000 persons, so among fewer candidates exact names weigh their fixed
    default; shared values count among the contact and its candidates.
    """
    config = config or DedupConfig()
    rows: list[Contact] = [contact]
    seen = {contact.id}
    for c in candidates:
        if c.kind == contact.kind and c.id not in seen:
            seen.add(c.id)
            rows.append(c)
    if len(rows) < 2:
        return ()
    table = ContactTable.from_contacts(rows, employers=employers)
    n = len(rows)
    left = np.zeros(n - 1, dtype=np.int64)
    right = np.arange(1, n, dtype=np.int64)
    keys = np.zeros(n - 1, dtype=np.uint8)
    out = _Scored()
    review_score = _scoring.bits(config.review_threshold)
    match_score = _scoring.bits(config.match_threshold)
    _weights, priors, _estimated = _score_pairs(table, left, right, keys, config, review_score, out)
    pairs = _Pairs.merge(out)
    result = [
        _make_pair(table, pairs, i, priors, match_score, orient=False) for i in range(len(pairs))
    ]
    result.sort(key=lambda p: (-p.score, p.right_id))
    return tuple(result)


def blocking_keys(contact: Contact) -> tuple[BlockingKey, ...]:
    """The blocking keys of *contact*: fetch candidates for :func:`check_candidate` by them.

    >>> from crmkit import Person
    >>> [k.kind for k in blocking_keys(Person(first_name="Max", last_name="Müller",
    ...                                       emails=["max@muster.de"]))]
    ['email', 'name', 'name', 'domain']
    """
    table = ContactTable.from_contacts([contact])
    out: list[BlockingKey] = []
    for found in key_rows(table):
        for key in dict.fromkeys(found.decode(int(k)) for k in found.keys):
            lookup = _lookup(contact, found.kind, key)
            out.append(BlockingKey(kind=found.kind, key=key, lookup=lookup))
    return tuple(out)


def _lookup(contact: Contact, kind: str, key: str) -> str:
    if kind in ("email", "phone", "address"):
        return key.partition("|")[2]
    if kind == "name":
        assert isinstance(contact, Person)
        return contact.last_name or contact.first_name
    if kind == "domain" and key.startswith("p|"):
        return key.split("|")[1]
    if kind == "company_name":
        return contact.display_name if key.startswith("=") else key
    return key.partition("|")[2]


def _contact_values(contact: Contact) -> tuple[str, ...]:
    address = contact.addresses[0] if contact.addresses else None
    return (
        contact.kind,
        contact.first_name if isinstance(contact, Person) else "",
        contact.last_name if isinstance(contact, Person) else "",
        contact.name if isinstance(contact, Company) else "",
        ",".join(sorted(e.address.lower() for e in contact.emails)),
        ",".join(sorted(p.e164 for p in contact.phones)),
        address.street if address else "",
        address.postal_code if address else "",
        address.city if address else "",
        (contact.vat_id or "") if isinstance(contact, Company) else "",
        contact.website or "",
    )


def fingerprint(contact: Contact) -> str:
    """A hash of the fields duplicate detection looks at (names, e-mail, phone, address …).

    It changes when one of them changes, and only then.
    """
    return fingerprint_values(_contact_values(contact))


def _pair_key(id_a: str, fp_a: str, id_b: str, fp_b: str) -> str:
    (i1, f1), (i2, f2) = sorted(((id_a, fp_a), (id_b, fp_b)))
    return fingerprint_values((i1, f1, i2, f2))[:40]


def decision_key(left: Contact, right: Contact) -> str:
    """The key under which to remember a decision about the pair (left, right).

    Symmetric (``decision_key(a, b) == decision_key(b, a)``); it changes as
    soon as one of the two contacts changes in a field that matching looks
    at, so a "not a duplicate" decision stops applying then.  Pass the keys
    of decided pairs to :func:`find_duplicates` as ``exclude``.
    """
    return _pair_key(left.id, fingerprint(left), right.id, fingerprint(right))
