"""One sync round between the CRM and one remote address book, provider-neutral.

A provider (``crmkit-m365`` …) implements :class:`RemoteBook` for one
mailbox's folder: read changes since a token, read one item, look up the
CRM number stored on an item, and apply a list of writes (which it may
batch).  :func:`run_round` does everything else, the same way for every
provider:

1. **Pull.**  The changes since the stored token are collapsed per item
   (replays and partial items are applied idempotently).  An item whose
   change key is the one stored in its link is our own echo and skipped.
   Every other item is merged field by field against the link's snapshot
   (:func:`crmkit.sync.merge`); an unknown item is linked again through the
   CRM number stored on it (lost local state, a push whose link was never
   written) or becomes a new CRM contact.  A removed item only unlinks the
   contact (status ``unlinked``, a worklist note); after a full listing
   (``RemoteChanges.full``) every linked item not seen counts as removed
   (mark and sweep).
2. **One CRM transaction** applies the pulled changes, tagged as coming
   from sync (``crm.sync.applying``), writes the links and stores the new
   token.
3. **Push, after the commit.**  Contacts changed in the CRM since their last
   sync, new contacts in scope (with an e-mail address; those without are
   skipped and reported), conflicts the user decided, and deletions: an
   erased contact, one that left the scope (objection, restriction,
   archive, filter) and one merged into a contact already linked lose
   their remote copy; a merged contact's copy moves to the survivor if it
   has none.  Each deletion is recorded in the audit trail.  A write
   refused because the item changed meanwhile (HTTP 412) is read again,
   merged again and retried a bounded number of times.

Whatever is killed in between, the next round converges: pulled changes
are applied once (their token is stored with them), a push whose link was
lost is found again through the CRM number on the item, and a CRM change
whose push failed is still newer than its link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

import attrs

from crmkit._reports import LinesReport, html_table
from crmkit.consent import objected
from crmkit.errors import CrmkitError, NotFoundError, ValidationError
from crmkit.messages import Lang
from crmkit.model import Contact, Person
from crmkit.store import SyncLinkStore, sync_link_store
from crmkit.sync import (
    CONTACT_LEVEL_FIELDS,
    DEFAULT_FIELD_TABLE,
    FieldConflict,
    FieldTable,
    MergeResult,
    Side,
    SyncFilter,
    SyncLink,
    SyncValue,
    apply_values,
    contact_values,
    failed,
    linked,
    merge,
    needs_push,
    snapshot_hash,
    unlinked,
)

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

#: Fields that live on a person's primary affiliation, not on the contact.
AFFILIATION_FIELDS: Final = ("company_name", "department", "job_title")


@attrs.frozen(kw_only=True)
class RemoteItem:
    """An item of the remote address book in neutral values.

    ``partial``: ``values`` holds only some fields (a delta page may send
    only the changed ones); the others are as last synced.
    """

    remote_id: str
    change_key: str | None = None
    values: Mapping[str, SyncValue] = attrs.field(factory=dict)
    modified: dt.datetime | None = None
    partial: bool = False


@attrs.frozen
class Removed:
    """An item deleted or moved out of the synced folder."""

    remote_id: str


@attrs.frozen(kw_only=True)
class RemoteChanges:
    """What changed remotely since a token, in order, and the token to store next.

    ``full``: the events list every current item (an initial round or a
    resync after an expired token), so linked items not in it are gone.
    """

    events: tuple[RemoteItem | Removed, ...] = ()
    token: str | None = None
    full: bool = False


OpKind = Literal["create", "update", "delete"]


@attrs.frozen(kw_only=True)
class RemoteOp:
    """One write to the remote side; ``key`` is the CRM contact id it is for."""

    kind: OpKind
    key: str
    remote_id: str | None = None
    change_key: str | None = None
    values: Mapping[str, SyncValue] = attrs.field(factory=dict)
    crm_number: str | None = None
    reason: str = ""
    #: A copy made by crmkit that belongs to no link (a duplicate): deleted, no link touched.
    stray: bool = False
    #: The CRM's values of every synced field (a provider may need the unchanged
    #: ones, e.g. to build a display name).
    current: Mapping[str, SyncValue] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class RemoteResult:
    """The outcome of a :class:`RemoteOp`.

    ``error`` is ``None`` on success, ``"conflict"`` when the item changed
    meanwhile (HTTP 412), ``"gone"`` when it no longer exists, or a short
    text (never a secret) for any other failure.
    """

    op: RemoteOp
    item: RemoteItem | None = None
    error: str | None = None


@runtime_checkable
class RemoteBook(Protocol):
    """One remote address book (a mailbox's folder) as :func:`run_round` uses it."""

    provider: str
    mailbox: str
    folder: str

    def changes(self, token: str | None) -> RemoteChanges:
        """Changes since *token* (``None``: a full listing); an expired token also
        gives a full listing (``full=True``)."""
        ...

    def get(self, remote_id: str) -> RemoteItem | None:
        """The full current item, or ``None`` if it is gone."""
        ...

    def crm_number(self, remote_id: str) -> str | None:
        """The CRM contact number stored on the item, if any."""
        ...

    def apply(self, ops: Sequence[RemoteOp]) -> list[RemoteResult]:
        """Run the writes (in any grouping) and report each one's outcome."""
        ...


@attrs.frozen(kw_only=True)
class SyncEvent:
    """One line of a :class:`SyncReport`: what happened to which contact."""

    what: str
    contact_number: str = ""
    contact_name: str = ""
    detail: str = ""


@attrs.define(kw_only=True)
class SyncReport(LinesReport):
    """The outcome of a sync round (``crmkit sync m365`` prints it)."""

    provider: str
    mailbox: str
    dry_run: bool = False
    created_crm: int = 0
    created_remote: int = 0
    updated_crm: int = 0
    updated_remote: int = 0
    unchanged: int = 0
    skipped_no_email: int = 0
    conflicts: int = 0
    errors: int = 0
    unlinked: int = 0
    relinked: int = 0
    deleted_remote: int = 0
    full_resync: bool = False
    events: list[SyncEvent] = attrs.field(factory=list)

    def counts(self) -> dict[str, int]:
        """The counters by name."""
        return {
            "created_crm": self.created_crm,
            "created_remote": self.created_remote,
            "updated_crm": self.updated_crm,
            "updated_remote": self.updated_remote,
            "unchanged": self.unchanged,
            "skipped_no_email": self.skipped_no_email,
            "conflicts": self.conflicts,
            "errors": self.errors,
            "unlinked": self.unlinked,
            "relinked": self.relinked,
            "deleted_remote": self.deleted_remote,
        }

    def summary(self, lang: Lang = "en") -> str:
        """One line: the counters (German with ``lang="de"``)."""
        labels = _LABELS_DE if lang == "de" else _LABELS_EN
        head = f"{self.provider} {self.mailbox}" + (" (dry run)" if self.dry_run else "")
        parts = [f"{labels[k]} {v}" for k, v in self.counts().items()]
        return head + ": " + ", ".join(parts)

    def lines(self, lang: Lang = "en") -> list[str]:
        """The summary, then one line per event."""
        return [self.summary(lang)] + [
            f"{e.what}: {e.contact_number} {e.contact_name} {e.detail}".rstrip()
            for e in self.events
        ]

    def _repr_html_(self) -> str:
        counts = html_table(["", "n"], [(k, v) for k, v in self.counts().items()],
                            caption=self.summary())  # fmt: skip
        events = html_table(
            ["what", "number", "name", "detail"],
            [(e.what, e.contact_number, e.contact_name, e.detail) for e in self.events],
        )
        return counts + (events if self.events else "")

    def _event(self, what: str, contact: Contact | None, detail: str = "") -> None:
        self.events.append(
            SyncEvent(
                what=what,
                contact_number=(contact.number or "") if contact else "",
                contact_name=contact.display_name if contact else "",
                detail=detail,
            )
        )


_LABELS_EN: Final = {
    "created_crm": "created in CRM", "created_remote": "created remotely",
    "updated_crm": "updated in CRM", "updated_remote": "updated remotely",
    "unchanged": "unchanged", "skipped_no_email": "skipped without e-mail",
    "conflicts": "conflicts", "errors": "errors", "unlinked": "unlinked",
    "relinked": "relinked", "deleted_remote": "deleted remotely",
}  # fmt: skip
_LABELS_DE: Final = {
    "created_crm": "im CRM angelegt", "created_remote": "entfernt angelegt",
    "updated_crm": "im CRM geändert", "updated_remote": "entfernt geändert",
    "unchanged": "unverändert", "skipped_no_email": "ohne E-Mail übersprungen",
    "conflicts": "Konflikte", "errors": "Fehler", "unlinked": "Verknüpfung gelöst",
    "relinked": "neu verknüpft", "deleted_remote": "entfernt gelöscht",
}  # fmt: skip


def token_key(folder: str) -> str:
    """The sync-state key of a folder's delta token."""
    return f"delta/{folder}"


# ------------------------------------------------------------------------------ the round


@attrs.define
class _Round:
    crm: CRM
    book: RemoteBook
    store: SyncLinkStore
    table: FieldTable
    where: SyncFilter
    dry_run: bool
    report: SyncReport
    now: dt.datetime
    progress: Callable[[str, int, int], None] | None = None
    objected: frozenset[str] = frozenset()

    def in_scope(self, contact: Contact) -> bool:
        """The filter holds, the contact is not restricted and did not object."""
        return (
            self.where.accepts(contact)
            and contact.restricted_at is None
            and contact.id not in self.objected
        )

    @property
    def provider(self) -> str:
        return self.book.provider

    @property
    def mailbox(self) -> str:
        return self.book.mailbox

    # -- CRM values --------------------------------------------------------------
    def primary_affiliation(self, contact: Contact) -> Any:
        if not isinstance(contact, Person):
            return None
        affs = self.crm.store.affiliations_of_person(contact.id)
        primary = [a for a in affs if a.primary] or affs[:1]
        return primary[0] if primary else None

    def crm_values(self, contact: Contact) -> dict[str, SyncValue]:
        aff = self.primary_affiliation(contact)
        company = None
        if aff is not None:
            try:
                company = self.crm.store.get_contact(aff.company_id).display_name
            except NotFoundError:  # pragma: no cover - dangling affiliation
                company = None
        return contact_values(
            contact,
            company_name=company,
            department=aff.department if aff is not None else None,
            job_title=aff.position if aff is not None else None,
        )

    def unmanaged(self, contact: Contact) -> frozenset[str]:
        """Fields the CRM cannot hold for *contact*: a person without an affiliation
        has no company, department or job title; the remote value stands."""
        if isinstance(contact, Person) and self.primary_affiliation(contact) is None:
            return frozenset(AFFILIATION_FIELDS)
        return frozenset()

    def merge_item(
        self,
        contact: Contact,
        base: Mapping[str, SyncValue] | None,
        remote: Mapping[str, SyncValue],
        remote_modified: dt.datetime | None,
    ) -> MergeResult:
        crm_side = self.crm_values(contact)
        for field in self.unmanaged(contact):
            crm_side[field] = remote.get(field)
        decisions: dict[str, Side] = {}
        if self.store.get_sync_state(self.provider, self.mailbox, f"decisions/{contact.id}"):
            decisions = self.crm.sync.decisions(contact, self.provider, self.mailbox)
            if not self.dry_run:  # applied in the same transaction as the merge's writes
                self.crm.sync.clear_decisions(contact, self.provider, self.mailbox)
        return merge(
            base,
            crm_side,
            remote,
            self.table,
            crm_changed_at=contact.updated_at,
            remote_changed_at=remote_modified,
            decisions=decisions,
        )

    # -- applying to the CRM (inside the round's transaction) -------------------
    def apply_to_crm(self, contact: Contact, result: MergeResult) -> tuple[Contact, MergeResult]:
        """Write ``result.to_crm``; fields that cannot be applied stay conflicts."""
        changes = dict(result.to_crm)
        if not changes:
            return contact, result
        pending: list[str] = []
        level = {k: v for k, v in changes.items() if k in CONTACT_LEVEL_FIELDS}
        stored = contact
        if level and not self.dry_run:
            stored = self.crm.contacts.update(apply_values(contact, level))
        aff_changes = {k: v for k, v in changes.items() if k in AFFILIATION_FIELDS}
        if aff_changes:
            aff = self.primary_affiliation(contact)
            if aff is None or "company_name" in aff_changes:
                pending.extend(k for k in aff_changes if aff is None or k == "company_name")
            if aff is not None:
                updates: dict[str, Any] = {}
                if "job_title" in aff_changes:
                    updates["position"] = aff_changes["job_title"]
                if "department" in aff_changes:
                    updates["department"] = aff_changes["department"]
                if updates and not self.dry_run:
                    self.crm.affiliations.update(attrs.evolve(aff, **updates))
                    stored = self.crm.store.get_contact(contact.id)
        if pending:
            snapshot = dict(result.snapshot)
            for field in pending:
                snapshot.pop(field, None)
            result = attrs.evolve(
                result,
                snapshot=snapshot,
                conflicts=(
                    *result.conflicts,
                    *(
                        _unapplied(field, result)
                        for field in pending
                        if field not in {c.field for c in result.conflicts}
                    ),
                ),
            )
        return stored, result

    def new_contact(self, item: RemoteItem) -> Contact | None:
        values = item.values
        emails = values.get("emails")
        if not emails:
            return None
        blank = Person(last_name=str(values.get("surname") or values.get("given_name") or "?"))
        level = {k: v for k, v in values.items() if k in CONTACT_LEVEL_FIELDS}
        if "surname" not in level or not level.get("surname"):
            level.pop("surname", None)
        contact = self.where.stamp(apply_values(blank, level))
        if not self.where.accepts(contact):
            return None  # e.g. the filter syncs companies only
        if self.dry_run:
            return contact
        return self.crm.contacts.add(contact)

    # -- links --------------------------------------------------------------------
    def put_link(self, link: SyncLink) -> None:
        if not self.dry_run:
            self.store.put_sync_link(link)

    def link_after(
        self,
        contact: Contact,
        remote_id: str,
        change_key: str | None,
        result: MergeResult,
        remote_modified: dt.datetime | None,
        *,
        crm_version: int | None = None,
    ) -> SyncLink:
        return linked(
            contact=contact,
            provider=self.provider,
            mailbox=self.mailbox,
            folder=self.book.folder,
            remote_id=remote_id,
            change_key=change_key,
            result=result,
            at=self.now,
            remote_modified=remote_modified,
            crm_version=crm_version,
        )

    def audit(self, action: str, contact_id: str, reason: str) -> None:
        if not self.dry_run:
            self.crm._record(action, "contact", contact_id, reason=reason)


def _unapplied(field: str, result: MergeResult) -> FieldConflict:
    """A remote change the CRM cannot take (a person's company): left to the user."""
    remote = result.to_crm.get(field)
    return FieldConflict(field=field, base=None, crm=None, remote=remote, policy="ask")


def _collapse(events: Iterable[RemoteItem | Removed]) -> dict[str, RemoteItem | Removed]:
    """The last state of each item; partial items merged into what came before."""
    out: dict[str, RemoteItem | Removed] = {}
    for event in events:
        before = out.get(event.remote_id)
        if isinstance(event, RemoteItem) and event.partial and isinstance(before, RemoteItem):
            event = attrs.evolve(
                event,
                values={**before.values, **event.values},
                partial=before.partial,
            )
        out.pop(event.remote_id, None)  # keep the order of the last event
        out[event.remote_id] = event
    return out


def run_round(
    crm: CRM,
    book: RemoteBook,
    *,
    table: FieldTable = DEFAULT_FIELD_TABLE,
    where: SyncFilter | None = None,
    dry_run: bool = False,
    max_attempts: int = 3,
    progress: Callable[[str, int, int], None] | None = None,
) -> SyncReport:
    """Run one sync round between *crm* and *book*; see the module docstring.

    :param table: who owns which field.
    :param where: which contacts sync (default: every person and company).
    :param dry_run: read both sides and report what would happen, change nothing.
    :param max_attempts: how often a write refused with 412 is merged again.
    :param progress: called with ``(phase, done, total)``.
    """
    store = sync_link_store(crm.store)
    report = SyncReport(provider=book.provider, mailbox=book.mailbox, dry_run=dry_run)
    r = _Round(
        crm=crm, book=book, store=store, table=table, where=where or SyncFilter(),
        dry_run=dry_run, report=report, now=crm.now(), progress=progress,
    )  # fmt: skip
    if r.where.exclude_objected:
        r.objected = frozenset(
            cid for cid in crm.store.consent_contacts() if objected(crm.store.consent_events(cid))
        )
    token = store.get_sync_state(book.provider, book.mailbox, token_key(book.folder))
    changes = book.changes(token)
    report.full_resync = changes.full
    latest = _collapse(changes.events)
    # Network reads before the transaction: CRM numbers of unknown items,
    # full items where a partial one meets a pending conflict.
    links = {rid: store.find_sync_link(book.provider, book.mailbox, rid) for rid in latest}
    numbers: dict[str, str | None] = {}
    for rid, state in latest.items():
        if not isinstance(state, RemoteItem):
            continue
        link = links[rid]
        if link is None:
            numbers[rid] = book.crm_number(rid)
        elif state.partial and link.status == "conflict":
            full = book.get(rid)
            if full is not None:
                latest[rid] = full
    ops: list[RemoteOp] = []
    handled: set[str] = set()
    with crm.transaction(), crm.sync.applying(book.provider):
        _pull(r, latest, links, numbers, handled, ops)
        if changes.full:
            _sweep(r, latest)
        _scan_crm(r, handled, ops)
        if not dry_run and changes.token is not None:
            store.put_sync_state(book.provider, book.mailbox, token_key(book.folder), changes.token)
    if not dry_run:
        _push(r, ops, max_attempts)
    else:
        for op in ops:
            _count_planned(r, op)
    return report


def _pull(
    r: _Round,
    latest: Mapping[str, RemoteItem | Removed],
    links: Mapping[str, SyncLink | None],
    numbers: Mapping[str, str | None],
    handled: set[str],
    ops: list[RemoteOp],
) -> None:
    crm, report = r.crm, r.report
    total = len(latest)
    for done, (rid, state) in enumerate(latest.items(), start=1):
        if r.progress is not None:
            r.progress("pull", done, total)
        link = links[rid]
        if isinstance(state, Removed):
            if link is not None and link.remote_id is not None and link.status != "erased":
                r.put_link(unlinked(link, at=r.now, reason="deleted"))
                report.unlinked += 1
                report._event("unlinked", _contact(crm, link.contact_id), "deleted remotely")
                handled.add(link.contact_id)
            continue
        item = state
        if link is not None and link.status == "erased":
            continue  # its remote copy is deleted below
        if link is None:
            contact, stray = _relink_target(r, numbers.get(rid))
            if stray:
                ops.append(
                    RemoteOp(kind="delete", key="", remote_id=rid, change_key=item.change_key,
                             reason="duplicate", stray=True)
                )  # fmt: skip
                continue
            if contact is None:
                created = r.new_contact(item)
                if created is None:
                    report._event("ignored", None, f"remote item without e-mail {rid[:12]}")
                    continue
                result = r.merge_item(created, None, item.values, item.modified)
                report.created_crm += 1
                report._event("created in CRM", created)
                if r.dry_run:
                    continue
                stored, result = r.apply_to_crm(created, result)
                _link_and_queue(r, stored, item, item.values, result, ops, tag=True)
                handled.add(stored.id)
                continue
            base = None
            report.relinked += 1
            report._event("relinked", contact)
            link = None
        else:
            if item.change_key is not None and item.change_key == link.change_key:
                continue  # our own echo
            try:
                contact = crm.store.get_contact(link.contact_id)
            except NotFoundError:
                continue
            base = link.snapshot
        if not r.in_scope(contact):
            continue  # out of scope: handled by the CRM scan
        remote = dict(base or {}) if item.partial else {}
        remote.update(item.values)
        try:
            result = r.merge_item(contact, base, remote, item.modified)
            stored, result = r.apply_to_crm(contact, result)
        except ValidationError as exc:
            _failed_in_tx(r, contact, item.remote_id, exc.message("en"))
            handled.add(contact.id)
            continue
        if result.to_crm:
            report.updated_crm += 1
            report._event("updated in CRM", stored, ", ".join(sorted(result.to_crm)))
        elif not result.to_remote:
            report.unchanged += 1
        _note_conflicts(r, stored, result)
        _link_and_queue(r, stored, item, remote, result, ops)
        handled.add(stored.id)


def _relink_target(r: _Round, number: str | None) -> tuple[Contact | None, bool]:
    """The contact an unknown item carrying CRM *number* belongs to, and whether the
    item is a stray copy of ours (the contact is linked to another item, or gone)."""
    if not number:
        return None, False
    try:
        contact = r.crm.store.get_contact_by_number(number)
    except (NotFoundError, CrmkitError):
        return None, True  # erased or deleted in the CRM: never import it again
    existing = r.store.get_sync_link(contact.id, r.provider, r.mailbox)
    if existing is not None and existing.remote_id is not None:
        return None, True  # e.g. a create that landed after its process died
    return contact, False


def _note_conflicts(r: _Round, contact: Contact, result: MergeResult) -> None:
    if result.conflicts:
        r.report.conflicts += len(result.pending)
        for c in result.conflicts:
            how = c.resolved or "ask"
            r.report._event("conflict", contact, f"{c.field} ({c.policy}: {how})")


def _link_and_queue(
    r: _Round,
    contact: Contact,
    item: RemoteItem,
    remote: Mapping[str, SyncValue],
    result: MergeResult,
    ops: list[RemoteOp],
    *,
    tag: bool = False,
) -> None:
    """Store the link after a pull; queue the push of ``result.to_remote``.

    With a push pending, the link keeps the remote values as its snapshot for
    those fields and the old CRM version, so a round killed before the push
    still sees the CRM change as newer than the link.
    """
    old = r.store.get_sync_link(contact.id, r.provider, r.mailbox)
    if result.to_remote:
        snapshot = dict(result.snapshot)
        for field in result.to_remote:
            snapshot[field] = remote.get(field)
        pending_result = attrs.evolve(result, snapshot=snapshot)
        version = old.crm_version if old is not None else 0
        r.put_link(
            r.link_after(
                contact,
                item.remote_id,
                item.change_key,
                pending_result,
                item.modified,
                crm_version=version,
            )
        )
        ops.append(
            RemoteOp(
                kind="update",
                key=contact.id,
                remote_id=item.remote_id,
                change_key=item.change_key,
                values=dict(result.to_remote),
                crm_number=contact.number,
                current={**remote, **result.to_remote},
            )
        )
        return
    r.put_link(r.link_after(contact, item.remote_id, item.change_key, result, item.modified))
    if tag:
        # A contact created from a remote item: store its CRM number on the item.
        ops.append(
            RemoteOp(kind="update", key=contact.id, remote_id=item.remote_id,
                     change_key=item.change_key, values={}, crm_number=contact.number)
        )  # fmt: skip


def _sweep(r: _Round, latest: Mapping[str, RemoteItem | Removed]) -> None:
    """After a full listing: linked items not listed were deleted while the token was dead."""
    for link in r.store.sync_links(provider=r.provider, mailbox=r.mailbox):
        if link.remote_id is None or link.status == "erased" or link.remote_id in latest:
            continue
        r.put_link(unlinked(link, at=r.now, reason="deleted"))
        r.report.unlinked += 1
        r.report._event("unlinked", _contact(r.crm, link.contact_id), "not listed any more")


def _scan_crm(r: _Round, handled: set[str], ops: list[RemoteOp]) -> None:
    """Queue pushes for CRM-side changes, new contacts, decisions and deletions."""
    crm, store, report = r.crm, r.store, r.report
    links = {link.contact_id: link for link in store.sync_links(provider=r.provider,
                                                                 mailbox=r.mailbox)}  # fmt: skip
    for erased in links.values():
        if erased.status == "erased" and erased.remote_id is not None:
            ops.append(RemoteOp(kind="delete", key=erased.contact_id, remote_id=erased.remote_id,
                                change_key=erased.change_key, reason="erased"))  # fmt: skip
    contacts = list(crm.store.iter_contacts())
    # Merged contacts first: a copy may move to its survivor before the
    # survivor is looked at (it must not get a second copy).
    for contact in contacts:
        link = links.get(contact.id)
        if contact.merged_into is not None and link is not None and link.remote_id is not None:
            if contact.id not in handled:
                _leave_scope(r, contact, link, links, ops)
            handled.add(contact.id)
    total = len(contacts)
    for done, contact in enumerate(contacts, start=1):
        if r.progress is not None:
            r.progress("scan", done, total)
        if contact.id in handled:
            continue
        link = links.get(contact.id)
        active = link is not None and link.remote_id is not None
        in_scope = r.in_scope(contact)
        if not in_scope:
            if active:
                assert link is not None
                _leave_scope(r, contact, link, links, ops)
            continue
        if link is not None and link.status == "unlinked":
            continue  # deleted remotely: the user decides (crm.sync.forget pushes it again)
        if not active:
            if not contact.emails:
                report.skipped_no_email += 1
                if link is None or link.status != "skipped_no_email":
                    r.put_link(SyncLink(contact_id=contact.id, provider=r.provider,
                                        mailbox=r.mailbox, folder=r.book.folder,
                                        status="skipped_no_email", last_synced=r.now))  # fmt: skip
                continue
            values = {k: v for k, v in r.crm_values(contact).items() if k in r.table.to_remote()}
            ops.append(RemoteOp(kind="create", key=contact.id, values=values,
                                crm_number=contact.number, current=values))  # fmt: skip
            continue
        assert link is not None
        decided = store.get_sync_state(r.provider, r.mailbox, f"decisions/{contact.id}")
        if link.status in ("conflict", "error") or decided:
            ops.append(RemoteOp(kind="update", key=contact.id, remote_id=link.remote_id,
                                change_key=None, values={}, crm_number=contact.number))  # fmt: skip
        elif needs_push(link, contact):
            result = r.merge_item(contact, link.snapshot, link.snapshot, link.remote_modified)
            if result.to_remote:
                ops.append(RemoteOp(kind="update", key=contact.id, remote_id=link.remote_id,
                                    change_key=link.change_key, values=dict(result.to_remote),
                                    crm_number=contact.number,
                                    current={**link.snapshot, **result.to_remote}))  # fmt: skip
            else:
                r.put_link(attrs.evolve(link, crm_version=contact.version))
                report.unchanged += 1


def _leave_scope(
    r: _Round,
    contact: Contact,
    link: SyncLink,
    links: dict[str, SyncLink],
    ops: list[RemoteOp],
) -> None:
    """A linked contact left the scope: merged (relink or delete), or gone otherwise."""
    survivor_id = contact.merged_into
    held = links.get(survivor_id) if survivor_id is not None else None
    if survivor_id is not None and (held is None or held.remote_id is None):
        try:
            survivor = r.crm.store.get_contact(survivor_id)
        except NotFoundError:
            survivor = None
        if survivor is not None and r.in_scope(survivor):
            moved = attrs.evolve(link, contact_id=survivor.id, crm_version=0)
            links[survivor.id] = moved
            if not r.dry_run:
                r.store.delete_sync_link(contact.id, r.provider, r.mailbox)
                r.store.put_sync_link(moved)
            r.audit("sync_relink", survivor.id,
                    f"{r.provider} {r.mailbox}: the copy of merged {contact.number} "
                    f"now belongs to {survivor.number}")  # fmt: skip
            r.report.relinked += 1
            r.report._event("relinked", survivor, f"from merged {contact.number}")
            return
    why = (
        "merged"
        if survivor_id is not None
        else "restricted"
        if contact.restricted_at is not None
        else "objection"
        if contact.id in r.objected
        else "archived"
        if contact.archived_at is not None
        else "out of scope"
    )
    ops.append(
        RemoteOp(kind="delete", key=contact.id, remote_id=link.remote_id,
                 change_key=link.change_key, reason=why)
    )  # fmt: skip


def _contact(crm: CRM, contact_id: str) -> Contact | None:
    try:
        return crm.store.get_contact(contact_id)
    except NotFoundError:
        return None


def _count_planned(r: _Round, op: RemoteOp) -> None:
    report = r.report
    contact = _contact(r.crm, op.key)
    if op.kind == "create":
        report.created_remote += 1
        report._event("would create remotely", contact)
    elif op.kind == "delete":
        report.deleted_remote += 1
        report._event("would delete remotely", contact, op.reason or "erased")
    elif op.values:
        report.updated_remote += 1
        report._event("would update remotely", contact, ", ".join(sorted(op.values)))


# ------------------------------------------------------------------------------ pushing


def _push(r: _Round, ops: list[RemoteOp], max_attempts: int) -> None:
    crm, store, report, book = r.crm, r.store, r.report, r.book
    # Updates of conflict/decided links (no change key) need the current item first.
    ready: list[RemoteOp] = []
    for op in ops:
        if op.kind == "update" and op.change_key is None and op.remote_id is not None:
            follow = _remerge(r, op)
            if follow is not None:
                ready.append(follow)
        else:
            ready.append(op)
    attempt = 0
    while ready and attempt < max_attempts:
        attempt += 1
        results = book.apply(ready)
        ready = []
        for done, res in enumerate(results, start=1):
            if r.progress is not None:
                r.progress("push", done, len(results))
            op = res.op
            contact = _contact(crm, op.key)
            if res.error is None:
                _pushed(r, op, res.item, contact)
            elif res.error == "conflict" and op.kind != "create" and attempt < max_attempts:
                follow = _remerge(r, op)
                if follow is not None:
                    ready.append(follow)
            elif res.error == "gone" and op.kind == "delete":
                _pushed(r, op, None, contact)
            elif res.error == "gone":
                link = store.get_sync_link(op.key, r.provider, r.mailbox)
                if link is not None:
                    with crm.transaction():
                        store.put_sync_link(unlinked(link, at=r.now, reason="deleted"))
                    report.unlinked += 1
                    report._event("unlinked", contact, "deleted remotely")
            else:
                _failed(r, op, contact, res.error)
    for op in ready:  # still conflicting after max_attempts
        _failed(r, op, _contact(crm, op.key), "the remote item kept changing (412)")


def _failed(r: _Round, op: RemoteOp, contact: Contact | None, error: str) -> None:
    r.report.errors += 1
    r.report._event("error", contact, error)
    link = r.store.get_sync_link(op.key, r.provider, r.mailbox)
    if contact is None and link is None:
        return
    base = link or SyncLink(contact_id=op.key, provider=r.provider, mailbox=r.mailbox,
                            folder=r.book.folder)  # fmt: skip
    with r.crm.transaction():
        r.store.put_sync_link(failed(base, error=error, at=r.now))


def _failed_in_tx(r: _Round, contact: Contact, remote_id: str, error: str) -> None:
    """A pulled item that cannot be applied (invalid data): the link shows the error."""
    r.report.errors += 1
    r.report._event("error", contact, error)
    link = r.store.get_sync_link(contact.id, r.provider, r.mailbox) or SyncLink(
        contact_id=contact.id, provider=r.provider, mailbox=r.mailbox, folder=r.book.folder,
        remote_id=remote_id,
    )  # fmt: skip
    r.put_link(failed(link, error=error, at=r.now))


def _remerge(r: _Round, op: RemoteOp) -> RemoteOp | None:
    """Read the item again and merge again (after 412, or for a decided conflict)."""
    crm, store = r.crm, r.store
    assert op.remote_id is not None
    if op.kind == "delete":
        item = r.book.get(op.remote_id)
        if item is None:
            return None
        return attrs.evolve(op, change_key=item.change_key)
    link = store.get_sync_link(op.key, r.provider, r.mailbox)
    contact = _contact(crm, op.key)
    if link is None or contact is None:
        return None
    item = r.book.get(op.remote_id)
    if item is None:
        with crm.transaction():
            store.put_sync_link(unlinked(link, at=r.now, reason="deleted"))
        r.report.unlinked += 1
        r.report._event("unlinked", contact, "deleted remotely")
        return None
    ops: list[RemoteOp] = []
    with crm.transaction(), crm.sync.applying(r.provider):
        try:
            result = r.merge_item(contact, link.snapshot, item.values, item.modified)
            stored, result = r.apply_to_crm(contact, result)
        except ValidationError as exc:
            _failed_in_tx(r, contact, item.remote_id, exc.message("en"))
            return None
        if result.to_crm:
            r.report.updated_crm += 1
            r.report._event("updated in CRM", stored, ", ".join(sorted(result.to_crm)))
        _note_conflicts(r, stored, result)
        if store.get_sync_state(r.provider, r.mailbox, f"decisions/{contact.id}"):
            crm.sync.clear_decisions(contact, r.provider, r.mailbox)
        _link_and_queue(r, stored, item, item.values, result, ops)
    if ops and ops[0].values:
        return ops[0]
    return None


def _pushed(r: _Round, op: RemoteOp, item: RemoteItem | None, contact: Contact | None) -> None:
    crm, store, report = r.crm, r.store, r.report
    if op.stray:
        report.deleted_remote += 1
        report._event("deleted remotely", contact, f"duplicate copy {op.remote_id}")
        return
    if op.kind == "delete":
        with crm.transaction():
            store.delete_sync_link(op.key, r.provider, r.mailbox)
            reason = op.reason or "erased"
            r.audit(
                "sync_delete_remote",
                op.key,
                f"{r.provider} {r.mailbox}: remote copy {op.remote_id} deleted ({reason})",
            )
        report.deleted_remote += 1
        report._event("deleted remotely", contact, op.reason or "erased")
        return
    if contact is None or item is None:
        return
    link = store.get_sync_link(op.key, r.provider, r.mailbox)
    base = dict(link.snapshot) if link is not None and link.remote_id is not None else {}
    base.update(op.values)
    if op.kind == "create":
        base = dict(op.values)
        report.created_remote += 1
        report._event("created remotely", contact)
    elif op.values:
        report.updated_remote += 1
        report._event("updated remotely", contact, ", ".join(sorted(op.values)))
    pending = link.conflicts if link is not None and op.kind == "update" else ()
    new = SyncLink(
        contact_id=contact.id,
        provider=r.provider,
        mailbox=r.mailbox,
        folder=r.book.folder,
        remote_id=item.remote_id,
        change_key=item.change_key,
        snapshot=base,
        snapshot_hash=snapshot_hash(base),
        crm_version=contact.version,
        remote_modified=item.modified,
        last_synced=r.now,
        status="conflict" if pending else "ok",
        conflicts=pending,
    )
    with crm.transaction():
        store.put_sync_link(new)


__all__ = [
    "AFFILIATION_FIELDS",
    "RemoteBook",
    "RemoteChanges",
    "RemoteItem",
    "RemoteOp",
    "RemoteResult",
    "Removed",
    "SyncEvent",
    "SyncReport",
    "run_round",
    "token_key",
]
