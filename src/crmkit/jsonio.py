"""A lossless JSON export of a CRM, and reading it back into a store.

The file is one JSON array: a header object first, then one object per
record, each on its own line, so that both writing and reading stream (a
million contacts never sit in memory at once) and any JSON tool can read
the file::

    [
    {"crmkit":"export","format":1,"exported_at":"2026-12-05T14:00:00+00:00"},
    {"type":"contact","data":{"kind":"company","id":"…","number":"C00001",…}},
    {"type":"affiliation","data":{…}},
    …
    ]

Records come in dependency order: contacts (archived and merged ones too),
affiliations, correspondence entries with every revision, consent events,
bounces, legal holds, data-subject requests, merge records and "not a
duplicate" decisions.  ``data`` is :func:`crmkit.serialize.to_dict` of the
entity, so ids, contact numbers and timestamps survive; version counters
start again at 1 in the new store.  The audit trail stays with the store it
describes (the import writes its own audit record), and tombstones of
erased contacts are not exported: they hold no personal data to restore.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import attrs

from crmkit.bounce import Bounce
from crmkit.consent import ConsentEvent
from crmkit.correspondence import EntryRevision, TimelineQuery
from crmkit.errors import CrmkitError, ValidationError
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.model import Affiliation, Contact, Person
from crmkit.privacy import PrivacyRequest
from crmkit.retention import LegalHold
from crmkit.serialize import from_dict, to_dict

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

#: The version of the file layout; a newer one is refused.
FORMAT: Final = 1
#: Record types in the order they are written and must be read.
RECORD_TYPES: Final[dict[str, type[Any]]] = {
    "contact": Contact,
    "affiliation": Affiliation,
    "entry_revision": EntryRevision,
    "consent_event": ConsentEvent,
    "bounce": Bounce,
    "legal_hold": LegalHold,
    "privacy_request": PrivacyRequest,
    "merge": MergeRecord,
    "dedup_decision": DedupDecision,
}
_BATCH: Final = 500


@attrs.frozen
class JsonImportReport:
    """What :func:`import_json` stored: a count per record type."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Records stored in all."""
        return sum(self.counts.values())

    def __str__(self) -> str:
        return ", ".join(f"{kind}: {n}" for kind, n in self.counts.items() if n)


# -- writing ---------------------------------------------------------------------------------
def _records(crm: CRM, contacts: Iterable[Contact] | None = None) -> Iterator[tuple[str, Any]]:
    store, scope = crm.store, crm.scope()
    everything = contacts is None
    if contacts is None:
        contacts = store.iter_contacts(include_archived=True, scope=scope)
    ids: list[str] = []
    persons: list[str] = []
    for contact in contacts:
        ids.append(contact.id)
        if isinstance(contact, Person):
            persons.append(contact.id)
        yield "contact", contact
    known = set(ids)
    for person_id in persons:
        for affiliation in store.affiliations_of_person(person_id, scope=scope):
            if affiliation.company_id in known:
                yield "affiliation", affiliation
    seen: set[str] = set()
    for start in range(0, len(ids), _BATCH):
        query = TimelineQuery(contact_ids=frozenset(ids[start : start + _BATCH]))
        for entry in sorted(store.timeline(query), key=lambda e: (e.occurred_at, e.id)):
            if entry.id in seen or not known.issuperset(entry.contact_ids):
                continue
            seen.add(entry.id)
            for revision in store.entry_revisions(entry.id):
                yield "entry_revision", revision
    for contact_id in store.consent_contacts():
        if contact_id in known:
            for event in store.consent_events(contact_id):
                yield "consent_event", event
    for bounce in store.iter_bounces():
        if known.issuperset(bounce.contact_ids) and (everything or bounce.contact_ids):
            yield "bounce", bounce
    for hold in store.legal_holds():
        if hold.contact_id in known:
            yield "legal_hold", hold
    for request in store.iter_privacy_requests():
        if request.contact_id in known or (everything and request.contact_id is None):
            yield "privacy_request", request
    for contact_id in ids:
        for record in store.merges_of(contact_id):
            if known.issuperset(c.id for c in record.merged_before):
                yield "merge", record
    for decision in store.dedup_decisions():
        if decision.left_id in known and decision.right_id in known:
            yield "dedup_decision", decision


def _line(kind: str, entity: Any) -> str:
    return json.dumps({"type": kind, "data": to_dict(entity)}, ensure_ascii=False,
                      separators=(",", ":"))  # fmt: skip


def export_json(
    crm: CRM,
    target: str | os.PathLike[str] | IO[str],
    *,
    contacts: Iterable[Contact] | None = None,
) -> int:
    """Write everything the actor may read to *target* (a path or a text stream).

    With *contacts*, only those and the records that concern only them
    (their affiliations among each other, entries naming only them, their
    consent events …).  Streams record by record; returns the number of
    records written.  The layout is described in :mod:`crmkit.jsonio`;
    :func:`import_json` reads it.
    """
    if isinstance(target, (str, os.PathLike)):
        with Path(target).open("w", encoding="utf-8", newline="\n") as handle:
            return _write(crm, handle, contacts)
    return _write(crm, target, contacts)


def _write(crm: CRM, handle: IO[str], contacts: Iterable[Contact] | None) -> int:
    header = {"crmkit": "export", "format": FORMAT, "exported_at": crm.now().isoformat()}
    handle.write("[\n" + json.dumps(header, separators=(",", ":")))
    count = 0
    for kind, entity in _records(crm, contacts):
        handle.write(",\n" + _line(kind, entity))
        count += 1
    handle.write("\n]\n")
    return count


