"""The chart helpers of :mod:`crmkit.plots` (matplotlib on the Agg backend)."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import pytest

import crmkit
from crmkit import Company, CrmkitError, Finding, Person
from crmkit.kpis import Period, QualitySnapshot, Spell
from crmkit.plots import (
    findings_by_severity,
    lead_funnel,
    leads_by_source,
    quality_trend,
    retention,
    worklist_by_kind,
)
from crmkit.worklist import WorkItem

matplotlib.use("Agg")

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _widths(ax: object) -> list[float]:
    return [patch.get_width() for patch in ax.patches]  # type: ignore[attr-defined]


def _heights(ax: object) -> list[float]:
    return [patch.get_height() for patch in ax.patches]  # type: ignore[attr-defined]


def test_leads_by_source_stacks_open_won_and_lost() -> None:
    with crmkit.open("memory://", clock=lambda: NOW, load_entry_points=False) as crm:
        a = crm.leads.create(Company(name="Neu GmbH"), source="Messe")
        crm.leads.create(Company(name="Alt GmbH"), source="Messe")
        crm.leads.create(Person(last_name="Web"), source="Website")
        crm.leads.convert(a)
        ax = leads_by_source(crm.contacts.all(include_archived=True), lang="de")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Messe", "Website"]
    # open, won, lost per source: Messe 1/1/0, Website 1/0/0
    assert _widths(ax) == [1, 1, 1, 0, 0, 0]
    assert ax.get_title() == "Leads nach Quelle"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["open", "won", "lost"]


def test_findings_by_severity_counts_each_severity() -> None:
    findings = [
        Finding(field="emails", code="email.invalid", severity="error"),
        Finding(field="phones", code="phone.unassigned", severity="warning"),
        Finding(field="phones", code="phone.unassigned", severity="warning"),
    ]
    _fig, ax = plt.subplots()
    assert findings_by_severity(findings, ax) is ax
    assert _heights(ax) == [1, 2, 0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["error", "warning", "info"]
    assert ax.get_title() == "Findings by severity"


def test_worklist_by_kind_most_frequent_first() -> None:
    items = [
        WorkItem(kind="lead.qualify", severity="warning"),
        WorkItem(kind="gap.no_email", severity="info"),
        WorkItem(kind="gap.no_email", severity="warning"),
    ]
    ax = worklist_by_kind(items)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["gap.no_email", "lead.qualify"]
    # error, warning, info per kind
    assert _widths(ax) == [0, 0, 1, 1, 1, 0]


def test_worklist_by_kind_takes_a_worklist() -> None:
    with crmkit.open("memory://", clock=lambda: NOW, load_entry_points=False) as crm:
        crm.contacts.add(Person(last_name="Ohne Mail"))
        work = crm.worklist(dt.date(2026, 11, 23))
        ax = worklist_by_kind(work)
    assert sum(_widths(ax)) == len(work) > 0


def test_without_matplotlib_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    for draw in (leads_by_source, findings_by_severity, worklist_by_kind):
        with pytest.raises(CrmkitError) as info:
            draw([])
        assert info.value.code == "extra_missing"
        assert "pip install 'crmkit[plot]'" in info.value.message("de")


def test_lead_funnel_bars() -> None:
    lead = crmkit.LeadInfo
    contacts = [
        Person(first_name="A", last_name="X", lead=lead(status="won", since=dt.date(2026, 7, 1))),
        Person(first_name="B", last_name="X", lead=lead(status="new", since=dt.date(2026, 7, 2))),
        Person(first_name="C", last_name="X", lead=lead(status="new", since=dt.date(2026, 1, 2))),
    ]
    ax = lead_funnel(contacts, period="2026-Q3", lang="de")
    assert _widths(ax) == [2, 1, 1, 1, 1]  # new, contacted, qualified, proposal, won
    assert ax.get_title() == "Lead-Trichter 2026-Q3"


def test_retention_bars_in_percent() -> None:
    spells = [Spell("a", dt.date(2025, 1, 1)), Spell("b", dt.date(2025, 1, 1), dt.date(2026, 5, 1))]
    ax = retention(spells, ["2026-Q1", Period.parse("2026-Q2"), "2026-Q3"])
    # Q1: a, b both stay (100 %); Q2: b leaves (50 %); Q3: a stays (100 %)
    assert _heights(ax) == [100.0, 50.0, 100.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-Q1", "2026-Q2", "2026-Q3"]


def test_quality_trend_lines() -> None:
    snaps = [
        QualitySnapshot(day=dt.date(2026, 8, 1), contacts=4, quality_score=0.75,
                        legal_basis_share=0.5),
        QualitySnapshot(day=dt.date(2026, 7, 1), contacts=4, quality_score=0.5,
                        legal_basis_share=None),
    ]  # fmt: skip
    ax = quality_trend(snaps, lang="de")
    score, basis = ax.get_lines()
    assert list(score.get_ydata()) == [50.0, 75.0]  # sorted by day
    assert list(basis.get_ydata()) == [0.0, 50.0]
    assert ax.get_title() == "Datenqualität im Verlauf"
