"""Correspondence entries in SQLite: current rows, contact links, revisions, full text.

``correspondence`` holds the current revision of each entry (its JSON plus
the columns a timeline filters and sorts on), ``correspondence_contacts``
which contacts it concerns, ``correspondence_revisions`` every revision
ever stored (the JSON of a :class:`crmkit.correspondence.EntryRevision`), and
the FTS5 table ``correspondence_text`` the folded words of subject, content,
agreements and next steps (rowid = ``correspondence.rid``).

The functions here run on the store's connection inside the transaction
and savepoint the store opened; they find candidates, and
:func:`crmkit.correspondence.select_entries` decides what matches, as in
every store.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, Final

from crmkit.correspondence import (
    CorrespondenceEntry,
    EntryRevision,
    TimelineQuery,
    entry_words,
    select_entries,
    select_follow_ups,
)
from crmkit.errors import ConflictError, NotFoundError
from crmkit.serialize import to_dict
from crmkit.store import check_entry_revision
from crmkit_sqlite.rows import load_row

#: The FTS5 table of entry words.
TEXT_TABLE: Final = "correspondence_text"

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SEPARATORS: Final = (",", ":")
_COLUMNS: Final = (
    "revision, occurred_us, recorded_us, channel, internal, source, "
    "follow_up_due, follow_up_assignee, follow_up_open, data"
)


def create_tables(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 4 (see :mod:`crmkit_sqlite.schema`)."""
    for statement in (
        """CREATE TABLE correspondence (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            revision INTEGER NOT NULL,
            occurred_us INTEGER NOT NULL,
            recorded_us INTEGER,
            channel TEXT NOT NULL,
            internal INTEGER NOT NULL,
            source TEXT UNIQUE,
            follow_up_due TEXT,
            follow_up_assignee TEXT,
            follow_up_open INTEGER NOT NULL DEFAULT 0,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX idx_correspondence_occurred ON correspondence (occurred_us)",
        """CREATE INDEX idx_correspondence_follow_up ON correspondence (follow_up_due)
            WHERE follow_up_open = 1""",
        # No ON DELETE: a contact with history is not deleted by accident.
        """CREATE TABLE correspondence_contacts (
            contact_id TEXT NOT NULL REFERENCES contacts (id),
            entry_rid INTEGER NOT NULL REFERENCES correspondence (rid) ON DELETE CASCADE,
            PRIMARY KEY (contact_id, entry_rid)
        ) WITHOUT ROWID""",
        "CREATE INDEX idx_correspondence_contacts_entry ON correspondence_contacts (entry_rid)",
        """CREATE TABLE correspondence_revisions (
            entry_rid INTEGER NOT NULL REFERENCES correspondence (rid) ON DELETE CASCADE,
            revision INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (entry_rid, revision)
        ) WITHOUT ROWID""",
        f"CREATE VIRTUAL TABLE {TEXT_TABLE} USING fts5 (words, tokenize = 'ascii')",
        f"""CREATE TRIGGER correspondence_text_cascade AFTER DELETE ON correspondence BEGIN
            DELETE FROM {TEXT_TABLE} WHERE rowid = old.rid;
        END""",
    ):
        conn.execute(statement)


def _micros(moment: dt.datetime | None) -> int | None:
    if moment is None:
        return None
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def _row(entry: CorrespondenceEntry) -> tuple[Any, ...]:
    fu = entry.follow_up
    return (
        entry.revision,
        _micros(entry.occurred_at),
        _micros(entry.recorded_at),
        entry.channel,
        int(entry.internal),
        entry.source,
        fu.due.isoformat() if fu else None,
        fu.assignee if fu else None,
        int(entry.has_open_follow_up),
        json.dumps(to_dict(entry), ensure_ascii=False, separators=_SEPARATORS),
    )


def _index(conn: sqlite3.Connection, rid: int, entry: CorrespondenceEntry) -> None:
    conn.executemany(
        "INSERT INTO correspondence_contacts (contact_id, entry_rid) VALUES (?, ?)",
        [(contact_id, rid) for contact_id in entry.contact_ids],
    )
    words = entry_words(entry)
    if words:
        conn.execute(
            f"INSERT INTO {TEXT_TABLE} (rowid, words) VALUES (?, ?)", (rid, " ".join(words))
        )


def _unindex(conn: sqlite3.Connection, rid: int) -> None:
    conn.execute("DELETE FROM correspondence_contacts WHERE entry_rid = ?", (rid,))
    conn.execute(f"DELETE FROM {TEXT_TABLE} WHERE rowid = ?", (rid,))


def _check_contacts(conn: sqlite3.Connection, entry: CorrespondenceEntry) -> None:
    for contact_id in entry.contact_ids:
        if conn.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is None:
            raise NotFoundError(kind="contact", key=contact_id)


def _insert_revision(conn: sqlite3.Connection, rid: int, revision: EntryRevision) -> None:
    conn.execute(
        "INSERT INTO correspondence_revisions (entry_rid, revision, data) VALUES (?, ?, ?)",
        (
            rid,
            revision.revision,
            json.dumps(to_dict(revision), ensure_ascii=False, separators=_SEPARATORS),
        ),
    )


def add_entry(conn: sqlite3.Connection, revision: EntryRevision) -> CorrespondenceEntry:
    """Insert a new entry with its first revision (see ``Store.add_entry``)."""
    entry = revision.entry
    if conn.execute("SELECT 1 FROM correspondence WHERE id = ?", (entry.id,)).fetchone():
        raise ConflictError(code="exists", kind="correspondence entry", key=entry.id)
    if (
        entry.source is not None
        and conn.execute(
            "SELECT 1 FROM correspondence WHERE source = ?", (entry.source,)
        ).fetchone()
    ):
        raise ConflictError(code="exists", kind="correspondence entry", key=entry.source)
    check_entry_revision(revision, None)
    _check_contacts(conn, entry)
    cursor = conn.execute(
        f"INSERT INTO correspondence (id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.id, *_row(entry)),
    )
    rid = cursor.lastrowid
    assert rid is not None
    _index(conn, rid, entry)
    _insert_revision(conn, rid, revision)
    return entry


def correct_entry(conn: sqlite3.Connection, revision: EntryRevision) -> CorrespondenceEntry:
    """Replace the current row with a new revision and keep it (see ``Store.correct_entry``)."""
    entry = revision.entry
    row = conn.execute(
        "SELECT rid, revision FROM correspondence WHERE id = ?", (entry.id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(kind="correspondence entry", key=entry.id)
    rid, stored = row
    check_entry_revision(revision, stored)
    _check_contacts(conn, entry)
    assignments = ", ".join(f"{c.strip()} = ?" for c in _COLUMNS.split(","))
    conn.execute(f"UPDATE correspondence SET {assignments} WHERE rid = ?", (*_row(entry), rid))
    _unindex(conn, rid)
    _index(conn, rid, entry)
    _insert_revision(conn, rid, revision)
    return entry


def delete_entry(conn: sqlite3.Connection, entry_id: str) -> None:
    """Remove an entry; its links, revisions and text go by cascade and trigger."""
    deleted = 0
    if isinstance(entry_id, str):
        deleted = conn.execute("DELETE FROM correspondence WHERE id = ?", (entry_id,)).rowcount
    if deleted == 0:
        raise NotFoundError(kind="correspondence entry", key=entry_id)


Loader = Callable[[str, str], CorrespondenceEntry]


def load_entry(path: str, entry_id: str, data: str) -> CorrespondenceEntry:
    """The entry behind a stored JSON row; a damaged row is a ``store.corrupt`` error."""
    return load_row(CorrespondenceEntry, path, f"correspondence entry {entry_id}", data)


def _visible(scope_sql: str) -> str:
    if not scope_sql:
        return ""
    return (
        " AND EXISTS (SELECT 1 FROM correspondence_contacts cc JOIN contacts"
        f" ON contacts.id = cc.contact_id WHERE cc.entry_rid = e.rid{scope_sql})"
    )


def get_entry(
    conn: sqlite3.Connection,
    path: str,
    entry_id: str,
    scope: tuple[str, tuple[str, ...]],
) -> CorrespondenceEntry:
    """The current revision; *scope* is the store's ``(" AND …", params)`` for ``contacts``."""
    row = None
    if isinstance(entry_id, str):
        row = conn.execute(
            f"SELECT data FROM correspondence e WHERE e.id = ?{_visible(scope[0])}",
            (entry_id, *scope[1]),
        ).fetchone()
    if row is None:
        raise NotFoundError(kind="correspondence entry", key=entry_id)
    return load_entry(path, entry_id, row[0])


def find_by_source(conn: sqlite3.Connection, path: str, source: str) -> CorrespondenceEntry | None:
    """The entry stored under an import key, if any."""
    row = conn.execute("SELECT id, data FROM correspondence WHERE source = ?", (source,)).fetchone()
    return None if row is None else load_entry(path, row[0], row[1])


def revisions(conn: sqlite3.Connection, path: str, entry_id: str) -> list[EntryRevision]:
    """Every stored revision, oldest first."""
    rows = conn.execute(
        "SELECT r.data FROM correspondence_revisions r JOIN correspondence e"
        " ON e.rid = r.entry_rid WHERE e.id = ? ORDER BY r.revision",
        (entry_id,),
    ).fetchall()
    if not rows:
        raise NotFoundError(kind="correspondence entry", key=entry_id)
    out: list[EntryRevision] = []
    for (data,) in rows:
        out.append(load_row(EntryRevision, path, f"revision of {entry_id}", data))
    return out


def fts_query(words: Iterable[str]) -> str:
    """An FTS5 query needing every word as a prefix, each quoted (no FTS syntax gets through)."""
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in dict.fromkeys(words))


