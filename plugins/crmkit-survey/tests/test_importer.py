"""Answers exported from another survey tool (CSV, JSON) feed the ledger through record_answer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import crmkit
from crmkit.crm import CRM
from crmkit_survey import Survey, import_answers
from crmkit_survey.importer import read_rows
from crmkit_survey.testing import Inbox

pytest_plugins = ["crmkit_survey.fixtures"]


def _people(crm: CRM, survey: Survey) -> list[crmkit.Contact]:
    people: list[crmkit.Contact] = [
        crm.contacts.add(crmkit.Person(first_name=n, last_name="Muster", emails=[f"{n}@muster.de"]))
        for n in ("anna", "bernd", "clara", "dora")
    ]
    survey.request(people, "newsletter")
    return people


def _request_id(crm: CRM, contact: crmkit.Contact) -> str:
    found = crm.consents.case(contact, "newsletter")
    assert found is not None and found.request_id is not None
    return found.request_id


def test_csv_by_request_id_or_email(crm: CRM, survey: Survey, inbox: Inbox, tmp_path: Path) -> None:
    anna, bernd, clara, dora = _people(crm, survey)
    path = tmp_path / "antworten.csv"
    path.write_text(
        "\ufeffRequest_ID;E-Mail;Answer;Time\n"
        f"{_request_id(crm, anna)};;Ja;2026-11-24T09:30:00+01:00\n"
        ";BERND@muster.de;nein;2026-11-25 14:00\n"
        f"{_request_id(crm, anna)};;ja;2026-11-26T10:00:00Z\n"
        ";clara@muster.de;vielleicht;2026-11-24T10:00:00Z\n"
        ";unknown@muster.de;ja;2026-11-24T10:00:00Z\n"
        ";dora@muster.de;ja;gestern\n",
        encoding="utf-8",
    )
    rows = read_rows(path)
    assert rows[0].keys() >= {"request_id", "answer", "time"}
    rows = [{("email" if k == "e-mail" else k): v for k, v in r.items()} for r in rows]
    result = import_answers(crm, rows, source="Umfragetool X")
    assert [(e.contact_id, e.kind) for e in result.recorded] == [
        (anna.id, "granted"),
        (bernd.id, "declined"),
    ]
    assert [line for line, _ in result.skipped] == [4, 5, 6, 7]
    granted = result.recorded[0]
    assert granted.at == dt.datetime(2026, 11, 24, 8, 30, tzinfo=dt.UTC)
    assert (granted.channel, granted.source) == ("survey_import", "Umfragetool X, line 2")
    assert granted.request_id == _request_id(crm, anna) and granted.text_version is not None
    declined = result.recorded[1]
    assert declined.at == dt.datetime(2026, 11, 25, 13, 0, tzinfo=dt.UTC)  # Berlin time
    assert crm.consents.case(clara, "newsletter").stage == "open"  # type: ignore[union-attr]
    assert crm.consents.case(dora, "newsletter").stage == "open"  # type: ignore[union-attr]
    lines = result.lines("de")
    assert lines[0] == "2 Antwort(en) gespeichert, 4 Zeile(n) übersprungen"
    assert lines[1].startswith("Zeile 4: keine offene Anfrage")


def test_json_export(crm: CRM, survey: Survey, inbox: Inbox, tmp_path: Path) -> None:
    anna, bernd, *_ = _people(crm, survey)
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            [
                {"email": "anna@muster.de", "answer": "yes", "time": "2026-11-24T10:00:00Z"},
                {
                    "request_id": _request_id(crm, bernd),
                    "answer": "declined",
                    "time": "2026-11-24T11:00:00Z",
                    "purpose": "newsletter",
                },
            ]
        ),
        encoding="utf-8",
    )
    result = import_answers(crm, read_rows(path), source="export.json", first_line=1)
    assert [e.kind for e in result.recorded] == ["granted", "declined"]
    assert result.skipped == ()
    assert crm.consents.may_contact(anna, "newsletter", "email").allowed
