"""Segments in SQL and the records table (schema version 3).

:func:`segment_sql` turns a pushable :class:`crmkit.segments.Segment` into a
``WHERE`` expression on ``contacts c``: the ``jsonb`` operators ``?|`` and
``?&`` for relationships and tags, containment (``@>``) and
``jsonb_array_elements`` for addresses, ``EXISTS`` probes into the e-mail
and phone key tables, and the correspondence tables for the last contact.
The statement text is built only from fixed fragments; every value is a
``%s`` parameter.  What a segment means is defined by
:meth:`crmkit.segments.Segment.matches`; the contract suite checks that this
agrees (as it does for :mod:`crmkit_sqlite.segments`, the model for this one).

Records (saved segments, campaign lists, revenue, snapshots) are kept as
JSON text by kind and key, exactly as written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Final

import psycopg
from psycopg.rows import TupleRow

from crmkit.errors import NotFoundError, ValidationError
from crmkit.segments import Segment

Conn = psycopg.Connection[TupleRow]

_LAST_CONTACT: Final = (
    "(SELECT max(e.occurred_at) FROM correspondence_contacts cc JOIN correspondence e"
    " ON e.rid = cc.entry_rid WHERE cc.contact_id = c.id)"
)
_ADDRESSES: Final = (
    "jsonb_array_elements(CASE WHEN jsonb_typeof(c.data -> 'addresses') = 'array'"
    " THEN c.data -> 'addresses' ELSE '[]'::jsonb END)"
)

#: The DDL of schema version 3 (see :mod:`crmkit_postgres.schema`).
RECORDS_DDL: Final[tuple[str, ...]] = (
    """CREATE TABLE records (
        kind text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (kind, key)
    )""",
)


def _values(values: frozenset[str]) -> list[str]:
    return sorted(values)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _json_has_any(path: str) -> str:
    # ``?|``: any of the strings is an element of the array (NULL without the key).
    return f"COALESCE((c.data -> '{path}') ?| %s::text[], false)"


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
        clauses.append("c.kind = %s")
        params.append(s.kind)
    if s.relationships:
        clauses.append(_json_has_any("relationships"))
        params.append(_values(s.relationships))
    if s.tags_all:
        clauses.append("COALESCE((c.data -> 'tags') ?& %s::text[], false)")
        params.append(_values(s.tags_all))
    if s.tags_any:
        clauses.append(_json_has_any("tags"))
        params.append(_values(s.tags_any))
    if s.tags_none:
        clauses.append(f"NOT {_json_has_any('tags')}")
        params.append(_values(s.tags_none))
    for key, values in (("source", s.lead_sources), ("status", s.lead_statuses)):
        if values:
            clauses.append(f"COALESCE((c.data -> 'lead' ->> '{key}') = ANY(%s::text[]), false)")
            params.append(_values(values))
    if s.owner is not None:
        clauses.append("COALESCE(c.owner = %s, false)")
        params.append(s.owner)
    for key, value in (("city", s.city), ("country", s.country)):
        if value is not None:
            clauses.append(f"EXISTS (SELECT 1 FROM {_ADDRESSES} ad WHERE (ad ->> '{key}') = %s)")
            params.append(value)
    if s.postal_code_prefix is not None:
        clauses.append(
            f"EXISTS (SELECT 1 FROM {_ADDRESSES} ad"
            " WHERE left(ad ->> 'postal_code', length(%s)) = %s)"
        )
        params.extend([s.postal_code_prefix, s.postal_code_prefix])
    for key, start, end in (
        ("created_at", s.created_from, s.created_to),
        ("updated_at", s.changed_from, s.changed_to),
    ):
        day = f"left(c.data ->> '{key}', 10) COLLATE \"C\""
        if start is not None:
            clauses.append(f"COALESCE({day} >= %s, false)")
            params.append(start.isoformat())
        if end is not None:
            clauses.append(f"COALESCE({day} <= %s, false)")
            params.append(end.isoformat())
    if s.last_contact_from is not None or s.last_contact_to is not None:
        clauses.append(f"{_LAST_CONTACT} IS NOT NULL")
        if s.last_contact_from is not None:
            clauses.append(f"{_LAST_CONTACT} >= %s")
            params.append(_day_start(s.last_contact_from))
        if s.last_contact_to is not None and s.last_contact_to < dt.date.max:
            clauses.append(f"{_LAST_CONTACT} < %s")
            params.append(_day_start(s.last_contact_to + dt.timedelta(days=1)))
    for table, wanted in (("contact_emails", s.has_email), ("contact_phones", s.has_phone)):
        if wanted is not None:
            probe = f"EXISTS (SELECT 1 FROM {table} x WHERE x.contact_id = c.id)"
            clauses.append(probe if wanted else f"NOT {probe}")
    for child in s.all_of:
        where, more = segment_sql(child)
        clauses.append(f"({where})")
        params.extend(more)
    if s.any_of:
        parts = [segment_sql(child) for child in s.any_of]
        clauses.append("(" + " OR ".join(f"({p[0]})" for p in parts) + ")")
        params.extend(v for p in parts for v in p[1])
    if s.none_of:
        parts = [segment_sql(child) for child in s.none_of]
        clauses.append("NOT (" + " OR ".join(f"({p[0]})" for p in parts) + ")")
        params.extend(v for p in parts for v in p[1])
    return " AND ".join(clauses) or "true", params


def segment_ids(
    conn: Conn,
    segment: Segment,
    include_archived: bool,
    scope: tuple[str, tuple[str, ...]],
) -> list[str]:
    """The ids of the contacts in *segment*, by number; *scope* is the store's clause."""
    where, params = segment_sql(segment)
    archived = "" if include_archived else " AND NOT c.archived"
    scope_sql = scope[0].replace("contacts.", "c.")
    query = (
        f"SELECT c.id FROM contacts c WHERE ({where}){archived}{scope_sql}"
        " ORDER BY length(c.number), c.number"
    )
    return [str(row[0]) for row in conn.execute(query, [*params, *scope[1]]).fetchall()]


# -- records ----------------------------------------------------------------------------------
def put_record(conn: Conn, kind: str, key: str, data: Mapping[str, Any]) -> None:
    """Insert or replace a record."""
    text = json.dumps(dict(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    conn.execute(
        "INSERT INTO records (kind, key, data) VALUES (%s, %s, %s) "
        "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
        (kind, key, text),
    )


def get_record(conn: Conn, kind: str, key: str) -> dict[str, Any]:
    """The record's data; :class:`crmkit.NotFoundError` if there is none."""
    row = conn.execute(
        "SELECT data FROM records WHERE kind = %s AND key = %s", (kind, key)
    ).fetchone()
    if row is None:
        raise NotFoundError(kind=kind, key=key)
    found: dict[str, Any] = json.loads(row[0])
    return found


def iter_records(conn: Conn, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every ``(key, data)`` of *kind*, by key (code-point order)."""
    rows = conn.execute(
        "SELECT key, data FROM records WHERE kind = %s ORDER BY key", (kind,)
    ).fetchall()
    return [(str(k), json.loads(d)) for k, d in rows]


def delete_record(conn: Conn, kind: str, key: str) -> None:
    """Remove a record; :class:`crmkit.NotFoundError` if absent."""
    done = conn.execute("DELETE FROM records WHERE kind = %s AND key = %s", (kind, key))
    if done.rowcount == 0:
        raise NotFoundError(kind=kind, key=key)


__all__ = [
    "RECORDS_DDL",
    "delete_record",
    "get_record",
    "iter_records",
    "put_record",
    "segment_ids",
    "segment_sql",
]
