"""The lead lifecycle and lead metrics, as pure functions.

A lead is a contact with the relationship ``lead`` and a
:class:`crmkit.LeadInfo` (source, budget, timeframe, decision maker, next
steps, status).  It moves ``new`` → ``qualified`` → ``won`` (converted to a
customer) or ``lost`` (archived with a reason); the lead data stays on the
contact as its history.  The facade (``crm.leads``) stores the results; the
metrics work on any iterable of contacts.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

import attrs

from crmkit.errors import ValidationError
from crmkit.model import Contact, LeadInfo, Relationship


def start(
    contact: Contact,
    today: dt.date,
    *,
    source: str | None = None,
    source_detail: str | None = None,
    budget: Decimal | int | str | None = None,
    timeframe: str | None = None,
    decision_maker_id: str | None = None,
    next_steps: str | None = None,
) -> Contact:
    """*contact* as a new lead since *today* (relationship ``lead`` added).

    A contact whose lead is still open is refused (``lead.open_already``):
    starting again would throw away what is known about it.  A closed lead
    (won or lost) may start over.
    """
    current = contact.lead
    if current is not None and current.is_open and Relationship.LEAD in contact.relationships:
        raise ValidationError.single(
            "lead", "lead.open_already", name=contact.display_name, status=current.status
        )
    lead = LeadInfo(
        source=source,
        source_detail=source_detail,
        budget=budget,
        timeframe=timeframe,
        decision_maker_id=decision_maker_id,
        next_steps=next_steps,
        status="new",
        since=today,
    )
    return attrs.evolve(
        contact, relationships=contact.relationships | {Relationship.LEAD}, lead=lead
    )


#: The lead fields :func:`qualify` may change; status and dates follow the lifecycle.
QUALIFY_FIELDS: Final[tuple[str, ...]] = (
    "source",
    "source_detail",
    "budget",
    "timeframe",
    "decision_maker_id",
    "next_steps",
)


def _open_lead(contact: Contact) -> LeadInfo:
    lead = contact.lead
    if lead is None:
        raise ValidationError.single("lead", "lead.not_a_lead", name=contact.display_name)
    # A won lead is no longer a lead (it is a customer): say it is closed, not "no lead".
    if not lead.is_open:
        raise ValidationError.single(
            "lead.status", "lead.closed", name=contact.display_name, status=lead.status
        )
    if Relationship.LEAD not in contact.relationships:
        raise ValidationError.single("lead", "lead.not_a_lead", name=contact.display_name)
    return lead


def qualify(contact: Contact, today: dt.date, **changes: object) -> Contact:
    """The lead marked ``qualified`` on *today* (optionally with changed lead fields).

    *changes* may name the fields in :data:`QUALIFY_FIELDS`; any other name
    (``status``, ``since`` …) is refused with a :class:`ValidationError` naming it.
    """
    lead = _open_lead(contact)
    for name in changes:
        if name not in QUALIFY_FIELDS:
            raise ValidationError.single(
                name, "value.choice", value=name, choices=", ".join(QUALIFY_FIELDS)
            )
    changed = attrs.evolve(lead, status="qualified", qualified_on=today, **changes)
    return attrs.evolve(contact, lead=changed)


def convert(contact: Contact, today: dt.date) -> Contact:
    """The lead won: a customer since *today*; the lead data stays as history."""
    lead = _open_lead(contact)
    relationships = (contact.relationships - {Relationship.LEAD}) | {Relationship.CUSTOMER}
    return attrs.evolve(
        contact,
        relationships=relationships,
        customer_since=contact.customer_since or today,
        lead=attrs.evolve(lead, status="won", closed_on=today),
    )


def lose(contact: Contact, today: dt.date, reason: str) -> Contact:
    """The lead lost (status ``lost``, closed on *today*, with *reason*)."""
    lead = _open_lead(contact)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError.single("reason", "lead.reason_required")
    return attrs.evolve(
        contact, lead=attrs.evolve(lead, status="lost", closed_on=today, close_reason=reason)
    )


def _leads(contacts: Iterable[Contact]) -> list[LeadInfo]:
    return [c.lead for c in contacts if c.lead is not None]


def conversion_rate(contacts: Iterable[Contact]) -> float | None:
    """Won leads among closed ones (won + lost); ``None`` while none is closed."""
    statuses = Counter(lead.status for lead in _leads(contacts))
    closed = statuses["won"] + statuses["lost"]
    return statuses["won"] / closed if closed else None


def median_days_to_conversion(contacts: Iterable[Contact]) -> float | None:
    """The median days from ``since`` to ``closed_on`` of won leads; ``None`` if none."""
    days = [
        (lead.closed_on - lead.since).days
        for lead in _leads(contacts)
        if lead.status == "won" and lead.since and lead.closed_on
    ]
    return float(statistics.median(days)) if days else None


def leads_by_source(contacts: Iterable[Contact]) -> dict[str, dict[str, int]]:
    """Per source (``"—"`` for unknown): how many leads, open, won and lost."""
    out: dict[str, dict[str, int]] = {}
    for lead in _leads(contacts):
        row = out.setdefault(lead.source or "—", {"total": 0, "open": 0, "won": 0, "lost": 0})
        row["total"] += 1
        row["open" if lead.is_open else lead.status] += 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["total"], kv[0])))


__all__ = [
    "QUALIFY_FIELDS",
    "conversion_rate",
    "convert",
    "leads_by_source",
    "lose",
    "median_days_to_conversion",
    "qualify",
    "start",
]
