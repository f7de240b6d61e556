"""crm.kpis and crm.revenue on real stores: a scenario with a moving clock, figures by hand."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import crmkit
from crmkit.auth import Actor
from crmkit.kpis_api import KpiReport

TODAY = dt.date(2026, 10, 5)


class Clock:
    """A clock the test moves forward."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, day: dt.date) -> None:
        self.now = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite"])
def clock_crm(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Clock, crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    clock = Clock()
    return clock, crmkit.open(url, clock=clock)


@pytest.fixture
def scenario(clock_crm: tuple[Clock, crmkit.CRM]) -> dict[str, crmkit.Contact]:
    clock, crm = clock_crm
    add = crm.contacts.add
    c: dict[str, crmkit.Contact] = {}
    clock.at(dt.date(2026, 1, 10))
    c["alt"] = add(crmkit.Company(name="Alt GmbH", relationships={"customer"}))
    clock.at(dt.date(2026, 2, 1))
    c["weg"] = add(crmkit.Company(name="Weg AG", relationships={"customer"}))
    clock.at(dt.date(2026, 3, 1))
    lead = crmkit.LeadInfo(source="Messe", since=dt.date(2026, 3, 1))
    c["bea"] = add(crmkit.Person(first_name="Bea", last_name="Berg", relationships={"lead"},
                                 lead=lead))  # fmt: skip
    clock.at(dt.date(2026, 7, 15))
    lead = crmkit.LeadInfo(source="Website", since=dt.date(2026, 7, 15))
    c["neu"] = add(crmkit.Person(first_name="Nina", last_name="Neu", relationships={"lead"},
                                 lead=lead))  # fmt: skip
    clock.at(dt.date(2026, 8, 1))
    bea = crm.contacts.get(c["bea"].id)
    assert bea.lead is not None
    won = attrs.evolve(bea.lead, status="won", closed_on=dt.date(2026, 8, 1))
    c["bea"] = crm.contacts.update(attrs.evolve(bea, relationships={"customer"}, lead=won))
    clock.at(dt.date(2026, 9, 1))
    weg = crm.contacts.get(c["weg"].id)
    c["weg"] = crm.contacts.update(attrs.evolve(weg, relationships={"supplier"}))
    called = dt.datetime(2026, 9, 2, 10, tzinfo=dt.UTC)
    crm.correspondence.log(
        c["bea"], "phone", occurred_at=called, direction="outbound", subject="Onboarding"
    )
    clock.at(TODAY)
    crm.revenue.record(c["alt"], "500.00", "EUR", dt.date(2026, 5, 1), reference="R-0")
    crm.revenue.record(c["alt"], Decimal("1200"), "EUR", dt.date(2026, 8, 1), reference="R-1")
    crm.revenue.record(c["bea"], 300, on=dt.date(2026, 9, 15), reference="R-2")
    return c


def test_report_of_a_quarter(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact]
) -> None:
    _clock, crm = clock_crm
    report = crm.kpis.report("2026-Q3", today=TODAY)
    assert report.sections["leads"] == {
        "new_by_source": {"Website": 1},  # Nina; Bea's lead started in March
        "won": 1,
        "lost": 0,
        "conversion_rate": 1.0,
        "median_days_to_conversion": 153.0,  # 2026-03-01 .. 2026-08-01
        "open_by_age": {"under_90_days": 1, "90_days_to_12_months": 0, "over_12_months": 0},
    }
    assert report.sections["customers"] == {
        "active_at_start": 2,  # Alt, Weg on 2026-07-01
        "active_at_end": 2,  # Alt, Bea on 2026-09-30
        "new": 1,  # Bea
        "retained": 1,  # Alt
        "lost": 1,  # Weg (supplier only since 2026-09-01)
        "retention_rate": 0.5,
        "churn_rate": 0.5,
        "silent_12_months": 1,  # Alt; Bea was called on 2026-09-02
    }
    assert report.sections["revenue"] == {
        "currency": "EUR",
        "total": "1500.00",  # 1200 + 300 (the 500 is Q2)
        "customers_with_revenue": 2,
        "per_customer": "750.00",
        "top_customers": {"C00001": "1200.00", "C00003": "300.00"},
        "average_order_value": "750.00",
        # 2025-10-06..2026-10-05: 2000.00 over Alt, Weg, Bea
        "yearly_revenue_per_customer": "666.67",
        # the one ended spell: Weg 2026-02-01..2026-08-31 = 212 days = 0.58 years
        "customer_lifetime_years": 0.58,
        "customer_lifetime_value": "386.67",  # 666.67 * 0.58
    }
    assert [r.reference for r in crm.revenue.list(scenario["alt"])] == ["R-0", "R-1"]


