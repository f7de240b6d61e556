"""The personal-data registry: every field that may hold personal data, declared.

Each entity field crmkit (or a plugin) persists is declared through the
``crmkit_register_personal_data`` hook as a :class:`PersonalField`: which
entity and field, what category of data, how an access report exports it and
how erasure treats it — or that it holds no personal data.  Access reports
and erasure are built from the declarations, and
:func:`crmkit.testing.undeclared_fields` makes a test fail when a field is
persisted without one, so neither can silently miss a new field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

#: Categories of data (Art. 15(1)(b) GDPR asks for them in an access report).
CATEGORIES: Final[tuple[str, ...]] = (
    "identity",  # names, titles, salutation
    "contact_data",  # e-mail addresses, phones, postal addresses, website
    "relationship",  # relationships, roles, owner, lead data, tags
    "communication",  # correspondence content
    "consent",  # consent ledger and its proof
    "privacy",  # requests, restriction, legal basis, holds
    "notes",  # free-text notes
    "none",  # bookkeeping: ids, versions, timestamps, flags
)


@attrs.frozen(kw_only=True)
class PersonalField:
    """One declared field: ``entity.field``, its category, export and erasure rule.

    ``export`` is ``report`` (shown in access reports) or ``omit``;
    ``erase`` is ``delete`` (goes with the person), ``blank`` (the record
    stays, the value is removed) or ``keep`` (no personal data, or kept by
    law — say which in ``note``).
    """

    entity: str
    field: str
    category: str = attrs.field(validator=attrs.validators.in_(CATEGORIES))
    export: str = attrs.field(default="report", validator=attrs.validators.in_(("report", "omit")))
    erase: str = attrs.field(
        default="delete", validator=attrs.validators.in_(("delete", "blank", "keep"))
    )
    note: str = ""

    @property
    def personal(self) -> bool:
        """False for bookkeeping fields (category ``none``)."""
        return self.category != "none"


def _fields(entity: str, category: str, names: Iterable[str], **kw: str) -> list[PersonalField]:
    return [PersonalField(entity=entity, field=n, category=category, **kw) for n in names]


_BOOKKEEPING = ("id", "version", "created_at", "updated_at", "redacted", "number")


def builtin_fields() -> list[PersonalField]:
    """The declarations of crmkit's own entities."""
    out: list[PersonalField] = []
    for entity in ("person", "company"):
        out += _fields(entity, "none", (*_BOOKKEEPING, "archived_at", "merged_into"),
                       erase="keep", export="omit")  # fmt: skip
        out += _fields(entity, "contact_data", ("emails", "phones", "addresses", "website"))
        out += _fields(entity, "relationship",
                       ("relationships", "tags", "owner", "lead", "customer_since"))  # fmt: skip
        out += _fields(entity, "notes", ("notes", "archive_reason"))
        out += _fields(entity, "privacy", ("legal_basis", "restricted_at"))
    out += _fields("person", "identity", ("salutation", "title", "first_name", "last_name"))
    out += _fields("company", "identity", ("name", "vat_id"))
    out += _fields("affiliation", "none", (*_BOOKKEEPING[:5], "person_id", "company_id"),
                   erase="keep", export="omit")  # fmt: skip
    out += _fields("affiliation", "relationship",
                   ("position", "department", "roles", "primary", "since", "until"))  # fmt: skip
    out += _fields("correspondence", "none",
                   ("id", "revision", "recorded_at", "contact_ids", "source"),
                   erase="keep", export="omit")  # fmt: skip
    out += _fields("correspondence", "communication",
                   ("channel", "direction", "occurred_at", "author", "subject", "content",
                    "agreements", "next_steps", "follow_up", "internal", "tags",
                    "retention_category"))  # fmt: skip
    out += _fields("consent_event", "none", ("id", "contact_id", "recorded_at"),
                   erase="keep", export="omit")  # fmt: skip
    out += _fields("consent_event", "consent",
                   ("purpose", "contact_point", "kind", "at", "channel", "source", "recorded_by",
                    "text_version", "text_sha256", "request_id", "ip", "user_agent",
                    "note"))  # fmt: skip
    out += _fields("bounce", "none", ("id", "version", "contact_ids", "processed_by"),
                   erase="keep", export="omit")  # fmt: skip
    out += _fields("bounce", "contact_data",
                   ("address", "kind", "at", "detail", "processed_at"))  # fmt: skip
    out += _fields("privacy_request", "none",
                   ("id", "version", "contact_id", "kind", "received", "identity",
                    "extension_months", "extension_announced", "status", "closed_on"),
                   erase="keep", export="report",
                   note="the handling of a request is documented")  # fmt: skip
    out += _fields("privacy_request", "privacy", ("requester", "extension_reason", "outcome"),
                   erase="blank")  # fmt: skip
    out += _fields("legal_hold", "none", ("id", "contact_id", "placed_on", "until", "lifted_on"),
                   erase="keep", export="report")  # fmt: skip
    out += _fields("legal_hold", "privacy", ("reason",))
    return out


def builtin_entities() -> dict[str, type]:
    """The entity classes crmkit persists, by the names the declarations use."""
    from crmkit.bounce import Bounce
    from crmkit.consent import ConsentEvent
    from crmkit.correspondence import CorrespondenceEntry
    from crmkit.model import Affiliation, Company, Person
    from crmkit.privacy import PrivacyRequest
    from crmkit.retention import LegalHold

    return {
        "person": Person,
        "company": Company,
        "affiliation": Affiliation,
        "correspondence": CorrespondenceEntry,
        "consent_event": ConsentEvent,
        "bounce": Bounce,
        "privacy_request": PrivacyRequest,
        "legal_hold": LegalHold,
    }


def undeclared(fields: Iterable[PersonalField], entities: Mapping[str, type]) -> set[str]:
    """``entity.field`` of every attrs field of *entities* without a declaration."""
    declared = by_entity(fields)
    missing: set[str] = set()
    for name, cls in entities.items():
        known = declared.get(name, {})
        for a in attrs.fields(cls):
            if a.init and a.name not in known:
                missing.add(f"{name}.{a.name}")
    return missing


def by_entity(fields: Iterable[PersonalField]) -> Mapping[str, Mapping[str, PersonalField]]:
    """The declarations grouped by entity, then field."""
    out: dict[str, dict[str, PersonalField]] = {}
    for f in fields:
        out.setdefault(f.entity, {})[f.field] = f
    return out


__all__ = [
    "CATEGORIES",
    "PersonalField",
    "builtin_entities",
    "builtin_fields",
    "by_entity",
    "undeclared",
]
