"""Retention periods under HGB/AO/UWG, legal holds, and the verdict per contact — pure.

A :class:`RetentionPolicy` says how long records of one category are kept,
on which legal basis, and when the period starts.  German defaults
(:data:`GERMAN_DEFAULTS`, status January 2026, see ``docs/privacy.md``):

* Handels- und Geschäftsbriefe, received or sent, e-mails included:
  6 years (§257(1) Nr. 2–3, (4) HGB; §147(1) Nr. 2–3, (3) AO);
* books, inventories, annual statements: 10 years (§257(1) Nr. 1 HGB);
* Buchungsbelege: 8 years since BEG IV (in force 1.1.2025) for documents
  whose period had not expired by then;
* proof of consent to telephone advertising: 5 years from the grant and from
  every use (§7a UWG).

HGB/AO periods start at the end of the calendar year in which the document
arose (§257(5) HGB, §147(4) AO): a letter of 2026 is kept until 31 December
2032 and may be deleted from 1 January 2033.  Only documents about a
commercial transaction are Handelsbriefe, so the category is chosen per
record (``CorrespondenceEntry.retention_category``); records without one
hold nothing.  A :class:`LegalHold` (an open tax assessment, a lawsuit, an
audit) blocks erasure until lifted.  Not legal advice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from crmkit.consent import ConsentEvent
from crmkit.correspondence import CorrespondenceEntry
from crmkit.errors import ValidationError
from crmkit.ids import new_id
from crmkit.model import _convert

START_RULES: Final[tuple[str, ...]] = ("end_of_year", "from_event")


def _category(value: object) -> str:
    return _convert.text("category", value, max_length=80)


def _years(value: object) -> int:
    years = _convert.non_negative_int("years", value)
    if years < 1:
        raise ValidationError.single("years", "value.invalid", value=value, reason="below 1")
    return years


def _start(value: object) -> str:
    if value not in START_RULES:
        raise ValidationError.single("start", "value.choice", value=value,
                                     choices=", ".join(START_RULES))  # fmt: skip
    return str(value)


def _text(value: object) -> str:
    return _convert.text("basis", value, max_length=500)


@attrs.frozen(kw_only=True)
class RetentionPolicy:
    """How long records of *category* are kept, why, and from when.

    ``start`` is ``end_of_year`` (HGB/AO: the period runs from the end of
    the calendar year the record arose in) or ``from_event`` (from the day
    itself, e.g. §7a UWG).
    """

    category: str = attrs.field(converter=_category)
    years: int = attrs.field(converter=_years)
    basis: str = attrs.field(converter=_text)
    start: str = attrs.field(default="end_of_year", converter=_start)

    def keep_until(self, day: dt.date) -> dt.date:
        """The last day a record of *day* must be kept."""
        if self.start == "end_of_year":
            return dt.date(day.year + self.years, 12, 31)
        try:
            return day.replace(year=day.year + self.years)
        except ValueError:  # 29 February
            return day.replace(year=day.year + self.years, day=28)


#: German defaults; an installation may override or add categories.
GERMAN_DEFAULTS: Final[Mapping[str, RetentionPolicy]] = {
    p.category: p
    for p in (
        RetentionPolicy(category="business_letter", years=6,
                        basis="§257(1) Nr. 2-3, (4), (5) HGB; §147(1) Nr. 2-3, (3), (4) AO"),
        RetentionPolicy(category="books", years=10,
                        basis="§257(1) Nr. 1, (4) HGB; §147(1) Nr. 1, (3) AO"),
        RetentionPolicy(category="accounting_voucher", years=8,
                        basis="§257(1) Nr. 4, (4) HGB; §147(1) Nr. 4, (3) AO; §14b UStG "
                              "(BEG IV, from 1.1.2025)"),
        RetentionPolicy(category="tax_document", years=6, basis="§147(1) Nr. 5, (3) AO"),
        RetentionPolicy(category="phone_consent_proof", years=5, basis="§7a UWG",
                        start="from_event"),
    )
}  # fmt: skip


def _id(value: object) -> str:
    return _convert.identifier("id", value)


def _reason(value: object) -> str:
    text = _convert.text("reason", value, max_length=500)
    if not text:
        raise ValidationError.single("reason", "value.required")
    return text


def _day(value: object) -> dt.date | None:
    return _convert.date("until", value)


@attrs.frozen(kw_only=True)
class LegalHold:
    """A manual hold on a contact's erasure (tax assessment, lawsuit, audit)."""

    id: str = attrs.field(factory=new_id, converter=_id)
    contact_id: str
    reason: str = attrs.field(converter=_reason)
    placed_on: dt.date
    until: dt.date | None = attrs.field(default=None, converter=_day)
    lifted_on: dt.date | None = attrs.field(default=None, converter=_day)

    def active(self, today: dt.date) -> bool:
        """True while it blocks erasure on *today*."""
        if self.lifted_on is not None and self.lifted_on <= today:
            return False
        return self.until is None or today <= self.until