def test_report_formats(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact]
) -> None:
    _clock, crm = clock_crm
    report = crm.kpis.report("2026-09", today=TODAY)
    data = json.loads(report.to_json())
    assert (data["period"], data["start"], data["end"]) == ("2026-09", "2026-09-01", "2026-09-30")
    assert data["sections"]["revenue"]["total"] == "300.00"
    # on 2026-09-01 Alt and Bea are customers (Weg's spell ended on 08-31); both stay
    assert ("customers", "active_at_start", "2") in report.rows()
    assert ("customers", "lost", "0") in report.rows()
    assert ("customers", "retention_rate", "1") in report.rows()
    lines = report.to_csv().splitlines()
    assert lines[0] == "section;figure;value"
    assert "leads;open_by_age.under_90_days;1" in lines
    assert "KPIs 2026-09" in report.to_text()
    html = report._repr_html_()
    assert "<table" in html and "open leads, under 90 days" in html
    labelled = {(s, f): v for s, f, v in report.labelled_rows("de")}
    assert labelled[("Kunden", "Kunden zu Beginn")] == "2"
    assert labelled[("Kunden", "Kundenbindungsquote")] == "100 %"
    assert labelled[("Leads", "offene Leads, unter 90 Tagen")] == "1"
    english = {(s, f): v for s, f, v in report.labelled_rows("en")}
    assert english[("customers", "retention rate")] == "100%"
    assert len(labelled) == len(english) == len(report.rows())


def test_default_period_is_the_current_quarter(clock_crm: tuple[Clock, crmkit.CRM]) -> None:
    clock, crm = clock_crm
    clock.at(dt.date(2026, 11, 23))
    report = crm.kpis.report()
    assert (str(report.period), report.today) == ("2026-Q4", dt.date(2026, 11, 23))
    assert "revenue" not in report.sections  # none recorded


def test_revenue_record_rejects_bad_input_and_changes_nothing(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact]
) -> None:
    _clock, crm = clock_crm
    before = crm.revenue.list()
    for kw, field in (({"amount": "x"}, "amount"), ({"currency": "€"}, "currency")):
        values: dict[str, object] = {"amount": "1", "currency": "EUR", "on": TODAY, **kw}
        with pytest.raises(crmkit.ValidationError) as info:
            crm.revenue.record(scenario["alt"], **values)  # type: ignore[arg-type]
        assert info.value.findings[0].field == field
        assert field in info.value.message("de")
    with pytest.raises(crmkit.NotFoundError):
        crm.revenue.record("C09999", "1")
    assert crm.revenue.list() == before


ERP = (
    "Kundennummer;Rechnungsdatum;Betrag;Währung;Rechnungsnummer\n"
    "C00001;03.08.2026;1.234,56;EUR;RE-100\n"
    "C00003;2026-09-20;99,90;;RE-101\n"
    "\n"
    "C00001;01.08.2026;1.200,00;EUR;R-1\n"
)


def test_erp_import_with_a_row_report(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact]
) -> None:
    _clock, crm = clock_crm
    dry = crm.revenue.import_csv(io.StringIO(ERP), dry_run=True)
    assert (dry.rows, dry.imported, dry.ok) == (3, 2, True)
    assert len(crm.revenue.list()) == 3
    report = crm.revenue.import_csv(io.StringIO(ERP))
    assert (report.rows, report.imported, report.skipped) == (3, 2, ((5, "C00001", "R-1"),))
    assert report.lines("de") == [
        "3 Zeilen gelesen: 2 Umsätze importiert, 1 übersprungen (bereits erfasst), 0 Probleme",
        "Zeile 5: 'R-1' von C00001 ist bereits erfasst; übersprungen",
    ]
    assert report.lines()[0].startswith("3 rows read: 2 revenue records imported")
    amounts = {(r.reference, r.amount, r.on) for r in crm.revenue.list()}
    assert ("RE-100", Decimal("1234.56"), dt.date(2026, 8, 3)) in amounts
    assert ("RE-101", Decimal("99.90"), dt.date(2026, 9, 20)) in amounts
    again = crm.revenue.import_csv(io.StringIO(ERP))  # re-running adds nothing
    assert (again.imported, len(again.skipped)) == (0, 3)


