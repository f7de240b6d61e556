"""crmkit in Jupyter: results as rows and pandas data frames, data frames as contacts.

* :func:`rows` turns contacts, search results, findings, duplicate pairs and
  reports, worklists, timelines and import problems into flat dicts (one per
  object, readable columns: sets joined with ``", "``, the messages in one
  language);
* :func:`to_pandas` makes a :class:`pandas.DataFrame` of them (the result
  objects have a ``.to_pandas()`` method that calls it);
* :func:`from_pandas` reads a data frame the way :func:`crmkit.importing.import_csv`
  reads a CSV file — same header detection, mapping and row rules — and
  returns the contacts and affiliations without storing them
  (:class:`ParsedContacts`); ``crm.import_pandas`` stores them.

pandas is the optional ``pandas`` extra: it is imported when one of these
functions needs it, never when :mod:`crmkit` is, and a missing pandas gives
a :class:`crmkit.CrmkitError` saying ``pip install 'crmkit[pandas]'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, SupportsIndex, overload

import attrs
import numpy as np

from crmkit._reports import html_table
from crmkit.correspondence import CorrespondenceEntry, Timeline
from crmkit.dedup import DuplicatePair, DuplicateReport
from crmkit.errors import CrmkitError, Finding, ValidationError
from crmkit.messages import Lang
from crmkit.model import Affiliation, Company, Contact, Person
from crmkit.search import PhoneMatch
from crmkit.summary import ContactSummary
from crmkit.worklist import WorkItem, Worklist

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.importing import CsvImportReport

#: The columns of a contact row.
CONTACT_COLUMNS: Final = (
    "number",
    "kind",
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postal_code",
    "city",
    "country",
    "relationships",
    "tags",
    "lead_status",
    "lead_source",
    "owner",
    "archived",
    "id",
)
#: The columns of a finding row (``contact_number`` is known in a ``CheckReport``).
FINDING_COLUMNS: Final = (
    "severity",
    "code",
    "contact_id",
    "contact_number",
    "field",
    "message",
    "action",
)
#: The columns of a duplicate-pair row.
PAIR_COLUMNS: Final = (
    "verdict",
    "score",
    "probability",
    "kind",
    "left_id",
    "left",
    "right_id",
    "right",
    "agreeing",
    "disagreeing",
    "keys",
    "explanation",
)
#: The columns of a worklist row (:meth:`crmkit.worklist.WorkItem.as_row`).
WORK_ITEM_COLUMNS: Final = (
    "kind",
    "severity",
    "due",
    "contact_id",
    "contact_number",
    "contact_name",
    "owner",
    "reason",
    "action",
    "source",
    "ref",
)
#: The columns of a correspondence row.
ENTRY_COLUMNS: Final = (
    "occurred_at",
    "channel",
    "direction",
    "subject",
    "content",
    "agreements",
    "next_steps",
    "follow_up_due",
    "follow_up_assignee",
    "follow_up_open",
    "author",
    "internal",
    "contact_ids",
    "tags",
    "revision",
    "id",
)
#: The columns of a contact-summary row.
SUMMARY_COLUMNS: Final = (
    "number",
    "kind",
    "name",
    "owner",
    "relationships",
    "lead_status",
    "lead_since",
    "has_email",
    "has_legal_basis",
    "affiliated",
    "archived",
    "id",
)
#: The columns of a caller-id row: how it matched, the number dialled, then the contact.
PHONE_MATCH_COLUMNS: Final = ("match", "dialled", *CONTACT_COLUMNS)
#: The columns of an affiliation row.
AFFILIATION_COLUMNS: Final = (
    "person_id",
    "company_id",
    "position",
    "department",
    "roles",
    "primary",
    "since",
    "until",
    "id",
)
#: The columns of an import-problem row.
PROBLEM_COLUMNS: Final = ("row", "column", "value", "code", "message")


def _joined(values: Iterable[object]) -> str:
    return ", ".join(sorted(str(v) for v in values))


def require_pandas(feature: str = "to_pandas") -> Any:
    """The :mod:`pandas` module, or a :class:`crmkit.CrmkitError` saying what to install.

    The error's code is ``extra_missing``; its message (English and German)
    names *feature* and ``pip install 'crmkit[pandas]'``.
    """
    try:
        import pandas
    except ImportError as exc:
        raise CrmkitError(code="extra_missing", extra="pandas", feature=feature) from exc
    return pandas


# --------------------------------------------------------------------------- one row per object


def contact_row(contact: Contact, lang: Lang = "en") -> dict[str, Any]:
    """A contact as a flat dict (:data:`CONTACT_COLUMNS`): primary e-mail, phone and address."""
    address = contact.addresses[0] if contact.addresses else None
    person = contact if isinstance(contact, Person) else None
    return {
        "number": contact.number or "",
        "kind": contact.kind,
        "name": contact.display_name,
        "first_name": person.first_name if person else "",
        "last_name": person.last_name if person else "",
        "email": contact.primary_email or "",
        "phone": contact.primary_phone or "",
        "street": address.street if address else "",
        "postal_code": address.postal_code if address else "",
        "city": address.city if address else "",
        "country": address.country if address else "",
        "relationships": _joined(r.value for r in contact.relationships),
        "tags": _joined(contact.tags),
        "lead_status": contact.lead.status if contact.lead else "",
        "lead_source": (contact.lead.source or "") if contact.lead else "",
        "owner": contact.owner or "",
        "archived": contact.is_archived,
        "id": contact.id,
    }


def finding_row(
    finding: Finding, lang: Lang = "en", numbers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A finding as a flat dict (:data:`FINDING_COLUMNS`), its message and action in *lang*."""
    return {
        "severity": finding.severity,
        "code": finding.code,
        "contact_id": finding.contact_id or "",
        "contact_number": (numbers or {}).get(finding.contact_id or "", ""),
        "field": finding.field,
        "message": finding.message(lang),
        "action": finding.suggestion(lang),
    }


