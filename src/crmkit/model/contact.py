"""Contacts: the :class:`Person` and the :class:`Company`, and their common fields.

Constructors accept plain input and convert it::

    Company(name="Muster GmbH", emails=["info@muster.de"], phones=["+49 123 456-0"],
            relationships={"customer"})

Every converter is idempotent, so ``attrs.evolve`` and loading from a store
run them again without changing anything.  Bad input raises
:class:`crmkit.ValidationError` naming the field (``emails.0``, ``name`` …).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, Literal, TypeVar

import attrs

from crmkit import normalize, validation
from crmkit._reports import html_fields
from crmkit.errors import Finding, ValidationError
from crmkit.ids import ContactId, new_contact_id
from crmkit.model import _convert
from crmkit.model.values import (
    Address,
    EmailAddress,
    LeadInfo,
    LegalBasis,
    PhoneNumber,
    Relationship,
    relationship_set,
)

ContactKind = Literal["person", "company"]
NUMBER_PREFIX: Final = "C"
_T = TypeVar("_T")


def _id(value: object) -> ContactId:
    return ContactId(_convert.identifier("id", value))


def _number(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _convert.type_error("number", "str", value)
    return validation.contact_number(value, field="number")


def _relationships(value: object) -> frozenset[Relationship]:
    return relationship_set("relationships", value)


def _emails(value: object) -> tuple[EmailAddress, ...]:
    out: list[EmailAddress] = []
    for i, item in enumerate(_convert.sequence("emails", value)):
        if isinstance(item, EmailAddress):
            out.append(item)
            continue
        try:
            if isinstance(item, str):
                out.append(EmailAddress(address=item))
            elif isinstance(item, Mapping):
                out.append(EmailAddress(**_kwargs(item, ("address", "label", "bounced_at"))))
            else:
                raise _convert.type_error("", "str or EmailAddress", item)
        except ValidationError as exc:
            raise exc.at(f"emails.{i}") from None
    return _dedupe(out, key=lambda e: e.address.lower())


def _phones(value: object) -> tuple[PhoneNumber, ...]:
    out: list[PhoneNumber] = []
    for i, item in enumerate(_convert.sequence("phones", value)):
        if isinstance(item, PhoneNumber):
            out.append(item)
            continue
        try:
            if isinstance(item, str):
                out.append(PhoneNumber.parse(item))
            elif isinstance(item, Mapping):
                out.append(PhoneNumber(**_kwargs(item, ("e164", "label", "raw"))))
            else:
                raise _convert.type_error("", "str or PhoneNumber", item)
        except ValidationError as exc:
            raise exc.at(f"phones.{i}") from None
    return _dedupe(out, key=lambda p: p.e164)


def _addresses(value: object) -> tuple[Address, ...]:
    out: list[Address] = []
    for i, item in enumerate(_convert.sequence("addresses", value)):
        if isinstance(item, Address):
            out.append(item)
            continue
        try:
            if isinstance(item, Mapping):
                out.append(
                    Address(**_kwargs(item, ("street", "postal_code", "city", "country", "label")))
                )
            else:
                raise _convert.type_error("", "Address or mapping", item)
        except ValidationError as exc:
            raise exc.at(f"addresses.{i}") from None
    return tuple(a for a in out if not a.is_empty)


def _kwargs(item: Mapping[Any, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    extra = [k for k in item if k not in allowed]
    if extra:
        raise ValidationError.single(
            str(extra[0]), "value.choice", value=str(extra[0]), choices=", ".join(allowed)
        )
    return {str(k): v for k, v in item.items()}


def _dedupe(items: list[_T], *, key: Callable[[_T], object]) -> tuple[_T, ...]:
    if len(items) < 2:
        return tuple(items)
    seen: set[object] = set()
    out: list[_T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return tuple(out)


def _website(value: object) -> str | None:
    site = _convert.optional_text("website", value, max_length=500)
    if site is None:
        return None
    if " " in site or "." not in site:
        raise ValidationError.single("website", "website.invalid", value=site)
    return site


def _tags(value: object) -> frozenset[str]:
    return _convert.tags("tags", value)


def _notes(value: object) -> str:
    return _convert.multiline("notes", value)


def _owner(value: object) -> str | None:
    return _convert.optional_text("owner", value, max_length=100)


def _lead(value: object) -> LeadInfo | None:
    if value is None or isinstance(value, LeadInfo):
        return value
    if isinstance(value, Mapping):
        try:
            return LeadInfo(
                **_kwargs(
                    value,
                    (
                        "source",
                        "source_detail",
                        "budget",
                        "timeframe",
                        "next_steps",
                        "status",
                        "since",
                        "decision_maker_id",
                        "qualified_on",
                        "closed_on",
                        "close_reason",
                    ),
                )
            )
        except ValidationError as exc:
            raise exc.at("lead") from None
    raise _convert.type_error("lead", "LeadInfo or mapping", value)


def _customer_since(value: object) -> dt.date | None:
    return _convert.date("customer_since", value)


def _archived_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("archived_at", value)


def _archive_reason(value: object) -> str | None:
    return _convert.optional_text("archive_reason", value, max_length=500)


def _merged_into(value: object) -> ContactId | None:
    if value is None or value == "":
        return None
    return ContactId(_convert.identifier("merged_into", value))


def _legal_basis(value: object) -> LegalBasis | None:
    if value is None or isinstance(value, LegalBasis):
        return value
    if isinstance(value, str):
        return LegalBasis(basis=value)
    if isinstance(value, Mapping):
        return LegalBasis(**_kwargs(value, ("basis", "purpose", "consent_event_id")))
    raise _convert.type_error("legal_basis", "LegalBasis, basis name or mapping", value)


def _restricted_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("restricted_at", value)


def _created_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("created_at", value)


def _updated_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("updated_at", value)


def _version(value: object) -> int:
    return _convert.non_negative_int("version", value)


def _redacted(value: object) -> frozenset[str]:
    return _convert.tags("redacted", value)


@attrs.frozen(kw_only=True)
class Contact:
    """Fields every contact has.  Use :class:`Person` or :class:`Company`.

    ``id`` is generated; ``number`` (``C00001``) is allocated by the store on
    :meth:`crmkit.CRM.contacts.add`; ``version`` starts at 0 for an unsaved
    contact and grows by one with every stored change.
    """

    kind: ClassVar[ContactKind]

    id: ContactId = attrs.field(factory=new_contact_id, converter=_id)
    number: str | None = attrs.field(default=None, converter=_number)
    relationships: frozenset[Relationship] = attrs.field(
        factory=frozenset, converter=_relationships
    )
    emails: tuple[EmailAddress, ...] = attrs.field(factory=tuple, converter=_emails)
    phones: tuple[PhoneNumber, ...] = attrs.field(factory=tuple, converter=_phones)
    addresses: tuple[Address, ...] = attrs.field(factory=tuple, converter=_addresses)
    website: str | None = attrs.field(default=None, converter=_website)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    notes: str = attrs.field(default="", converter=_notes)
    owner: str | None = attrs.field(default=None, converter=_owner)
    lead: LeadInfo | None = attrs.field(default=None, converter=_lead)
    customer_since: dt.date | None = attrs.field(default=None, converter=_customer_since)
    archived_at: dt.datetime | None = attrs.field(default=None, converter=_archived_at)
    archive_reason: str | None = attrs.field(default=None, converter=_archive_reason)
    #: Set on a contact that was merged into another (``crm.merge``): its id.
    merged_into: ContactId | None = attrs.field(default=None, converter=_merged_into)
    #: Why the data may be processed (Art. 6(1) GDPR); ``None``: not documented yet.
    legal_basis: LegalBasis | None = attrs.field(default=None, converter=_legal_basis)
    #: Set while processing is restricted (Art. 18 GDPR): kept for storage only.
    restricted_at: dt.datetime | None = attrs.field(default=None, converter=_restricted_at)
    created_at: dt.datetime | None = attrs.field(default=None, converter=_created_at)
    updated_at: dt.datetime | None = attrs.field(default=None, converter=_updated_at)
    version: int = attrs.field(default=0, converter=_version)
    #: Fields withheld from the actor who read this contact (they hold their
    #: empty default here).  Always empty in the store.
    redacted: frozenset[str] = attrs.field(factory=frozenset, converter=_redacted)

    @property
    def display_name(self) -> str:
        """The name to show in lists."""
        raise NotImplementedError  # pragma: no cover - overridden by both kinds

    @property
    def primary_email(self) -> str | None:
        """The first e-mail address, or ``None``."""
        return self.emails[0].address if self.emails else None

    @property
    def primary_phone(self) -> str | None:
        """The first phone number (E.164), or ``None``."""
        return self.phones[0].e164 if self.phones else None

    @property
    def is_archived(self) -> bool:
        """True once :meth:`crmkit.CRM.contacts.archive` was called."""
        return self.archived_at is not None

    def _repr_html_(self) -> str:
        """A card for Jupyter: number and name, then every filled field (escaped)."""
        lead = self.lead
        fields: list[tuple[str, object]] = [
            ("kind", self.kind),
            (
                "emails",
                [e.address + (" (bounced)" if e.undeliverable else "") for e in self.emails],
            ),
            ("phones", [f"{p.e164} ({p.label})" for p in self.phones]),
            ("addresses", "\n".join(str(a) for a in self.addresses)),
            ("website", self.website),
            ("relationships", {r.value for r in self.relationships}),
            ("tags", self.tags),
            ("lead", f"{lead.status}, {lead.source or '—'}" if lead else None),
            ("customer since", self.customer_since),
            ("legal basis", self.legal_basis.article if self.legal_basis else None),
            ("owner", self.owner),
            ("archived", self.archived_at),
            ("notes", self.notes),
            ("id", self.id),
        ]
        return html_fields(f"{self.number or '—'} {self.display_name}", fields)

    def findings(self) -> list[Finding]:
        """Warnings about the contact's own values (e.g. ``phone.unassigned``)."""
        out: list[Finding] = []
        for i, p in enumerate(self.phones):
            out.extend(attrs.evolve(f, contact_id=self.id) for f in p.findings(f"phones.{i}"))
        return out