def test_erp_import_with_bad_rows_imports_nothing(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact], tmp_path: Path
) -> None:
    _clock, crm = clock_crm
    path = tmp_path / "erp.csv"
    path.write_text(
        "customer,date,amount,currency,invoice\n"
        "C00001,2026-08-03,10.00,EUR,A\n"
        "C09999,2026-08-03,10.00,EUR,B\n"
        "C00001,31.02.2026,10.00,EUR,C\n"
        "C00001,2026-08-03,zehn,EUR,D\n"
        "C00001,2026-08-03,10,Euro,E\n",
        encoding="utf-8",
    )
    report = crm.revenue.import_csv(path)
    assert (report.ok, report.rows, report.imported) == (False, 5, 0)
    assert [(p.row, p.column, p.value) for p in report.problems] == [
        (3, "customer", "C09999"),
        (4, "date", "31.02.2026"),
        (5, "amount", "zehn"),
        (6, "currency", "Euro"),
    ]
    lines = report.lines("de")
    assert lines[0] == (
        "5 Zeilen gelesen, 4 Probleme: nichts importiert (Zeilen korrigieren und die Datei "
        "erneut einlesen)"
    )
    assert lines[1] == "Zeile 3, Spalte 'customer': kein Kontakt hat die Nummer oder ID 'C09999'"
    assert report.lines("en")[2].startswith("row 4, column 'date': ")
    assert len(crm.revenue.list()) == 3
    missing = crm.revenue.import_csv(io.StringIO("Kunde;Betrag\nC00001;1\n"))
    assert [p.params["column"] for p in missing.problems] == ["on"]
    assert "keine Spalte für on" in missing.lines("de")[1]


def test_kpis_and_revenue_respect_permissions(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact]
) -> None:
    _clock, crm = clock_crm
    viewer = crm.as_actor(Actor(id="v", name="Viewer", roles=frozenset({"readonly"})))
    assert isinstance(viewer.kpis.report("2026-Q3", today=TODAY), KpiReport)
    with pytest.raises(crmkit.PermissionDenied):
        viewer.revenue.record(scenario["alt"], "1")


def test_quality_snapshots_make_a_trend(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact]
) -> None:
    _clock, crm = clock_crm
    first = crm.kpis.snapshot(dt.date(2026, 7, 1))
    assert first.contacts == 4 and first.legal_basis_share == 0.0  # none documented
    assert first.quality_score == round(crm.check().score, 4)
    assert sum(first.open_items.values()) == len(crm.worklist(dt.date(2026, 7, 1)))
    crm.contacts.update(attrs.evolve(crm.contacts.get(scenario["alt"].id), legal_basis="contract"))
    second = crm.kpis.snapshot(dt.date(2026, 8, 1))
    assert second.legal_basis_share == 0.25  # 1 of 4
    crm.kpis.snapshot(dt.date(2026, 8, 1))  # the same day again: replaces
    assert [s.day for s in crm.kpis.snapshots()] == [dt.date(2026, 7, 1), dt.date(2026, 8, 1)]
    quality = crm.kpis.report("2026-Q3", today=TODAY).sections["quality"]
    assert quality["snapshots"] == 2 and quality["legal_basis_share"] == 0.25
    assert "quality" not in crm.kpis.report("2026-Q2", today=TODAY).sections


def test_a_period_reaching_past_today_counts_up_to_today(
    clock_crm: tuple[Clock, crmkit.CRM], scenario: dict[str, crmkit.Contact]
) -> None:
    _clock, crm = clock_crm
    # On 2026-08-15 Weg AG is still a customer (it leaves on 2026-09-01): nothing lost yet.
    report = crm.kpis.report("2026-Q3", today=dt.date(2026, 8, 15))
    customers = report.sections["customers"]
    assert (customers["active_at_start"], customers["active_at_end"]) == (2, 3)
    assert (customers["retained"], customers["lost"], customers["churn_rate"]) == (2, 0, 0.0)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"currency": "Euro"}, "currency"),
        ({"silent_months": 0}, "silent_months"),
        ({"silent_months": "12"}, "silent_months"),
        ({"period": "2026-W3"}, "period"),
    ],
)
def test_report_rejects_bad_arguments_naming_them(
    clock_crm: tuple[Clock, crmkit.CRM], kw: dict[str, object], field: str
) -> None:
    _clock, crm = clock_crm
    with pytest.raises(crmkit.ValidationError) as info:
        crm.kpis.report(**kw)  # type: ignore[arg-type]
    assert info.value.findings[0].field == field
    assert crm.kpis.report(currency="eur").sections["customers"]["active_at_end"] == 0
