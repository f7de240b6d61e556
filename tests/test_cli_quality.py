"""``crmkit check`` and ``crmkit worklist`` on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import crmkit
from crmkit.cli import main
from crmkit.cli_quality import safe_cell

WIDE = {"COLUMNS": "200"}


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "crm.db"
    with crmkit.open(f"sqlite:///{path}") as crm:
        firm = crm.contacts.add(
            crmkit.Company(
                name="Muster GmbH", relationships={"customer"}, owner="anna",
                emails=["info@muster.de"],
            )
        )  # fmt: skip
        crm.contacts.add(crmkit.Person(first_name="=HYPERLINK(1)", last_name="Formel",
                                       owner="ben"))  # fmt: skip
        boss = crm.contacts.add(crmkit.Person(first_name="Max", last_name="Mustermann",
                                              emails=["max@muster.de"]))  # fmt: skip
        crm.affiliations.link(boss, firm, roles={"decision_maker"})
    return str(path)


def _run(db: str, *args: str, lang: str = "en") -> str:
    result = CliRunner().invoke(main, ["--lang", lang, "--db", db, *args], env=WIDE)
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.stdout)


def test_check_table_json_and_csv(db: str) -> None:
    table = _run(db, "check")
    assert "Data quality: 3 contacts" in table and "66.7%" in table
    assert "the customer Muster GmbH has no billing contact" in table
    german = _run(db, "check", "--severity", "error", lang="de")
    assert "der Kunde Muster GmbH hat keinen Rechnungsempfänger" in german
    assert "hat keine E-Mail-Adresse" not in german  # a warning, filtered out
    rows = json.loads(_run(db, "check", "--format", "json", "--severity", "error"))
    assert {r["code"] for r in rows} == {"customer.no_billing_contact"}
    assert rows[0]["contact_number"] == "C00001" and rows[0]["severity"] == "error"
    reader = csv.DictReader(io.StringIO(_run(db, "check", "--format", "csv")))
    codes = {r["code"] for r in reader}
    assert {"contact.no_email", "person.not_linked", "company.no_technical_contact"} <= codes


def test_worklist_formats_filters_and_formula_safety(db: str) -> None:
    out = _run(db, "worklist", "--today", "2026-11-23")
    assert "Worklist 2026-11-23" in out and "has no billing contact" in out
    text = _run(
        db, "worklist", "--today", "23.11.2026", "--format", "csv", "--kind", "contact.no_email"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == ["contact.no_email"]
    assert rows[0]["contact_name"] == "'=HYPERLINK(1) Formel"  # never a formula in Excel
    mine = json.loads(_run(db, "--as", "anna", "--role", "admin", "worklist", "--mine",
                           "--format", "json"))  # fmt: skip
    assert mine and {r["owner"] for r in mine} == {"anna"}
    nothing = _run(db, "worklist", "--kind", "bounce.", "--today", "2026-11-23", lang="de")
    assert "Am 2026-11-23 gibt es nichts zu tun." in nothing


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("+49 170", "'+49 170"), ("-x", "'-x"), ("@a", "'@a"), ("ok", "ok"),
     (None, ""), (3, "3")],
)  # fmt: skip
def test_safe_cell(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_merge_dry_run_merge_and_unmerge(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with crmkit.open(f"sqlite:///{path}") as crm:
        crm.contacts.add(crmkit.Company(name="Muster GmbH", emails=["info@muster.de"]))
        crm.contacts.add(crmkit.Company(name="Muster Gesellschaft mbH", phones=["030 1234560"]))
    db = str(path)
    preview = _run(db, "merge", "C00001", "C00002", "--dry-run", "--choose", "name=C00002")
    assert "Muster Gesellschaft mbH" in preview and "Dry run, nothing written" in preview
    with crmkit.open(f"sqlite:///{path}") as crm:
        assert crm.contacts.get("C00002").merged_into is None
    done = _run(db, "merge", "C00001", "C00002", lang="de")
    assert "Zusammengeführt: C00001 Muster GmbH" in done and "+49301234560" in done
    with crmkit.open(f"sqlite:///{path}") as crm:
        assert crm.contacts.get("C00002").number == "C00001"
    assert "Merge undone" in _run(db, "unmerge", "C00001")
    with crmkit.open(f"sqlite:///{path}") as crm:
        assert crm.contacts.get("C00002").number == "C00002"
    bad = CliRunner().invoke(main, ["--db", db, "merge", "C00001", "C00002", "--choose", "name"])
    assert bad.exit_code == 2 and "FIELD=CONTACT" in bad.stderr


def test_duplicates_lists_the_planted_pairs_of_the_demo(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    assert CliRunner().invoke(main, ["--db", db, "demo"]).exit_code == 0
    out = _run(db, "duplicates", lang="de")
    assert "Muster Gesellschaft mbH" in out and "Dublette" in out
    rows = json.loads(_run(db, "duplicates", "--format", "json"))
    pairs = {frozenset((r["left"].split(" ", 1)[1], r["right"].split(" ", 1)[1])) for r in rows}
    assert frozenset({"Muster GmbH", "Muster Gesellschaft mbH"}) in pairs
    assert all(r["verdict"] in ("match", "review") and r["agreeing"] for r in rows)


def test_import_dry_run_then_import_then_rerun(tmp_path: Path) -> None:
    csv_file = tmp_path / "kontakte.csv"
    csv_file.write_bytes(
        "Vorname;Nachname;Firma;E-Mail\n"
        "Jürgen;Müller;Müller GmbH;j.mueller@mueller.de\n"
        "Erika;Mustermann;;erika@example\n".encode("cp1252")
    )
    db = str(tmp_path / "i.db")
    runner = CliRunner()
    dry = runner.invoke(main, ["--db", db, "--lang", "de", "import", str(csv_file), "--dry-run"])
    assert dry.exit_code == 1 and "Probelauf" in dry.stdout and "Zeile 3" in dry.stdout
    with crmkit.open(f"sqlite:///{db}") as crm:
        assert crm.contacts.count() == 0
    real = runner.invoke(main, ["--db", db, "import", str(csv_file)])
    assert real.exit_code == 1 and "2 contacts created" in real.stdout
    again = runner.invoke(main, ["--db", db, "import", str(csv_file)])
    assert "0 contacts created" in again.stdout
    with crmkit.open(f"sqlite:///{db}") as crm:
        assert crm.contacts.count() == 2
    bad = runner.invoke(main, ["--db", db, "import", str(csv_file), "--map", "Vorname"])
    assert bad.exit_code == 2 and "HEADER=FIELD" in bad.stderr
