"""What every import report shows the same way: as text and in Jupyter."""

from __future__ import annotations

from html import escape

from crmkit.messages import Lang


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


__all__ = ["LinesReport"]
