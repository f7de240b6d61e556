"""Key figures as pure functions over contacts and their history, with ``today`` as a parameter.

>>> import datetime as dt
>>> p = Period.parse("2026-Q3")
>>> p.start, p.end, str(p)
(datetime.date(2026, 7, 1), datetime.date(2026, 9, 30), '2026-Q3')

Leads come from each contact's :class:`crmkit.LeadInfo` (``since``,
``closed_on``, ``status``, ``source``).  Customers come from *customer
spells* (:func:`customer_spells`): when a contact became a customer and when
it stopped being one, read from the audit log of its ``relationships``
(and ``customer_since``, the archive date).  Revenue figures come from
:class:`Revenue` records.  Nothing here reads the clock or a store.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs

from crmkit.audit import AuditRecord
from crmkit.errors import Finding, ValidationError
from crmkit.ids import new_id
from crmkit.leads import conversion_rate, median_days_to_conversion
from crmkit.model import Contact, Relationship, _convert
from crmkit.rules import quality_score
from crmkit.summary import lead_since

_PERIOD_RE: Final = re.compile(
    r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>\d{2})|H(?P<half>[12])))?$"
)
_RANGE_RE: Final = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
#: The age buckets of open leads: the thresholds of the maintenance routine.
LEAD_AGE_BUCKETS: Final[tuple[str, ...]] = (
    "under_90_days",
    "90_days_to_12_months",
    "over_12_months",
)


@attrs.frozen
class Period:
    """A range of days, both ends inclusive, with the label it was written as."""

    start: dt.date
    end: dt.date
    label: str = ""

    def __str__(self) -> str:
        return self.label or f"{self.start.isoformat()}..{self.end.isoformat()}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days + 1

    @classmethod
    def parse(cls, text: object) -> Period:
        """``2026``, ``2026-H1``, ``2026-Q3``, ``2026-07`` or ``2026-07-01..2026-09-30``.

        Anything else raises :class:`crmkit.ValidationError` on the field ``period``.
        """
        if not isinstance(text, str):
            raise _convert.type_error("period", "str", text)
        value = text.strip()
        try:
            found = _RANGE_RE.match(value)
            if found:
                start, end = (dt.date.fromisoformat(g) for g in found.groups())
                if end < start:
                    raise ValueError("the end lies before the start")
                return cls(start, end, value)
            m = _PERIOD_RE.match(value)
            if not m:
                raise ValueError("expected 2026, 2026-H1, 2026-Q3, 2026-07 or a..b")
            year = int(m["year"])
            if year < 1:
                raise ValueError("year 0")
            if m["quarter"]:
                first = 3 * int(m["quarter"]) - 2
                return cls(dt.date(year, first, 1), _month_end(year, first + 2), value)
            if m["half"]:
                first = 6 * int(m["half"]) - 5
                return cls(dt.date(year, first, 1), _month_end(year, first + 5), value)
            if m["month"]:
                month = int(m["month"])
                return cls(dt.date(year, month, 1), _month_end(year, month), value)
            return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), value)
        except ValueError:
            raise ValidationError.single("period", "period.invalid", value=text) from None

    @classmethod
    def quarter_of(cls, day: dt.date) -> Period:
        """The calendar quarter *day* lies in."""
        return cls.parse(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


# -- leads ------------------------------------------------------------------------------------
def new_leads(contacts: Iterable[Contact], period: Period) -> dict[str, int]:
    """New leads per source (``"—"``: unknown) whose lead started in *period*.

    The start of a lead is :func:`crmkit.summary.lead_since`.
    """
    counts = Counter(
        (c.lead.source or "—") for c in contacts if c.lead is not None and lead_since(c) in period
    )
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def closed_in(contacts: Iterable[Contact], period: Period) -> list[Contact]:
    """The contacts whose lead was won or lost in *period* (``closed_on``)."""
    return [
        c
        for c in contacts
        if c.lead is not None
        and c.lead.status in ("won", "lost")
        and c.lead.closed_on is not None
        and c.lead.closed_on in period
    ]


def lead_conversion(contacts: Iterable[Contact], period: Period) -> dict[str, Any]:
    """Leads closed in *period*: won, lost, conversion rate, median days to conversion.

    The rate is won / (won + lost), ``None`` when none closed; the median
    counts the days from ``since`` to ``closed_on`` of the won ones.
    """
    closed = closed_in(contacts, period)
    won = sum(1 for c in closed if c.lead is not None and c.lead.status == "won")
    return {
        "won": won,
        "lost": len(closed) - won,
        "conversion_rate": conversion_rate(closed),
        "median_days_to_conversion": median_days_to_conversion(closed),
    }


def open_leads_by_age(
    contacts: Iterable[Contact], today: dt.date, *, open_days: int = 90, stale_days: int = 365
) -> dict[str, int]:
    """Open leads by age on *today*: under *open_days*, up to *stale_days*, older.

    The defaults are the thresholds of the maintenance routine
    (:class:`crmkit.rules.RulePolicy` ``lead_open_days``, ``lead_untouched_days``).
    A lead without a start day counts as new.
    """
    out = dict.fromkeys(LEAD_AGE_BUCKETS, 0)
    for c in contacts:
        if c.lead is None or not c.lead.is_open or c.archived_at is not None:
            continue
        since = lead_since(c)
        age = (today - since).days if since else 0
        key = LEAD_AGE_BUCKETS[0 if age < open_days else 1 if age <= stale_days else 2]
        out[key] += 1
    return out


#: The stages of the lead funnel, in order (``lost`` and ``disqualified`` are off it).
FUNNEL_STAGES: Final[tuple[str, ...]] = ("new", "contacted", "qualified", "proposal", "won")


def lead_funnel(contacts: Iterable[Contact], period: Period | None = None) -> dict[str, int]:
    """How many leads reached each stage of :data:`FUNNEL_STAGES` (of those started in *period*).

    A lead counts at its own stage and at every stage before it (a ``won``
    lead was new, contacted, qualified and had a proposal).  A lost or
    disqualified lead counts only as ``new``: where it dropped out is not
    recorded.
    """
    out = dict.fromkeys(FUNNEL_STAGES, 0)
    for c in contacts:
        if c.lead is None or (period is not None and lead_since(c) not in period):
            continue
        status = c.lead.status
        reached = FUNNEL_STAGES.index(status) if status in FUNNEL_STAGES else 0
        for stage in FUNNEL_STAGES[: reached + 1]:
            out[stage] += 1
    return out


# -- customers --------------------------------------------------------------------------------
@attrs.frozen
class Spell:
    """A time a contact was a customer: from *start* to *end* (inclusive; ``None``: still)."""

    contact_id: str
    start: dt.date
    end: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        """True when the contact was a customer on *day*."""
        return self.start <= day and (self.end is None or day <= self.end)


def _customer_in(text: str | None) -> bool:
    if not text:
        return False
    try:
        values = json.loads(text)
    except ValueError:
        return False
    return isinstance(values, list) and Relationship.CUSTOMER.value in values


def customer_spells(contact: Contact, history: Iterable[AuditRecord]) -> list[Spell]:
    """When *contact* was a customer, from its audit records (oldest first).

    Each change of ``relationships`` that adds ``customer`` starts a spell
    on the (UTC) day of the record, each one that removes it ends one the
    day before; ``customer_since`` moves the first start earlier; archiving
    ends an open spell on the archive day.  A customer without history
    (imported as such) is one since ``customer_since`` or its creation.
    """
    spells: list[Spell] = []
    start: dt.date | None = None
    for record in history:
        if record.entity_id != contact.id or record.outcome != "ok":
            continue
        for change in record.changes:
            if change.field != "relationships":
                continue
            before, after = _customer_in(change.old), _customer_in(change.new)
            day = record.at.astimezone(dt.UTC).date()
            if after and not before and start is None:
                start = day
            elif before and not after and start is not None:
                spells.append(Spell(contact.id, start, max(start, day - dt.timedelta(days=1))))
                start = None
    is_customer = Relationship.CUSTOMER in contact.relationships
    if start is None and is_customer and not spells:
        created = contact.created_at.astimezone(dt.UTC).date() if contact.created_at else None
        start = contact.customer_since or created
    if start is not None and is_customer:
        end = contact.archived_at.astimezone(dt.UTC).date() if contact.archived_at else None
        spells.append(Spell(contact.id, start, end))
    if spells and contact.customer_since is not None and contact.customer_since < spells[0].start:
        spells[0] = attrs.evolve(spells[0], start=contact.customer_since)
    return spells


def active_customers(spells: Iterable[Spell], day: dt.date) -> set[str]:
    """The ids of the contacts that were customers on *day*."""
    return {s.contact_id for s in spells if s.covers(day)}


@attrs.frozen(kw_only=True)
class Retention:
    """Customers at the start of a period and how many of them were still customers at its end."""

    at_start: int
    retained: int

    @property
    def lost(self) -> int:
        """Customers at the start who were not customers at the end."""
        return self.at_start - self.retained

    @property
    def rate(self) -> float | None:
        """retained / at_start (``None`` without customers at the start)."""
        return self.retained / self.at_start if self.at_start else None

    @property
    def churn(self) -> float | None:
        """lost / at_start: 1 − :attr:`rate`."""
        return self.lost / self.at_start if self.at_start else None


def retention(spells: Sequence[Spell], period: Period) -> Retention:
    """Of the customers on the first day of *period*, how many were still customers on the last."""
    first = active_customers(spells, period.start)
    last = active_customers(spells, period.end)
    return Retention(at_start=len(first), retained=len(first & last))


def new_customers(spells: Iterable[Spell], period: Period) -> set[str]:
    """Contacts whose first customer spell started in *period*."""
    first: dict[str, dt.date] = {}
    for s in spells:
        if s.contact_id not in first or s.start < first[s.contact_id]:
            first[s.contact_id] = s.start
    return {cid for cid, day in first.items() if day in period}


def silent_customers(
    active: Iterable[str],
    last_contact: Mapping[str, dt.datetime | None],
    today: dt.date,
    months: int = 12,
) -> list[str]:
    """Active customers (ids, in the given order) without correspondence for *months* months.

    A month is 30 days here; a customer never contacted counts as silent.
    """
    limit = today - dt.timedelta(days=30 * months)
    out: list[str] = []
    for cid in active:
        last = last_contact.get(cid)
        if last is None or last.astimezone(dt.UTC).date() < limit:
            out.append(cid)
    return out


# -- revenue -----------------------------------------------------------------------------------
#: Amounts are below this in size (12 digits before the decimal point) ...
AMOUNT_LIMIT: Final = Decimal("1e12")
#: ... and have at most this many digits after it.
AMOUNT_PLACES: Final = 4


def _amount(value: object) -> Decimal:
    found = _convert.decimal("amount", value)
    if found is None:
        raise ValidationError.single("amount", "value.required")
    exponent = found.as_tuple().exponent
    if abs(found) >= AMOUNT_LIMIT or (isinstance(exponent, int) and exponent < -AMOUNT_PLACES):
        raise ValidationError.single("amount", "amount.range", value=str(value))
    return found + 0  # no negative zero


def normal_currency(value: object) -> str:
    """*value* as an ISO 4217 code (``eur`` → ``EUR``); else :class:`crmkit.ValidationError`."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value.strip().upper()):
        raise ValidationError.single("currency", "currency.invalid", value=value)
    return value.strip().upper()


