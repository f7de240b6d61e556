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
from crmkit.plots import findings_by_severity, leads_by_source, worklist_by_kind
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
