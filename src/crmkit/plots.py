"""Small charts for notebooks: leads by source, findings, work items, funnel, retention, quality.

Each function takes what the CRM returns (contacts, ``crm.check()``,
``crm.worklist()``, ``crm.kpis.spells()``, ``crm.kpis.snapshots()``) or any
iterable of the same objects, draws one chart on *ax* (a new figure when
``None``) and returns the matplotlib axes.
matplotlib is the optional ``plot`` extra, imported only when a chart is
drawn; without it a :class:`crmkit.CrmkitError` says
``pip install 'crmkit[plot]'``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

from crmkit import kpis
from crmkit import leads as lead_rules
from crmkit.errors import SEVERITIES, CrmkitError, Finding
from crmkit.messages import Lang, render
from crmkit.model import Contact
from crmkit.worklist import WorkItem

#: Bar colours per severity.
SEVERITY_COLOURS: Final = {"error": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}
_LEAD_STATES: Final = (("open", "#2980b9"), ("won", "#27ae60"), ("lost", "#7f8c8d"))


def _axes(ax: Any, feature: str, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise CrmkitError(code="extra_missing", extra="plot", feature=feature) from exc
    _fig, new = plt.subplots(figsize=size)
    return new


def leads_by_source(contacts: Iterable[Contact], ax: Any = None, *, lang: Lang = "en") -> Any:
    """Stacked bars: per lead source, the open, won and lost leads among *contacts*.

    Pass every contact (``crm.contacts.all(include_archived=True)`` to count
    lost leads too) or ``crm.leads.all(include_closed=True)``; contacts that
    never were leads are left out.
    """
    data = lead_rules.leads_by_source(contacts)
    sources = list(data)
    ax = _axes(ax, "leads_by_source", (8, max(2.0, 0.5 * len(sources) + 1)))
    left = [0] * len(sources)
    for state, colour in _LEAD_STATES:
        values = [data[s][state] for s in sources]
        ax.barh(sources, values, left=left, label=state, color=colour)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_title(render("plot.leads_by_source", lang))
    ax.set_xlabel(render("plot.count", lang))
    ax.legend()
    return ax


def findings_by_severity(findings: Iterable[Finding], ax: Any = None, *, lang: Lang = "en") -> Any:
    """Bars: how many findings of each severity (``crm.check()`` or any findings)."""
    counts = Counter(f.severity for f in findings)
    ax = _axes(ax, "findings_by_severity", (5, 3))
    ax.bar(
        list(SEVERITIES),
        [counts.get(s, 0) for s in SEVERITIES],
        color=[SEVERITY_COLOURS[s] for s in SEVERITIES],
    )
    ax.set_title(render("plot.findings_by_severity", lang))
    ax.set_ylabel(render("plot.count", lang))
    return ax


def worklist_by_kind(items: Iterable[WorkItem], ax: Any = None, *, lang: Lang = "en") -> Any:
    """Stacked bars: per kind of work item, how many of each severity (``crm.worklist()``)."""
    counts: dict[str, Counter[str]] = {}
    for item in items:
        counts.setdefault(item.kind, Counter())[item.severity] += 1
    kinds = sorted(counts, key=lambda k: (-sum(counts[k].values()), k))
    ax = _axes(ax, "worklist_by_kind", (8, max(2.0, 0.4 * len(kinds) + 1)))
    left = [0] * len(kinds)
    for severity in SEVERITIES:
        values = [counts[k].get(severity, 0) for k in kinds]
        ax.barh(kinds, values, left=left, label=severity, color=SEVERITY_COLOURS[severity])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_title(render("plot.worklist_by_kind", lang))
    ax.set_xlabel(render("plot.count", lang))
    ax.legend()
    return ax


def lead_funnel(
    contacts: Iterable[Contact],
    ax: Any = None,
    *,
    period: kpis.Period | str | None = None,
    lang: Lang = "en",
) -> Any:
    """Bars: how many leads reached each stage (:func:`crmkit.kpis.lead_funnel`)."""
    chosen = kpis.Period.parse(period) if isinstance(period, str) else period
    data = kpis.lead_funnel(contacts, chosen)
    ax = _axes(ax, "lead_funnel", (7, 3))
    stages = list(data)
    ax.barh(stages, [data[s] for s in stages], color="#2980b9")
    ax.invert_yaxis()
    title = render("plot.lead_funnel", lang)
    ax.set_title(f"{title} {chosen}" if chosen else title)
    ax.set_xlabel(render("plot.count", lang))
    return ax


def retention(
    spells: Iterable[kpis.Spell],
    periods: Iterable[kpis.Period | str],
    ax: Any = None,
    *,
    lang: Lang = "en",
) -> Any:
    """Bars: the retention rate of each period (:func:`crmkit.kpis.retention`) in percent."""
    chosen = [kpis.Period.parse(p) if isinstance(p, str) else p for p in periods]
    spells = list(spells)
    rates = [kpis.retention(spells, p).rate for p in chosen]
    ax = _axes(ax, "retention", (max(4.0, 0.9 * len(chosen) + 2), 3))
    ax.bar([str(p) for p in chosen], [100 * (r or 0.0) for r in rates], color="#27ae60")
    ax.set_ylim(0, 100)
    ax.set_title(render("plot.retention", lang))
    ax.set_ylabel("%")
    return ax


def quality_trend(
    snapshots: Iterable[kpis.QualitySnapshot], ax: Any = None, *, lang: Lang = "en"
) -> Any:
    """Lines: the quality score and the share with a legal basis per recorded snapshot."""
    snaps = sorted(snapshots, key=lambda s: s.day)
    ax = _axes(ax, "quality_trend", (7, 3))
    days = [s.day for s in snaps]
    ax.plot(days, [100 * s.quality_score for s in snaps], marker="o",
            label=render("plot.quality_score", lang), color="#2980b9")  # fmt: skip
    ax.plot(days, [100 * (s.legal_basis_share or 0.0) for s in snaps], marker="s",
            label=render("plot.legal_basis_share", lang), color="#27ae60")  # fmt: skip
    ax.set_ylim(0, 100)
    ax.set_title(render("plot.quality_trend", lang))
    ax.set_ylabel("%")
    ax.legend()
    return ax


__all__ = [
    "SEVERITY_COLOURS",
    "findings_by_severity",
    "lead_funnel",
    "leads_by_source",
    "quality_trend",
    "retention",
    "worklist_by_kind",
]
