"""Segments in SQL: one ``SELECT`` over ``contacts`` per segment.

:func:`segment_sql` turns a pushable :class:`crmkit.segments.Segment` into a
``WHERE`` expression on ``contacts c`` — ``json_each`` over the stored JSON
for relationships, tags and addresses, ``EXISTS`` probes into the lookup
tables for e-mail addresses and phones, the correspondence tables for the
last contact — with every value a parameter.  What a segment means is
defined by :meth:`crmkit.segments.Segment.matches`; the contract suite
checks that this agrees.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping
from typing import Any, Final

from crmkit.errors import NotFoundError, ValidationError
from crmkit.segments import Segment

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LAST_CONTACT: Final = (
    "(SELECT max(e.occurred_us) FROM correspondence_contacts cc JOIN correspondence e"
    " ON e.rid = cc.entry_rid WHERE cc.contact_id = c.id)"
)


def _json_list(values: frozenset[str]) -> str:
    return json.dumps(sorted(values), ensure_ascii=False)


def _day_start_us(day: dt.date) -> int:
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def _in_list(path: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM json_each(c.data, '{path}') r"
        " WHERE r.value IN (SELECT value FROM json_each(?)))"
    )


def _address(field: str, test: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM json_each(c.data, '$.addresses') ad"
        f" WHERE {test.format(value=f'json_extract(ad.value, {field!r})')})"
    )


def segment_sql(segment: Segment) -> tuple[str, list[Any]]:
    """The ``WHERE`` expression of a pushable *segment* on ``contacts c`` and its parameters.

    Every clause is true or false, never NULL (``COALESCE``), so that ``NOT``
    in ``none_of`` means what :meth:`~crmkit.segments.Segment.matches` means.
    """
    if not segment.pushable():
        raise ValidationError.single(
            "segment", "value.invalid", value="consent/predicates", reason="not pushable"
        )
    clauses: list[str] = []
    params: list[Any] = []
    s = segment
    if s.kind is not None:
        clauses.append("c.kind = ?")
        params.append(s.kind)
    if s.relationships:
        clauses.append(_in_list("$.relationships"))
        params.append(_json_list(s.relationships))
    if s.tags_all:
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM json_each(?) t WHERE t.value NOT IN"
            " (SELECT value FROM json_each(c.data, '$.tags')))"
        )
        params.append(_json_list(s.tags_all))
    if s.tags_any:
        clauses.append(_in_list("$.tags"))
        params.append(_json_list(s.tags_any))
    if s.tags_none:
        clauses.append(f"NOT {_in_list('$.tags')}")
        params.append(_json_list(s.tags_none))
    for path, values in (("$.lead.source", s.lead_sources), ("$.lead.status", s.lead_statuses)):
        if values:
            clauses.append(
                f"COALESCE(json_extract(c.data, '{path}') IN (SELECT value FROM json_each(?)), 0)"
            )
            params.append(_json_list(values))
    if s.owner is not None:
        clauses.append("COALESCE(c.owner = ?, 0)")  # no owner: false, not NULL
        params.append(s.owner)
    if s.city is not None:
        clauses.append(_address("$.city", "{value} = ?"))
        params.append(s.city)
    if s.postal_code_prefix is not None:
        clauses.append(_address("$.postal_code", "substr({value}, 1, length(?)) = ?"))
        params.extend([s.postal_code_prefix, s.postal_code_prefix])
    if s.country is not None:
        clauses.append(_address("$.country", "{value} = ?"))
        params.append(s.country)
    for key, start, end in (
        ("created_at", s.created_from, s.created_to),
        ("updated_at", s.changed_from, s.changed_to),
    ):
        day = f"substr(json_extract(c.data, '$.{key}'), 1, 10)"
        if start is not None:
            clauses.append(f"COALESCE({day} >= ?, 0)")
            params.append(start.isoformat())
        if end is not None:
            clauses.append(f"COALESCE({day} <= ?, 0)")
            params.append(end.isoformat())
    if s.last_contact_from is not None or s.last_contact_to is not None:
        clauses.append(f"{_LAST_CONTACT} IS NOT NULL")
        if s.last_contact_from is not None:
            clauses.append(f"{_LAST_CONTACT} >= ?")
            params.append(_day_start_us(s.last_contact_from))
        if s.last_contact_to is not None and s.last_contact_to < dt.date.max:
            clauses.append(f"{_LAST_CONTACT} < ?")
            params.append(_day_start_us(s.last_contact_to + dt.timedelta(days=1)))
    for table, wanted in (("contact_emails", s.has_email), ("contact_phones", s.has_phone)):
        if wanted is not None:
            probe = f"EXISTS (SELECT 1 FROM {table} x WHERE x.contact_rid = c.rid)"
            clauses.append(probe if wanted else f"NOT {probe}")
    for child in s.all_of:
        sql, more = segment_sql(child)
        clauses.append(f"({sql})")
        params.extend(more)
    if s.any_of:
        parts = [segment_sql(child) for child in s.any_of]
        clauses.append("(" + " OR ".join(f"({p[0]})" for p in parts) + ")")
        params.extend(v for p in parts for v in p[1])
    if s.none_of:
        parts = [segment_sql(child) for child in s.none_of]
        clauses.append("NOT (" + " OR ".join(f"({p[0]})" for p in parts) + ")")
        params.extend(v for p in parts for v in p[1])
    return " AND ".join(clauses) or "1", params


def segment_ids(
    conn: sqlite3.Connection,
    segment: Segment,
    include_archived: bool,
    scope: tuple[str, tuple[str, ...]],
) -> list[str]:
    """The ids of the contacts in *segment*, by number; *scope* is the store's clause."""
    where, params = segment_sql(segment)
    archived = "" if include_archived else " AND c.archived = 0"
    scope_sql = scope[0].replace("contacts.", "c.")
    sql = (
        f"SELECT c.id FROM contacts c WHERE ({where}){archived}{scope_sql}"
        " ORDER BY length(c.number), c.number"
    )
    return [row[0] for row in conn.execute(sql, [*params, *scope[1]])]


# -- records (schema version 12) ------------------------------------------------------------
def create_record_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 12: JSON records by kind and key."""
    conn.execute(
        """CREATE TABLE records (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID"""
    )


def put_record(conn: sqlite3.Connection, kind: str, key: str, data: Mapping[str, Any]) -> None:
    """Insert or replace a record."""
    text = json.dumps(dict(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    conn.execute(
        "INSERT INTO records (kind, key, data) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
        (kind, key, text),
    )


def get_record(conn: sqlite3.Connection, kind: str, key: str) -> dict[str, Any]:
    """The record's data; :class:`crmkit.NotFoundError` if there is none."""
    row = conn.execute(
        "SELECT data FROM records WHERE kind = ? AND key = ?", (kind, key)
    ).fetchone()
    if row is None:
        raise NotFoundError(kind=kind, key=key)
    found: dict[str, Any] = json.loads(row[0])
    return found


def iter_records(conn: sqlite3.Connection, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every ``(key, data)`` of *kind*, by key."""
    rows = conn.execute("SELECT key, data FROM records WHERE kind = ? ORDER BY key", (kind,))
    return [(k, json.loads(d)) for k, d in rows.fetchall()]


def delete_record(conn: sqlite3.Connection, kind: str, key: str) -> None:
    """Remove a record; :class:`crmkit.NotFoundError` if absent."""
    done = conn.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))
    if done.rowcount == 0:
        raise NotFoundError(kind=kind, key=key)


__all__ = [
    "create_record_table",
    "delete_record",
    "get_record",
    "iter_records",
    "put_record",
    "segment_ids",
    "segment_sql",
]