def pair_row(pair: DuplicatePair, lang: Lang = "en") -> dict[str, Any]:
    """A duplicate pair as a flat dict (:data:`PAIR_COLUMNS`), the explanation in *lang*."""
    explanation = pair.explanation
    return {
        "verdict": pair.verdict,
        "score": round(pair.score, 2),
        "probability": round(pair.probability, 4),
        "kind": pair.kind,
        "left_id": pair.left_id,
        "left": pair.left_label,
        "right_id": pair.right_id,
        "right": pair.right_label,
        "agreeing": ", ".join(explanation.agreeing),
        "disagreeing": ", ".join(explanation.disagreeing),
        "keys": ", ".join(explanation.keys),
        "explanation": "; ".join(explanation.text(lang).splitlines()),
    }


def work_item_row(item: WorkItem, lang: Lang = "en") -> dict[str, Any]:
    """A work item as a flat dict (:data:`WORK_ITEM_COLUMNS`), reason and action in *lang*."""
    return item.as_row(lang)


def entry_row(entry: CorrespondenceEntry, lang: Lang = "en") -> dict[str, Any]:
    """A correspondence entry as a flat dict (:data:`ENTRY_COLUMNS`); times stay UTC datetimes."""
    follow_up = entry.follow_up
    return {
        "occurred_at": entry.occurred_at,
        "channel": entry.channel,
        "direction": entry.direction,
        "subject": entry.subject,
        "content": entry.content,
        "agreements": entry.agreements,
        "next_steps": entry.next_steps,
        "follow_up_due": follow_up.due if follow_up else None,
        "follow_up_assignee": (follow_up.assignee or "") if follow_up else "",
        "follow_up_open": follow_up.is_open if follow_up else False,
        "author": entry.author,
        "internal": entry.internal,
        "contact_ids": ", ".join(entry.contact_ids),
        "tags": _joined(entry.tags),
        "revision": entry.revision,
        "id": entry.id,
    }


