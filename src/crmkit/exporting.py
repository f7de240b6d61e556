"""Exporting contacts: CSV for German Excel, lossless JSON, vCard 4.0.

:func:`export` picks the format; this module writes the CSV itself.


One row per contact: a company on its own row, a person with their primary
company (position and department from that affiliation).  The headers are
the German ones :mod:`crmkit.importing` recognises, the file is UTF-8 with a
byte-order mark and ``;`` as delimiter (what German Excel expects), and no
cell can run as a formula: a cell starting with ``=``, ``+``, ``-``, ``@``
(or a tab or carriage return) gets a leading ``'``.  The ``Kundennummer``
column carries the contact's external id (``ext:`` tag) or its crmkit number,
so importing the file elsewhere — or again — creates nothing twice.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from crmkit.errors import ValidationError
from crmkit.importing import EXTERNAL_ID_TAG
from crmkit.model import Company, Contact, Person

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

#: The columns, German headers as the importer recognises them.
COLUMNS: Final[tuple[str, ...]] = (
    "Kundennummer", "Anrede", "Titel", "Vorname", "Nachname", "Firma", "Position",
    "Abteilung", "E-Mail", "Telefon", "Mobil", "Straße", "PLZ", "Ort", "Land",
    "Beziehung", "Tags", "Notizen",
)  # fmt: skip
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS: Final = frozenset("=+-@\t\r")
#: The formats :func:`export` writes.
FORMATS: Final[tuple[str, ...]] = ("csv", "json", "vcard")


def safe_cell(value: object) -> str:
    """*value* as a cell a spreadsheet shows as text (formula injection defused, OWASP).

    A cell starting with ``= + - @``, a tab or a carriage return gets a
    leading ``'``; so does one that already starts with ``'`` and one of
    those, so that :func:`crmkit.importing.unguard` gives the value back.

    >>> safe_cell("=HYPERLINK(1)"), safe_cell("+49 711"), safe_cell("Muster")
    ("'=HYPERLINK(1)", "'+49 711", 'Muster')
    """
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) or (text[:1] == "'" and text[1:2] in _FORMULA_CHARS):
        return "'" + text
    return text


def _external_id(contact: Contact) -> str:
    tagged = sorted(
        t[len(EXTERNAL_ID_TAG) :] for t in contact.tags if t.startswith(EXTERNAL_ID_TAG)
    )
    return tagged[0] if tagged else contact.number or contact.id


def _row(crm: CRM, contact: Contact) -> list[str]:
    company_name = position = department = ""
    if isinstance(contact, Person):
        for aff in crm.store.affiliations_of_person(contact.id):
            try:
                company = crm.store.get_contact(aff.company_id)
            except LookupError:
                continue
            if isinstance(company, Company):
                company_name = company.name
                position, department = aff.position or "", aff.department or ""
                break
    address = next((a for a in contact.addresses if not a.is_empty), None)
    mobiles = [p for p in contact.phones if p.label == "mobile"]
    others = [p for p in contact.phones if p.label != "mobile"]
    values = [
        _external_id(contact),
        contact.salutation or "" if isinstance(contact, Person) else "",
        contact.title or "" if isinstance(contact, Person) else "",
        contact.first_name if isinstance(contact, Person) else "",
        contact.last_name if isinstance(contact, Person) else "",
        contact.name if isinstance(contact, Company) else company_name,
        position,
        department,
        contact.emails[0].address if contact.emails else "",
        others[0].e164 if others else "",
        mobiles[0].e164 if mobiles else "",
        address.street or "" if address else "",
        address.postal_code or "" if address else "",
        address.city or "" if address else "",
        address.country or "" if address else "",
        ", ".join(sorted(r.value for r in contact.relationships)),
        ", ".join(sorted(t for t in contact.tags if not t.startswith(EXTERNAL_ID_TAG))),
        contact.notes,
    ]
    return [safe_cell(v) for v in values]


def export_csv(
    crm: CRM,
    target: str | os.PathLike[str] | IO[str],
    *,
    contacts: Iterable[Contact] | None = None,
    include_archived: bool = False,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
) -> int:
    """Write the contacts (default: every one the actor may read) to *target* as CSV.

    *target* is a path or a text stream (then *encoding* is the stream's
    business).  ``;`` and UTF-8 with a byte-order mark by default, for
    German Excel.  Streams one contact at a time; returns the number of rows
    written.  Fields hidden from the actor (:mod:`crmkit.auth`) stay empty.
    """
    if len(delimiter) != 1 or delimiter in "\r\n\"'":
        raise ValidationError.single(
            "delimiter", "value.invalid", value=delimiter, reason="one character, not a quote"
        )
    if contacts is None:
        contacts = crm.contacts.all(include_archived=include_archived)
    if isinstance(target, (str, os.PathLike)):
        try:
            "".encode(encoding)
        except LookupError:
            raise ValidationError.single(
                "encoding", "value.invalid", value=encoding, reason="unknown encoding"
            ) from None
        with Path(target).open("w", encoding=encoding, errors="replace", newline="") as handle:
            return _write(crm, handle, contacts, delimiter)
    return _write(crm, target, contacts, delimiter)


def _write(crm: CRM, handle: IO[str], contacts: Iterable[Contact], delimiter: str) -> int:
    writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for contact in contacts:
        writer.writerow(_row(crm, contact))
        count += 1
    return count


def export(
    crm: CRM,
    target: str | os.PathLike[str] | IO[str],
    format: str = "csv",  # the public name from the design
    *,
    query: str | None = None,
    include_archived: bool = False,
) -> int:
    """Export to *target* as ``"csv"``, ``"json"`` or ``"vcard"``; returns the count written.

    *query* (search text as for :meth:`crmkit.CRM.search`, at most
    :data:`crmkit.search.MAX_LIMIT` contacts) narrows the export to the
    contacts it finds; without it everything the actor may read is
    exported.  JSON always includes archived contacts (it is the lossless
    backup format); CSV and vCard only with *include_archived*.
    """
    if format not in FORMATS:
        raise ValidationError.single(
            "format", "value.choice", value=format, choices=", ".join(FORMATS)
        )
    contacts: Iterable[Contact] | None = None
    if query is not None:
        from crmkit.search import MAX_LIMIT

        contacts = crm.search(
            query, include_archived=include_archived or format == "json", limit=MAX_LIMIT
        )
    if format == "json":
        from crmkit.jsonio import export_json

        return export_json(crm, target, contacts=contacts)
    if format == "vcard":
        from crmkit.vcard import export_vcard

        return export_vcard(crm, target, contacts=contacts, include_archived=include_archived)
    return export_csv(crm, target, contacts=contacts, include_archived=include_archived)


__all__ = ["COLUMNS", "FORMATS", "export", "export_csv", "safe_cell"]
