"""``crmkit report``, ``snapshot`` and ``revenue-import`` on a real SQLite file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import crmkit
from crmkit.cli import main

NOW = dt.datetime(2026, 8, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    with crmkit.open(f"sqlite:///{path}", clock=lambda: NOW) as crm:
        acme = crm.contacts.add(crmkit.Company(name="Muster GmbH", relationships={"customer"},
                                               customer_since=dt.date(2025, 1, 1)))  # fmt: skip
        crm.contacts.add(
            crmkit.Person(first_name="Erika", last_name="Gäbler", relationships={"lead"},
                          lead=crmkit.LeadInfo(source="=Messe", since=dt.date(2026, 7, 20)))
        )  # fmt: skip
        crm.revenue.record(acme, "1200.00", "EUR", dt.date(2026, 8, 1), reference="R-1")
        crm.revenue.record(acme, "300.00", "EUR", dt.date(2026, 9, 1), reference="R-2")
    return path


def _run(db: Path, *args: str, lang: str = "en") -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--db", str(db), "--lang", lang, *args], env={"COLUMNS": "200"}
    )
    return result.exit_code, result.output


def test_report_as_json(db: Path) -> None:
    code, out = _run(db, "report", "--period", "2026-Q3", "--today", "2026-10-05", "--format",
                     "json")  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert (data["period"], data["today"]) == ("2026-Q3", "2026-10-05")
    assert data["sections"]["leads"]["new_by_source"] == {"=Messe": 1}
    assert data["sections"]["customers"]["active_at_end"] == 1
    # 1200 + 300 over one order each
    assert data["sections"]["revenue"]["total"] == "1500.00"
    assert data["sections"]["revenue"]["average_order_value"] == "750.00"


@pytest.mark.parametrize(("period", "total"), [("2026-09", "300.00"), ("2026", "1500.00")])
def test_report_periods_as_csv(db: Path, period: str, total: str) -> None:
    code, out = _run(db, "report", "--period", period, "--today", "2026-10-05", "--format", "csv")
    assert code == 0, out
    rows = list(csv.reader(io.StringIO(out), delimiter=";"))
    assert rows[0] == ["section", "figure", "value"]
    assert ["revenue", "total", total] in rows
    if period == "2026":
        # the source is not at the start of a cell: nothing a spreadsheet would run
        assert ["leads", "new_by_source.=Messe", "1"] in rows


def test_report_as_a_table_in_german(db: Path) -> None:
    code, out = _run(db, "report", "--period", "2026-Q3", "--today", "2026-10-05", lang="de")
    assert code == 0, out
    assert "Kennzahlen 2026-Q3 (2026-07-01 – 2026-09-30)" in out and "Stand 2026-10-05" in out
    assert "Kennzahl" in out and "1500.00" in out


def test_a_bad_period_is_one_line_in_both_languages(db: Path) -> None:
    code, out = _run(db, "report", "--period", "2026-Q5")
    assert code == 2 and "period" in out and "2026-Q5" in out
    code, out = _run(db, "report", "--period", "Q3/2026", lang="de")
    assert code == 2 and "period" in out and "ist kein Zeitraum" in out


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda t: not t.startswith("-")))
def test_any_period_text_either_reports_or_fails_cleanly(text: str) -> None:
    result = CliRunner().invoke(main, ["--url", "memory://", "report", "--period", text,
                                       "--format", "json"])  # fmt: skip
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_snapshot_and_revenue_import(db: Path, tmp_path: Path) -> None:
    code, out = _run(db, "snapshot", "--today", "2026-08-02")
    assert code == 0 and "Quality snapshot of 2026-08-02 recorded" in out
    erp = tmp_path / "erp.csv"
    erp.write_text("Kundennummer;Datum;Betrag;Beleg\nC00001;02.09.2026;1.000,00;R-3\n"
                   "C00001;01.09.2026;300,00;R-2\n", encoding="utf-8")  # fmt: skip
    code, out = _run(db, "revenue-import", str(erp), "--dry-run", lang="de")
    assert code == 0 and "\nProbelauf, nichts gespeichert: 2 Zeilen gelesen, 1 " in out
    code, out = _run(db, "revenue-import", str(erp))
    assert code == 0 and "1 revenue records imported, 1 skipped" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("Kundennummer;Datum;Betrag\nC00099;02.09.2026;1\n", encoding="utf-8")
    code, out = _run(db, "revenue-import", str(bad))
    assert code == 1 and "nothing imported" in out and "C00099" in out
    code, out = _run(db, "report", "--period", "2026-Q3", "--today", "2026-10-05", "--format",
                     "json")  # fmt: skip
    data = json.loads(out)
    assert data["sections"]["revenue"]["total"] == "2500.00"
    assert data["sections"]["quality"]["snapshots"] == 1
