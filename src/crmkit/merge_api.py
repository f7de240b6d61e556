"""``crm.merge`` and ``crm.unmerge``: write a :class:`crmkit.merge.MergePlan` and undo it.

A merge is one transaction: the survivor gets the merged values, the
others are archived with ``merged_into`` (so their ids and numbers still
lead to the survivor), affiliations and correspondence move, and a
:class:`crmkit.merge.MergeRecord` plus an audit record say what came from
where.  An unmerge restores the merged contacts, their links and their
correspondence, and gives the survivor back the values it had — except
those changed since the merge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.correspondence import EntryRevision, timeline_query
from crmkit.errors import ConflictError, NotFoundError, ValidationError
from crmkit.merge import EntryChange, MergePlan, MergeRecord, plan_merge, unmerged_fields
from crmkit.model import Affiliation, Company, Contact

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM


@attrs.frozen(kw_only=True)
class MergeResult:
    """What ``crm.merge`` did (or, with ``dry_run``, would do)."""

    plan: MergePlan
    record: MergeRecord | None = None
    dry_run: bool = False

    @property
    def survivor(self) -> Contact:
        """The survivor as stored (or as it would be stored)."""
        return self.plan.survivor


def _affiliations_of(crm: CRM, contact: Contact) -> list[Affiliation]:
    if isinstance(contact, Company):
        return crm.store.affiliations_of_company(contact.id)
    return crm.store.affiliations_of_person(contact.id)


def _entries_of(crm: CRM, ids: set[str]) -> list[Any]:
    return crm.store.timeline(timeline_query(ids))


def merge(
    crm: CRM,
    survivor: Contact | str,
    others: tuple[Contact | str, ...],
    *,
    choose: dict[str, str] | None,
    dry_run: bool,
) -> MergeResult:
    """See :meth:`crmkit.CRM.merge`."""
    with crm.transaction():
        head = crm._load(survivor, follow=False)
        rest = [crm._load(o, follow=False) for o in others]
        if isinstance(survivor, Contact) and survivor.version != head.version:
            raise ConflictError(
                kind="contact", key=head.number or head.id,
                expected=survivor.version, actual=head.version,
            )  # fmt: skip
        affs = {a.id: a for c in (head, *rest) for a in _affiliations_of(crm, c)}
        entries = _entries_of(crm, {c.id for c in (head, *rest)})
        choose_ids = {
            field: crm._load(ref, follow=False).id for field, ref in (choose or {}).items()
        }
        plan = plan_merge(head, rest, affiliations=affs.values(), entries=entries,
                          now=crm.now(), choose=choose_ids)  # fmt: skip
        if dry_run:
            return MergeResult(plan=plan, dry_run=True)
        stored = crm.store.update_contact(attrs.evolve(plan.survivor, updated_at=crm.now()))
        crm._record("merge", "contact", stored.id, head, stored,
                    reason="merged " + ", ".join(c.number or c.id for c in rest))  # fmt: skip
        for before, after in zip(rest, plan.merged, strict=True):
            saved = crm.store.update_contact(attrs.evolve(after, updated_at=crm.now()))
            crm._record("merge", "contact", saved.id, before, saved,
                        reason=f"merged into {stored.number}")  # fmt: skip
        _apply_affiliations(crm, plan)
        gone: set[str] = {c.id for c in rest}
        for change in plan.entries:
            _relink_entry(crm, change.entry_id, _merged_ids(head.id, gone), "merge")
        record = MergeRecord(
            at=crm.now(),
            actor_id=crm.actor.id,
            survivor_id=head.id,
            survivor_before=head,  # type: ignore[arg-type]
            survivor_after=stored,  # type: ignore[arg-type]
            merged_before=tuple(rest),  # type: ignore[arg-type]
            sources=plan.sources,
            affiliations=plan.affiliations,
            entries=plan.entries,
        )
        crm.store.add_merge(record)
        crm._emit("crmkit_on_contacts_merged", survivor=stored, merged_ids=record.merged_ids)
    return MergeResult(plan=attrs.evolve(plan, survivor=stored), record=record)


def _apply_affiliations(crm: CRM, plan: MergePlan) -> None:
    for change in plan.affiliations:
        before, after = change.before, change.after
        if before is None:
            continue
        current = crm.store.get_affiliation(before.id)
        if after is None:
            crm.store.delete_affiliation(before.id)
            crm._record("merge", "affiliation", before.id, current, None)
            continue
        saved = crm.store.update_affiliation(
            attrs.evolve(after, version=current.version, updated_at=crm.now())
        )
        crm._record("merge", "affiliation", saved.id, current, saved)


def _relink_entry(
    crm: CRM, entry_id: str, new_ids: Callable[[tuple[str, ...]], tuple[str, ...]], action: str
) -> None:
    """Store a revision of the entry with the contact ids *new_ids* makes of the current ones."""
    current = crm.store.get_entry(entry_id)
    ids = tuple(dict.fromkeys(new_ids(current.contact_ids)))
    if ids == current.contact_ids or not ids:
        return
    changed = attrs.evolve(current, contact_ids=ids, revision=current.revision + 1)
    reason = f"{action}: {', '.join(current.contact_ids)} → {', '.join(ids)}"
    crm.store.correct_entry(
        EntryRevision(entry=changed, at=crm.now(), actor_id=crm.actor.id,
                      actor_name=crm.actor.name, action=action, reason=reason)
    )  # fmt: skip


def _merged_ids(survivor_id: str, gone: set[str]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    return lambda ids: tuple(survivor_id if i in gone else i for i in ids)


def _unmerged_ids(
    survivor_id: str, change: EntryChange
) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    def restore(ids: tuple[str, ...]) -> tuple[str, ...]:
        if ids == change.after:
            return change.before
        # Changed since the merge: put the merged contacts back, keep later additions.
        kept = [i for i in ids if i != survivor_id or survivor_id in change.before]
        return tuple(kept + [i for i in change.before if i not in kept])

    return restore


def unmerge(crm: CRM, ref: MergeRecord | Contact | str) -> Contact:
    """See :meth:`crmkit.CRM.unmerge`."""
    with crm.transaction():
        record = _record_for(crm, ref)
        if record.undone_at is not None:
            raise ValidationError.single("merge", "merge.undone_already", key=record.id)
        try:
            current = crm.store.get_contact(record.survivor_id)
        except NotFoundError:
            raise ValidationError.single(
                "merge", "merge.survivor_gone", key=record.survivor_id
            ) from None
        restore = unmerged_fields(record, current)
        survivor = crm.store.update_contact(attrs.evolve(current, updated_at=crm.now(), **restore))
        crm._record("unmerge", "contact", survivor.id, current, survivor, reason=record.id)
        for before in record.merged_before:
            now_stored = crm.store.get_contact(before.id)
            back = crm.store.update_contact(
                attrs.evolve(before, version=now_stored.version, updated_at=crm.now())
            )
            crm._record("unmerge", "contact", back.id, now_stored, back, reason=record.id)
        for moved in reversed(record.affiliations):
            _undo_affiliation(crm, moved.before, moved.after)
        for entry in record.entries:
            _relink_entry(crm, entry.entry_id, _unmerged_ids(record.survivor_id, entry), "unmerge")
        crm.store.update_merge(attrs.evolve(record, undone_at=crm.now(), undone_by=crm.actor.id))
    return crm._show(survivor)


def _undo_affiliation(crm: CRM, before: Affiliation | None, after: Affiliation | None) -> None:
    if before is None:
        return
    try:
        current: Affiliation | None = crm.store.get_affiliation(before.id)
    except NotFoundError:
        current = None
    if current is None:
        crm.store.add_affiliation(attrs.evolve(before, version=0))
        return
    crm.store.update_affiliation(attrs.evolve(before, version=current.version))


def _record_for(crm: CRM, ref: MergeRecord | Contact | str) -> MergeRecord:
    if isinstance(ref, MergeRecord):
        return crm.store.get_merge(ref.id)
    if isinstance(ref, str):
        try:
            return crm.store.get_merge(ref)
        except NotFoundError:
            pass
    survivor = crm._load(ref, follow=False)
    open_merges = [m for m in crm.store.merges_of(survivor.id) if m.undone_at is None]
    if not open_merges:
        raise NotFoundError(kind="merge", key=survivor.number or survivor.id)
    return open_merges[-1]


__all__ = ["MergeResult", "merge", "unmerge"]