def _on(value: object) -> dt.date:
    found = _convert.date("on", value)
    if found is None:
        raise ValidationError.single("on", "value.required")
    return found


def _reference(value: object) -> str:
    return _convert.text("reference", value)


@attrs.frozen(kw_only=True)
class Revenue:
    """One invoice, order or payment of a contact (from ``crm.revenue`` or an ERP import)."""

    id: str = attrs.field(factory=new_id)
    contact_id: str
    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(default="EUR", converter=normal_currency)
    on: dt.date = attrs.field(converter=_on)
    #: The invoice or order number in the source system (re-imports skip known ones).
    reference: str = attrs.field(default="", converter=_reference)


def revenue_by_customer(
    items: Iterable[Revenue], period: Period, currency: str = "EUR"
) -> dict[str, Decimal]:
    """The revenue per contact id in *period* (one *currency*; others are left out)."""
    out: dict[str, Decimal] = {}
    for r in items:
        if r.on in period and r.currency == currency:
            out[r.contact_id] = out.get(r.contact_id, Decimal(0)) + r.amount
    return out


def average_order_value(
    items: Iterable[Revenue], period: Period, currency: str = "EUR"
) -> Decimal | None:
    """The mean amount of the revenue records in *period* (``None`` without any)."""
    amounts = [r.amount for r in items if r.on in period and r.currency == currency]
    if not amounts:
        return None
    return (sum(amounts, Decimal(0)) / len(amounts)).quantize(Decimal("0.01"))