def _salutation(value: object) -> str | None:
    return _convert.optional_text("salutation", value, max_length=40)


def _title(value: object) -> str | None:
    return _convert.optional_text("title", value, max_length=80)


def _first_name(value: object) -> str:
    return _convert.text("first_name", value)


def _last_name(value: object) -> str:
    return _convert.text("last_name", value)


@attrs.frozen(kw_only=True)
class Person(Contact):
    """A natural person.  A first or a last name is required."""

    kind: ClassVar[ContactKind] = "person"

    salutation: str | None = attrs.field(default=None, converter=_salutation)
    title: str | None = attrs.field(default=None, converter=_title)
    first_name: str = attrs.field(default="", converter=_first_name)
    last_name: str = attrs.field(default="", converter=_last_name)

    def __attrs_post_init__(self) -> None:
        if not (self.first_name or self.last_name):
            raise ValidationError.single("last_name", "person.name_required")

    @property
    def display_name(self) -> str:
        """``"Dr. Max Mustermann"``."""
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)

    def __str__(self) -> str:
        return f"{self.number or '-'} {self.display_name}"


def _company_name(value: object) -> str:
    return _convert.text("name", value)


def _vat_id(value: object) -> str | None:
    vat = _convert.optional_text("vat_id", value, max_length=40)
    if vat is None:
        return None
    return validation.vat_id(vat, field="vat_id")


@attrs.frozen(kw_only=True)
class Company(Contact):
    """A firm, an association or any other organisation.

    ``legal_form`` and ``base_name`` are derived from ``name``:
    ``"Muster GmbH & Co. KG"`` has base name ``"Muster"`` and legal form
    ``"GmbH & Co. KG"``.
    """

    kind: ClassVar[ContactKind] = "company"

    name: str = attrs.field(default="", converter=_company_name)
    vat_id: str | None = attrs.field(default=None, converter=_vat_id)
    base_name: str = attrs.field(init=False, default="", eq=False)
    legal_form: str | None = attrs.field(init=False, default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ValidationError.single("name", "company.name_required")
        base, form = normalize.company_name(self.name)
        object.__setattr__(self, "base_name", base)
        object.__setattr__(self, "legal_form", form)

    @property
    def display_name(self) -> str:
        """The full name, legal form included."""
        return self.name

    def __str__(self) -> str:
        return f"{self.number or '-'} {self.name}"


CONTACT_CLASSES: Final[dict[str, type[Contact]]] = {"person": Person, "company": Company}

__all__ = ["CONTACT_CLASSES", "Company", "Contact", "ContactKind", "Person"]
