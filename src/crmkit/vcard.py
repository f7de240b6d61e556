"""vCards: exporting contacts as vCard 4.0, reading vCard 3.0 and 4.0 back.

Needs the ``vcard`` extra (vobject).  What a card carries:

* ``UID`` — ``urn:uuid:`` and the contact id, so the same contact has the
  same UID in every export and importing a file twice adds nothing;
* ``KIND:org`` for a company; ``FN``, ``N`` (with salutation and title as
  honorific prefixes) for a person;
* ``ORG`` (company; department), ``TITLE`` (position) and
  ``X-CRMKIT-ORG`` (the company's UID) for a person's primary affiliation,
  ``X-CRMKIT-ROLES`` for its roles — on import the person is linked to that
  company again (found by UID, else by name, else created);
* ``EMAIL`` and ``TEL`` with types (``work``, ``home``, ``cell``, ``fax``;
  a crmkit label without a vCard type in ``X-CRMKIT-LABEL``), ``ADR``,
  ``URL``, ``NOTE``;
* ``CATEGORIES`` from the tags, ``X-CRMKIT-RELATIONSHIP`` and
  ``X-CRMKIT-NUMBER``.

Everything else (owner, lead data, legal basis, the history) is not part of
a vCard: :mod:`crmkit.jsonio` is the lossless format.  The typed text of a
phone number comes back in its international form.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import attrs

from crmkit._reports import LinesReport
from crmkit.errors import CrmkitError, ValidationError
from crmkit.messages import Lang, render
from crmkit.model import Address, Company, Contact, EmailAddress, Person, PhoneNumber

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

_PHONE_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "office": ("work", "voice"),
    "mobile": ("cell",),
    "home": ("home", "voice"),
    "fax": ("work", "fax"),
    "switchboard": ("work", "voice"),
    "other": ("voice",),
}
_SALUTATIONS: Final = frozenset(
    {"herr", "frau", "divers", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "mx", "mx."}
)
_UUID_URN: Final = re.compile(r"^urn:uuid:([0-9a-fA-F-]{32,36})$")
_VCARD_NAMESPACE: Final = uuid.UUID("5a0e1c9e-6f4b-4e0b-9a7c-6b1d2c3e4f50")


def _vobject() -> Any:
    try:
        import vobject
    except ImportError as exc:  # pragma: no cover - the extra is installed in tests
        raise CrmkitError(code="extra_missing", extra="vcard", feature="vCard") from exc
    return vobject


def uid_of(contact_id: str) -> str:
    """The vCard UID of a contact: ``urn:uuid:`` and its id as a UUID."""
    try:
        return f"urn:uuid:{uuid.UUID(hex=contact_id)}"
    except ValueError:
        return f"urn:crmkit:{contact_id}"


def id_from_uid(uid: str) -> str:
    """The contact id a card with this UID gets: its own for crmkit UIDs, else a stable hash."""
    uid = uid.strip()
    match = _UUID_URN.match(uid)
    if match:
        try:
            return uuid.UUID(match.group(1)).hex
        except ValueError:
            pass
    if uid.startswith("urn:crmkit:") and re.fullmatch(r"[0-9a-f]{32}", uid[11:]):
        return uid[11:]
    return uuid.uuid5(_VCARD_NAMESPACE, uid).hex


# -- writing ---------------------------------------------------------------------------------
def _add(card: Any, name: str, content: Any, **params: Iterable[str]) -> Any:
    line = card.add(name)
    line.value = content
    for key, values in params.items():
        values = [v for v in values if v]
        if values:
            line.params[key.upper().replace("_", "-")] = values
    return line


def _typed(kind: str, label: str, vcard_types: tuple[str, ...]) -> dict[str, list[str]]:
    known = {"work", "home"} if kind == "email" else {"work", "home", "cell", "fax", "voice"}
    params = {"type": [t for t in vcard_types if t in known]}
    standard = {"email": {"work", "home"}, "adr": {"business", "home"}, "tel": {"office", "mobile",
                "home", "fax"}}[kind]  # fmt: skip
    if label not in standard:
        params["x_crmkit_label"] = [label]
    return params


def card_of(contact: Contact, company: Company | None = None, affiliation: Any = None) -> str:
    """The vCard 4.0 text of *contact* (with its primary *company* and *affiliation*)."""
    vobject = _vobject()
    card = vobject.vCard()
    _add(card, "version", "4.0")
    _add(card, "uid", uid_of(contact.id))
    if isinstance(contact, Company):
        _add(card, "kind", "org")
        _add(card, "fn", contact.name)
        _add(card, "n", vobject.vcard.Name())
        _add(card, "org", [contact.name])
        if contact.vat_id:
            _add(card, "x-crmkit-vat-id", contact.vat_id)
    elif isinstance(contact, Person):
        _add(card, "fn", contact.display_name)
        prefix = [p for p in (contact.salutation, contact.title) if p]
        name = vobject.vcard.Name(
            family=contact.last_name, given=contact.first_name, prefix=prefix or ""
        )
        _add(card, "n", name)
        if company is not None:
            department = affiliation.department if affiliation is not None else None
            _add(card, "org", [company.name, *([department] if department else [])])
            _add(card, "x-crmkit-org", uid_of(company.id))
            if affiliation is not None and affiliation.position:
                _add(card, "title", affiliation.position)
            if affiliation is not None and affiliation.roles:
                _add(card, "x-crmkit-roles", ",".join(sorted(affiliation.roles)))
    for email in contact.emails:
        types = ("work",) if email.label == "work" else ("home",) if email.label == "home" else ()
        _add(card, "email", email.address, **_typed("email", email.label, types))
    for phone in contact.phones:
        params = _typed("tel", phone.label, _PHONE_TYPES.get(phone.label, ("voice",)))
        _add(card, "tel", f"tel:{phone.e164}", value=["uri"], **params)
    for address in contact.addresses:
        types = ("home",) if address.label == "home" else ("work",)
        value = vobject.vcard.Address(
            street=address.street, city=address.city, code=address.postal_code,
            country=address.country,
        )  # fmt: skip
        _add(card, "adr", value, **_typed("adr", address.label, types))
    if contact.website:
        _add(card, "url", contact.website)
    if contact.tags:
        _add(card, "categories", sorted(contact.tags))
    if contact.relationships:
        kinds = ",".join(sorted(r.value for r in contact.relationships))
        _add(card, "x-crmkit-relationship", kinds)
    if contact.number:
        _add(card, "x-crmkit-number", contact.number)
    if contact.notes:
        _add(card, "note", contact.notes)
    text: str = card.serialize()
    return text


def _cards(crm: CRM, contacts: Iterable[Contact]) -> Iterator[str]:
    store, scope = crm.store, crm.scope()
    for contact in contacts:
        company = affiliation = None
        if isinstance(contact, Person):
            for aff in store.affiliations_of_person(contact.id, scope=scope):
                try:
                    found = store.get_contact(aff.company_id, scope=scope)
                except LookupError:
                    continue
                if isinstance(found, Company):
                    company, affiliation = found, aff
                    break
        yield card_of(contact, company, affiliation)


def export_vcard(
    crm: CRM,
    target: str | os.PathLike[str] | IO[str],
    *,
    contacts: Iterable[Contact] | None = None,
    include_archived: bool = False,
) -> int:
    """Write the contacts (default: every one the actor may read) as vCard 4.0 to *target*.

    *target* is a path or a text stream.  Streams one card at a time;
    returns the number of cards written.
    """
    _vobject()
    if contacts is None:
        contacts = crm.contacts.all(include_archived=include_archived)
    if isinstance(target, (str, os.PathLike)):
        with Path(target).open("w", encoding="utf-8", newline="") as handle:
            return _write(crm, handle, contacts)
    return _write(crm, target, contacts)


def _write(crm: CRM, handle: IO[str], contacts: Iterable[Contact]) -> int:
    count = 0
    for text in _cards(crm, contacts):
        handle.write(text)
        count += 1
    return count


# -- reading ---------------------------------------------------------------------------------
@attrs.frozen
class VcardProblem:
    """A card that was not imported: its position, its name and why."""

    card: int
    name: str
    code: str
    params: dict[str, Any] = attrs.field(factory=dict)

    def message(self, lang: Lang = "en") -> str:
        """The problem in *lang*."""
        return render("vcard.problem", lang, card=self.card, name=self.name,
                      detail=render(self.code, lang, **self.params))  # fmt: skip


@attrs.frozen
class VcardImportReport(LinesReport):
    """What :func:`import_vcard` did: contacts created, links made, cards skipped, problems."""

    created: int = 0
    linked: int = 0
    skipped: int = 0
    problems: tuple[VcardProblem, ...] = ()
    #: The stored contacts, in the order of the cards.
    contacts: tuple[Contact, ...] = ()

    def lines(self, lang: Lang = "en") -> list[str]:
        """A summary, then one line per problem."""
        summary = render("vcard.summary", lang, created=self.created, linked=self.linked,
                         skipped=self.skipped, problems=len(self.problems))  # fmt: skip
        return [summary, *(p.message(lang) for p in self.problems)]


@attrs.frozen
class _Card:
    number: int
    contact: Contact
    org: str = ""
    org_uid: str = ""
    department: str | None = None
    position: str | None = None
    roles: tuple[str, ...] = ()


def _values(card: Any, name: str) -> list[Any]:
    return list(card.contents.get(name, []))


def _first(card: Any, name: str) -> str:
    lines = _values(card, name)
    value = lines[0].value if lines else ""
    return value.strip() if isinstance(value, str) else ""


def _types(line: Any) -> set[str]:
    out: set[str] = set()
    for value in line.params.get("TYPE", []):
        out |= {t.strip().lower() for t in str(value).split(",")}
    return out


def _label(line: Any) -> str | None:
    labels = line.params.get("X-CRMKIT-LABEL", [])
    return str(labels[0]).lower() if labels else None


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _phone(line: Any) -> PhoneNumber:
    value = str(line.value).strip()
    value = value.removeprefix("tel:").split(";")[0]
    types = _types(line)
    label = _label(line)
    if label is None:
        label = ("mobile" if "cell" in types else "fax" if "fax" in types
                 else "home" if "home" in types else None)  # fmt: skip
    return PhoneNumber.parse(value, label=label)


def _email(line: Any) -> EmailAddress:
    types = _types(line)
    label = _label(line) or ("home" if "home" in types else "work")
    return EmailAddress(address=str(line.value).strip(), label=label)


def _address(line: Any) -> Address:
    value = line.value
    label = _label(line) or ("home" if "home" in _types(line) else "business")

    def part(name: str) -> str:
        got = getattr(value, name, "")
        return " ".join(got) if isinstance(got, list) else str(got or "")

    country = part("country").strip()
    fields: dict[str, Any] = {"street": part("street"), "city": part("city"),
                              "postal_code": part("code"), "label": label}  # fmt: skip
    if country:
        fields["country"] = country
    return Address(**fields)


def _parse(crm: CRM, number: int, card: Any) -> _Card:
    uid = _first(card, "uid")
    common: dict[str, Any] = {
        "emails": [_email(line) for line in _values(card, "email")],
        "phones": [_phone(line) for line in _values(card, "tel")],
        "addresses": [_address(line) for line in _values(card, "adr")],
        "website": _first(card, "url") or None,
        "notes": _first(card, "note"),
        "tags": [t for line in _values(card, "categories") for t in _categories(line.value)],
        "relationships": _split_list(_first(card, "x-crmkit-relationship")),
    }
    if uid:
        common["id"] = id_from_uid(uid)
    number_text = _first(card, "x-crmkit-number")
    if number_text:
        common["number"] = number_text
    org_lines = _values(card, "org")
    org_parts = [str(p).strip() for p in (org_lines[0].value if org_lines else [])]
    org_parts = [p for p in org_parts if p]
    name_lines = _values(card, "n")
    name = name_lines[0].value if name_lines else None
    family = _joined(getattr(name, "family", ""))
    given = _joined(getattr(name, "given", ""))
    kind = _first(card, "kind").lower()
    if kind == "org" or (not family and not given and org_parts):
        company_name = org_parts[0] if org_parts else _first(card, "fn")
        vat = _first(card, "x-crmkit-vat-id") or None
        return _Card(number, Company(name=company_name, vat_id=vat, **common))
    if not family and not given:
        family = _first(card, "fn")
    prefixes = _prefixes(getattr(name, "prefix", ""))
    salutation = prefixes.pop(0) if prefixes and prefixes[0].lower() in _SALUTATIONS else None
    person = Person(first_name=given, last_name=family, salutation=salutation,
                    title=" ".join(prefixes) or None, **common)  # fmt: skip
    return _Card(
        number,
        person,
        org=org_parts[0] if org_parts else "",
        org_uid=_first(card, "x-crmkit-org"),
        department=org_parts[1] if len(org_parts) > 1 else None,
        position=_first(card, "title") or None,
        roles=tuple(_split_list(_first(card, "x-crmkit-roles"))),
    )


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v).strip() for v in value if str(v).strip())
    return str(value or "").strip()


def _prefixes(value: Any) -> list[str]:
    """Honorific prefixes; a first word that is a salutation stands alone ("Herr Dr.")."""
    items = [str(v).strip() for v in (value if isinstance(value, list) else [value])]
    items = [v for v in items if v]
    if items and " " in items[0] and items[0].split()[0].lower() in _SALUTATIONS:
        word, rest = items[0].split(None, 1)
        items[:1] = [word, rest]
    return items


def _categories(value: Any) -> list[str]:
    items = value if isinstance(value, list) else _split_list(str(value))
    return [str(v).strip() for v in items if str(v).strip()]


def _read_cards(text: str) -> Iterator[tuple[int, Any | CrmkitError]]:
    vobject = _vobject()
    chunks = re.split(r"(?im)^(?=BEGIN:VCARD\s*$)", text)
    number = 0
    for chunk in chunks:
        if not chunk.strip():
            continue
        number += 1
        try:
            card = vobject.readOne(chunk, ignoreUnreadable=True)
        except Exception as exc:  # vobject raises many kinds on bad input
            yield number, CrmkitError(code="vcard.unreadable", detail=str(exc).splitlines()[0]
                                      if str(exc) else type(exc).__name__)  # fmt: skip
            continue
        if card.name.upper() != "VCARD":
            yield number, CrmkitError(code="vcard.unreadable", detail=f"{card.name} is no VCARD")
            continue
        yield number, card


def _display(card: Any) -> str:
    try:
        return _first(card, "fn") or _first(card, "org")
    except Exception:  # a broken card still gets a problem line
        return ""


def import_vcard(crm: CRM, source: str | os.PathLike[str] | IO[str]) -> VcardImportReport:
    """Read vCards (3.0 or 4.0, one file with any number of cards) into the CRM.

    Companies are stored first, then persons, each linked to the company of
    its ``ORG`` (by ``X-CRMKIT-ORG`` UID, else by exact name among the cards
    and the stored companies, else a new company).  A card whose UID is
    already stored is skipped, so a re-import adds nothing; a card that
    cannot be read or fails validation is reported (card number, name,
    reason in English and German) and the rest imported — in one
    transaction, so an error from the store leaves nothing half-written.
    """
    if isinstance(source, (str, os.PathLike)):
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise CrmkitError(code="import.unreadable_file",
                              detail=exc.strerror or str(exc)) from None  # fmt: skip
        text = raw.decode("utf-8-sig", errors="replace")
    else:
        text = source.read()
    return _import(crm, text)


def _import(crm: CRM, text: str) -> VcardImportReport:
    problems: list[VcardProblem] = []
    parsed: list[_Card] = []
    seen: set[str] = set()
    skipped = 0
    for number, card in _read_cards(text):
        if isinstance(card, CrmkitError):
            problems.append(VcardProblem(number, "", card.code, dict(card.params)))
            continue
        try:
            item = _parse(crm, number, card)
        except ValidationError as exc:
            problems.append(VcardProblem(number, _display(card), "vcard.invalid",
                                         {"detail": "; ".join(f.located() for f in
                                                              exc.findings)}))  # fmt: skip
            continue
        except CrmkitError as exc:
            problems.append(VcardProblem(number, _display(card), exc.code, dict(exc.params)))
            continue
        if item.contact.id in seen or _stored(crm, item.contact.id):
            skipped += 1
            continue
        seen.add(item.contact.id)
        parsed.append(item)
    created, linked = _store(crm, parsed, problems)
    return VcardImportReport(created=len(created), linked=linked, skipped=skipped,
                             problems=tuple(sorted(problems, key=lambda p: p.card)),
                             contacts=tuple(created))  # fmt: skip


def _stored(crm: CRM, contact_id: str) -> bool:
    try:
        crm.store.get_contact(contact_id)
    except LookupError:
        return False
    return True


def _free_number(crm: CRM, contact: Contact) -> Contact:
    if contact.number is None:
        return contact
    try:
        crm.store.get_contact_by_number(contact.number)
    except LookupError:
        return contact
    return attrs.evolve(contact, number=None)


def _store(crm: CRM, cards: list[_Card], problems: list[VcardProblem]) -> tuple[list[Contact], int]:
    created: list[Contact] = []
    linked = 0
    companies: dict[str, Company] = {}  # by id
    by_name: dict[str, Company] = {}
    with crm.transaction():
        for card in (c for c in cards if isinstance(c.contact, Company)):
            company = _add_one(crm, card, problems)
            if isinstance(company, Company):
                created.append(company)
                companies[company.id] = company
                by_name.setdefault(company.name.casefold(), company)
        for card in (c for c in cards if isinstance(c.contact, Person)):
            person = _add_one(crm, card, problems)
            if person is None:
                continue
            created.append(person)
            if not card.org:
                continue
            company = _company_for(crm, card, companies, by_name)
            if company is None:
                company = crm.contacts.add(Company(name=card.org))
                created.append(company)
                companies[company.id] = company
                by_name[company.name.casefold()] = company
            crm.affiliations.link(person, company, position=card.position,
                                  department=card.department, roles=card.roles,
                                  primary=True)  # fmt: skip
            linked += 1
    return created, linked


def _add_one(crm: CRM, card: _Card, problems: list[VcardProblem]) -> Contact | None:
    contact = _free_number(crm, card.contact)
    name = contact.display_name
    try:
        errors = [f for f in crm.contacts.validate(contact) if f.severity == "error"]
        if errors:
            raise ValidationError(errors)
        return crm.contacts.add(contact)
    except ValidationError as exc:
        detail = "; ".join(f.located() for f in exc.findings)
        problems.append(VcardProblem(card.number, str(name), "vcard.invalid", {"detail": detail}))
        return None


def _company_for(
    crm: CRM, card: _Card, companies: dict[str, Company], by_name: dict[str, Company]
) -> Company | None:
    if card.org_uid:
        wanted = id_from_uid(card.org_uid)
        if wanted in companies:
            return companies[wanted]
        try:
            found = crm.store.get_contact(wanted)
        except LookupError:
            found = None
        if isinstance(found, Company):
            return found
    key = card.org.casefold()
    if key in by_name:
        return by_name[key]
    for hit in crm.search(card.org, kind="company", limit=20):
        if isinstance(hit, Company) and hit.name.casefold() == key:
            by_name[key] = hit
            return hit
    return None


__all__ = [
    "VcardImportReport",
    "VcardProblem",
    "card_of",
    "export_vcard",
    "id_from_uid",
    "import_vcard",
    "uid_of",
]