def summary_row(summary: ContactSummary, lang: Lang = "en") -> dict[str, Any]:
    """A contact summary as a flat dict (:data:`SUMMARY_COLUMNS`)."""
    return {
        "number": summary.number,
        "kind": summary.kind,
        "name": summary.name,
        "owner": summary.owner or "",
        "relationships": _joined(summary.relationships),
        "lead_status": summary.lead_status or "",
        "lead_since": summary.lead_since,
        "has_email": summary.has_email,
        "has_legal_basis": summary.has_legal_basis,
        "affiliated": summary.affiliated,
        "archived": summary.archived,
        "id": summary.id,
    }


def phone_match_row(match: PhoneMatch, lang: Lang = "en") -> dict[str, Any]:
    """A caller-id result as a flat dict (:data:`PHONE_MATCH_COLUMNS`)."""
    return {"match": match.match, "dialled": match.number, **contact_row(match.contact, lang)}


def affiliation_row(affiliation: Affiliation, lang: Lang = "en") -> dict[str, Any]:
    """An affiliation as a flat dict (:data:`AFFILIATION_COLUMNS`)."""
    return {
        "person_id": affiliation.person_id,
        "company_id": affiliation.company_id,
        "position": affiliation.position or "",
        "department": affiliation.department or "",
        "roles": _joined(affiliation.roles),
        "primary": affiliation.primary,
        "since": affiliation.since,
        "until": affiliation.until,
        "id": affiliation.id,
    }


def _problem_row(problem: Any, lang: Lang = "en") -> dict[str, Any]:
    return {
        "row": problem.row,
        "column": problem.column,
        "value": problem.value,
        "code": problem.code,
        "message": problem.message(lang),
    }


_Row = Callable[[Any, Lang], dict[str, Any]]


def _kinds() -> tuple[tuple[type, tuple[str, ...], _Row], ...]:
    from crmkit.importing import CsvProblem  # the importer needs the facade's helpers

    return (
        (Contact, CONTACT_COLUMNS, contact_row),
        (Finding, FINDING_COLUMNS, finding_row),
        (DuplicatePair, PAIR_COLUMNS, pair_row),
        (WorkItem, WORK_ITEM_COLUMNS, work_item_row),
        (CorrespondenceEntry, ENTRY_COLUMNS, entry_row),
        (ContactSummary, SUMMARY_COLUMNS, summary_row),
        (PhoneMatch, PHONE_MATCH_COLUMNS, phone_match_row),
        (Affiliation, AFFILIATION_COLUMNS, affiliation_row),
        (CsvProblem, PROBLEM_COLUMNS, _problem_row),
    )


def _kind_of(obj: object) -> tuple[tuple[str, ...], _Row] | None:
    for cls, columns, make in _kinds():
        if isinstance(obj, cls):
            return columns, make
    return None