@attrs.frozen(kw_only=True)
class Keep:
    """One reason a contact's data must stay: the record, the rule and until when."""

    record: str
    category: str
    basis: str
    until: dt.date | None


@attrs.frozen(kw_only=True)
class RetentionVerdict:
    """``erase_now`` or keep until ``hold_until`` (``None`` with a hold without end)."""

    contact_id: str
    erase_now: bool
    hold_until: dt.date | None
    keeps: tuple[Keep, ...] = ()

    @property
    def erasable_from(self) -> dt.date | None:
        """The first day erasure is allowed (the day after the last hold)."""
        if self.erase_now or self.hold_until is None:
            return None
        return self.hold_until + dt.timedelta(days=1)


def verdict(
    contact_id: str,
    today: dt.date,
    *,
    entries: Iterable[CorrespondenceEntry] = (),
    consents: Iterable[ConsentEvent] = (),
    holds: Iterable[LegalHold] = (),
    policies: Mapping[str, RetentionPolicy] = GERMAN_DEFAULTS,
) -> RetentionVerdict:
    """May the contact's personal data be erased on *today*, or what holds it and until when?

    Each correspondence entry with a ``retention_category`` holds until its
    policy's end (counted from ``occurred_at``); granted or used consents to
    telephone advertising hold their proof five years (§7a UWG); every active
    legal hold holds (without end: indefinitely).  An unknown category is an
    error, so nothing is erased by a typo.
    """
    keeps: list[Keep] = []
    for entry in entries:
        if entry.retention_category is None:
            continue
        policy = policies.get(entry.retention_category)
        if policy is None:
            raise ValidationError.single(
                "retention_category", "retention.unknown_category",
                value=entry.retention_category, choices=", ".join(sorted(policies)),
            )  # fmt: skip
        until = policy.keep_until(entry.occurred_at.date())
        if until >= today:
            keeps.append(Keep(record=f"correspondence {entry.id}", category=policy.category,
                              basis=policy.basis, until=until))  # fmt: skip
    proof = policies.get("phone_consent_proof")
    if proof is not None:
        for event in consents:
            if event.purpose == "phone_marketing" and event.kind in ("granted", "used"):
                until = proof.keep_until(event.at.date())
                if until >= today:
                    keeps.append(Keep(record=f"consent {event.id}", category=proof.category,
                                      basis=proof.basis, until=until))  # fmt: skip
    for hold in holds:
        if hold.active(today):
            keeps.append(Keep(record=f"hold {hold.id}", category="legal_hold",
                              basis=hold.reason, until=hold.until))  # fmt: skip
    if not keeps:
        return RetentionVerdict(contact_id=contact_id, erase_now=True, hold_until=None)
    ends = [k.until for k in keeps]
    hold_until = None if any(e is None for e in ends) else max(e for e in ends if e)
    keeps.sort(key=lambda k: (k.until or dt.date.max, k.record))
    return RetentionVerdict(contact_id=contact_id, erase_now=False, hold_until=hold_until,
                            keeps=tuple(keeps))  # fmt: skip


__all__ = [
    "GERMAN_DEFAULTS",
    "START_RULES",
    "Keep",
    "LegalHold",
    "RetentionPolicy",
    "RetentionVerdict",
    "verdict",
]
