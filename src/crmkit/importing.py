"""Importing contacts from a CSV file, as German (or English) Excel writes it.

:func:`import_csv` reads the file as a stream (bounded memory, whatever its
size), detects the encoding (UTF-8, UTF-8 with BOM, else Windows-1252) and
the delimiter (``;``, ``,`` or tab), maps the columns from their German or
English headers (:data:`HEADERS`), and turns each row into a company, a
person and their affiliation.  Valid rows are stored in batches, one
transaction per batch; every row that cannot be used is reported with its
row number, column, value and a message in English and German
(:class:`CsvImportReport`).

Decisions worth knowing:

* **Row numbers** are those Excel shows: the header is row 1.
* **One row, one main contact**: the person when the row names one, else
  the company.  E-mail, phones, tags, notes and the external id belong to
  the main contact; the address and the relationship belong to the company
  when the row has one.
* **Companies** are found by their normalised name (case, umlauts,
  punctuation ignored) among the rows already read and in the store, and
  reused: a company is never created twice by an import.  The first row
  naming a company decides its address and relationship.
* **External ids** (``Kundennummer``) are stored as the tag ``ext:<id>`` on
  the main contact.  A row whose id is already in the store (or earlier in
  the file) is skipped and reported, so re-running a file creates nothing
  new.
* **Without an external id column** every new contact is checked with
  :func:`crmkit.dedup_api.check` against the store; a ``match`` is reported
  and not imported (``on_duplicate="skip"``, the default, so re-running a
  file creates nothing new), imported anyway (``on_duplicate="flag"``), or
  imported and merged into the stored contact at once
  (``on_duplicate="merge"``: :meth:`crmkit.CRM.merge` with the stored contact
  as survivor — nothing is lost, and ``crm.unmerge`` undoes it).  Rows of the
  same file are not checked against each other.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, Final

import attrs

from crmkit import normalize
from crmkit._reports import LinesReport
from crmkit.dedup_api import check as dedup_check
from crmkit.errors import CrmkitError, Finding, PermissionDenied, ValidationError
from crmkit.messages import Lang, render
from crmkit.model import Address, Company, Contact, EmailAddress, Person, PhoneNumber, link
from crmkit.model.values import relationship_set

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

#: The fields a column can be mapped to.
FIELDS: Final[tuple[str, ...]] = (
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "mobile",
    "street",
    "postal_code",
    "city",
    "country",
    "position",
    "department",
    "relationship",
    "tags",
    "external_id",
    "salutation",
    "title",
    "notes",
)
#: Header keys (:func:`header_key`) that may mean another field than the one
#: :data:`HEADERS` gives them: "Name" is the last name in German exports, but
#: an English file may use it for the company or the full name.  When another
#: column names the same field plainly, that column is read and this one is
#: reported as a second column for the field.
WEAK_HEADERS: Final = frozenset({"name"})
#: Mapping target that ignores a column (without reporting it as unknown).
IGNORE: Final = "ignore"
#: Recognised headers per field (matched case-, umlaut-, space- and punctuation-insensitively).
HEADERS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "first_name": ("Vorname", "First name", "Firstname", "Given name"),
        "last_name": ("Nachname", "Last name", "Lastname", "Surname", "Name", "Familienname"),
        "company": ("Firma", "Unternehmen", "Company", "Organisation", "Organization"),
        "email": ("E-Mail", "Email", "Mail", "E-Mail-Adresse", "Email address"),
        "phone": ("Telefon", "Phone", "Tel.", "Telefonnummer", "Phone number"),
        "mobile": ("Mobil", "Mobile", "Handy", "Mobiltelefon", "Mobile phone"),
        "street": ("Straße", "Strasse", "Street", "Anschrift", "Address"),
        "postal_code": ("PLZ", "Postleitzahl", "Zip", "Zip code", "Postal code", "Postcode"),
        "city": ("Ort", "Stadt", "City", "Town"),
        "country": ("Land", "Country"),
        "position": ("Position", "Funktion", "Job title", "Jobtitle"),
        "department": ("Abteilung", "Department"),
        "relationship": ("Beziehung", "Relationship", "Kundenart"),
        "tags": ("Tags", "Schlagworte", "Schlagwörter", "Stichworte"),
        "external_id": (
            "Kundennummer",
            "Kunden-Nr.",
            "Kundennr",
            "Customer number",
            "Customer no",
            "External id",
            "Externe ID",
        ),
        "salutation": ("Anrede", "Salutation"),
        "title": ("Titel", "Title"),
        "notes": ("Notizen", "Notiz", "Bemerkung", "Bemerkungen", "Notes", "Note", "Comment"),
    }
)
#: Prefix of the tag that remembers a contact's external id.
EXTERNAL_ID_TAG: Final = "ext:"
#: How many problems a report lists; the rest are only counted.
MAX_PROBLEMS: Final = 1000
#: Longest physical line read (characters); a longer one stops the import.
MAX_LINE: Final = 1 << 20
#: How many bytes are looked at to choose the encoding of an unseekable stream.
_SNIFF_BYTES: Final = 1 << 20
_SAMPLE_LINES: Final = 20
_CHUNK: Final = 1 << 16
_DELIMITERS: Final = (";", ",", "\t")
_SPLIT_LIST: Final = re.compile(r"[,;|/]")
#: Companies remembered by normalised name (the rest are looked up in the store again).
_COMPANY_CACHE: Final = 50_000
_ON_DUPLICATE: Final = ("flag", "skip", "merge")

#: The main contact's fields a finding's first path segment stands for.
_FINDING_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "first_name": "first_name",
        "last_name": "last_name",
        "name": "company",
        "salutation": "salutation",
        "title": "title",
        "notes": "notes",
        "tags": "tags",
        "relationships": "relationship",
        "emails": "email",
        "position": "position",
        "department": "department",
    }
)


def _cp1252_undefined(exc: UnicodeError) -> tuple[str, int]:
    """Decode the five bytes Windows-1252 leaves undefined as Latin-1 (control characters).

    The model rejects control characters, so such a cell is reported rather
    than silently changed.
    """
    if not isinstance(exc, UnicodeDecodeError):  # pragma: no cover - registered for decoding
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("crmkit.cp1252", _cp1252_undefined)


def header_key(text: str) -> str:
    """The matching key of a header: folded, letters and digits only (``"E-Mail"`` → ``email``).

    >>> header_key(" Straße ")
    'strasse'
    """
    return normalize.fold(text).replace(" ", "")


_HEADER_INDEX: Final[Mapping[str, str]] = MappingProxyType(
    {header_key(h): field for field, names in HEADERS.items() for h in names}
)


def detect_field(header: str) -> str | None:
    """The field a header names (:data:`HEADERS`), or ``None`` for an unknown header.

    >>> detect_field("E-Mail"), detect_field("Postal code"), detect_field("Farbe")
    ('email', 'postal_code', None)
    """
    return _HEADER_INDEX.get(header_key(header))


# --------------------------------------------------------------------------- the report


def _freeze(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class CsvProblem:
    """A row (or the file, row 0) that could not be imported: where, what value, and why.

    ``code`` and ``params`` name the message (:mod:`crmkit.messages`);
    ``column`` is the header as written in the file (``""``: the whole row).
    """

    row: int
    column: str = ""
    value: str = ""
    code: str
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze, eq=False, hash=False)

    def message(self, lang: Lang = "en") -> str:
        """``row 3, column 'E-Mail': …`` in *lang*."""
        params = {"value": self.value, **self.params}
        body = render(self.code, lang, field=self.column or "-", **params)
        if self.row and self.column:
            where = render("csv.where_cell", lang, row=self.row, column=self.column)
        elif self.row:
            where = render("csv.where_row", lang, row=self.row)
        else:
            return body
        return f"{where}: {body}"

    def __str__(self) -> str:
        return self.message()


@attrs.frozen(kw_only=True)
class CsvImportReport(LinesReport):
    """What :func:`import_csv` did (or, with ``dry_run``, would do).

    ``created``: numbers of the contacts created (empty in a dry run);
    ``new_contacts``: how many contacts were (or would be) created;
    ``linked``: affiliations created (or that would be);
    ``skipped``: rows not imported because their contact is there already;
    ``duplicates``: (row, number of the existing contact) for each row whose
    external id is known or whose contact is a likely duplicate (the number
    is ``""`` for a contact of the same file that is not stored, in a dry
    run); ``problems``: rows that could not be used (at most
    :data:`MAX_PROBLEMS`, ``more_problems`` counts the rest);
    ``unknown_columns``: headers that map to no field (ignored);
    ``rows``: data rows read (blank rows not counted); ``encoding`` and
    ``delimiter`` as detected.
    """

    created: tuple[str, ...] = ()
    new_contacts: int = 0
    linked: int = 0
    skipped: tuple[int, ...] = ()
    duplicates: tuple[tuple[int, str], ...] = ()
    #: (row, number of the stored contact) for each contact merged into a stored one.
    merged: tuple[tuple[int, str], ...] = ()
    problems: tuple[CsvProblem, ...] = ()
    more_problems: int = 0
    unknown_columns: tuple[str, ...] = ()
    rows: int = 0
    dry_run: bool = False
    encoding: str = ""
    delimiter: str = ""
    #: header → field, as used for this file.
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when no row had a problem."""
        return not self.problems and not self.more_problems

    def summary(self, lang: Lang = "en") -> str:
        """One line: rows read, contacts created, links, skipped, duplicates, problems."""
        return render(
            "csv.summary_dry_run" if self.dry_run else "csv.summary",
            lang,
            rows=self.rows,
            contacts=self.new_contacts,
            linked=self.linked,
            skipped=len(self.skipped),
            duplicates=len(self.duplicates),
            problems=len(self.problems) + self.more_problems,
        )

    def to_pandas(self, lang: Lang = "en") -> Any:
        """The problems as a :class:`pandas.DataFrame`: row, column, value, code, message.

        Needs the ``pandas`` extra.
        """
        from crmkit.frames import to_pandas

        return to_pandas(self, lang)

    def lines(self, lang: Lang = "en") -> list[str]:
        """The summary, unknown columns, duplicates and every problem, one per line."""
        out = [self.summary(lang)]
        if self.unknown_columns:
            out.append(render("csv.unknown_columns", lang, columns=", ".join(self.unknown_columns)))
        merged = set(self.merged)
        for row, number in self.duplicates:
            code = "csv.duplicate_of" if number else "csv.duplicate_in_file"
            if (row, number) in merged:
                code = "csv.merged_into"
            out.append(render(code, lang, row=row, number=number))
        out.extend(p.message(lang) for p in self.problems)
        if self.more_problems:
            out.append(render("csv.more_problems", lang, count=self.more_problems))
        return out