@attrs.frozen(kw_only=True)
class LifetimeValue:
    """The simple customer lifetime value and what it rests on."""

    yearly_revenue: Decimal | None
    lifetime_years: float | None

    @property
    def value(self) -> Decimal | None:
        """yearly revenue × lifetime in years (``None`` if either is unknown)."""
        if self.yearly_revenue is None or self.lifetime_years is None:
            return None
        return (self.yearly_revenue * Decimal(str(self.lifetime_years))).quantize(Decimal("0.01"))


def lifetime_value(
    items: Iterable[Revenue],
    spells: Sequence[Spell],
    today: dt.date,
    currency: str = "EUR",
) -> LifetimeValue:
    """A simple customer lifetime value: average yearly revenue × average customer lifetime.

    Assumptions (documented in ``docs/segments.md``):

    * the *average yearly revenue* of a customer is the revenue of the last
      365 days up to *today* divided by the customers active on any day of
      that year (one currency; customers without revenue count with 0);
    * the *average customer lifetime* is the mean length in years (365.25
      days) of the customer spells that ended; while no spell has ended,
      the mean length of all spells up to *today* (an underestimate);
    * no discounting, no margin: it is revenue, not profit.
    """
    year = Period(today - dt.timedelta(days=364), today)
    active = {
        s.contact_id for s in spells if s.start <= year.end and (s.end or today) >= year.start
    }
    total = sum(revenue_by_customer(items, year, currency).values(), Decimal(0))
    yearly = (total / len(active)).quantize(Decimal("0.01")) if active else None
    ended = [s for s in spells if s.end is not None and s.end <= today]
    chosen = ended or [s for s in spells if s.start <= today]
    lengths = [((s.end or today) - s.start).days + 1 for s in chosen]
    lifetime = round(statistics.mean(lengths) / 365.25, 2) if lengths else None
    return LifetimeValue(yearly_revenue=yearly, lifetime_years=lifetime)


