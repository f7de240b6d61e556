"""Sync links and sync state in SQLite (capability ``sync_links``).

Two tables, made by one self-contained migration (:func:`create_tables`):

* ``sync_links``: one row per (contact, provider, mailbox) with the link as
  JSON (:meth:`crmkit.sync.SyncLink.to_dict`) and the columns the store looks
  up by.  It has no foreign key to ``contacts``: when a contact is deleted
  or erased its links stay, reduced to :func:`crmkit.store.erased_link`, so
  the provider can still delete the remote copy after the commit.
* ``sync_state``: a small key/value table per (provider, mailbox): delta
  links, folder ids, pending decisions.

Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Final

from crmkit.errors import ConflictError, NotFoundError, StoreError
from crmkit.store import erased_link
from crmkit.sync import SyncLink

_SEPARATORS: Final = (",", ":")


def create_tables(conn: sqlite3.Connection) -> None:
    """The DDL of the sync-link migration: links and state of contact sync."""
    for statement in (
        """CREATE TABLE sync_links (
            contact_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            mailbox TEXT NOT NULL,
            remote_id TEXT,
            status TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (contact_id, provider, mailbox)
        ) WITHOUT ROWID""",
        # A remote id belongs to one contact per provider and mailbox.
        """CREATE UNIQUE INDEX idx_sync_links_remote ON sync_links (provider, mailbox, remote_id)
            WHERE remote_id IS NOT NULL""",
        "CREATE INDEX idx_sync_links_status ON sync_links (status)",
        """CREATE TABLE sync_state (
            provider TEXT NOT NULL,
            mailbox TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (provider, mailbox, key)
        ) WITHOUT ROWID""",
    ):
        conn.execute(statement)


def _load(path: str, data: str) -> SyncLink:
    try:
        return SyncLink.from_dict(json.loads(data))
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(code="store.corrupt", path=path, detail=f"sync link: {exc}") from exc


def _dump(link: SyncLink) -> str:
    return json.dumps(link.to_dict(), ensure_ascii=False, separators=_SEPARATORS, sort_keys=True)


def put_link(conn: sqlite3.Connection, link: SyncLink) -> None:
    """Insert or replace *link* (see ``SyncLinkStore.put_sync_link``)."""
    if (
        link.status != "erased"
        and conn.execute("SELECT 1 FROM contacts WHERE id = ?", (link.contact_id,)).fetchone()
        is None
    ):
        raise NotFoundError(kind="contact", key=link.contact_id)
    if link.remote_id is not None:
        holder = conn.execute(
            "SELECT contact_id FROM sync_links"
            " WHERE provider = ? AND mailbox = ? AND remote_id = ?",
            (link.provider, link.mailbox, link.remote_id),
        ).fetchone()
        if holder is not None and holder[0] != link.contact_id:
            raise ConflictError(code="exists", kind="sync link", key=link.remote_id)
    conn.execute(
        "INSERT INTO sync_links (contact_id, provider, mailbox, remote_id, status, data)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (contact_id, provider, mailbox) DO UPDATE SET"
        " remote_id = excluded.remote_id, status = excluded.status, data = excluded.data",
        (link.contact_id, link.provider, link.mailbox, link.remote_id, link.status, _dump(link)),
    )


def get_link(
    conn: sqlite3.Connection, path: str, contact_id: str, provider: str, mailbox: str
) -> SyncLink | None:
    """The link with this key, or ``None``."""
    row = conn.execute(
        "SELECT data FROM sync_links WHERE contact_id = ? AND provider = ? AND mailbox = ?",
        (contact_id, provider, mailbox),
    ).fetchone()
    return None if row is None else _load(path, row[0])


def find_link(
    conn: sqlite3.Connection, path: str, provider: str, mailbox: str, remote_id: str
) -> SyncLink | None:
    """The link to *remote_id*, or ``None``."""
    row = conn.execute(
        "SELECT data FROM sync_links WHERE provider = ? AND mailbox = ? AND remote_id = ?",
        (provider, mailbox, remote_id),
    ).fetchone()
    return None if row is None else _load(path, row[0])


def links(
    conn: sqlite3.Connection,
    path: str,
    *,
    provider: str | None,
    mailbox: str | None,
    contact_id: str | None,
    status: str | None,
) -> list[SyncLink]:
    """Links matching every given condition, by contact id, provider, mailbox."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("provider", provider),
        ("mailbox", mailbox),
        ("contact_id", contact_id),
        ("status", status),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT data FROM sync_links"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY contact_id, provider, mailbox"
    return [_load(path, row[0]) for row in conn.execute(sql, params).fetchall()]


def delete_link(conn: sqlite3.Connection, contact_id: str, provider: str, mailbox: str) -> None:
    """Remove a link (nothing happens when there is none)."""
    conn.execute(
        "DELETE FROM sync_links WHERE contact_id = ? AND provider = ? AND mailbox = ?",
        (contact_id, provider, mailbox),
    )


def erase_links(conn: sqlite3.Connection, path: str, contact_id: str) -> None:
    """Reduce the links of a deleted or erased contact to :func:`crmkit.store.erased_link`."""
    for link in links(conn, path, provider=None, mailbox=None, contact_id=contact_id, status=None):
        put_link(conn, erased_link(link))


def put_state(
    conn: sqlite3.Connection, provider: str, mailbox: str, key: str, value: str | None
) -> None:
    """Set (or with ``None`` remove) a state value."""
    if value is None:
        conn.execute(
            "DELETE FROM sync_state WHERE provider = ? AND mailbox = ? AND key = ?",
            (provider, mailbox, key),
        )
        return
    conn.execute(
        "INSERT INTO sync_state (provider, mailbox, key, value) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (provider, mailbox, key) DO UPDATE SET value = excluded.value",
        (provider, mailbox, key, value),
    )


def get_state(conn: sqlite3.Connection, provider: str, mailbox: str, key: str) -> str | None:
    """A state value, or ``None``."""
    row = conn.execute(
        "SELECT value FROM sync_state WHERE provider = ? AND mailbox = ? AND key = ?",
        (provider, mailbox, key),
    ).fetchone()
    return None if row is None else str(row[0])


__all__ = [
    "create_tables",
    "delete_link",
    "erase_links",
    "find_link",
    "get_link",
    "get_state",
    "links",
    "put_link",
    "put_state",
]
