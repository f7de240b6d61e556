"""The worklist (cockpit): single findings turned into a planned work queue.

A :class:`WorkItem` says what kind of case it is, how urgent (severity and
due day), which contact and owner it concerns, why (a message code with its
values) and what to do.  Items come from *sources* — functions the facade
calls with the day and the policy; the built-in ones cover leads,
customers, roles, unlinked persons, contacts without e-mail, bounces,
follow-ups and the monthly quality sample, and plugins add more (duplicates,
consent, retention …) through the ``crmkit_register_worklist_sources`` hook
without touching this module.  :class:`Worklist` sorts them by urgency and
renders them in a terminal, in Jupyter, as rows, CSV-ready dicts or a
pandas frame.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from html import escape
from typing import Any, Final, overload

import attrs

from crmkit.errors import SEVERITIES, Severity
from crmkit.messages import Lang, render
from crmkit.summary import ContactSummary

_RANK: Final = {s: i for i, s in enumerate(SEVERITIES)}
_FAR: Final = dt.date.max


def _params(value: object) -> tuple[tuple[str, Any], ...]:
    if not value:
        return ()
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return tuple(value)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class WorkItem:
    """One case on the worklist.

    ``kind`` is a stable code (``lead.qualify``, ``follow_up.overdue`` …) and
    also the message code of the reason; ``params`` are the values the
    message names; ``action`` the message code of the suggested action;
    ``ref`` the id of the entry, bounce or other record behind the item.
    """

    kind: str
    severity: Severity
    due: dt.date | None = None
    contact_id: str | None = None
    contact_number: str = ""
    contact_name: str = ""
    owner: str | None = None
    params: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_params)
    action: str | None = None
    source: str = ""
    ref: str | None = None

    def reason(self, lang: Lang = "en") -> str:
        """Why this is on the list, in *lang*."""
        return render(self.kind, lang, name=self.contact_name, **dict(self.params))

    def suggestion(self, lang: Lang = "en") -> str:
        """What to do, in *lang* (``""`` when the source suggests nothing)."""
        if self.action is None:
            return ""
        return render(self.action, lang, name=self.contact_name, **dict(self.params))

    def urgency(self, today: dt.date) -> tuple[int, int, dt.date, str, str]:
        """Sort key: overdue first, then by severity, due day, kind and contact number."""
        overdue = 0 if self.due is not None and self.due < today else 1
        return (overdue, _RANK[self.severity], self.due or _FAR, self.kind, self.contact_number)

    def as_row(self, lang: Lang = "en") -> dict[str, Any]:
        """A flat dict for CSV, JSON and data frames."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "due": self.due.isoformat() if self.due else None,
            "contact_id": self.contact_id,
            "contact_number": self.contact_number,
            "contact_name": self.contact_name,
            "owner": self.owner,
            "reason": self.reason(lang),
            "action": self.suggestion(lang),
            "source": self.source,
            "ref": self.ref,
        }


def item_for(
    summary: ContactSummary,
    kind: str,
    severity: Severity,
    *,
    due: dt.date | None = None,
    action: str | None = None,
    source: str = "",
    ref: str | None = None,
    **params: Any,
) -> WorkItem:
    """A work item about the contact *summary* describes."""
    return WorkItem(
        kind=kind,
        severity=severity,
        due=due,
        contact_id=summary.id,
        contact_number=summary.number,
        contact_name=summary.name,
        owner=summary.owner,
        params=params,
        action=action,
        source=source,
        ref=ref,
    )


class Worklist(Sequence[WorkItem]):
    """Work items, most urgent first, as of one day."""

    __slots__ = ("_items", "today")

    def __init__(self, items: Iterable[WorkItem], today: dt.date) -> None:
        self.today = today
        self._items = tuple(sorted(items, key=lambda i: i.urgency(today)))

    @overload
    def __getitem__(self, index: int) -> WorkItem: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[WorkItem]: ...
    def __getitem__(self, index: int | slice) -> WorkItem | Sequence[WorkItem]:
        if isinstance(index, slice):
            return self._items[index]
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[WorkItem]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"<Worklist {self.today.isoformat()}: {len(self)} items>"

    def of_kind(self, *kinds: str) -> list[WorkItem]:
        """The items of these kinds (prefixes such as ``"lead."`` work too)."""
        return [i for i in self._items if any(i.kind == k or i.kind.startswith(k) for k in kinds)]

    def counts(self) -> dict[str, int]:
        """How many items of each kind."""
        return dict(Counter(i.kind for i in self._items))

    def overdue(self) -> list[WorkItem]:
        """Items whose due day has passed."""
        return [i for i in self._items if i.due is not None and i.due < self.today]

    def rows(self, lang: Lang = "en") -> list[dict[str, Any]]:
        """Every item as a flat dict (:meth:`WorkItem.as_row`)."""
        return [i.as_row(lang) for i in self._items]

    def to_pandas(self, lang: Lang = "en") -> Any:
        """A :class:`pandas.DataFrame` of :meth:`rows` (needs the ``pandas`` extra)."""
        from crmkit.frames import to_pandas

        return to_pandas(self, lang)

    def age_by_kind(self) -> dict[str, dict[str, int]]:
        """Open items by kind and age bucket of their due day (for a chart)."""
        buckets: dict[str, dict[str, int]] = {}
        for item in self._items:
            days = (self.today - item.due).days if item.due else None
            if days is None or days < 0:
                bucket = "not due"
            elif days <= 7:
                bucket = "≤ 7 days"
            elif days <= 30:
                bucket = "≤ 30 days"
            else:
                bucket = "> 30 days"
            buckets.setdefault(item.kind, {}).setdefault(bucket, 0)
            buckets[item.kind][bucket] += 1
        return buckets

    def plot(self) -> Any:
        """A bar chart of open items by kind and age (needs the ``plot`` extra: matplotlib)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from crmkit.errors import CrmkitError

            raise CrmkitError(code="extra_missing", extra="plot", feature="plot") from exc
        data = self.age_by_kind()
        kinds = sorted(data)
        order = ["not due", "≤ 7 days", "≤ 30 days", "> 30 days"]
        fig, ax = plt.subplots(figsize=(8, max(2.0, 0.4 * len(kinds))))
        left = [0] * len(kinds)
        for bucket in order:
            values = [data[k].get(bucket, 0) for k in kinds]
            ax.barh(kinds, values, left=left, label=bucket)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_xlabel("items")
        ax.legend()
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th>{h}</th>"
            for h in ("due", "severity", "kind", "contact", "owner", "reason", "action")
        )
        rows = []
        for item in self._items[:500]:
            overdue = item.due is not None and item.due < self.today
            style = ' style="color:#b00"' if overdue else ""
            cells = (
                item.due.isoformat() if item.due else "",
                item.severity,
                item.kind,
                f"{item.contact_number} {item.contact_name}".strip(),
                item.owner or "",
                item.reason(),
                item.suggestion(),
            )
            rows.append(
                f"<tr{style}>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>"
            )
        more = f"<p>… {len(self) - 500} more</p>" if len(self) > 500 else ""
        caption = f"<caption>{escape(repr(self))}</caption>"
        body = "".join(rows)
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


__all__ = ["WorkItem", "Worklist", "item_for"]
