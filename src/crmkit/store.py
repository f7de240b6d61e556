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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Final, NamedTuple, Protocol, runtime_checkable

from crmkit import search
from crmkit.audit import AuditRecord
from crmkit.auth import RowScope
from crmkit.errors import ConflictError, ValidationError
from crmkit.ids import AffiliationId, ContactId
from crmkit.model import Affiliation, Company, Contact, Person
from crmkit.search import Query
from crmkit.serialize import to_dict
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
        data=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
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
        """Remove a contact and its affiliations; :class:`~crmkit.NotFoundError` if absent."""
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
    "Store",
    "StoreFactory",
    "check_contact_update",
    "check_version",
    "format_number",
    "prepare_contact",
    "sort_affiliations",
]
