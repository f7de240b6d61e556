"""Value objects: relationships, e-mail addresses, phone numbers, addresses, lead data."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

import attrs

from crmkit import normalize
from crmkit.errors import Finding, ValidationError
from crmkit.model import _convert


class Relationship(enum.StrEnum):
    """How a contact relates to us.  A contact can have several."""

    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    LEAD = "lead"
    PARTNER = "partner"
    MEMBER = "member"
    PROSPECT = "prospect"


#: Shorthands accepted wherever relationships are given as text.
RELATIONSHIP_ALIASES: Final[dict[str, frozenset[Relationship]]] = {
    "both": frozenset({Relationship.CUSTOMER, Relationship.SUPPLIER}),
    "kunde": frozenset({Relationship.CUSTOMER}),
    "lieferant": frozenset({Relationship.SUPPLIER}),
    "interessent": frozenset({Relationship.PROSPECT}),
    "mitglied": frozenset({Relationship.MEMBER}),
    "partner": frozenset({Relationship.PARTNER}),
    "beides": frozenset({Relationship.CUSTOMER, Relationship.SUPPLIER}),
}

PHONE_LABELS: Final[tuple[str, ...]] = ("office", "mobile", "home", "fax", "switchboard", "other")
ADDRESS_LABELS: Final[tuple[str, ...]] = ("business", "home", "billing", "delivery", "other")
LEAD_STATUSES: Final[tuple[str, ...]] = (
    "new",
    "contacted",
    "qualified",
    "proposal",
    "won",
    "lost",
    "disqualified",
)


def relationship_set(field: str, value: object) -> frozenset[Relationship]:
    """Relationships from text or a collection (``"both"`` = customer + supplier)."""
    if value is None:
        return frozenset()
    if type(value) is frozenset and not value:
        return value  # the default, unchanged
    items: Iterable[object] = [value] if isinstance(value, str) else _iterable(field, value)
    out: set[Relationship] = set()
    for item in items:
        if isinstance(item, Relationship):
            out.add(item)
            continue
        if not isinstance(item, str):
            raise _convert.type_error(field, "str", item)
        key = item.strip().lower()
        if key in RELATIONSHIP_ALIASES:
            out |= RELATIONSHIP_ALIASES[key]
            continue
        try:
            out.add(Relationship(key))
        except ValueError:
            raise ValidationError.single(
                field,
                "relationship.unknown",
                value=item,
                choices=", ".join(r.value for r in Relationship),
            ) from None
    return frozenset(out)


def _iterable(field: str, value: object) -> Iterable[object]:
    if not isinstance(value, Iterable) or isinstance(value, bytes):
        raise _convert.type_error(field, "collection", value)
    return value


def _email_address(value: object) -> str:
    if not isinstance(value, str):
        raise _convert.type_error("address", "str", value)
    return normalize.email(value, field="address")


def _email_label(value: object) -> str:
    return _convert.text("label", value, max_length=40) or "work"


def _bounced_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("bounced_at", value)


@attrs.frozen(kw_only=True)
class EmailAddress:
    """An e-mail address (normalised) with a label such as ``work``.

    ``bounced_at`` is set when a hard bounce showed that the address cannot
    receive mail (see ``crm.bounces``); such an address is
    :attr:`undeliverable`.
    """

    address: str = attrs.field(converter=_email_address)
    label: str = attrs.field(default="work", converter=_email_label)
    bounced_at: dt.datetime | None = attrs.field(default=None, converter=_bounced_at)

    @property
    def undeliverable(self) -> bool:
        """True once a hard bounce was recorded for this address."""
        return self.bounced_at is not None

    @property
    def domain(self) -> str:
        """The part after the ``@``, lower-case."""
        return self.address.rpartition("@")[2]

    def __str__(self) -> str:
        return self.address


#: E.164 strings already known to be canonical: a bounded memo of a pure
#: function, so that ``attrs.evolve`` and store loads don't parse them again.
_KNOWN_E164: dict[str, None] = {}
_KNOWN_E164_MAX: Final = 200_000


def _remember_e164(e164: str) -> None:
    if len(_KNOWN_E164) >= _KNOWN_E164_MAX:
        _KNOWN_E164.clear()
    _KNOWN_E164[e164] = None


def _phone_e164(value: object) -> str:
    if not isinstance(value, str):
        raise _convert.type_error("e164", "str", value)
    if value in _KNOWN_E164:
        return value
    result = normalize.phone(value, field="e164")
    if result == value:
        _remember_e164(result)
    return result


def _phone_label(value: object) -> str:
    label = _convert.text("label", value, max_length=40).lower() or "office"
    if label not in PHONE_LABELS:
        raise ValidationError.single(
            "label", "phone_label.unknown", value=label, choices=", ".join(PHONE_LABELS)
        )
    return label


def _raw(value: object) -> str:
    return _convert.text("raw", value, max_length=80)


@attrs.frozen(kw_only=True)
class PhoneNumber:
    """A phone number in E.164 with a label and the text it was entered as.

    Build one from user input with :meth:`parse`, which also guesses the
    label (``mobile`` for mobile ranges, else ``office``).
    """

    e164: str = attrs.field(converter=_phone_e164)
    label: str = attrs.field(default="office", converter=_phone_label)
    raw: str = attrs.field(default="", converter=_raw)

    @classmethod
    def parse(cls, text: str, *, label: str | None = None, region: str = "DE") -> PhoneNumber:
        """Parse user input such as ``"0170 1234567"`` (default region ``DE``)."""
        e164, mobile = normalize.phone_is_mobile(text, region, field="e164")
        _remember_e164(e164)
        if label is None:
            label = "mobile" if mobile else "office"
        return cls(e164=e164, label=label, raw=text.strip()[:80] if isinstance(text, str) else "")

    @property
    def display(self) -> str:
        """International display form, e.g. ``+49 170 1234567``."""
        return normalize.phone_display(self.e164)

    def findings(self, field: str = "phone") -> list[Finding]:
        """Warnings about this number (``phone.unassigned`` when in no assigned range)."""
        if normalize.phone_is_assigned(self.e164):
            return []
        return [
            Finding(
                field=field,
                code="phone.unassigned",
                params={"value": self.raw or self.e164},
                severity="warning",
            )
        ]

    def __str__(self) -> str:
        return self.e164


def _street(value: object) -> str:
    return _convert.text("street", value)


def _postal_code_text(value: object) -> str:
    return _convert.text("postal_code", value, max_length=20)


def _city(value: object) -> str:
    return _convert.text("city", value)


def _country(value: object) -> str:
    if value is None or value == "":
        return "DE"
    if not isinstance(value, str):
        raise _convert.type_error("country", "str", value)
    return normalize.country(value, field="country")


def _address_label(value: object) -> str:
    label = _convert.text("label", value, max_length=40).lower() or "business"
    if label not in ADDRESS_LABELS:
        raise ValidationError.single(
            "label", "value.choice", value=label, choices=", ".join(ADDRESS_LABELS)
        )
    return label


@attrs.frozen(kw_only=True)
class Address:
    """A postal address.  ``country`` is ISO 3166 alpha-2 (default ``DE``)."""

    street: str = attrs.field(default="", converter=_street)
    postal_code: str = attrs.field(default="", converter=_postal_code_text)
    city: str = attrs.field(default="", converter=_city)
    country: str = attrs.field(default="DE", converter=_country)
    label: str = attrs.field(default="business", converter=_address_label)

    def __attrs_post_init__(self) -> None:
        if self.postal_code:
            canonical = normalize.postal_code(self.postal_code, self.country)
            if canonical != self.postal_code:
                object.__setattr__(self, "postal_code", canonical)

    @property
    def is_empty(self) -> bool:
        """True when street, postal code and city are all blank."""
        return not (self.street or self.postal_code or self.city)

    def __str__(self) -> str:
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        return ", ".join(p for p in (self.street, place) if p)


def _lead_text(value: object) -> str | None:
    return _convert.optional_text("lead", value, max_length=500)


def _lead_status(value: object) -> str:
    status = _convert.text("status", value, max_length=40).lower() or "new"
    if status not in LEAD_STATUSES:
        raise ValidationError.single(
            "status", "value.choice", value=status, choices=", ".join(LEAD_STATUSES)
        )
    return status


def _budget(value: object) -> Decimal | None:
    return _convert.decimal("budget", value)


def _lead_since(value: object) -> dt.date | None:
    return _convert.date("since", value)


def _lead_qualified_on(value: object) -> dt.date | None:
    return _convert.date("qualified_on", value)


def _lead_closed_on(value: object) -> dt.date | None:
    return _convert.date("closed_on", value)


def _lead_decision_maker(value: object) -> str | None:
    if value is None or value == "":
        return None
    return _convert.identifier("decision_maker_id", value)


#: Legal bases of processing (Art. 6(1) GDPR) a contact may rest on.
LEGAL_BASES: Final[dict[str, str]] = {
    "contract": "Art. 6(1)(b) GDPR",
    "consent": "Art. 6(1)(a) GDPR",
    "legitimate_interest": "Art. 6(1)(f) GDPR",
    "legal_obligation": "Art. 6(1)(c) GDPR",
}


def _basis(value: object) -> str:
    if value not in LEGAL_BASES:
        raise ValidationError.single(
            "legal_basis.basis", "value.choice", value=value, choices=", ".join(LEGAL_BASES)
        )
    return str(value)


def _basis_purpose(value: object) -> str:
    return _convert.text("legal_basis.purpose", value, max_length=500)


def _basis_event(value: object) -> str | None:
    if value is None or value == "":
        return None
    return _convert.identifier("legal_basis.consent_event_id", value)


@attrs.frozen(kw_only=True)
class LegalBasis:
    """Why the contact's data may be processed: the basis, the purpose, and for
    consent the ledger event that proves it."""

    basis: str = attrs.field(converter=_basis)
    purpose: str = attrs.field(default="", converter=_basis_purpose)
    consent_event_id: str | None = attrs.field(default=None, converter=_basis_event)

    @property
    def article(self) -> str:
        """The GDPR article: ``Art. 6(1)(b) GDPR`` …"""
        return LEGAL_BASES[self.basis]


@attrs.frozen(kw_only=True)
class LeadInfo:
    """What we know about a lead: where it came from and where it stands."""

    source: str | None = attrs.field(default=None, converter=_lead_text)
    source_detail: str | None = attrs.field(default=None, converter=_lead_text)
    budget: Decimal | None = attrs.field(default=None, converter=_budget)
    timeframe: str | None = attrs.field(default=None, converter=_lead_text)
    next_steps: str | None = attrs.field(default=None, converter=_lead_text)
    status: str = attrs.field(default="new", converter=_lead_status)
    #: The day the contact became a lead.
    since: dt.date | None = attrs.field(default=None, converter=_lead_since)
    #: The person who decides (a contact id), when known.
    decision_maker_id: str | None = attrs.field(default=None, converter=_lead_decision_maker)
    qualified_on: dt.date | None = attrs.field(default=None, converter=_lead_qualified_on)
    #: The day the lead was won (converted to a customer) or lost (archived).
    closed_on: dt.date | None = attrs.field(default=None, converter=_lead_closed_on)
    close_reason: str | None = attrs.field(default=None, converter=_lead_text)

    @property
    def is_open(self) -> bool:
        """True while the lead is neither won, lost nor disqualified."""
        return self.status not in ("won", "lost", "disqualified")


__all__ = [
    "ADDRESS_LABELS",
    "LEAD_STATUSES",
    "LEGAL_BASES",
    "PHONE_LABELS",
    "RELATIONSHIP_ALIASES",
    "Address",
    "EmailAddress",
    "LeadInfo",
    "LegalBasis",
    "PhoneNumber",
    "Relationship",
    "relationship_set",
]
