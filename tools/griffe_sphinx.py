"""A griffe extension for the docs site: crmkit's reST-ish docstrings as Markdown.

crmkit's docstrings are written for ``help()`` and Sphinx-style readers:
``:class:`Store``` roles, ``>>>`` doctest examples and ``::`` literal blocks.
mkdocstrings renders docstrings as Markdown, where a doctest's output line
``['b', 'c']`` would be read as a reference link (a strict-mode warning) and
roles would show as raw text.  This extension rewrites each docstring before
it is rendered; the source stays as it is.  Loaded from ``mkdocs.yml``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE_RE = re.compile(
    r"(?<![\w`]):(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`~?([^`]+)`"
)


def _role(match: re.Match[str]) -> str:
    target = match.group(1)
    short = match.group(0).split("`", 1)[1].startswith("~")
    if short:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def to_markdown(text: str) -> str:
    """Doctests into fenced ``pycon`` blocks, ``::`` into ``:``, roles into code.

    >>> to_markdown("See :class:`~crmkit.store.Store`.")
    'See `Store`.'
    """
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            while i < len(lines) and lines[i].strip():
                out.append(lines[i])
                i += 1
            out.append(f"{indent}```")
            continue
        if line.rstrip().endswith("::"):
            line = line.rstrip()[:-1].rstrip(":") + ":" if line.strip() != "::" else ""
        out.append(ROLE_RE.sub(_role, line))
        i += 1
    return "\n".join(out)


class SphinxToMarkdown(griffe.Extension):
    """Rewrite every docstring with :func:`to_markdown` once the tree is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the docstring of *obj*, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
