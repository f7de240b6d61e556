"""The storage port: what every backend must do.

A store keeps contacts and affiliations.  It allocates contact numbers
(``C00001``, ``C00002`` … never reused), checks the ``version`` of every
update (a stale write raises :class:`crmkit.ConflictError`) and offers a
transaction that is all or nothing.  It does not validate business rules and
does not read the clock: the facade stamps ``created_at``/``updated_at``.

Backends are plugins registered through ``crmkit_register_stores``; each one
passes the contract suite in :mod:`crmkit.testing`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Final, NamedTuple, Protocol, runtime_checkable

from crmkit import search
from crmkit.audit import AuditRecord
from crmkit.auth import RowScope
from crmkit.bounce import Bounce
from crmkit.consent import ConsentEvent
from crmkit.correspondence import CorrespondenceEntry, EntryRevision, TimelineQuery
from crmkit.errors import ConflictError, StoreError, ValidationError
from crmkit.ids import AffiliationId, ContactId
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.model import Affiliation, Company, Contact, Person
from crmkit.privacy import PrivacyRequest, Tombstone
from crmkit.retention import LegalHold
from crmkit.search import Query
from crmkit.segments import Segment, SegmentContext
from crmkit.serialize import to_dict
from crmkit.summary import ContactSummary, SummaryFilter
from crmkit.sync import SyncLink
from crmkit.validation import format_contact_number

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

#: Capabilities a backend may declare (``Store.capabilities``).
CAPABILITIES: Final[frozenset[str]] = frozenset(
    {
        "persistent",  # data survives close/open
        "concurrent",  # safe to share between threads
        "fulltext",  # search is backed by a full-text index
        "bulk_prepared",  # add_prepared(): bulk loads of PreparedContact rows
        "bulk_load",  # bulk_load(): a context manager around a large load, for faster writes
        "segments",  # segment_ids(): segments evaluated in the store (SegmentStore)
        "records",  # put_record() & co.: segments, campaigns, revenue, snapshots (RecordStore)
        "sync_links",  # the SyncLinkStore methods: links and state of contact sync
    }
)


class PreparedContact(NamedTuple):
    """A validated contact in a store-independent, picklable form for bulk loads.

    Made only by :func:`prepare_contact` — typically in the worker processes
    that validate an import, so the single writing process need not
    serialise the contacts or derive their search keys.  A store with the
    ``bulk_prepared`` capability writes these with ``add_prepared``.
    """

    id: str
    number: str | None
    kind: str
    archived: bool
    owner: str | None
    #: Compact JSON of :func:`crmkit.serialize.to_dict` without ``number`` and ``version``.
    data: str
    #: ``(address_lower, domain)`` of each e-mail address (:func:`crmkit.search.email_keys`).
    emails: tuple[tuple[str, str], ...]
    #: E.164 numbers of the phones.
    phones: tuple[str, ...]
    #: Folded name words (:func:`crmkit.search.name_words`).
    words: tuple[str, ...]
    #: Switchboard stems (:func:`crmkit.search.switchboard_stem`), companies only.
    stems: tuple[str, ...]
    #: The status of the contact's lead information, ``None`` if it is not a lead.
    lead_status: str | None = None
    #: True while processing is restricted (``restricted_at`` is set).
    restricted: bool = False


#: ``json.dumps(…, ensure_ascii=False, separators=(",", ":"))``, built once
#: (``json.dumps`` builds a new encoder for every call with options).
_COMPACT_JSON: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def prepare_contact(contact: Contact) -> PreparedContact:
    """The :class:`PreparedContact` of a validated *contact* (number kept if it has one)."""
    if not isinstance(contact, (Person, Company)):
        raise ValidationError.single(
            "contact", "value.type", expected="Person or Company", actual=type(contact).__name__
        )
    data = to_dict(contact)
    del data["number"], data["version"]
    return PreparedContact(
        id=contact.id,
        number=contact.number,
        kind=contact.kind,
        archived=contact.archived_at is not None,
        owner=contact.owner,
        data=_COMPACT_JSON.encode(data),
        emails=tuple(
            (address, e.domain.lower())
            for address, e in zip(search.email_keys(contact), contact.emails, strict=True)
        ),
        phones=tuple(p.e164 for p in contact.phones),
        words=search.name_words(contact),
        stems=tuple(
            stem
            for p in (contact.phones if isinstance(contact, Company) else ())
            if (stem := search.switchboard_stem(p.e164))
        ),
        lead_status=contact.lead.status if contact.lead is not None else None,
        restricted=contact.restricted_at is not None,
    )


def check_version(kind: str, key: str, given: int, stored: int) -> None:
    """Raise :class:`crmkit.ConflictError` unless *given* is the *stored* version.

    Every backend calls this before an update, so stale writes read the same
    everywhere.
    """
    if given != stored:
        raise ConflictError(kind=kind, key=key, expected=given, actual=stored)


def check_contact_update(contact: Contact, stored_version: int, stored_kind: str) -> None:
    """The checks every backend makes before replacing a stored contact.

    A stale version raises :class:`crmkit.ConflictError`; a person cannot
    become a company or the other way round (:class:`crmkit.ValidationError`).
    """
    check_version("contact", contact.number or contact.id, contact.version, stored_version)
    if stored_kind != contact.kind:
        raise ValidationError.single(
            "kind",
            "value.invalid",
            value=contact.kind,
            reason=f"the stored contact is a {stored_kind}",
        )


def check_entry_revision(revision: EntryRevision, stored_revision: int | None) -> None:
    """The checks every backend makes before storing a revision of a correspondence entry.

    A new entry (*stored_revision* ``None``) must be revision 1; a correction
    must be exactly one more than the stored revision, otherwise someone else
    corrected it in between (:class:`crmkit.ConflictError`).
    """
    entry = revision.entry
    expected = 0 if stored_revision is None else stored_revision
    if entry.revision != expected + 1:
        raise ConflictError(
            kind="correspondence entry",
            key=entry.id,
            expected=entry.revision - 1,
            actual=expected,
        )


def format_number(n: int) -> str:
    """The contact number for sequence value *n*: ``C00001`` (at least 5 digits)."""
    return format_contact_number(n)


@runtime_checkable
class Store(Protocol):
    """The storage port.  All methods raise only :class:`crmkit.CrmkitError` subclasses."""

    #: The URL the store was opened with (credentials removed).
    url: str
    #: Optional features this backend offers (see :data:`CAPABILITIES`).
    capabilities: frozenset[str]

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside the block commit together or not at all.

        Nested blocks join the outermost one.  An exception inside rolls back
        everything since the outermost block began and propagates.
        """
        ...

    def add_contact(self, contact: Contact) -> Contact:
        """Store a new contact; allocate its number if it has none; return it with version 1.

        Raises :class:`~crmkit.ConflictError` (code ``exists``) if the id or
        number is taken.
        """
        ...

    def add_contacts(self, contacts: Iterable[Contact]) -> list[Contact]:
        """Store many new contacts in one transaction (see :meth:`add_contact`)."""
        ...

    def get_contact(self, contact_id: str, *, scope: RowScope | None = None) -> Contact:
        """The contact with this id; :class:`~crmkit.NotFoundError` if there is none.

        With a *scope*, a contact outside it is reported as not found (its
        existence is not revealed).  The same holds for every read below.
        """
        ...

    def get_contact_by_number(self, number: str, *, scope: RowScope | None = None) -> Contact:
        """The contact with this number (``C00001``); :class:`~crmkit.NotFoundError` if none."""
        ...

    def update_contact(self, contact: Contact) -> Contact:
        """Replace the stored contact; *contact.version* must equal the stored version.

        Returns the stored contact with ``version`` increased by one.  A stale
        version raises :class:`~crmkit.ConflictError`; the number cannot change.
        """
        ...

    def delete_contact(self, contact_id: str) -> None:
        """Remove a contact and its affiliations; :class:`~crmkit.NotFoundError` if absent.

        A contact that correspondence entries name is not removed
        (:class:`~crmkit.ConflictError`, code ``store.contact_has_correspondence``):
        history goes only through the erasure path.
        """
        ...

    def iter_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> Iterator[Contact]:
        """Every contact (within *scope*), ordered by number."""
        ...

    def count_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> int:
        """How many contacts there are."""
        ...

    def add_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """Store a new affiliation (version 1).

        Both contacts must exist (:class:`~crmkit.NotFoundError`), the person
        must be a person and the company a company
        (:class:`~crmkit.ValidationError`), and the id must be new
        (:class:`~crmkit.ConflictError`).
        """
        ...

    def get_affiliation(self, affiliation_id: str, *, scope: RowScope | None = None) -> Affiliation:
        """The affiliation with this id; :class:`~crmkit.NotFoundError` if there is none.

        Within a *scope*, an affiliation is visible when its person or its
        company is.
        """
        ...

    def update_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """Replace a stored affiliation, checking ``version`` like :meth:`update_contact`."""
        ...

    def delete_affiliation(self, affiliation_id: str) -> None:
        """Remove an affiliation; :class:`~crmkit.NotFoundError` if absent."""
        ...

    def affiliations_of_person(
        self, person_id: str, *, scope: RowScope | None = None
    ) -> list[Affiliation]:
        """The affiliations of a person, primary first, then by creation."""
        ...

    def affiliations_of_company(
        self, company_id: str, *, scope: RowScope | None = None
    ) -> list[Affiliation]:
        """The affiliations of a company, primary first, then by creation."""
        ...

    def search(self, query: Query, *, scope: RowScope | None = None) -> list[Contact]:
        """The contacts matching *query*, ranked and limited as :func:`crmkit.search.select` does.

        A backend finds candidates with its own indexes (never a full scan for
        the exact modes) and must return exactly what
        ``crmkit.search.select(all_contacts, query)`` would.
        """
        ...

    def find_by_phone(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """Contacts that have exactly this E.164 number (archived ones included)."""
        ...

    def find_switchboards(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """Companies with a switchboard number (ending in 0) whose stem starts *e164*.

        See :func:`crmkit.search.switchboard_stem`; archived ones included.
        """
        ...

    def add_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """Store a new correspondence entry (``revision.entry``, revision 1) and its first revision.

        Every contact it names must exist (:class:`~crmkit.NotFoundError`); the
        id and a ``source`` must be new (:class:`~crmkit.ConflictError`, code
        ``exists``).
        """
        ...

    def correct_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """Store a new revision of an entry; ``revision.entry.revision`` must be the stored one + 1.

        The earlier revisions stay; a stale revision raises
        :class:`~crmkit.ConflictError`.  See :func:`check_entry_revision`.
        """
        ...

    def delete_entry(self, entry_id: str) -> None:
        """Remove an entry with all its revisions; :class:`~crmkit.NotFoundError` if absent.

        Not an everyday edit: the facade offers no delete.  Only the erasure
        path (and resetting a demo store) calls this.
        """
        ...

    def get_entry(self, entry_id: str, *, scope: RowScope | None = None) -> CorrespondenceEntry:
        """The current revision of an entry; :class:`~crmkit.NotFoundError` if there is none.

        Within a *scope*, an entry is visible when one of its contacts is.
        """
        ...

    def find_entry_by_source(self, source: str) -> CorrespondenceEntry | None:
        """The entry an importer stored under *source* (``email:<Message-ID>`` …), if any."""
        ...

    def entry_revisions(self, entry_id: str) -> list[EntryRevision]:
        """Every revision of an entry, oldest first; :class:`~crmkit.NotFoundError` if none."""
        ...

    def timeline(self, query: TimelineQuery) -> list[CorrespondenceEntry]:
        """Entries of ``query.contact_ids``: exactly ``select_entries(all_entries, query)``.

        See :func:`crmkit.correspondence.select_entries`; a backend finds
        candidates through its indexes (text through a full-text index where
        it has one) and never by reading every entry.
        """
        ...

    def open_follow_ups(
        self,
        *,
        due_by: dt.date | None = None,
        assignee: str | None = None,
        scope: RowScope | None = None,
    ) -> list[CorrespondenceEntry]:
        """Entries with an open follow-up: exactly what
        :func:`crmkit.correspondence.select_follow_ups` gives over all visible entries."""
        ...

    def summaries(
        self,
        where: SummaryFilter,
        *,
        scope: RowScope | None = None,
        limit: int | None = None,
    ) -> Iterator[ContactSummary]:
        """Summaries of the contacts that pass *where* (within *scope*), by number.

        Exactly the contacts :func:`crmkit.summary.matches` accepts, as
        :func:`crmkit.summary.summarize` describes them; with
        ``where.sample_seed`` in the order of :func:`crmkit.summary.sample_key`.
        A backend evaluates the filter in its own query language, without
        loading every contact.
        """
        ...

    def add_bounce(self, bounce: Bounce) -> Bounce:
        """Store a new bounce (version 1); the id must be new (:class:`~crmkit.ConflictError`)."""
        ...

    def update_bounce(self, bounce: Bounce) -> Bounce:
        """Replace a stored bounce, checking ``version`` like :meth:`update_contact`."""
        ...

    def get_bounce(self, bounce_id: str) -> Bounce:
        """The bounce with this id; :class:`~crmkit.NotFoundError` if there is none."""
        ...

    def iter_bounces(
        self, *, processed: bool | None = None, address: str | None = None
    ) -> Iterator[Bounce]:
        """Bounces, oldest first (by ``at``, then id); filtered by state and address."""
        ...

    def add_merge(self, record: MergeRecord) -> None:
        """Keep the record of a merge (the id must be new: :class:`~crmkit.ConflictError`)."""
        ...

    def update_merge(self, record: MergeRecord) -> None:
        """Replace a stored merge record (to mark it undone); :class:`~crmkit.NotFoundError`."""
        ...

    def get_merge(self, merge_id: str) -> MergeRecord:
        """The merge record with this id; :class:`~crmkit.NotFoundError` if there is none."""
        ...

    def merges_of(self, survivor_id: str) -> list[MergeRecord]:
        """The merges into this survivor, oldest first (undone ones included)."""
        ...

    def add_dedup_decision(self, decision: DedupDecision) -> None:
        """Remember that two contacts are not duplicates (:class:`crmkit.merge.DedupDecision`)."""
        ...

    def dedup_decisions(self) -> list[DedupDecision]:
        """Every stored "not a duplicate" decision, oldest first."""
        ...

    def append_consent_event(self, event: ConsentEvent) -> None:
        """Append an event to the consent ledger (append-only; a repeated id is a conflict).

        The contact must exist (:class:`~crmkit.NotFoundError`).
        """
        ...

    def consent_events(self, contact_id: str, *, purpose: str | None = None) -> list[ConsentEvent]:
        """A contact's consent events (of one purpose, if given), by ``at``, then as appended."""
        ...

    def consent_contacts(self) -> list[str]:
        """The ids of every contact with at least one consent event."""
        ...

    def add_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """Store a new data-subject request (version 1; a repeated id is a conflict)."""
        ...

    def update_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """Replace a stored request, checking ``version`` like :meth:`update_contact`."""
        ...

    def get_privacy_request(self, request_id: str) -> PrivacyRequest:
        """The request with this id; :class:`~crmkit.NotFoundError` if there is none."""
        ...

    def iter_privacy_requests(self, *, status: str | None = None) -> list[PrivacyRequest]:
        """Requests (of one status, if given), by received day, then as added."""
        ...

    def put_legal_hold(self, hold: LegalHold) -> None:
        """Store a legal hold, or replace the one with its id (to lift it)."""
        ...

    def legal_holds(self, *, contact_id: str | None = None) -> list[LegalHold]:
        """Legal holds (of one contact, if given), oldest first."""
        ...

    def erase_contact(
        self, contact_id: str, tombstone: Tombstone, *, scrub: Collection[str] = ()
    ) -> None:
        """Remove a contact and every trace of its personal data; keep *tombstone*.

        Deletes the correspondence entries that name only this contact (with
        their revisions and full-text rows), its consent events, legal holds,
        the bounces naming it, the merge records it takes part in, its
        affiliations and lookup rows, and the contact; blanks the old and new
        values of the audit records about *contact_id* and the ids in
        *scrub*, and the requester text of its privacy requests; stores the
        tombstone.  An entry that still names other contacts is a
        :class:`~crmkit.ConflictError` (unlink it first).  One transaction.
        """
        ...

    def tombstones(self) -> list[Tombstone]:
        """The tombstones of erased contacts, oldest first."""
        ...

    def purge_deleted(self) -> None:
        """Make deleted data unrecoverable from the files (outside a transaction).

        SQLite rewrites its full-text indexes and checkpoints and truncates
        the WAL; a store without files does nothing.
        """
        ...

    def append_audit(self, record: AuditRecord) -> None:
        """Append a record to the audit log (inside the current transaction, if any)."""
        ...

    def iter_audit(
        self, *, entity_id: str | None = None, actor_id: str | None = None
    ) -> Iterator[AuditRecord]:
        """Audit records, oldest first (in the order they were appended)."""
        ...

    def close(self) -> None:
        """Release connections and files.  Further calls raise :class:`~crmkit.StoreError`."""
        ...


@runtime_checkable
class SegmentStore(Protocol):
    """What a store with the ``segments`` capability adds: segments evaluated in the store."""

    def segment_ids(
        self,
        segment: Segment,
        *,
        include_archived: bool = False,
        scope: RowScope | None = None,
    ) -> list[str]:
        """The ids of the contacts in *segment* (within *scope*), by number.

        Exactly the contacts :meth:`crmkit.segments.Segment.matches` accepts,
        with ``last_contact`` the newest ``occurred_at`` of their
        correspondence; archived ones only with *include_archived*.  The
        segment must be pushable (:meth:`~crmkit.segments.Segment.pushable`,
        else :class:`crmkit.ValidationError`); a backend evaluates it in its
        own query language (SQL, indexes), without loading every contact.
        """
        ...


@runtime_checkable
class RecordStore(Protocol):
    """What a store with the ``records`` capability adds: small JSON documents by kind and key.

    The analytical side keeps its data here: saved segments (kind
    ``segment``), campaign lists (``campaign``), revenue (``revenue``) and
    quality snapshots (``snapshot``).  Writes join the current transaction.
    """

    def put_record(self, kind: str, key: str, data: Mapping[str, Any]) -> None:
        """Store *data* (JSON-compatible) under *kind* and *key*, replacing what was there."""
        ...

    def get_record(self, kind: str, key: str) -> dict[str, Any]:
        """The data under *kind* and *key*; :class:`~crmkit.NotFoundError` if there is none."""
        ...

    def iter_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Every ``(key, data)`` of *kind*, by key."""
        ...

    def delete_record(self, kind: str, key: str) -> None:
        """Remove the record; :class:`~crmkit.NotFoundError` if absent."""
        ...


def record_store(store: Store) -> RecordStore:
    """*store* as a :class:`RecordStore`; :class:`crmkit.StoreError` if it lacks ``records``."""
    if "records" in store.capabilities and isinstance(store, RecordStore):
        return store
    raise StoreError(code="store.no_capability", capability="records", url=store.url)


def segment_ids(
    store: Store,
    segment: Segment,
    *,
    include_archived: bool = False,
    scope: RowScope | None = None,
) -> list[str]:
    """The ids of the contacts in the pushable *segment*, by number, from any store.

    A store with the ``segments`` capability evaluates it itself
    (:meth:`SegmentStore.segment_ids`); for any other store this is the
    generic fallback: a scan over ``iter_contacts`` (correspondence read only
    when the segment asks for the last contact).
    """
    if not segment.pushable():
        raise ValidationError.single(
            "segment", "value.invalid", value="consent/predicates", reason="not pushable"
        )
    if "segments" in store.capabilities and isinstance(store, SegmentStore):
        return store.segment_ids(segment, include_archived=include_archived, scope=scope)
    return scan_segment(
        store.iter_contacts(include_archived=include_archived, scope=scope),
        segment,
        lambda contact_id: _newest(store, contact_id),
    )


def _newest(store: Store, contact_id: str) -> dt.datetime | None:
    from crmkit.correspondence import timeline_query

    entries = store.timeline(timeline_query([contact_id]))
    return max((e.occurred_at for e in entries), default=None)


def scan_segment(
    contacts: Iterable[Contact],
    segment: Segment,
    last_contact: Callable[[str], dt.datetime | None],
) -> list[str]:
    """The ids of *contacts* in *segment*, in the given order (the reference evaluation)."""
    need_last = segment.needs_last_contact()
    out: list[str] = []
    for contact in contacts:
        context = SegmentContext(last_contact=last_contact(contact.id) if need_last else None)
        if segment.matches(contact, context):
            out.append(contact.id)
    return out


@runtime_checkable
class SyncLinkStore(Protocol):
    """The optional store methods of contact sync (capability ``sync_links``).

    A store that declares ``sync_links`` in its ``capabilities`` keeps the
    :class:`crmkit.sync.SyncLink` of each (contact, provider, mailbox) and a
    small key/value state per (provider, mailbox) — delta links, folder ids.
    Writes join the current transaction.  A store without the capability
    still passes the contract suite; ``crm.sync`` then refuses with a
    :class:`crmkit.StoreError` (code ``sync.unsupported_store``).
    """

    def put_sync_link(self, link: SyncLink) -> None:
        """Store *link*, replacing the one with its key ``(contact_id, provider, mailbox)``.

        The contact must exist (:class:`~crmkit.NotFoundError`); a
        ``remote_id`` linked to another contact in the same provider and
        mailbox is a :class:`~crmkit.ConflictError` (code ``exists``).
        """
        ...

    def get_sync_link(self, contact_id: str, provider: str, mailbox: str) -> SyncLink | None:
        """The link with this key, or ``None``."""
        ...

    def find_sync_link(self, provider: str, mailbox: str, remote_id: str) -> SyncLink | None:
        """The link to this remote id in this provider and mailbox, or ``None``."""
        ...

    def sync_links(
        self,
        *,
        provider: str | None = None,
        mailbox: str | None = None,
        contact_id: str | None = None,
        status: str | None = None,
    ) -> list[SyncLink]:
        """Links matching every given condition, ordered by contact id, provider, mailbox."""
        ...

    def delete_sync_link(self, contact_id: str, provider: str, mailbox: str) -> None:
        """Remove a link (nothing happens when there is none)."""
        ...

    def put_sync_state(self, provider: str, mailbox: str, key: str, value: str | None) -> None:
        """Set (or with ``None`` remove) a state value of a provider and mailbox."""
        ...

    def get_sync_state(self, provider: str, mailbox: str, key: str) -> str | None:
        """A state value of a provider and mailbox, or ``None``."""
        ...


def sync_link_store(store: Store) -> SyncLinkStore:
    """*store* as a :class:`SyncLinkStore`.

    Raises :class:`crmkit.StoreError` when the store lacks ``sync_links``.
    """
    if "sync_links" not in store.capabilities or not isinstance(store, SyncLinkStore):
        raise StoreError(code="sync.unsupported_store", url=store.url)
    return store


def erased_link(link: SyncLink) -> SyncLink:
    """What a store keeps of a link when its contact is erased.

    The snapshot (personal data) goes; the remote id stays, so the provider
    can delete the remote copy after the erasure committed.  Every backend
    calls this from ``erase_contact``.
    """
    return SyncLink(
        contact_id=link.contact_id,
        provider=link.provider,
        mailbox=link.mailbox,
        folder=link.folder,
        remote_id=link.remote_id,
        change_key=link.change_key,
        crm_version=link.crm_version,
        last_synced=link.last_synced,
        status="erased",
    )


#: A factory that opens a store from its URL and keyword options.
StoreFactory = Callable[[str, Mapping[str, Any]], Store]

#: Known schemes of first-party plugins, for the "install …" hint.
KNOWN_DISTRIBUTIONS: Final[Mapping[str, str]] = {
    "sqlite": "crmkit-sqlite",
    "postgresql": "crmkit-postgres",
    "postgres": "crmkit-postgres",
}


def sort_affiliations(items: Iterable[Affiliation]) -> list[Affiliation]:
    """Primary first, then by creation time, then id: the order stores return."""
    return sorted(
        items,
        key=lambda a: (not a.primary, a.created_at or _EPOCH, a.id),
    )


__all__ = [
    "CAPABILITIES",
    "KNOWN_DISTRIBUTIONS",
    "AffiliationId",
    "ContactId",
    "PreparedContact",
    "RecordStore",
    "SegmentStore",
    "Store",
    "StoreFactory",
    "SyncLinkStore",
    "check_contact_update",
    "check_entry_revision",
    "check_version",
    "erased_link",
    "format_number",
    "prepare_contact",
    "record_store",
    "scan_segment",
    "segment_ids",
    "sort_affiliations",
    "sync_link_store",
]
