"""Who works where, in which position and with which roles.

An :class:`Affiliation` links a :class:`~crmkit.Person` to a
:class:`~crmkit.Company`.  Roles say who decides (``decision_maker``), who
gets the invoice (``billing``) and who is the technical contact
(``technical``); other role names are allowed too.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs

from crmkit.errors import ValidationError
from crmkit.ids import AffiliationId, ContactId, new_affiliation_id
from crmkit.model import _convert
from crmkit.model.contact import Company, Contact, Person

#: Roles the quality rules know about.  Any other role name is allowed too.
WELL_KNOWN_ROLES: Final[tuple[str, ...]] = ("decision_maker", "billing", "technical")


def _aff_id(value: object) -> AffiliationId:
    return AffiliationId(_convert.identifier("id", value))


def _person_id(value: object) -> ContactId:
    return ContactId(_convert.identifier("person_id", value))


def _company_id(value: object) -> ContactId:
    return ContactId(_convert.identifier("company_id", value))


def _position(value: object) -> str | None:
    return _convert.optional_text("position", value)


def _department(value: object) -> str | None:
    return _convert.optional_text("department", value)


def _roles(value: object) -> frozenset[str]:
    roles = _convert.tags("roles", value)
    return frozenset(r.lower().replace(" ", "_").replace("-", "_") for r in roles)


def _primary(value: object) -> bool:
    return _convert.boolean("primary", value)


def _since(value: object) -> dt.date | None:
    return _convert.date("since", value)


def _until(value: object) -> dt.date | None:
    return _convert.date("until", value)


def _version(value: object) -> int:
    return _convert.non_negative_int("version", value)


def _stamp_created(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("created_at", value)


def _stamp_updated(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("updated_at", value)


@attrs.frozen(kw_only=True)
class Affiliation:
    """A person's link to a company: position, department, roles, period."""

    id: AffiliationId = attrs.field(factory=new_affiliation_id, converter=_aff_id)
    person_id: ContactId = attrs.field(converter=_person_id)
    company_id: ContactId = attrs.field(converter=_company_id)
    position: str | None = attrs.field(default=None, converter=_position)
    department: str | None = attrs.field(default=None, converter=_department)
    roles: frozenset[str] = attrs.field(factory=frozenset, converter=_roles)
    primary: bool = attrs.field(default=False, converter=_primary)
    since: dt.date | None = attrs.field(default=None, converter=_since)
    until: dt.date | None = attrs.field(default=None, converter=_until)
    created_at: dt.datetime | None = attrs.field(default=None, converter=_stamp_created)
    updated_at: dt.datetime | None = attrs.field(default=None, converter=_stamp_updated)
    version: int = attrs.field(default=0, converter=_version)

    def __attrs_post_init__(self) -> None:
        if self.since and self.until and self.until < self.since:
            raise ValidationError.single(
                "until", "affiliation.period", since=self.since, until=self.until
            )
        if self.person_id == self.company_id:
            raise ValidationError.single(
                "company_id", "value.invalid", value=self.company_id, reason="same as person_id"
            )

    def is_active(self, on: dt.date) -> bool:
        """True when the affiliation covers the day *on*."""
        return (self.since is None or self.since <= on) and (self.until is None or on <= self.until)


def link(
    person: Contact,
    company: Contact,
    *,
    position: str | None = None,
    department: str | None = None,
    roles: object = (),
    primary: bool = False,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
) -> Affiliation:
    """A new (unsaved) :class:`Affiliation` of *person* with *company*.

    >>> p = Person(first_name="Max", last_name="Mustermann")
    >>> c = Company(name="Muster GmbH")
    >>> sorted(link(p, c, roles={"decision_maker"}).roles)
    ['decision_maker']
    """
    if not isinstance(person, Person):
        raise ValidationError.single(
            "person", "affiliation.kind", expected="person", actual=_kind_name(person)
        )
    if not isinstance(company, Company):
        raise ValidationError.single(
            "company", "affiliation.kind", expected="company", actual=_kind_name(company)
        )
    return Affiliation(
        person_id=person.id,
        company_id=company.id,
        position=position,
        department=department,
        roles=roles,
        primary=primary,
        since=since,
        until=until,
    )


def _kind_name(value: object) -> str:
    return str(getattr(value, "kind", type(value).__name__))


__all__ = ["WELL_KNOWN_ROLES", "Affiliation", "link"]
