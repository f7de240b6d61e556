"""Answers exported from an external survey tool, fed into the consent ledger.

A CSV file (``,`` or ``;`` separated, UTF-8 with or without BOM) or a JSON
array of objects with the columns ``request_id`` *or* ``email``,
``answer`` (``granted``/``declined``, also ``ja``/``nein``, ``yes``/``no``,
``zustimmen``/``ablehnen``) and ``time`` (ISO 8601; without zone: Berlin
time), optionally ``purpose`` (needed with ``email`` when a person has
several open requests).  Each row answers an *open* request through
``crm.consents.record_answer``; rows that cannot be matched are reported
with their line, never guessed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from crmkit.consent import ConsentEvent, case
from crmkit.errors import CrmkitError
from crmkit.messages import Lang, render
from crmkit_survey.survey import clean_line

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

_ANSWERS: Final = {
    **dict.fromkeys(("granted", "yes", "y", "ja", "j", "true", "1", "zustimmen",
                     "zugestimmt", "agree", "accepted"), "granted"),
    **dict.fromkeys(("declined", "no", "n", "nein", "false", "0", "ablehnen", "abgelehnt",
                     "decline", "rejected"), "declined"),
}  # fmt: skip


@attrs.frozen(kw_only=True)
class ImportResult:
    """What an import recorded and which lines it skipped (line number, reason)."""

    recorded: tuple[ConsentEvent, ...] = ()
    skipped: tuple[tuple[int, CrmkitError], ...] = ()

    def lines(self, lang: Lang = "en") -> list[str]:
        """A summary line and one line per skipped row, in *lang*."""
        out = [render("survey.cli.imported", lang, count=len(self.recorded),
                      skipped=len(self.skipped))]  # fmt: skip
        out += [render("survey.import.row", lang, line=n, detail=exc.message(lang))
                for n, exc in self.skipped]  # fmt: skip
        return out


def read_rows(source: str | Path, text: str | None = None) -> list[dict[str, str]]:
    """The rows of a CSV or JSON export (*text* given: parse it, else read *source*)."""
    path = Path(source)
    data = text if text is not None else path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json" or data.lstrip().startswith("["):
        loaded = json.loads(data)
        if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
            raise CrmkitError("a JSON array of objects is expected", code="survey.import.row",
                              line=1)  # fmt: skip
        return [{str(k).strip().lower(): "" if v is None else str(v) for k, v in r.items()}
                for r in loaded]  # fmt: skip
    dialect = csv.Sniffer().sniff(data.splitlines()[0] if data else ",", delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(data), dialect=dialect)
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            for row in reader]  # fmt: skip


def _when(value: str, zone: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise CrmkitError(code="survey.import.bad_time", value=clean_line(value, 40)) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def import_answers(
    crm: CRM,
    rows: Iterable[Mapping[str, str]],
    *,
    source: str = "external survey",
    first_line: int = 2,
) -> ImportResult:
    """Record the answers in *rows* (see the module docs); one transaction.

    *source* names the tool or file (kept as the proof's source, with the
    line); *first_line* is the line number of the first row (2 for a CSV
    file with a header).
    """
    open_by_id: dict[str, tuple[str, str, str | None]] = {}
    open_by_mail: dict[str, list[tuple[str, str, str]]] = {}
    for contact_id in crm.store.consent_contacts():
        try:
            contact = crm.contacts.get(contact_id)
        except CrmkitError:
            continue
        events = crm.consents.events(contact)
        for purpose in dict.fromkeys(e.purpose for e in events if e.kind == "requested"):
            found = case(events, purpose, crm.consents.policy)
            if found is None or found.stage != "open" or not found.request_id:
                continue
            request = next(e for e in events if e.request_id == found.request_id
                           and e.kind == "requested")  # fmt: skip
            open_by_id[found.request_id] = (contact.id, purpose, request.text_version)
            for mail in contact.emails:
                entry = (found.request_id, contact.id, purpose)
                open_by_mail.setdefault(mail.address.lower(), []).append(entry)
    recorded: list[ConsentEvent] = []
    skipped: list[tuple[int, CrmkitError]] = []
    with crm.transaction():
        for line, row in enumerate(rows, start=first_line):
            try:
                recorded.append(_one(crm, row, line, source, open_by_id, open_by_mail))
            except CrmkitError as exc:
                skipped.append((line, exc))
    return ImportResult(recorded=tuple(recorded), skipped=tuple(skipped))


def _one(
    crm: CRM,
    row: Mapping[str, str],
    line: int,
    source: str,
    by_id: dict[str, tuple[str, str, str | None]],
    by_mail: dict[str, list[tuple[str, str, str]]],
) -> ConsentEvent:
    answer = _ANSWERS.get(str(row.get("answer", "")).strip().lower())
    if answer is None:
        raise CrmkitError(code="survey.import.bad_answer", value=clean_line(row.get("answer"), 40))
    request_id = str(row.get("request_id", "")).strip()
    purpose = str(row.get("purpose", "")).strip().lower()
    if not request_id:
        mail = str(row.get("email", "")).strip().lower()
        matches = [m for m in by_mail.get(mail, []) if not purpose or m[2] == purpose]
        if len(matches) != 1:
            raise CrmkitError(code="survey.import.no_request", key=mail or "—")
        request_id = matches[0][0]
    if request_id not in by_id:
        raise CrmkitError(code="survey.import.no_request", key=request_id)
    at = _when(str(row.get("time", "")), crm.zone)
    contact_id, request_purpose, version = by_id.pop(request_id)
    return crm.consents.record_answer(
        contact_id, request_purpose, answer, request_id=request_id, at=at,
        channel="survey_import", source=clean_line(f"{source}, line {line}"),
        text_version=version,
    )  # fmt: skip


__all__ = ["ImportResult", "import_answers", "read_rows"]
