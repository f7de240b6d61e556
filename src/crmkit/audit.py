"""The audit trail: who did what to which entity, when, and what changed.

Records are plain values; the facade writes one for every write it makes and
for every denied attempt or privacy-relevant read.  :func:`diff` computes the
field-level changes between two serialised versions of an entity.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

from crmkit.ids import new_id
from crmkit.model import _convert

Outcome = Literal["ok", "denied"]
OUTCOMES: Final[tuple[str, ...]] = ("ok", "denied")


def _json_value(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@attrs.frozen(kw_only=True)
class FieldChange:
    """One changed field: its name and the old and new values as JSON text."""

    field: str
    old: str | None = None
    new: str | None = None


def _at(value: object) -> dt.datetime:
    result = _convert.utc_datetime("at", value)
    if result is None:
        raise _convert.type_error("at", "datetime", value)
    return result


def _outcome(value: object) -> str:
    if value not in OUTCOMES:
        raise _convert.type_error("outcome", "'ok' or 'denied'", value)
    return str(value)


@attrs.frozen(kw_only=True)
class AuditRecord:
    """One entry of the append-only audit log."""

    id: str = attrs.field(factory=new_id)
    at: dt.datetime = attrs.field(converter=_at)
    actor_id: str
    actor_name: str = ""
    action: str
    resource: str
    entity_id: str | None = None
    outcome: str = attrs.field(default="ok", converter=_outcome)
    reason: str = ""
    changes: tuple[FieldChange, ...] = ()


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[FieldChange, ...]:
    """Field-level changes from *old* to *new* (dicts from :func:`crmkit.serialize.to_dict`).

    ``version`` and ``updated_at`` are bookkeeping and left out.

    >>> [c.field for c in diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4})]
    ['b', 'c']
    """
    skip = {"version", "updated_at"}
    old = old or {}
    new = new or {}
    out: list[FieldChange] = []
    for key in sorted(set(old) | set(new)):
        if key in skip:
            continue
        a, b = old.get(key), new.get(key)
        if a != b:
            out.append(
                FieldChange(
                    field=key,
                    old=None if key not in old else _json_value(a),
                    new=None if key not in new else _json_value(b),
                )
            )
    return tuple(out)


__all__ = ["OUTCOMES", "AuditRecord", "FieldChange", "Outcome", "diff"]