# -- data quality over time -------------------------------------------------------------------
def _sorted_counts(value: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(value.items()))


@attrs.frozen(kw_only=True)
class QualitySnapshot:
    """The data quality on one day, as recorded (``crm.kpis.snapshot``) to show a trend.

    ``quality_score``: the share of contacts without an error finding
    (:func:`crmkit.rules.quality_score`); ``legal_basis_share``: the share of
    contacts with a documented legal basis (``None`` without contacts);
    ``open_items``: open worklist items by kind.
    """

    day: dt.date
    contacts: int
    quality_score: float
    legal_basis_share: float | None
    open_items: Mapping[str, int] = attrs.field(factory=dict, converter=_sorted_counts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the ``snapshot`` record)."""
        return {"day": self.day.isoformat(), "contacts": self.contacts,
                "quality_score": self.quality_score, "legal_basis_share": self.legal_basis_share,
                "open_items": dict(self.open_items)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualitySnapshot:
        """The inverse of :meth:`to_dict`."""
        items = {str(k): int(v) for k, v in data.get("open_items", {}).items()}
        return cls(
            day=dt.date.fromisoformat(data["day"]),
            contacts=int(data["contacts"]),
            quality_score=float(data["quality_score"]),
            legal_basis_share=data.get("legal_basis_share"),
            open_items=items,
        )


def quality_snapshot(
    contacts: Iterable[Contact],
    findings: Iterable[Finding],
    open_kinds: Iterable[str],
    day: dt.date,
) -> QualitySnapshot:
    """The :class:`QualitySnapshot` of *day* from the contacts (not archived ones), the
    findings of ``crm.check()`` and the kinds of the open worklist items."""
    active = [c for c in contacts if c.archived_at is None]
    documented = sum(1 for c in active if c.legal_basis is not None)
    return QualitySnapshot(
        day=day,
        contacts=len(active),
        quality_score=round(quality_score(findings, len(active)), 4),
        legal_basis_share=round(documented / len(active), 4) if active else None,
        open_items=Counter(open_kinds),
    )


def quality_trend(snapshots: Iterable[QualitySnapshot], period: Period) -> dict[str, Any]:
    """The last snapshot in *period* and the change since the first one (``{}`` without any)."""
    inside = sorted((s for s in snapshots if s.day in period), key=lambda s: s.day)
    if not inside:
        return {}
    first, last = inside[0], inside[-1]
    return {
        "snapshots": len(inside),
        "day": last.day.isoformat(),
        "quality_score": last.quality_score,
        "quality_score_change": round(last.quality_score - first.quality_score, 4),
        "legal_basis_share": last.legal_basis_share,
        "open_items": dict(last.open_items),
        "open_items_change": sum(last.open_items.values()) - sum(first.open_items.values()),
    }


__all__ = [
    "FUNNEL_STAGES",
    "LEAD_AGE_BUCKETS",
    "LifetimeValue",
    "Period",
    "QualitySnapshot",
    "Retention",
    "Revenue",
    "Spell",
    "active_customers",
    "average_order_value",
    "closed_in",
    "customer_spells",
    "lead_conversion",
    "lead_funnel",
    "lifetime_value",
    "new_customers",
    "new_leads",
    "normal_currency",
    "open_leads_by_age",
    "quality_snapshot",
    "quality_trend",
    "retention",
    "revenue_by_customer",
    "silent_customers",
]