# --------------------------------------------------------------------------- reading


class _StopReadingError(Exception):
    """The file cannot be read any further (reported as a problem on row 0)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _is_utf8(stream: IO[bytes], limit: int | None) -> bool:
    """Whether the bytes (all of them, or the first *limit*) are valid UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen = 0
    while limit is None or seen < limit:
        chunk = stream.read(_CHUNK)
        if not chunk:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return False
            return True
        seen += len(chunk)
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            return False
    return True


def _detect_encoding(stream: IO[bytes]) -> tuple[IO[bytes] | _Prefixed, str]:
    """The stream to read (rewound, or with the sniffed bytes put back) and its encoding."""
    seekable = False
    try:
        seekable = stream.seekable()
    except (OSError, ValueError):
        seekable = False
    if seekable:
        start = stream.tell()
        head = stream.read(3)
        if head.startswith(codecs.BOM_UTF8):
            stream.seek(start)
            return stream, "utf-8-sig"
        stream.seek(start)
        utf8 = _is_utf8(stream, None)
        stream.seek(start)
        return stream, "utf-8" if utf8 else "cp1252"
    sample = stream.read(_SNIFF_BYTES)
    rest = _Prefixed(sample, stream)
    if sample.startswith(codecs.BOM_UTF8):
        return rest, "utf-8-sig"
    return rest, "utf-8" if _is_utf8(io.BytesIO(sample), None) or _cut_utf8(sample) else "cp1252"


