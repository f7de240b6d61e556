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


FIELD_RE = re.compile(r":(?:param|type|returns?|rtype|raises?|var|ivar|yields?)\b")


def fields_last(text: str) -> str:
    r"""Move paragraphs that follow the ``:param:`` field list in front of it.

    crmkit's docstrings often close with a paragraph after the fields ("Runs
    after the transaction committed.").  The sphinx parser would read it as
    part of the last field; in front of the fields it stays a paragraph.

    >>> fields_last(":param x: the x.\n\nRuns once.")
    'Runs once.\n\n:param x: the x.'
    """
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if FIELD_RE.match(line)), None)
    if first is None:
        return text
    for i in range(first + 1, len(lines)):
        line = lines[i]
        after_blank = not lines[i - 1].strip()
        if line.strip() and after_blank and not line[0].isspace() and not FIELD_RE.match(line):
            head = lines[:first]
            if head and head[-1].strip():
                head.append("")
            return "\n".join([*head, *lines[i:], "", *lines[first:i]]).rstrip()
    return text


def to_markdown(text: str) -> str:
    """Doctests into fenced ``pycon`` blocks, ``::`` into ``:``, roles into code.

    >>> to_markdown("See :class:`~crmkit.store.Store`.")
    'See `Store`.'
    """
    out: list[str] = []
    lines = fields_last(text).splitlines()
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

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """The top-level package: griffe fires ``on_object`` for its members only."""
        self.on_object(obj=pkg)
