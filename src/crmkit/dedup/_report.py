"""The result of duplicate detection: explained pairs, clusters, capped keys."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import attrs
import numpy as np
import numpy.typing as npt

from crmkit.dedup._blocking import CappedKey
from crmkit.errors import CrmkitError
from crmkit.messages import Lang, render

Verdict = Literal["match", "review"]


@attrs.frozen(kw_only=True)
class FieldEvidence:
    """How one field of a pair compared and what it contributed (bits).

    ``level`` is ``"exact"``, ``"close"``, ``"different"``, ``"missing"`` …;
    ``weight`` is positive for evidence of a duplicate, negative against.
    """

    field: str
    level: str
    weight: float
    left: str
    right: str

    @property
    def agrees(self) -> bool:
        """True when this field speaks for a duplicate."""
        return self.weight > 0


@attrs.frozen(kw_only=True)
class Explanation:
    """Why a pair scored as it did: ``prior + sum(f.weight for f in fields) == score``
    (up to floating-point rounding).

    ``keys`` names the blocking keys that found the pair; ``swapped_names``
    says the first and last names agree crosswise.
    """

    prior: float
    fields: tuple[FieldEvidence, ...]
    keys: tuple[str, ...]
    swapped_names: bool = False

    @property
    def agreeing(self) -> tuple[str, ...]:
        """Fields that speak for a duplicate."""
        return tuple(f.field for f in self.fields if f.weight > 0)

    @property
    def disagreeing(self) -> tuple[str, ...]:
        """Fields that speak against it."""
        return tuple(f.field for f in self.fields if f.weight < 0)

    @property
    def missing(self) -> tuple[str, ...]:
        """Fields empty on at least one side."""
        return tuple(f.field for f in self.fields if f.level == "missing")

    def text(self, lang: Lang = "en") -> str:
        """One line per field, strongest first, in *lang*."""
        rows = sorted(self.fields, key=lambda f: -abs(f.weight))
        return "\n".join(
            render("dedup.explain", lang, field=f.field, level=f.level, weight=f.weight)
            for f in rows
            if f.level != "missing"
        )


@attrs.frozen(kw_only=True)
class DuplicatePair:
    """Two contacts that may be the same, with score (bits), probability and verdict."""

    left_id: str
    right_id: str
    kind: str
    score: float
    probability: float
    verdict: Verdict
    explanation: Explanation
    left_label: str = ""
    right_label: str = ""

    @property
    def ids(self) -> frozenset[str]:
        """Both ids, unordered."""
        return frozenset((self.left_id, self.right_id))

    def _repr_html_(self) -> str:
        return _pair_html(self)


@attrs.frozen(kw_only=True)
class PairColumns:
    """The thresholded pairs as arrays (for analysis without one object per pair).

    ``left``/``right`` are row numbers of the input (in input order),
    ``match`` is True for the verdict ``"match"``.
    """

    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    score: npt.NDArray[np.float64]
    match: npt.NDArray[np.bool_]


class PairList(Sequence[DuplicatePair]):
    """The report's pairs, best first, built one at a time on access."""

    def __init__(self, columns: PairColumns, make: Any) -> None:
        self._columns = columns
        self._make = make

    def __len__(self) -> int:
        return len(self._columns.left)

    @overload
    def __getitem__(self, index: int) -> DuplicatePair: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[DuplicatePair]: ...

    def __getitem__(self, index: int | slice) -> DuplicatePair | Sequence[DuplicatePair]:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        pair: DuplicatePair = self._make(index)
        return pair

    def __iter__(self) -> Iterator[DuplicatePair]:
        for i in range(len(self)):
            yield self._make(i)

    def columns(self) -> PairColumns:
        """The same pairs as arrays of row numbers, scores and verdicts."""
        return self._columns

    def __repr__(self) -> str:
        return f"<{len(self)} duplicate pairs>"


