"""Clusters from scored pairs, without chaining through one weak link.

Plain connected components turn A–B, B–C, C–D … into one cluster as soon as
one bad link joins two groups.  Here clusters grow greedily along the
"match" pairs, strongest first, and two clusters join only when the average
probability over *all* pairs between them (a pair that was never scored
counts as 0) reaches ``linkage``.  So two single records always join on a
match; a record joins a pair of duplicates when it matches one of them
strongly; two pairs joined by a single link stay apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def clusters(
    ids: Sequence[str],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    prob: npt.NDArray[np.float64],
    is_match: npt.NDArray[np.bool_],
    linkage: float,
) -> tuple[tuple[str, ...], ...]:
    """Clusters (tuples of ids, each sorted; largest cluster first) of at least two rows.

    *left*, *right*, *prob* are all thresholded pairs (match and review);
    only the match pairs join clusters, the others count as evidence.
    """
    adjacency: dict[int, dict[int, float]] = {}
    for a, b, p in zip(left.tolist(), right.tolist(), prob.tolist(), strict=True):
        adjacency.setdefault(a, {})[b] = p
        adjacency.setdefault(b, {})[a] = p
    edges = [
        (-p, *sorted((ids[a], ids[b])), a, b)
        for a, b, p, m in zip(
            left.tolist(), right.tolist(), prob.tolist(), is_match.tolist(), strict=True
        )
        if m
    ]
    edges.sort()
    owner: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    for _neg, _ia, _ib, a, b in edges:
        ca = owner.setdefault(a, a)
        cb = owner.setdefault(b, b)
        if ca == cb:
            continue
        ma = members.setdefault(ca, [a])
        mb = members.setdefault(cb, [b])
        if len(ma) + len(mb) > 2:
            small, big_id = (ma, cb) if len(ma) <= len(mb) else (mb, ca)
            support = sum(
                q for x in small for y, q in adjacency.get(x, {}).items() if owner.get(y) == big_id
            )
            if support / (len(ma) * len(mb)) < linkage:
                continue
        keep, drop = (ca, cb) if len(ma) >= len(mb) else (cb, ca)
        for x in members[drop]:
            owner[x] = keep
        members[keep].extend(members.pop(drop))
    groups = [tuple(sorted(ids[x] for x in m)) for m in members.values() if len(m) > 1]
    groups.sort(key=lambda g: (-len(g), g))
    return tuple(groups)
