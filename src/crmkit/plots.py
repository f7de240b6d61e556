"""Small charts for notebooks: leads by source, findings by severity, work items by kind.

Each function takes what the CRM returns (contacts, ``crm.check()``,
``crm.worklist()``) or any iterable of the same objects, draws one bar chart
on *ax* (a new figure when ``None``) and returns the matplotlib axes.
matplotlib is the optional ``plot`` extra, imported only when a chart is
drawn; without it a :class:`crmkit.CrmkitError` says
``pip install 'crmkit[plot]'``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

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


__all__ = ["SEVERITY_COLOURS", "findings_by_severity", "leads_by_source", "worklist_by_kind"]
