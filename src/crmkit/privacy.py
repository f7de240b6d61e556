"""Data-subject requests (Art. 15–21 GDPR) and their deadlines — pure.

A :class:`PrivacyRequest` records what a person asked for (access,
rectification, erasure, restriction, portability, objection), when it was
received, whether their identity is checked, and when the answer is due:
one month after receipt (Art. 12(3) GDPR), counted in calendar months —
received 31 January, due 28 February (29 in a leap year).  The deadline may
be extended by up to two further months when the request is complex or
numerous, but only if that is announced, with reasons, within the first
month; a refusal must be explained within the month too.  Not legal advice.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Final

import attrs

from crmkit.errors import ValidationError
from crmkit.ids import new_id
from crmkit.model import _convert

#: What a person may ask for, with the article.
REQUEST_KINDS: Final[dict[str, str]] = {
    "access": "Art. 15",
    "rectification": "Art. 16",
    "erasure": "Art. 17",
    "restriction": "Art. 18",
    "portability": "Art. 20",
    "objection": "Art. 21",
}
IDENTITY_STATES: Final[tuple[str, ...]] = ("pending", "verified", "failed")
STATUSES: Final[tuple[str, ...]] = ("open", "done", "refused")


def add_months(day: dt.date, months: int) -> dt.date:
    """*day* plus *months* calendar months; a missing day becomes the month's last.

    >>> add_months(dt.date(2026, 1, 31), 1), add_months(dt.date(2028, 1, 31), 1)
    (datetime.date(2026, 2, 28), datetime.date(2028, 2, 29))
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError.single(field, "value.choice", value=value, choices=", ".join(choices))
    return str(value)


def _kind(value: object) -> str:
    return _choice("kind", value, tuple(REQUEST_KINDS))


def _identity(value: object) -> str:
    return _choice("identity", value, IDENTITY_STATES)


def _status(value: object) -> str:
    return _choice("status", value, STATUSES)


def _received(value: object) -> dt.date:
    day = _convert.date("received", value)
    if day is None:
        raise ValidationError.single("received", "value.required")
    return day


def _optional_day(value: object) -> dt.date | None:
    return _convert.date("date", value)


def _extension(value: object) -> int:
    months = _convert.non_negative_int("extension_months", value)
    if months > 2:
        raise ValidationError.single(
            "extension_months", "privacy.extension_too_long", months=months
        )
    return months


def _text(value: object) -> str:
    return _convert.multiline("text", value)


def _id(value: object) -> str:
    return _convert.identifier("id", value)


def _optional_id(value: object) -> str | None:
    return None if value in (None, "") else _convert.identifier("contact_id", value)


def _version(value: object) -> int:
    return _convert.non_negative_int("version", value)


@attrs.frozen(kw_only=True)
class PrivacyRequest:
    """One data-subject request and where it stands.

    ``contact_id`` may be empty while the person is not (yet) found in the
    CRM.  ``extension_months`` (0–2) moves the due day; ``extension_reason``
    and ``extension_announced`` document the announcement Art. 12(3) asks
    for.  ``status`` is ``open``, ``done`` (with ``outcome``) or
    ``refused`` (with ``outcome`` as the explanation).
    """

    id: str = attrs.field(factory=new_id, converter=_id)
    kind: str = attrs.field(converter=_kind)
    contact_id: str | None = attrs.field(default=None, converter=_optional_id)
    requester: str = attrs.field(default="", converter=_text)
    received: dt.date = attrs.field(converter=_received)
    identity: str = attrs.field(default="pending", converter=_identity)
    extension_months: int = attrs.field(default=0, converter=_extension)
    extension_reason: str = attrs.field(default="", converter=_text)
    extension_announced: dt.date | None = attrs.field(default=None, converter=_optional_day)
    status: str = attrs.field(default="open", converter=_status)
    outcome: str = attrs.field(default="", converter=_text)
    closed_on: dt.date | None = attrs.field(default=None, converter=_optional_day)
    version: int = attrs.field(default=0, converter=_version)

    @property
    def first_due(self) -> dt.date:
        """One calendar month after receipt (Art. 12(3) GDPR)."""
        return add_months(self.received, 1)

    @property
    def due(self) -> dt.date:
        """The due day, with the announced extension."""
        return add_months(self.received, 1 + self.extension_months)

    @property
    def article(self) -> str:
        """The GDPR article of the request kind."""
        return REQUEST_KINDS[self.kind]

    def overdue(self, today: dt.date) -> bool:
        """True while open after the due day."""
        return self.status == "open" and today > self.due

    @property
    def late(self) -> bool:
        """True if it was closed after its due day (or refused after the first month)."""
        if self.closed_on is None:
            return False
        limit = self.first_due if self.status == "refused" else self.due
        return self.closed_on > limit


def extend(request: PrivacyRequest, months: int, reason: str, on: dt.date) -> PrivacyRequest:
    """The request with its deadline extended by *months* (1 or 2), announced on *on*.

    Refused (``ValidationError``) when the request is closed, without a
    reason, for more than two months, or announced after the first month.
    """
    if request.status != "open":
        raise ValidationError.single("status", "privacy.closed", key=request.id)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError.single("reason", "privacy.reason_required")
    if months < 1:
        raise ValidationError.single("extension_months", "value.invalid", value=months,
                                     reason="at least 1")  # fmt: skip
    if on > request.first_due:
        raise ValidationError.single(
            "extension_announced", "privacy.extension_late", due=request.first_due.isoformat()
        )
    return attrs.evolve(request, extension_months=months, extension_reason=reason,
                        extension_announced=on)  # fmt: skip


def close(request: PrivacyRequest, status: str, outcome: str, on: dt.date) -> PrivacyRequest:
    """The request answered (``done``) or ``refused``, with the outcome or explanation."""
    if request.status != "open":
        raise ValidationError.single("status", "privacy.closed", key=request.id)
    if status not in ("done", "refused"):
        raise ValidationError.single("status", "value.choice", value=status,
                                     choices="done, refused")  # fmt: skip
    if not isinstance(outcome, str) or not outcome.strip():
        raise ValidationError.single("outcome", "privacy.reason_required")
    if status == "done" and request.identity != "verified" and request.kind != "objection":
        raise ValidationError.single("identity", "privacy.identity_unverified")
    return attrs.evolve(request, status=status, outcome=outcome, closed_on=on)


@attrs.frozen(kw_only=True)
class Tombstone:
    """What remains of an erased contact: no personal data, only that it was erased.

    ``contact_id`` and ``number`` are random or sequential identifiers (the
    number is never reused); ``reason`` and ``legal_basis`` say why.
    """

    contact_id: str
    number: str
    erased_on: dt.date
    reason: str = attrs.field(converter=_text)
    legal_basis: str = attrs.field(default="Art. 17 GDPR", converter=_text)


__all__ = [
    "IDENTITY_STATES",
    "REQUEST_KINDS",
    "STATUSES",
    "PrivacyRequest",
    "Tombstone",
    "add_months",
    "close",
    "extend",
]
