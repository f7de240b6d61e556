"""Graph contacts ↔ the neutral values of :mod:`crmkit.sync`.

Only the fields of the field table travel; private Outlook fields
(``personalNotes``, ``homeAddress``, ``homePhones``, ``birthday``,
``spouseName``) are never read into neutral values nor written.  Exchange
keeps at most three e-mail addresses and two business phones, so more are
cut on the client side.  ``displayName`` is always sent with a name change
(Graph may regenerate it otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from crmkit.sync import SyncValue

#: Neutral field → Graph property (plain text fields).
TEXT_FIELDS: Final[dict[str, str]] = {
    "given_name": "givenName",
    "surname": "surname",
    "title": "title",
    "company_name": "companyName",
    "department": "department",
    "job_title": "jobTitle",
    "mobile_phone": "mobilePhone",
}
#: Every Graph property read (for ``$select``).
SELECT: Final[tuple[str, ...]] = (
    "givenName",
    "surname",
    "title",
    "companyName",
    "department",
    "jobTitle",
    "mobilePhone",
    "emailAddresses",
    "businessPhones",
    "businessAddress",
    "categories",
    "displayName",
    "changeKey",
    "lastModifiedDateTime",
)
MAX_EMAILS: Final = 3
MAX_BUSINESS_PHONES: Final = 2
_ADDRESS: Final = ("street", "postalCode", "city", "countryOrRegion")


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def to_values(contact: Mapping[str, Any]) -> dict[str, SyncValue]:
    """The neutral values present in a Graph contact (a partial one gives fewer)."""
    out: dict[str, SyncValue] = {}
    for neutral, prop in TEXT_FIELDS.items():
        if prop in contact:
            out[neutral] = _text(contact[prop])
    if "emailAddresses" in contact:
        out["emails"] = tuple(
            str(e["address"]).strip()
            for e in contact.get("emailAddresses") or []
            if isinstance(e, Mapping) and _text(e.get("address"))
        )[:MAX_EMAILS]
    if "businessPhones" in contact:
        out["business_phones"] = tuple(
            p.strip() for p in contact.get("businessPhones") or [] if _text(p)
        )[:MAX_BUSINESS_PHONES]
    if "businessAddress" in contact:
        address = contact.get("businessAddress") or {}
        parts = tuple(str(address.get(k) or "").strip() for k in _ADDRESS)
        out["business_address"] = parts if any(parts) else None
    if "categories" in contact:
        out["categories"] = tuple(sorted(str(c) for c in contact.get("categories") or []))
    return out


def is_partial(contact: Mapping[str, Any]) -> bool:
    """Whether a delta item lacks some of the selected properties."""
    return any(p not in contact for p in SELECT if p not in ("displayName",))


def to_graph(
    values: Mapping[str, SyncValue], *, current: Mapping[str, SyncValue] | None = None
) -> dict[str, Any]:
    """A sparse Graph body for the neutral *values*; ``displayName`` whenever a name changes.

    *current* (the other name fields as they are) completes ``displayName``.
    """
    body: dict[str, Any] = {}
    for neutral, prop in TEXT_FIELDS.items():
        if neutral in values:
            value = values[neutral]
            body[prop] = value if isinstance(value, str) else None
    if "emails" in values:
        emails = values["emails"] or ()
        body["emailAddresses"] = [
            {"address": a, "name": a} for a in ([emails] if isinstance(emails, str) else emails)
        ][:MAX_EMAILS]
    if "business_phones" in values:
        phones = values["business_phones"] or ()
        body["businessPhones"] = list([phones] if isinstance(phones, str) else phones)[
            :MAX_BUSINESS_PHONES
        ]
    if "business_address" in values:
        parts = values["business_address"]
        if isinstance(parts, tuple) and any(parts):
            padded = (*parts, "", "", "", "")[:4]
            body["businessAddress"] = {k: v for k, v in zip(_ADDRESS, padded, strict=True) if v}
        else:
            body["businessAddress"] = {}
    if "categories" in values:
        cats = values["categories"] or ()
        body["categories"] = list([cats] if isinstance(cats, str) else cats)
    if {"given_name", "surname", "company_name"} & set(values):
        merged = {**(current or {}), **values}
        name = " ".join(
            str(merged.get(k)) for k in ("given_name", "surname") if merged.get(k)
        ) or str(merged.get("company_name") or "")
        body["displayName"] = name
    return body


__all__ = [
    "MAX_BUSINESS_PHONES",
    "MAX_EMAILS",
    "SELECT",
    "TEXT_FIELDS",
    "is_partial",
    "to_graph",
    "to_values",
]
