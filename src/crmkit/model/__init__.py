"""The domain model: contacts, affiliations and their value objects.

All entities are frozen attrs classes with keyword-only constructors that
accept plain input and normalise it.  Change them with :func:`attrs.evolve`
(or the intent-named functions such as :func:`link`) and store the result
through the facade.
"""

from crmkit.model.affiliation import WELL_KNOWN_ROLES, Affiliation, link
from crmkit.model.contact import CONTACT_CLASSES, Company, Contact, ContactKind, Person
from crmkit.model.values import (
    ADDRESS_LABELS,
    LEAD_STATUSES,
    LEGAL_BASES,
    PHONE_LABELS,
    Address,
    EmailAddress,
    LeadInfo,
    LegalBasis,
    PhoneNumber,
    Relationship,
)

__all__ = [
    "ADDRESS_LABELS",
    "CONTACT_CLASSES",
    "LEAD_STATUSES",
    "LEGAL_BASES",
    "PHONE_LABELS",
    "WELL_KNOWN_ROLES",
    "Address",
    "Affiliation",
    "Company",
    "Contact",
    "ContactKind",
    "EmailAddress",
    "LeadInfo",
    "LegalBasis",
    "Person",
    "PhoneNumber",
    "Relationship",
    "link",
]
