"""Contact summaries and the filter a store evaluates to find them, without loading contacts.

The worklist asks questions such as "which customers have had no contact
since …" or "which companies have no decision maker" over a million
contacts.  A :class:`SummaryFilter` states such a question as data; a store
answers it in its own query language (SQL in SQLite) and returns
:class:`ContactSummary` rows — just what a work item shows.  What a filter
*means* is defined here, by :func:`matches`, and every store must agree with
it (the contract suite checks this).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs

from crmkit.model import Company, Contact, Person
from crmkit.model.values import LEAD_STATUSES

#: Lead statuses of a lead that is still open.
#: Lead statuses of a lead that is closed: won, lost, or judged not a lead at all.
CLOSED_LEAD_STATUSES: Final[frozenset[str]] = frozenset({"won", "lost", "disqualified"})
OPEN_LEAD_STATUSES: Final[frozenset[str]] = frozenset(LEAD_STATUSES) - CLOSED_LEAD_STATUSES
#: The modulus of :func:`sample_key` (a prime below 2**31).
SAMPLE_MODULUS: Final = 2_147_483_647


@attrs.frozen(kw_only=True)
class ContactSummary:
    """What a list row needs of a contact."""

    id: str
    number: str
    kind: str
    name: str
    owner: str | None = None
    relationships: frozenset[str] = frozenset()
    lead_status: str | None = None
    lead_since: dt.date | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    archived: bool = False
    #: At least one e-mail address.
    has_email: bool = False
    #: A documented legal basis (Art. 6(1) GDPR).
    has_legal_basis: bool = False
    #: At least one affiliation (active on the filter's ``active_on``, if given).
    affiliated: bool = False


@attrs.frozen(kw_only=True)
class SummaryFilter:
    """Which contacts to summarise; every given condition must hold.

    * ``kind`` — ``"person"`` or ``"company"``;
    * ``relationships`` — at least one of them;
    * ``has_email`` — has at least one e-mail address (or none);
    * ``linked`` — a person with (or without) an affiliation;
    * ``has_people`` — a company with (or without) affiliated persons;
    * ``missing_role`` — a company none of whose affiliations has this role;
    * ``lead_statuses`` — the lead status is one of them;
    * ``lead_since_before`` — the contact became a lead before this day
      (:func:`lead_since`);
    * ``created_before`` / ``changed_before`` — ``created_at`` / ``updated_at``
      before this moment (unknown counts as before);
    * ``silent_since`` — no correspondence entry since this moment;
    * ``owner`` — owned by this actor id;
    * archived contacts only with ``include_archived``.

    With ``has_legal_basis``, only contacts with (or without) a documented
    legal basis.  With ``restricted``, only contacts whose processing is (or is not)
    restricted (``restricted_at``, Art. 18).

    With ``active_on``, ``linked``, ``has_people`` and ``missing_role`` count
    only affiliations active on that day (``since``/``until``); without it,
    every affiliation.

    With ``sample_seed`` a store returns the rows in the reproducible
    pseudo-random order of :func:`sample_key` instead of by number.
    """

    kind: str | None = None
    relationships: frozenset[str] = frozenset()
    has_email: bool | None = None
    linked: bool | None = None
    has_people: bool | None = None
    missing_role: str | None = None
    lead_statuses: frozenset[str] = frozenset()
    lead_since_before: dt.date | None = None
    created_before: dt.datetime | None = None
    changed_before: dt.datetime | None = None
    silent_since: dt.datetime | None = None
    owner: str | None = None
    include_archived: bool = False
    sample_seed: int | None = None
    active_on: dt.date | None = None
    restricted: bool | None = None
    has_legal_basis: bool | None = None


def summarize(contact: Contact, *, affiliated: bool = False) -> ContactSummary:
    """The :class:`ContactSummary` of a stored contact (*affiliated*: see the field)."""
    if isinstance(contact, Person):
        name = " ".join(p for p in (contact.title, contact.first_name, contact.last_name) if p)
    elif isinstance(contact, Company):
        name = contact.name
    else:  # pragma: no cover - only two kinds exist
        name = contact.id
    lead = contact.lead
    return ContactSummary(
        id=contact.id,
        number=contact.number or "",
        kind=contact.kind,
        name=name,
        owner=contact.owner,
        relationships=frozenset(r.value for r in contact.relationships),
        lead_status=lead.status if lead else None,
        lead_since=lead_since(contact),
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        archived=contact.archived_at is not None,
        has_email=bool(contact.emails),
        has_legal_basis=contact.legal_basis is not None,
        affiliated=affiliated,
    )


def lead_since(contact: Contact) -> dt.date | None:
    """The day *contact* became a lead: ``lead.since``, else the (UTC) day it was created."""
    if contact.lead is None:
        return None
    if contact.lead.since is not None:
        return contact.lead.since
    return contact.created_at.date() if contact.created_at else None


def _before(moment: dt.datetime | None, limit: dt.datetime | None) -> bool:
    return limit is None or moment is None or moment < limit


def matches(
    contact: Contact,
    f: SummaryFilter,
    *,
    roles: frozenset[str] = frozenset(),
    affiliated: bool = False,
    last_contact: dt.datetime | None = None,
) -> bool:
    """True when *contact* passes *f*.

    *roles* are the roles of a company's affiliations, *affiliated* whether
    the contact has any affiliation, *last_contact* the newest
    ``occurred_at`` of its correspondence — what a store knows from its
    other tables.
    """
    if not f.include_archived and contact.archived_at is not None:
        return False
    if f.kind is not None and contact.kind != f.kind:
        return False
    if f.relationships and not (f.relationships & {r.value for r in contact.relationships}):
        return False
    if f.has_email is not None and bool(contact.emails) != f.has_email:
        return False
    if f.linked is not None and (not isinstance(contact, Person) or affiliated != f.linked):
        return False
    if f.has_people is not None and (
        not isinstance(contact, Company) or affiliated != f.has_people
    ):
        return False
    if f.missing_role is not None and (not isinstance(contact, Company) or f.missing_role in roles):
        return False
    lead = contact.lead
    if f.lead_statuses and (lead is None or lead.status not in f.lead_statuses):
        return False
    if f.lead_since_before is not None:
        since = lead_since(contact)
        if since is None or since >= f.lead_since_before:
            return False
    if not _before(contact.created_at, f.created_before):
        return False
    if not _before(contact.updated_at, f.changed_before):
        return False
    if f.silent_since is not None and last_contact is not None and last_contact >= f.silent_since:
        return False
    if f.restricted is not None and (contact.restricted_at is not None) != f.restricted:
        return False
    if f.has_legal_basis is not None and (contact.legal_basis is not None) != f.has_legal_basis:
        return False
    return f.owner is None or contact.owner == f.owner


def number_seq(number: str) -> int:
    """The integer of a contact number (``C00042`` → 42)."""
    digits = number[1:]
    return int(digits) if digits.isdigit() else 0


def sample_key(number: str, seed: int) -> tuple[int, int]:
    """A reproducible pseudo-random sort key for a contact number and a seed.

    ``((seq mod p) * a + b) mod p`` with *a* and *b* from the seed: a
    permutation that every store can compute with 64-bit integers, whatever
    the contact number.
    """
    a, b = sample_coefficients(seed)
    seq = number_seq(number)
    return (((seq % SAMPLE_MODULUS) * a + b) % SAMPLE_MODULUS, seq)


def sample_coefficients(seed: int) -> tuple[int, int]:
    """The multiplier and offset of :func:`sample_key` for *seed*.

    The multiplier lies between a quarter and three quarters of
    :data:`SAMPLE_MODULUS`, so that ``seq * a`` wraps around the modulus
    every one to three contacts: with a small multiplier the keys of the
    first thousands of contacts grow with their number and the "sample" is
    simply the oldest contacts, the same every month.  Below 2**31, the
    product stays within SQLite's 64-bit integers for numbers below 2**32.
    """
    mixed = (seed * 2654435761 + 40503) % SAMPLE_MODULUS
    quarter = SAMPLE_MODULUS // 4
    return quarter + mixed % (2 * quarter), (mixed * 97) % SAMPLE_MODULUS


def month_seed(day: dt.date) -> int:
    """The seed of the monthly quality sample: the same all month (``202611``)."""
    return day.year * 100 + day.month


__all__ = [
    "CLOSED_LEAD_STATUSES",
    "OPEN_LEAD_STATUSES",
    "SAMPLE_MODULUS",
    "ContactSummary",
    "SummaryFilter",
    "lead_since",
    "matches",
    "month_seed",
    "number_seq",
    "sample_coefficients",
    "sample_key",
    "summarize",
]