def _table(objects: object, lang: Lang) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of *objects* (one object, a result, or an iterable of them)."""
    from crmkit.cockpit import CheckReport
    from crmkit.importing import CsvImportReport

    if isinstance(objects, CheckReport):
        return list(FINDING_COLUMNS), [finding_row(f, lang, objects.numbers) for f in objects]
    if isinstance(objects, DuplicateReport):
        return list(PAIR_COLUMNS), [pair_row(p, lang) for p in objects.pairs]
    if isinstance(objects, Worklist):
        return list(WORK_ITEM_COLUMNS), objects.rows(lang)
    if isinstance(objects, Timeline):
        return list(ENTRY_COLUMNS), [entry_row(e, lang) for e in objects]
    if isinstance(objects, CsvImportReport):
        return list(PROBLEM_COLUMNS), [_problem_row(p, lang) for p in objects.problems]
    if isinstance(objects, ParsedContacts):
        return list(CONTACT_COLUMNS), [contact_row(c, lang) for c in objects.contacts]
    single = _kind_of(objects)
    if single is not None:
        fixed, make = single
        return list(fixed), [make(objects, lang)]
    if isinstance(objects, (str, bytes, Mapping)) or not isinstance(objects, Iterable):
        raise ValidationError.single(
            "objects",
            "value.type",
            expected="crmkit results, entities or an iterable of them",
            actual=type(objects).__name__,
        )
    columns: dict[str, None] = {}
    out: list[dict[str, Any]] = []
    for i, obj in enumerate(objects):
        kind = _kind_of(obj)
        if kind is None:
            raise ValidationError.single(
                f"objects.{i}",
                "value.type",
                expected="a crmkit entity or result",
                actual=type(obj).__name__,
            )
        kind_columns, make = kind
        columns.update(dict.fromkeys(kind_columns))
        out.append(make(obj, lang))
    return list(columns), out


def rows(objects: object, lang: Lang = "en") -> list[dict[str, Any]]:
    """One flat dict per object, messages in *lang* (no pandas needed).

    *objects* is a result (``crm.check()``, ``crm.worklist()``,
    ``crm.find_duplicates()``, a timeline, an import report: its problems, a
    :class:`ParsedContacts`), one entity, or any iterable of contacts,
    contact summaries, caller-id matches, findings, duplicate pairs, work
    items, correspondence entries, affiliations or import problems (mixed
    kinds too).  Anything else raises :class:`crmkit.ValidationError`.
    """
    return _table(objects, lang)[1]


def to_pandas(objects: object, lang: Lang = "en") -> Any:
    """A :class:`pandas.DataFrame` with one row per object (see :func:`rows`).

    The columns are fixed per kind of object (an empty result still has
    them); mixed kinds give the union of their columns.  Needs the
    ``pandas`` extra.
    """
    pd = require_pandas("to_pandas")
    columns, data = _table(objects, lang)
    return pd.DataFrame(data, columns=columns)


# --------------------------------------------------------------------------- search results


class ContactList(list[Contact]):
    """A list of contacts (``crm.search(...)``) that shows as a table in Jupyter.

    It is a plain :class:`list` otherwise: compare it with lists, slice it,
    append to it.
    """

    __slots__ = ()

    def rows(self, lang: Lang = "en") -> list[dict[str, Any]]:
        """One flat dict per contact (:func:`contact_row`)."""
        return [contact_row(c, lang) for c in self]

    def to_pandas(self, lang: Lang = "en") -> Any:
        """A :class:`pandas.DataFrame` of the contacts (needs the ``pandas`` extra)."""
        return to_pandas(self, lang)

    @overload
    def __getitem__(self, index: SupportsIndex) -> Contact: ...
    @overload
    def __getitem__(self, index: slice) -> ContactList: ...
    def __getitem__(self, index: SupportsIndex | slice) -> Contact | ContactList:
        if isinstance(index, slice):
            return ContactList(super().__getitem__(index))
        return super().__getitem__(index)

    def _repr_html_(self) -> str:
        columns = ("number", "kind", "name", "email", "phone", "city", "relationships", "tags")
        data = ([r[c] for c in columns] for r in self.rows())
        return html_table(columns, data, caption=f"{len(self)} contacts")


# --------------------------------------------------------------------------- from pandas


@attrs.frozen(kw_only=True)
class ParsedContacts:
    """What :func:`from_pandas` read: contacts and affiliations, not stored anywhere.

    The contacts are new (no number, version 0), companies first where a row
    names one, in row order; ``affiliations`` link persons to their
    companies by id; ``report`` is the import report of the frame (problem
    rows, unknown columns, repeated external ids).  Store them with
    ``crm.import_pandas(frame)`` rather than one by one, so the store's
    duplicates and external ids are taken into account.
    """

    contacts: tuple[Contact, ...]
    affiliations: tuple[Affiliation, ...]
    report: CsvImportReport

    @property
    def persons(self) -> tuple[Person, ...]:
        """The persons among :attr:`contacts`."""
        return tuple(c for c in self.contacts if isinstance(c, Person))

    @property
    def companies(self) -> tuple[Company, ...]:
        """The companies among :attr:`contacts`."""
        return tuple(c for c in self.contacts if isinstance(c, Company))

    def __len__(self) -> int:
        return len(self.contacts)

    def __iter__(self) -> Iterator[Contact]:
        return iter(self.contacts)

    def rows(self, lang: Lang = "en") -> list[dict[str, Any]]:
        """One flat dict per contact (:func:`contact_row`)."""
        return [contact_row(c, lang) for c in self.contacts]

    def to_pandas(self, lang: Lang = "en") -> Any:
        """A :class:`pandas.DataFrame` of the contacts (needs the ``pandas`` extra)."""
        return to_pandas(self, lang)

    def _repr_html_(self) -> str:
        return self.report._repr_html_() + ContactList(self.contacts)._repr_html_()


def _cell(value: object, pd: Any) -> str:
    """A data-frame cell as CSV text: missing values empty, whole floats without ``.0``."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    try:
        missing = pd.isna(value)
    except (TypeError, ValueError):
        missing = False
    if isinstance(missing, bool | np.bool_) and missing:
        return ""
    return str(value)