def _cut_utf8(sample: bytes) -> bool:
    """Valid UTF-8 except for a character cut at the end of the sample."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample)
    except UnicodeDecodeError:
        return False
    return True


class _Prefixed(io.RawIOBase):
    """A binary stream: *prefix* first, then the rest of *stream*."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def _lines(text: IO[str]) -> Iterator[str]:
    """Physical lines with their ends (``\\r\\n``, ``\\n`` or ``\\r``), each at most MAX_LINE."""
    while True:
        try:
            line = text.readline(MAX_LINE)
        except UnicodeDecodeError as exc:  # pragma: no cover - the handlers never fail
            raise _StopReadingError("csv.unreadable", detail=str(exc)) from None
        if not line:
            return
        if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
            raise _StopReadingError("csv.line_too_long", limit=MAX_LINE)
        yield line


def _detect_delimiter(sample: list[str]) -> str:
    """The delimiter that splits the sample's header into most columns, consistently."""
    best: tuple[float, int, int] = (-1.0, 0, 0)
    choice = ";"
    for rank, delimiter in enumerate(_DELIMITERS):
        try:
            records = [r for r in csv.reader(sample, delimiter=delimiter) if r]
        except csv.Error:
            records = []
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        rows = records[1:-1] or records[1:]
        same = sum(1 for r in rows if len(r) == width) / len(rows) if rows else 1.0
        score = (same, width, -rank)
        if score > best:
            best, choice = score, delimiter
    return choice


