"""What every importer reports about input it could not use."""

from __future__ import annotations

from typing import Final

import attrs

from crmkit.messages import Lang, render

#: How much of a bad line a problem record keeps.
PROBLEM_TEXT_LIMIT: Final = 200


@attrs.frozen(kw_only=True)
class LineProblem:
    """A line of an import that could not be used, and why.

    ``line`` is 1-based; ``text`` the raw line (at most 200 characters);
    ``code`` a message code such as ``whatsapp.orphan_line``; ``detail`` an
    optional explanation (for instance the parser's reason).
    """

    line: int
    text: str
    code: str
    detail: str = ""

    def message(self, lang: Lang = "en") -> str:
        """The human message in *lang* (``"en"`` or ``"de"``)."""
        return render(self.code, lang, line=self.line, text=self.text, detail=self.detail)


__all__ = ["PROBLEM_TEXT_LIMIT", "LineProblem"]