def frame_records(frame: Any) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows of a data frame as text cells (see :func:`from_pandas`)."""
    pd = require_pandas("from_pandas")
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError.single(
            "frame", "value.type", expected="pandas.DataFrame", actual=type(frame).__name__
        )
    header = [_cell(c, pd) for c in frame.columns]
    records = ([_cell(v, pd) for v in row] for row in frame.itertuples(index=False, name=None))
    return header, records


def from_pandas(frame: Any, mapping: Mapping[str, str] | None = None) -> ParsedContacts:
    """Read the contacts of a data frame as the CSV importer reads a file, without a store.

    Columns are detected from their German or English headers
    (:data:`crmkit.importing.HEADERS`; *mapping* overrides, ``"ignore"``
    drops a column), and each row gives a company, a person and their
    affiliation by the same rules as :func:`crmkit.importing.import_csv`
    (a company named in several rows is made once).  Empty cells, ``None``,
    ``NaN`` and ``NA`` are empty; whole floats lose their ``.0`` (read
    postal codes and phone numbers as text, ``dtype=str``, to keep leading
    zeros).  Rows that cannot be used are listed in ``result.report``, never
    raised.  Rows repeating an earlier row's external id are left out.  As
    in a CSV import, rows are not checked against each other for
    duplicates: run :func:`crmkit.dedup.find_duplicates` on the result.

    Bad arguments (not a data frame, a mapping to an unknown field) raise
    :class:`crmkit.ValidationError`; a missing pandas a
    :class:`crmkit.CrmkitError`.
    """
    from crmkit.crm import open as open_crm
    from crmkit.importing import import_rows

    header, records = frame_records(frame)
    with open_crm("memory://") as scratch:
        report = import_rows(scratch, header, records, mapping)
        contacts = list(scratch.contacts.all(include_archived=True))
        links: list[Affiliation] = []
        for contact in contacts:
            if isinstance(contact, Person):
                links.extend(scratch.affiliations.of_person(contact))
    fresh: dict[str, Any] = {"version": 0, "created_at": None, "updated_at": None}
    return ParsedContacts(
        contacts=tuple(attrs.evolve(c, number=None, **fresh) for c in contacts),
        affiliations=tuple(attrs.evolve(a, **fresh) for a in links),
        report=report,
    )


__all__ = [
    "AFFILIATION_COLUMNS",
    "CONTACT_COLUMNS",
    "ENTRY_COLUMNS",
    "FINDING_COLUMNS",
    "PAIR_COLUMNS",
    "PHONE_MATCH_COLUMNS",
    "PROBLEM_COLUMNS",
    "SUMMARY_COLUMNS",
    "WORK_ITEM_COLUMNS",
    "ContactList",
    "ParsedContacts",
    "affiliation_row",
    "contact_row",
    "entry_row",
    "finding_row",
    "frame_records",
    "from_pandas",
    "pair_row",
    "phone_match_row",
    "require_pandas",
    "rows",
    "summary_row",
    "to_pandas",
    "work_item_row",
]
