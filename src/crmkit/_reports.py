"""What every report and result list shows the same way: as text and in Jupyter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from crmkit.messages import Lang

#: Rows an HTML table shows; the rest are counted below it.
HTML_ROWS = 500


class LinesReport:
    """Mixin for reports with ``lines(lang)``: the first line a summary, then one per item."""

    __slots__ = ()

    def lines(self, lang: Lang = "en") -> list[str]:  # pragma: no cover - overridden
        """The summary, then one line per item."""
        raise NotImplementedError

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        first, *rest = self.lines()
        items = "".join(f"<li>{escape(line)}</li>" for line in rest)
        return f"<p><b>{escape(first)}</b></p>" + (f"<ul>{items}</ul>" if items else "")


def cell_text(value: object) -> str:
    """A cell as text: ``""`` for ``None``, sets sorted and joined, dates in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, (set, frozenset)):
        return ", ".join(sorted(str(v) for v in value))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str = "",
    limit: int = HTML_ROWS,
) -> str:
    """A compact HTML table; every header, cell and the caption escaped.

    Shows at most *limit* rows and says how many more there are.
    """
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body: list[str] = []
    more = 0
    for row in rows:
        if len(body) >= limit:
            more += 1
            continue
        cells = "".join(f'<td style="text-align:left">{escape(cell_text(v))}</td>' for v in row)
        body.append(f"<tr>{cells}</tr>")
    title = f"<caption>{escape(caption)}</caption>" if caption else ""
    tail = f"<p>… {more} more</p>" if more else ""
    return (
        f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{tail}"
    )


def html_fields(title: str, fields: Iterable[tuple[str, object]]) -> str:
    """A two-column card (field, value) under a bold *title*; empty values left out, all escaped."""
    rows = "".join(
        f'<tr><th style="text-align:left">{escape(name)}</th>'
        f'<td style="text-align:left;white-space:pre-wrap">{escape(text)}</td></tr>'
        for name, value in fields
        if (text := cell_text(value))
    )
    return f"<table><caption><b>{escape(title)}</b></caption><tbody>{rows}</tbody></table>"


__all__ = ["HTML_ROWS", "LinesReport", "cell_text", "html_fields", "html_table"]