def timeline(
    conn: sqlite3.Connection, path: str, query: TimelineQuery
) -> list[CorrespondenceEntry]:
    """Candidates through the contact links, filters and the FTS5 index; then ``select_entries``."""
    sql = (
        "SELECT e.id, e.data FROM correspondence e WHERE e.rid IN ("
        "SELECT entry_rid FROM correspondence_contacts"
        " WHERE contact_id IN (SELECT value FROM json_each(?)))"
    )
    params: list[Any] = [json.dumps(sorted(query.contact_ids))]
    if query.channels is not None:
        sql += " AND e.channel IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(sorted(query.channels)))
    if query.since is not None:
        sql += " AND e.occurred_us >= ?"
        params.append(_micros(query.since))
    if query.before is not None:
        sql += " AND e.occurred_us < ?"
        params.append(_micros(query.before))
    if not query.include_internal:
        sql += " AND e.internal = 0"
    if query.words:
        sql += f" AND e.rid IN (SELECT rowid FROM {TEXT_TABLE} WHERE {TEXT_TABLE} MATCH ?)"
        params.append(fts_query(query.words))
    rows = conn.execute(sql, params).fetchall()
    return select_entries((load_entry(path, i, d) for i, d in rows), query)


def open_follow_ups(
    conn: sqlite3.Connection,
    path: str,
    *,
    due_by: dt.date | None,
    assignee: str | None,
    scope: tuple[str, tuple[str, ...]],
) -> list[CorrespondenceEntry]:
    """Entries with an open follow-up through the partial index; then ``select_follow_ups``."""
    sql = "SELECT e.id, e.data FROM correspondence e WHERE e.follow_up_open = 1"
    params: list[Any] = []
    if due_by is not None:
        sql += " AND e.follow_up_due <= ?"
        params.append(due_by.isoformat())
    if assignee is not None:
        sql += " AND e.follow_up_assignee = ?"
        params.append(assignee)
    sql += _visible(scope[0])
    params.extend(scope[1])
    rows = conn.execute(sql, params).fetchall()
    return select_follow_ups(
        (load_entry(path, i, d) for i, d in rows), due_by=due_by, assignee=assignee
    )


def has_entries(conn: sqlite3.Connection, contact_id: str) -> bool:
    """True when some entry names the contact."""
    return (
        conn.execute(
            "SELECT 1 FROM correspondence_contacts WHERE contact_id = ? LIMIT 1", (contact_id,)
        ).fetchone()
        is not None
    )


def rebuild_text(conn: sqlite3.Connection, path: str) -> None:
    """Refill the FTS5 table from the stored entries (after the folding rules changed)."""
    conn.execute(f"DELETE FROM {TEXT_TABLE}")
    for rid, entry_id, data in conn.execute("SELECT rid, id, data FROM correspondence").fetchall():
        words = entry_words(load_entry(path, entry_id, data))
        if words:
            conn.execute(
                f"INSERT INTO {TEXT_TABLE} (rowid, words) VALUES (?, ?)", (rid, " ".join(words))
            )


__all__ = [
    "TEXT_TABLE",
    "add_entry",
    "correct_entry",
    "create_tables",
    "delete_entry",
    "find_by_source",
    "fts_query",
    "get_entry",
    "has_entries",
    "load_entry",
    "open_follow_ups",
    "rebuild_text",
    "revisions",
    "timeline",
]
