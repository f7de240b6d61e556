"""Merging duplicates: which values survive, what moves, and how to undo it — pure.

:func:`plan_merge` takes the surviving contact, the contacts merged into it,
their affiliations and correspondence, and returns a :class:`MergePlan`:
the survivor as it will be stored, the merged contacts as they will be kept
(archived, ``merged_into`` the survivor, so their ids and numbers still lead
to it), and every affiliation and entry that changes.  The facade
(``crm.merge``) writes the plan in one transaction and keeps it as a
:class:`MergeRecord`, from which ``crm.unmerge`` restores the earlier state.

Survivorship rules, field by field:

* lists and sets (e-mail addresses, phones, addresses, tags, relationships)
  are joined, the survivor's first, without repeats; an address that bounced
  on any side stays bounced;
* ``notes`` are joined, each distinct text once;
* ``customer_since`` and ``created_at``: the earliest;
* every other field: the survivor's value when it has one ("non-empty
  wins"), else the value of the most recently changed other contact
  ("newer wins");
* ``choose={"field": contact_id}`` takes a field from that contact instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from crmkit.correspondence import CorrespondenceEntry
from crmkit.errors import ValidationError
from crmkit.ids import new_id
from crmkit.model import Address, Affiliation, Company, Contact, EmailAddress, Person, _convert

#: Fields no merge copies: identity, bookkeeping and the merge marks themselves.
FIXED_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "id",
        "number",
        "version",
        "created_at",
        "updated_at",
        "redacted",
        "archived_at",
        "archive_reason",
        "merged_into",
        "restricted_at",
        "base_name",
        "legal_form",
    }
)
_JOINED: Final = frozenset({"emails", "phones", "addresses", "tags", "relationships"})
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@attrs.frozen(kw_only=True)
class AffiliationChange:
    """One affiliation before and after the merge (``None``: it did not / does not exist)."""

    before: Affiliation | None
    after: Affiliation | None


@attrs.frozen(kw_only=True)
class EntryChange:
    """The contact ids of one correspondence entry before and after the merge."""

    entry_id: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@attrs.frozen(kw_only=True)
class MergePlan:
    """What a merge does.  ``sources`` says which contact each survivor field came from."""

    survivor: Contact
    merged: tuple[Contact, ...]
    sources: Mapping[str, str]
    affiliations: tuple[AffiliationChange, ...] = ()
    entries: tuple[EntryChange, ...] = ()


def _empty(value: object) -> bool:
    return value is None or value == "" or value == () or value == frozenset()


def _check_kinds(survivor: Contact, others: Sequence[Contact]) -> None:
    if not others:
        raise ValidationError.single("others", "value.required")
    ids = [survivor.id, *(o.id for o in others)]
    if len(set(ids)) != len(ids):
        raise ValidationError.single("others", "merge.same_contact")
    for i, other in enumerate(others):
        if other.kind != survivor.kind:
            raise ValidationError.single(
                f"others.{i}", "merge.kind", expected=survivor.kind, actual=other.kind
            )
        if other.merged_into is not None:
            raise ValidationError.single(f"others.{i}", "merge.merged_already", key=other.id)
    if survivor.merged_into is not None:
        raise ValidationError.single("survivor", "merge.merged_already", key=survivor.id)


def _joined(field: str, contacts: Sequence[Contact]) -> Any:
    values = [getattr(c, field) for c in contacts]
    if field == "emails":
        first: dict[str, EmailAddress] = {}
        for email in (e for value in values for e in value):
            key = email.address.lower()
            kept = first.get(key)
            if kept is None:
                first[key] = email
            elif kept.bounced_at is None and email.bounced_at is not None:
                first[key] = attrs.evolve(kept, bounced_at=email.bounced_at)
        return tuple(first.values())
    if field == "addresses":
        seen: dict[tuple[str | None, ...], Address] = {}
        for address in (a for value in values for a in value):
            seen.setdefault((address.street, address.postal_code, address.city), address)
        return tuple(seen.values())
    if field in ("tags", "relationships"):
        return frozenset().union(*values)
    return tuple(item for value in values for item in value)  # phones: the model dedupes


def plan_merge(
    survivor: Contact,
    others: Sequence[Contact],
    *,
    affiliations: Iterable[Affiliation] = (),
    entries: Iterable[CorrespondenceEntry] = (),
    now: dt.datetime,
    choose: Mapping[str, str] | None = None,
) -> MergePlan:
    """The :class:`MergePlan` for merging *others* into *survivor* (see the module rules).

    *affiliations* are those of all the contacts involved, *entries* the
    correspondence naming any of them.  Raises :class:`crmkit.ValidationError`
    for contacts of different kinds, a contact merged twice, or a *choose*
    naming an unknown field or contact.
    """
    others = list(others)
    _check_kinds(survivor, others)
    everyone = [survivor, *others]
    by_id: dict[str, Contact] = {c.id: c for c in everyone}
    newer = sorted(others, key=lambda c: c.updated_at or _EPOCH, reverse=True)
    choose = dict(choose or {})
    names = [a.name for a in attrs.fields(type(survivor)) if a.init and a.name not in FIXED_FIELDS]
    for field, source in choose.items():
        if field not in names:
            raise ValidationError.single(
                f"choose.{field}", "value.choice", value=field, choices=", ".join(names)
            )
        if source not in by_id:
            raise ValidationError.single(f"choose.{field}", "merge.unknown_source", key=source)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in names:
        if field in choose:
            values[field] = getattr(by_id[choose[field]], field)
            sources[field] = choose[field]
        elif field in _JOINED:
            values[field] = _joined(field, everyone)
            sources[field] = ",".join(c.id for c in everyone if not _empty(getattr(c, field)))
        elif field == "notes":
            texts = list(dict.fromkeys(c.notes for c in everyone if c.notes))
            values[field] = "\n\n".join(texts)
            sources[field] = ",".join(c.id for c in everyone if c.notes)
        elif field == "customer_since":
            days = [(c.customer_since, c.id) for c in everyone if c.customer_since]
            values[field] = min(days)[0] if days else None
            if days:
                sources[field] = min(days)[1]
        else:
            pick = next((c for c in (survivor, *newer) if not _empty(getattr(c, field))), survivor)
            values[field] = getattr(pick, field)
            sources[field] = pick.id
    created = [c.created_at for c in everyone if c.created_at]
    merged_survivor = attrs.evolve(survivor, created_at=min(created) if created else None, **values)
    label = survivor.number or survivor.id
    merged = tuple(
        attrs.evolve(
            o,
            archived_at=o.archived_at or now,
            archive_reason=f"merged into {label}",
            merged_into=survivor.id,
        )
        for o in others
    )
    return MergePlan(
        survivor=merged_survivor,
        merged=merged,
        sources=sources,
        affiliations=_move_affiliations(survivor, others, list(affiliations)),
        entries=_move_entries(survivor, others, entries),
    )


def _move_affiliations(
    survivor: Contact, others: Sequence[Contact], affiliations: list[Affiliation]
) -> tuple[AffiliationChange, ...]:
    """Re-point the others' affiliations to the survivor; one link per counterpart.

    A link to a counterpart the survivor is linked to already is folded into
    that link (roles joined, empty position and department filled) and
    removed; a link between two of the merged contacts is removed.
    """
    gone = {o.id for o in others}

    def counterpart(a: Affiliation, contact_id: str) -> str:
        return a.company_id if a.person_id == contact_id else a.person_id

    involved = sorted(
        (a for a in affiliations if {a.person_id, a.company_id} & (gone | {survivor.id})),
        key=lambda a: (a.created_at or _EPOCH, a.id),
    )
    original: dict[str, Affiliation] = {a.id: a for a in involved}
    kept: dict[str, Affiliation] = {}  # counterpart id -> the survivor's link to it
    for a in involved:
        if survivor.id in (a.person_id, a.company_id):
            kept.setdefault(counterpart(a, survivor.id), a)
    after: dict[str, Affiliation | None] = {}
    for a in involved:
        owner = next((i for i in (a.person_id, a.company_id) if i in gone), None)
        if owner is None:
            continue
        other_side = counterpart(a, owner)
        if other_side in gone or other_side == survivor.id:
            after[a.id] = None
            continue
        target = kept.get(other_side)
        if target is None:
            moved = attrs.evolve(
                a,
                person_id=survivor.id if a.person_id == owner else a.person_id,
                company_id=survivor.id if a.company_id == owner else a.company_id,
            )
            kept[other_side] = after[a.id] = moved
            continue
        joined = attrs.evolve(
            target,
            roles=target.roles | a.roles,
            position=target.position or a.position,
            department=target.department or a.department,
        )
        kept[other_side] = joined
        if joined != original[target.id]:
            after[target.id] = joined
        after[a.id] = None
    return tuple(AffiliationChange(before=original[i], after=v) for i, v in after.items())


def _move_entries(
    survivor: Contact, others: Sequence[Contact], entries: Iterable[CorrespondenceEntry]
) -> tuple[EntryChange, ...]:
    gone = {o.id for o in others}
    out: list[EntryChange] = []
    for entry in entries:
        if not gone & set(entry.contact_ids):
            continue
        after = tuple(dict.fromkeys(survivor.id if i in gone else i for i in entry.contact_ids))
        out.append(EntryChange(entry_id=entry.id, before=entry.contact_ids, after=after))
    return tuple(out)


def _id(value: object) -> str:
    return _convert.identifier("id", value)


@attrs.frozen(kw_only=True)
class MergeRecord:
    """A stored merge: enough to show what came from where and to undo it.

    ``survivor_before`` and ``merged_before`` are the contacts as they were;
    ``survivor_after`` as the merge stored it; ``undone_at`` is set by
    ``crm.unmerge``.
    """

    id: str = attrs.field(factory=new_id, converter=_id)
    at: dt.datetime
    actor_id: str
    survivor_id: str
    survivor_before: Person | Company
    survivor_after: Person | Company
    merged_before: tuple[Person | Company, ...]
    sources: Mapping[str, str] = attrs.field(factory=dict)
    affiliations: tuple[AffiliationChange, ...] = ()
    entries: tuple[EntryChange, ...] = ()
    undone_at: dt.datetime | None = None
    undone_by: str | None = None

    @property
    def merged_ids(self) -> tuple[str, ...]:
        """The ids of the contacts merged into the survivor."""
        return tuple(c.id for c in self.merged_before)


def unmerged_fields(record: MergeRecord, current: Contact) -> dict[str, Any]:
    """The survivor's fields to restore on unmerge.

    A field the merge changed goes back to its earlier value, unless it was
    changed again since: a later edit is kept.
    """
    out: dict[str, Any] = {}
    before, after = record.survivor_before, record.survivor_after
    for a in attrs.fields(type(before)):
        if not a.init or a.name in FIXED_FIELDS - {"created_at"}:
            continue
        old, merged, now = (getattr(x, a.name) for x in (before, after, current))
        if old != merged and now == merged:
            out[a.name] = old
    return out


@attrs.frozen(kw_only=True)
class DedupDecision:
    """A user's decision that two contacts are not duplicates.

    ``key`` is :func:`crmkit.dedup.decision_key` of the pair as it was
    decided; it stops matching once either contact changes in a field the
    matching looks at, and the pair is proposed again.
    """

    id: str = attrs.field(factory=new_id, converter=_id)
    key: str
    left_id: str
    right_id: str
    at: dt.datetime
    actor_id: str


__all__ = [
    "FIXED_FIELDS",
    "AffiliationChange",
    "DedupDecision",
    "EntryChange",
    "MergePlan",
    "MergeRecord",
    "plan_merge",
    "unmerged_fields",
]