# -- reading ---------------------------------------------------------------------------------
def _bad(where: str, reason: str) -> ValidationError:
    return ValidationError.single(where, "json.invalid", reason=reason)


def _parse_lines(first: str, second: str, text: IO[str]) -> Iterator[tuple[str, Any]]:
    """The items of an export in the layout :func:`export_json` writes, one per line."""
    number = 2
    yield "line 2", json.loads(second.strip().removesuffix(","))
    for line in text:
        number += 1
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == "]":
            return
        try:
            yield f"line {number}", json.loads(stripped.removesuffix(","))
        except json.JSONDecodeError as exc:
            raise _bad(f"line {number}", exc.msg) from None
    raise _bad(f"line {number}", "the file ends before the closing ']'")


def _line_layout(first: str, second: str) -> bool:
    if first.strip() != "[":
        return False
    try:
        return isinstance(json.loads(second.strip().removesuffix(",")), dict)
    except json.JSONDecodeError:
        return False


def _items(source: IO[str]) -> Iterator[tuple[str, Any]]:
    """Items with where they are: streamed line by line if the layout allows, else parsed whole."""
    first, second = source.readline(), source.readline()
    if _line_layout(first, second):
        yield from _parse_lines(first, second, source)
        return
    text = first + second + source.read()
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(f"line {exc.lineno}", exc.msg) from None
    if not isinstance(items, list):
        raise _bad("", "a crmkit export is a JSON array")
    for i, item in enumerate(items):
        yield f"record {i + 1}", item


def _entities(source: IO[str]) -> Iterator[tuple[str, str, Any]]:
    """``(where, type, entity)`` for each record after a valid header."""
    items = _items(source)
    header = next(items, None)
    if header is None or not isinstance(header[1], dict) or header[1].get("crmkit") != "export":
        raise _bad("", "this is not a crmkit JSON export (no header)")
    version = header[1].get("format")
    if not isinstance(version, int) or version > FORMAT:
        raise _bad("format", f"format {version!r} is newer than this crmkit reads ({FORMAT})")
    order = list(RECORD_TYPES)
    last = 0
    for where, item in items:
        if not isinstance(item, dict) or set(item) != {"type", "data"}:
            raise _bad(where, "a record is an object with 'type' and 'data'")
        kind = item["type"]
        if kind not in RECORD_TYPES:
            raise _bad(f"{where}.type", f"unknown record type {kind!r}")
        rank = order.index(kind)
        if rank < last:
            raise _bad(f"{where}.type", f"{kind!r} records must come before {order[last]!r}")
        last = rank
        try:
            entity = from_dict(RECORD_TYPES[kind], item["data"])
        except ValidationError as exc:
            raise exc.at(where) from None
        yield where, kind, entity


def import_json(crm: CRM, source: str | os.PathLike[str] | IO[str]) -> JsonImportReport:
    """Read an export of :func:`export_json` into the store of *crm*, all or nothing.

    Every record is checked first (the contacts also against the rules and
    plugins), then everything is written in one transaction: a bad record or
    an id that is already taken raises a crmkit error naming the line, and
    the store stays as it was.  Returns the count per record type.
    """
    if isinstance(source, (str, os.PathLike)):
        try:
            with Path(source).open(encoding="utf-8-sig") as handle:
                return _import(crm, handle)
        except OSError as exc:
            raise CrmkitError(code="import.unreadable_file", path=str(source),
                              detail=exc.strerror or str(exc)) from None  # fmt: skip
        except UnicodeDecodeError as exc:
            raise _bad("", f"not UTF-8 text ({exc.reason})") from None
    return _import(crm, source)


def _import(crm: CRM, handle: IO[str]) -> JsonImportReport:
    counts = dict.fromkeys(RECORD_TYPES, 0)
    store = crm.store
    with crm.transaction():
        for where, kind, entity in _entities(handle):
            try:
                _put(crm, kind, entity)
            except ValidationError as exc:
                raise exc.at(where) from None
            except CrmkitError as exc:
                raise type(exc)(f"{where}: {exc}", code="json.not_stored") from None
            counts[kind] += 1
        store.append_audit(crm._audit_record("import", "contact", None, reason="JSON export"))
    return JsonImportReport(counts)


def _put(crm: CRM, kind: str, entity: Any) -> None:
    store = crm.store
    if kind == "contact":
        errors = [f for f in crm.hooks.validate_contact(entity) if f.severity == "error"]
        if errors:
            raise ValidationError(errors)
        store.add_contact(attrs.evolve(entity, version=0))
    elif kind == "affiliation":
        store.add_affiliation(attrs.evolve(entity, version=0))
    elif kind == "entry_revision":
        if entity.entry.revision == 1:
            store.add_entry(entity)
        else:
            store.correct_entry(entity)
    elif kind == "consent_event":
        store.append_consent_event(entity)
    elif kind == "bounce":
        store.add_bounce(attrs.evolve(entity, version=0))
    elif kind == "legal_hold":
        store.put_legal_hold(entity)
    elif kind == "privacy_request":
        store.add_privacy_request(attrs.evolve(entity, version=0))
    elif kind == "merge":
        store.add_merge(entity)
    else:
        store.add_dedup_decision(entity)


def dump_all(crm: CRM) -> Iterable[str]:
    """Every record as its JSON line (without the header), for comparing two stores."""
    for kind, entity in _records(crm):
        data = to_dict(entity)
        data.pop("version", None)
        yield json.dumps({"type": kind, "data": data}, ensure_ascii=False, sort_keys=True)


__all__ = ["FORMAT", "RECORD_TYPES", "JsonImportReport", "dump_all", "export_json", "import_json"]