def _open_source(
    source: str | os.PathLike[str] | IO[bytes],
) -> tuple[IO[bytes], bool]:
    """The binary stream of *source* and whether this function opened it."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValidationError.single("source", "import.no_file", value=str(path))
        return path.open("rb"), True
    if isinstance(source, io.TextIOBase):
        raise ValidationError.single(
            "source", "value.type", expected="path or binary file", actual=type(source).__name__
        )
    return source, False


# --------------------------------------------------------------------------- rows


def unguard(cell: str) -> str:
    """*cell* without the ``'`` an export puts before ``= + - @`` to defuse formulas.

    >>> unguard("'+49 711 123456"), unguard("'quoted"), unguard("=1+1")
    ('+49 711 123456', "'quoted", '=1+1')
    """
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


@attrs.frozen
class _Row:
    """One data row as values per field, with the header each came from."""

    number: int
    values: Mapping[str, str]
    headers: Mapping[str, str]

    def get(self, field: str) -> str:
        return self.values.get(field, "")


@attrs.define
class _Planned:
    """What one valid row adds: new contacts, the link, its external id."""

    row: int
    contacts: list[Contact]
    person: Person | None
    company: Company | None
    position: str | None
    department: str | None
    external_id: str | None
    company_key: str | None
    new_company: bool
    #: New contact id → (id, number) of the stored contact it is merged into.
    merge_into: dict[str, tuple[str, str]] = attrs.field(factory=dict)


class _RowError(Exception):
    def __init__(self, problems: list[CsvProblem]) -> None:
        super().__init__()
        self.problems = problems


def _company_key(name: str) -> str:
    return normalize.fold(name)


def _split(value: str) -> list[str]:
    return [v.strip() for v in _SPLIT_LIST.split(value) if v.strip()]


class _Importer:
    """The state of one run."""

    def __init__(self, crm: CRM, *, dry_run: bool, on_duplicate: str, batch_size: int) -> None:
        self.crm = crm
        self.dry_run = dry_run
        self.on_duplicate = on_duplicate
        self.batch_size = batch_size
        self.created: list[str] = []
        self.new_contacts = 0
        self.linked = 0
        self.skipped: list[int] = []
        self.duplicates: list[tuple[int, str]] = []
        self.merged: list[tuple[int, str]] = []
        self.problems: list[CsvProblem] = []
        self.more_problems = 0
        self.rows = 0
        self.use_external_ids = False
        #: external id → contact number ("" while not stored).
        self.external_ids: dict[str, str] = {}
        #: normalised company name → company (bounded; misses go to the store).
        self.companies: OrderedDict[str, Company] = OrderedDict()
        self.batch: list[_Planned] = []
        #: (index in duplicates, external id) of rows naming an id not stored yet.
        self.pending: list[tuple[int, str]] = []

    # -- problems ----------------------------------------------------------------------
    def problem(self, problem: CsvProblem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    # -- external ids ------------------------------------------------------------------
    def load_external_ids(self) -> None:
        """Every ``ext:`` tag in the store (one pass; memory grows with the ids, not the file)."""
        for contact in self.crm.contacts.all(include_archived=True):
            for tag in contact.tags:
                if tag.startswith(EXTERNAL_ID_TAG):
                    self.external_ids.setdefault(tag[len(EXTERNAL_ID_TAG) :], contact.number or "")

    # -- companies ---------------------------------------------------------------------
    def find_company(self, name: str) -> Company | None:
        key = _company_key(name)
        found = self.companies.get(key)
        if found is not None:
            self.companies.move_to_end(key)
            return found
        for contact in self.crm.search(name, kind="company", limit=50):
            if isinstance(contact, Company) and _company_key(contact.name) == key:
                self.remember_company(key, contact)
                return contact
        return None

    def remember_company(self, key: str, company: Company) -> None:
        self.companies[key] = company
        self.companies.move_to_end(key)
        while len(self.companies) > _COMPANY_CACHE:
            self.companies.popitem(last=False)

    # -- one row -----------------------------------------------------------------------
    def plan(self, row: _Row) -> _Planned | None:
        """The contacts of *row*, validated; ``None`` when the row is skipped."""
        problems: list[CsvProblem] = []

        def cell(field: str, build: Any) -> Any:
            value = row.get(field)
            if not value:
                return None
            try:
                return build(value)
            except ValidationError as exc:
                problems.extend(self.findings(row, exc.findings, default=field))
                return None

        external_id = cell("external_id", lambda v: normalize.text(v, field="external_id"))
        if external_id and external_id in self.external_ids:
            known = self.external_ids[external_id]
            if not known:
                self.pending.append((len(self.duplicates), external_id))
            self.skipped.append(row.number)
            self.duplicates.append((row.number, known))
            return None
        emails = [e for e in [cell("email", lambda v: EmailAddress(address=v))] if e]
        phones = [
            p
            for p in [
                cell("phone", lambda v: PhoneNumber.parse(v)),
                cell("mobile", lambda v: PhoneNumber.parse(v, label="mobile")),
            ]
            if p
        ]
        relationships = cell("relationship", lambda v: relationship_set("relationships", _split(v)))
        address = None
        if any(row.get(f) for f in ("street", "postal_code", "city")):
            try:
                address = Address(
                    street=row.get("street"),
                    postal_code=row.get("postal_code"),
                    city=row.get("city"),
                    country=row.get("country"),
                )
            except ValidationError as exc:
                problems.extend(self.findings(row, exc.findings, default="street"))
        elif row.get("country"):
            cell("country", lambda v: normalize.country(v, field="country"))
        tags = set(_split(row.get("tags")))
        if external_id:
            tags.add(EXTERNAL_ID_TAG + external_id)
        has_person = bool(row.get("first_name") or row.get("last_name"))
        company_name = row.get("company")
        if not has_person and not company_name:
            problems.append(CsvProblem(row=row.number, code="csv.row_without_name"))
        if problems:
            raise _RowError(problems)

        company: Company | None = None
        new_company = False
        key: str | None = None
        if company_name:
            key = _company_key(company_name)
            company = self.find_company(company_name)
            if company is None:
                fields: dict[str, Any] = {"name": company_name}
                if address is not None:
                    fields["addresses"] = [address]
                if relationships:
                    fields["relationships"] = relationships
                if not has_person:
                    fields.update(emails=emails, phones=phones, tags=tags, notes=row.get("notes"))
                company = self.build(row, Company, fields)
                new_company = True
            elif not has_person:
                # A company-only row naming a company that exists: nothing new.
                self.skipped.append(row.number)
                self.duplicates.append((row.number, company.number or ""))
                return None
        person: Person | None = None
        if has_person:
            fields = {
                "first_name": row.get("first_name"),
                "last_name": row.get("last_name"),
                "salutation": row.get("salutation") or None,
                "title": row.get("title") or None,
                "emails": emails,
                "phones": phones,
                "tags": tags,
                "notes": row.get("notes"),
            }
            if company is None:
                if address is not None:
                    fields["addresses"] = [address]
                if relationships:
                    fields["relationships"] = relationships
            person = self.build(row, Person, fields)
        position = row.get("position") or None
        department = row.get("department") or None
        if person is not None and company is not None:
            try:
                link(person, company, position=position, department=department)
            except ValidationError as exc:
                raise _RowError(self.findings(row, exc.findings, default="position")) from None
        contacts: list[Contact] = []
        if company is not None and new_company:
            contacts.append(company)
        if person is not None:
            contacts.append(person)
        planned = _Planned(
            row=row.number,
            contacts=contacts,
            person=person,
            company=company,
            position=position,
            department=department,
            external_id=external_id,
            company_key=key,
            new_company=new_company,
        )
        self.check_plugins(row, contacts)
        if not self.use_external_ids:
            self.check_duplicates(planned)
        return planned

    def build(self, row: _Row, cls: type[Any], fields: dict[str, Any]) -> Any:
        try:
            return cls(**fields)
        except ValidationError as exc:
            raise _RowError(self.findings(row, exc.findings, default="")) from None

    def check_plugins(self, row: _Row, contacts: list[Contact]) -> None:
        problems: list[CsvProblem] = []
        for contact in contacts:
            errors = [f for f in self.crm.contacts.validate(contact) if f.severity == "error"]
            problems.extend(self.findings(row, errors, default=""))
        if problems:
            raise _RowError(problems)

    def check_duplicates(self, planned: _Planned) -> None:
        """Flag (or with ``skip`` drop) new contacts that match a stored one."""
        for contact in list(planned.contacts):
            matches = [p for p in dedup_check(self.crm, contact, None) if p.verdict == "match"]
            if not matches:
                continue
            existing = self.crm.contacts.get(matches[0].right_id)
            self.duplicates.append((planned.row, existing.number or ""))
            if self.on_duplicate == "merge":
                planned.merge_into[contact.id] = (existing.id, existing.number or "")
            if self.on_duplicate != "skip":
                continue
            planned.contacts.remove(contact)
            if contact is planned.company and isinstance(existing, Company):
                planned.company = existing
                planned.new_company = False
                if planned.company_key:
                    self.remember_company(planned.company_key, existing)
            elif contact is planned.person:
                planned.person = None
        if self.on_duplicate == "skip" and not planned.contacts:
            self.skipped.append(planned.row)

    def findings(self, row: _Row, findings: Any, *, default: str) -> list[CsvProblem]:
        out: list[CsvProblem] = []
        for finding in findings:
            assert isinstance(finding, Finding)
            head = finding.field.split(".", 1)[0]
            field = _FINDING_FIELDS.get(head, head if head in FIELDS else default)
            column = row.headers.get(field, "")
            params = dict(finding.params)
            value = str(params.pop("value", row.get(field)))
            out.append(
                CsvProblem(
                    row=row.number, column=column, value=value, code=finding.code, params=params
                )
            )
        return out

    # -- batches -------------------------------------------------------------------------
    def add(self, planned: _Planned) -> None:
        if planned.external_id:
            self.external_ids[planned.external_id] = ""
        if planned.new_company and planned.company is not None and planned.company_key:
            self.remember_company(planned.company_key, planned.company)
        self.new_contacts += len(planned.contacts)
        if planned.person is not None and planned.company is not None:
            self.linked += 1
        if self.dry_run:
            return
        self.batch.append(planned)
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            self.store(batch)
        except PermissionDenied:
            raise
        except CrmkitError:
            for planned in batch:  # find the rows that failed: each on its own
                try:
                    self.store([planned])
                except PermissionDenied:
                    raise
                except CrmkitError as exc:
                    self.forget(planned)
                    self.problem(self.store_problem(planned.row, exc))

    def store(self, batch: list[_Planned]) -> None:
        crm = self.crm
        with crm.transaction():
            contacts = [c for p in batch for c in p.contacts]
            stored = {c.id: c for c in crm.contacts.add_many(contacts)}
            for planned in batch:
                if planned.person is not None and planned.company is not None:
                    crm.affiliations.link(
                        planned.person.id,
                        planned.company.id,
                        position=planned.position,
                        department=planned.department,
                    )
                for new_id, (existing_id, _) in planned.merge_into.items():
                    crm.merge(existing_id, new_id)
        for planned in batch:
            self.merged.extend((planned.row, number) for _, number in planned.merge_into.values())
        numbers = {i: c.number or "" for i, c in stored.items()}
        for planned in batch:
            for contact in planned.contacts:
                self.created.append(numbers.get(contact.id, ""))
            main = planned.person or planned.company
            if planned.external_id and main is not None:
                self.external_ids[planned.external_id] = numbers.get(main.id, main.number or "")
            if planned.new_company and planned.company is not None and planned.company_key:
                saved = stored.get(planned.company.id)
                if saved is not None and isinstance(saved, Company):
                    self.remember_company(planned.company_key, saved)
        pending, self.pending = self.pending, []
        for index, external_id in pending:
            number = self.external_ids.get(external_id, "")
            if number:
                self.duplicates[index] = (self.duplicates[index][0], number)
            else:
                self.pending.append((index, external_id))

    def forget(self, planned: _Planned) -> None:
        """Undo the counts of a row whose batch could not be stored."""
        self.new_contacts -= len(planned.contacts)
        if planned.person is not None and planned.company is not None:
            self.linked -= 1
        if planned.external_id:
            self.external_ids.pop(planned.external_id, None)
        if planned.new_company and planned.company_key:
            self.companies.pop(planned.company_key, None)

    @staticmethod
    def store_problem(row: int, exc: CrmkitError) -> CsvProblem:
        if isinstance(exc, ValidationError) and exc.findings:
            finding = exc.findings[0]
            return CsvProblem(
                row=row,
                code=finding.code,
                value=str(finding.params.get("value", "")),
                params={k: v for k, v in finding.params.items() if k != "value"},
            )
        return CsvProblem(row=row, code="csv.not_stored", params={"detail": exc.message()})

    def report(self, **extra: Any) -> CsvImportReport:
        return CsvImportReport(
            created=tuple(self.created),
            new_contacts=self.new_contacts,
            linked=self.linked,
            skipped=tuple(self.skipped),
            duplicates=tuple(self.duplicates),
            merged=tuple(self.merged),
            problems=tuple(self.problems),
            more_problems=self.more_problems,
            rows=self.rows,
            dry_run=self.dry_run,
            **extra,
        )


def _columns(
    header: list[str], mapping: Mapping[str, str] | None
) -> tuple[dict[int, str], list[str], list[tuple[str, str]], list[CsvProblem]]:
    """Column index → field, unknown headers, header → field pairs, problems."""
    overrides = {header_key(k): v for k, v in (mapping or {}).items()}
    exact = dict(mapping or {})
    by_index: dict[int, str] = {}
    unknown: list[str] = []
    used: list[tuple[str, str]] = []
    problems: list[CsvProblem] = []
    taken: set[str] = set()
    #: Columns read by a weak header (:data:`WEAK_HEADERS`) found by detection.
    weak_columns: set[int] = set()
    for i, raw in enumerate(header):
        name = raw.strip()
        field = exact.get(raw, exact.get(name, overrides.get(header_key(name))))
        weak = False
        if field is None:
            field = detect_field(name)
            weak = header_key(name) in WEAK_HEADERS
        if field == IGNORE:
            continue
        if field is None:
            if name:
                unknown.append(name)
            continue
        if field in taken:
            first = next(j for j, f in by_index.items() if f == field)
            if first in weak_columns and not weak:
                # "Name" may mean several things; a column that names the
                # field plainly ("Last name", "Nachname") is read instead.
                yielded = header[first].strip()
                del by_index[first]
                used.remove((yielded, field))
                by_index[i] = field
                used.append((name, field))
                problems.append(
                    CsvProblem(
                        row=1,
                        column=yielded,
                        code="csv.column_yields",
                        params={"target": field, "other": name},
                    )
                )
                continue
            problems.append(
                CsvProblem(row=1, column=name, code="csv.column_twice", params={"target": field})
            )
            continue
        taken.add(field)
        by_index[i] = field
        used.append((name, field))
        if weak:
            weak_columns.add(i)
    return by_index, unknown, used, problems


def _check_arguments(mapping: Mapping[str, str] | None, on_duplicate: str, batch_size: int) -> None:
    if on_duplicate not in _ON_DUPLICATE:
        raise ValidationError.single(
            "on_duplicate", "value.choice", value=on_duplicate, choices=", ".join(_ON_DUPLICATE)
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError.single(
            "batch_size", "value.invalid", value=batch_size, reason="expected a positive number"
        )
    for header, field in (mapping or {}).items():
        if field not in FIELDS and field != IGNORE:
            raise ValidationError.single(
                f"mapping.{header}",
                "value.choice",
                value=field,
                choices=", ".join((*FIELDS, IGNORE)),
            )


def import_csv(
    crm: CRM,
    source: str | os.PathLike[str] | IO[bytes],
    mapping: Mapping[str, str] | None = None,
    *,
    dry_run: bool = False,
    on_duplicate: str = "skip",
    batch_size: int = 1000,
    progress: bool | None = None,
) -> CsvImportReport:
    """Import the contacts of a CSV file (a path or a binary stream) into *crm*.

    :param mapping: header → field (:data:`FIELDS`, or ``"ignore"``) for
        columns the automatic detection (:data:`HEADERS`) gets wrong or misses.
    :param dry_run: validate every row and report, but write nothing.
    :param on_duplicate: without an external id column, what to do with a
        contact that is a likely duplicate of a stored one: ``"flag"``
        (import it and report it), ``"skip"`` (report it, don't import it)
        or ``"merge"`` (import it and merge it into the stored contact, which
        survives; undo with ``crm.unmerge``).
    :param batch_size: rows stored per transaction.
    :param progress: show a progress bar on standard error (rich; in a
        terminal and in Jupyter).  ``None`` (default): only when standard
        error is a terminal or a notebook, so scripts and logs stay quiet.

    Returns a :class:`CsvImportReport`.  Whatever the bytes, problems with
    the file or its rows are reported, not raised; bad arguments, a missing
    file and missing permissions raise.
    """
    _check_arguments(mapping, on_duplicate, batch_size)
    crm.require("read", "contact")
    if not dry_run:
        crm.require("create", "contact")
    stream, opened = _open_source(source)
    try:
        with _ProgressBar(progress, _label(source)) as bar:
            if _is_xlsx(stream):
                return _run_xlsx(crm, stream, mapping, dry_run, on_duplicate, batch_size, bar)
            return _run(crm, stream, mapping, dry_run, on_duplicate, batch_size, bar)
    finally:
        if opened:
            stream.close()


def _run(
    crm: CRM,
    stream: IO[bytes],
    mapping: Mapping[str, str] | None,
    dry_run: bool,
    on_duplicate: str,
    batch_size: int,
    bar: _ProgressBar,
) -> CsvImportReport:
    importer = _Importer(crm, dry_run=dry_run, on_duplicate=on_duplicate, batch_size=batch_size)
    try:
        binary, encoding = _detect_encoding(stream)
    except OSError as exc:
        importer.problem(
            CsvProblem(row=0, code="import.unreadable_file", params={"detail": str(exc)})
        )
        return importer.report()
    errors = "crmkit.cp1252" if encoding == "cp1252" else "replace"
    buffered: Any = io.BufferedReader(binary) if isinstance(binary, _Prefixed) else binary
    text = io.TextIOWrapper(buffered, encoding=encoding, errors=errors, newline="")
    extra: dict[str, Any] = {"encoding": encoding.replace("-sig", " (BOM)")}
    try:
        lines = _lines(text)
        sample: list[str] = []
        try:
            for line in lines:
                sample.append(line)
                if len(sample) >= _SAMPLE_LINES:
                    break
            delimiter = _detect_delimiter(sample)
            extra["delimiter"] = delimiter
            records = csv.reader(_chain(sample, lines), delimiter=delimiter)
            bar.start(_size(stream))
            followed = bar.follow(records, lambda: _tell(stream), lambda: importer.rows)
            _import_records(importer, followed, mapping, extra)
        except _StopReadingError as stop:
            importer.problem(CsvProblem(row=0, code=stop.code, params=stop.params))
        except OSError as exc:
            importer.problem(
                CsvProblem(row=0, code="import.unreadable_file", params={"detail": str(exc)})
            )
        importer.flush()
    finally:
        text.detach()
    return importer.report(**extra)


_ZIP_MAGIC: Final = b"PK\x03\x04"
#: Rows between two updates of the progress bar.
_PROGRESS_EVERY: Final = 500


def _label(source: object) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return str(getattr(source, "name", "") or "import")


def _size(stream: IO[bytes]) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        pass
    try:
        if stream.seekable():
            here = stream.tell()
            end = stream.seek(0, io.SEEK_END)
            stream.seek(here)
            return end
    except (OSError, ValueError):
        pass
    return None


def _tell(stream: IO[bytes]) -> int | None:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return None


class _ProgressBar:
    """A rich progress bar on standard error, or nothing (see ``progress`` of import_csv)."""

    def __init__(self, enabled: bool | None, label: str) -> None:
        self.label = label
        self.enabled = enabled
        self.progress: Any = None
        self.task: Any = None
        self.total: int | None = None

    def __enter__(self) -> _ProgressBar:
        if self.enabled is False:
            return self
        from rich.console import Console

        console = Console(stderr=True)
        if self.enabled is None and not (console.is_terminal or console.is_jupyter):
            return self
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )  # fmt: skip

        # The description is the file name; the number is the rows read so far.
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rows]:,}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console,
        )  # fmt: skip
        self.progress.start()
        return self

    def start(self, total: int | None) -> None:
        """Begin counting towards *total* (bytes or rows; None: unknown)."""
        self.total = total
        if self.progress is not None:
            self.task = self.progress.add_task(self.label, total=total, rows=0)

    def follow(
        self,
        records: Iterator[list[str]],
        position: Callable[[], int | None] | None,
        rows: Callable[[], int],
    ) -> Iterator[list[str]]:
        """*records*, updating the bar every few hundred (by *position*, else by count).

        *rows* says how many data rows the importer has read so far.
        """
        if self.progress is None:
            yield from records
            return
        count = 0
        for record in records:
            count += 1
            if count % _PROGRESS_EVERY == 0:
                done = position() if position is not None else count
                self.progress.update(self.task, completed=done, rows=rows())
            yield record
        self.progress.update(self.task, completed=self.total or count, rows=rows())

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _is_xlsx(stream: IO[bytes]) -> bool:
    """Whether *stream* holds a zip file (an ``.xlsx`` workbook); rewinds it."""
    if not stream.seekable():
        return False
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    return head == _ZIP_MAGIC


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _run_xlsx(
    crm: CRM,
    stream: IO[bytes],
    mapping: Mapping[str, str] | None,
    dry_run: bool,
    on_duplicate: str,
    batch_size: int,
    bar: _ProgressBar,
) -> CsvImportReport:
    """The rows of the first sheet of an ``.xlsx`` workbook, imported like CSV rows."""
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - the extra is installed in tests
        raise CrmkitError(code="extra_missing", extra="xlsx", feature="xlsx import") from exc
    importer = _Importer(crm, dry_run=dry_run, on_duplicate=on_duplicate, batch_size=batch_size)
    extra: dict[str, Any] = {"encoding": "xlsx"}
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and zipfile raise many kinds on a broken file
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        importer.problem(
            CsvProblem(row=0, code="import.unreadable_file", params={"detail": detail})
        )
        return importer.report(**extra)
    try:
        sheet = book.worksheets[0]
        records = ([_xlsx_cell(v) for v in row] for row in sheet.iter_rows(values_only=True))
        bar.start(sheet.max_row)
        try:
            _import_records(
                importer, bar.follow(records, None, lambda: importer.rows), mapping, extra
            )
        except _StopReadingError as stop:
            importer.problem(CsvProblem(row=0, code=stop.code, params=stop.params))
        importer.flush()
    finally:
        book.close()
    return importer.report(**extra)


def _chain(sample: list[str], rest: Iterator[str]) -> Iterator[str]:
    while sample:
        yield sample.pop(0)
    yield from rest


def _read_header(
    importer: _Importer,
    record: list[str],
    number: int,
    mapping: Mapping[str, str] | None,
    extra: dict[str, Any],
) -> tuple[dict[int, str], dict[str, str], int] | None:
    """Column index → field, field → header and the width of the header row *record*.

    ``None`` (reported) when no column maps to a field.
    """
    by_index, unknown, used, problems = _columns(record, mapping)
    extra["unknown_columns"] = tuple(unknown)
    extra["columns"] = tuple(used)
    headers = {field: record[i].strip() for i, field in by_index.items()}
    for problem in problems:
        importer.problem(attrs.evolve(problem, row=number))
    if not by_index:
        importer.problem(CsvProblem(row=number, code="csv.no_known_columns"))
        return None
    importer.use_external_ids = "external_id" in headers
    if importer.use_external_ids:
        importer.load_external_ids()
    return by_index, headers, len(record)


def _import_records(
    importer: _Importer,
    records: Iterator[list[str]],
    mapping: Mapping[str, str] | None,
    extra: dict[str, Any],
    header: list[str] | None = None,
) -> None:
    """Plan and add every record; the first non-blank one is the header unless *header* is given.

    With an explicit *header*, it is row 1 and the records are rows 2, 3 …
    """
    number = 0
    by_index: dict[int, str] | None = None
    headers: dict[str, str] = {}
    width = 0
    if header is not None:
        number = 1
        read = _read_header(importer, header, number, mapping, extra)
        if read is None:
            return
        by_index, headers, width = read
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            importer.problem(
                CsvProblem(row=number, code="csv.malformed", params={"detail": str(exc)})
            )
            break
        number += 1
        if not any(cell.strip() for cell in record):
            continue
        if by_index is None:
            read = _read_header(importer, record, number, mapping, extra)
            if read is None:
                return
            by_index, headers, width = read
            continue
        importer.rows += 1
        if any(cell.strip() for cell in record[width:]):
            importer.problem(
                CsvProblem(row=number, code="csv.extra_cells", params={"count": len(record)})
            )
            continue
        row = _Row(
            number=number,
            values={f: unguard(record[i].strip()) for i, f in by_index.items() if i < len(record)},
            headers=headers,
        )
        try:
            planned = importer.plan(row)
        except _RowError as err:
            for problem in err.problems:
                importer.problem(problem)
            continue
        if planned is not None and planned.contacts:
            importer.add(planned)


def _cells(record: Iterable[object]) -> list[str]:
    return ["" if cell is None else str(cell) for cell in record]


def import_rows(
    crm: CRM,
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    mapping: Mapping[str, str] | None = None,
    *,
    dry_run: bool = False,
    on_duplicate: str = "skip",
    batch_size: int = 1000,
) -> CsvImportReport:
    """Import contacts from rows already split into cells (a data frame, a spreadsheet).

    The same as :func:`import_csv` after the file has been decoded and
    split: *header* names the columns (detected as in a CSV file, *mapping*
    overrides), each row of *rows* is one contact row.  Cells are text;
    ``None`` is an empty cell and anything else is turned into text with
    :class:`str`.  Row numbers in the report count the header as row 1, so
    the first row of *rows* is row 2.  The report's ``encoding`` and
    ``delimiter`` are empty.
    """
    _check_arguments(mapping, on_duplicate, batch_size)
    crm.require("read", "contact")
    if not dry_run:
        crm.require("create", "contact")
    importer = _Importer(crm, dry_run=dry_run, on_duplicate=on_duplicate, batch_size=batch_size)
    extra: dict[str, Any] = {}
    records = (_cells(row) for row in rows)
    _import_records(importer, records, mapping, extra, header=_cells(header))
    importer.flush()
    return importer.report(**extra)


__all__ = [
    "EXTERNAL_ID_TAG",
    "FIELDS",
    "HEADERS",
    "IGNORE",
    "MAX_PROBLEMS",
    "CsvImportReport",
    "CsvProblem",
    "detect_field",
    "header_key",
    "import_csv",
    "import_rows",
    "unguard",
]