@attrs.frozen(kw_only=True)
class DuplicateReport:
    """What :func:`crmkit.dedup.find_duplicates` found.

    * ``pairs`` — pairs scoring at least the review threshold, best first;
    * ``clusters`` — groups of ids that are one contact (from "match" pairs,
      without chaining unrelated records through one link), largest first;
    * ``capped`` — blocking keys shared by too many contacts to be used alone;
    * ``candidates`` — how many pairs were compared; ``histogram`` the counts
      of all compared pairs' scores over ``bin_edges`` (bits).
    """

    pairs: Sequence[DuplicatePair]
    clusters: tuple[tuple[str, ...], ...]
    capped: tuple[CappedKey, ...]
    contacts: int
    candidates: int
    match_threshold: float
    review_threshold: float
    match_score: float
    review_score: float
    histogram: tuple[int, ...]
    bin_edges: tuple[float, ...]
    weights: Mapping[str, Mapping[str, tuple[float, ...]]]
    priors: Mapping[str, float]
    estimated: bool = False

    @property
    def matches(self) -> tuple[DuplicatePair, ...]:
        """Pairs with the verdict ``"match"`` (they come first: pairs are sorted by score)."""
        return tuple(p for p in self.pairs if p.verdict == "match")

    @property
    def reviews(self) -> tuple[DuplicatePair, ...]:
        """Pairs with the verdict ``"review"`` (the review queue)."""
        return tuple(p for p in self.pairs if p.verdict == "review")

    def _columns(self) -> PairColumns:
        assert isinstance(self.pairs, PairList)
        return self.pairs.columns()

    def columns(self) -> PairColumns:
        """The pairs as arrays (row numbers in input order, scores, match flags)."""
        if isinstance(self.pairs, PairList):
            return self.pairs.columns()
        raise TypeError("this report was not made by find_duplicates")  # pragma: no cover

    def summary(self, lang: Lang = "en") -> str:
        """One sentence: how many contacts, pairs, duplicates, reviews and clusters."""
        if isinstance(self.pairs, PairList):
            matches = int(self.pairs.columns().match.sum())
        else:
            matches = sum(p.verdict == "match" for p in self.pairs)
        return render(
            "dedup.summary",
            lang,
            contacts=self.contacts,
            candidates=self.candidates,
            matches=matches,
            reviews=len(self.pairs) - matches,
            clusters=len(self.clusters),
        )

    def capped_messages(self, lang: Lang = "en") -> list[str]:
        """One message per capped key, in *lang*."""
        return [
            render("dedup.capped", lang, key=c.kind, value=c.value, count=c.count, cap=c.cap)
            for c in self.capped
        ]

    def rows(self, lang: Lang = "en") -> list[dict[str, Any]]:
        """One flat dict per pair (verdict, score, both sides, the explanation in *lang*)."""
        from crmkit.frames import rows

        return rows(self, lang)

    def to_pandas(self, lang: Lang = "en") -> Any:
        """A :class:`pandas.DataFrame` of :meth:`rows` (needs the ``pandas`` extra)."""
        from crmkit.frames import to_pandas

        return to_pandas(self, lang)

    def _repr_html_(self, limit: int = 30) -> str:
        """Pairs side by side, agreeing fields highlighted (for Jupyter)."""
        esc = html.escape
        out = [f"<p>{esc(self.summary())}</p>"]
        if self.capped:
            items = "".join(f"<li>{esc(m)}</li>" for m in self.capped_messages()[:10])
            out.append(f"<ul>{items}</ul>")
        for pair in self.pairs[:limit]:
            out.append(_pair_html(pair))
        if len(self.pairs) > limit:
            out.append(f"<p>… {len(self.pairs) - limit} more</p>")
        return "\n".join(out)

    def plot(self, ax: Any = None) -> Any:
        """A histogram of all compared pairs' scores with both thresholds.

        Needs matplotlib (``pip install 'crmkit[plot]'``); returns the axes.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise CrmkitError(code="dedup.plot_unavailable") from exc
        if ax is None:
            _fig, ax = plt.subplots(figsize=(8, 3))
        edges = np.asarray(self.bin_edges)
        ax.bar(edges[:-1], self.histogram, width=np.diff(edges), align="edge", log=True)
        ax.axvline(self.review_score, color="orange", label="review")
        ax.axvline(self.match_score, color="green", label="match")
        ax.set_xlabel("score (bits)")
        ax.set_ylabel("pairs")
        ax.legend()
        return ax


def _pair_html(pair: DuplicatePair) -> str:
    esc = html.escape
    verdict = render(f"dedup.verdict.{pair.verdict}")
    head = (
        f"<tr><th colspan='4' style='text-align:left'>{esc(pair.left_label)} ↔ "
        f"{esc(pair.right_label)} — {esc(verdict)}, score {pair.score:+.1f} "
        f"(p={pair.probability:.3f}); keys: {esc(', '.join(pair.explanation.keys))}</th></tr>"
    )
    rows = []
    for f in pair.explanation.fields:
        colour = "#d4f7d4" if f.weight > 0 else ("#f7d4d4" if f.weight < 0 else "transparent")
        rows.append(
            f"<tr style='background:{colour}'><td>{esc(f.field)}</td><td>{esc(f.left)}</td>"
            f"<td>{esc(f.right)}</td><td>{esc(f.level)} {f.weight:+.1f}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"
