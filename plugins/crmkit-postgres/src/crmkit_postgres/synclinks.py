"""Sync links and sync state in PostgreSQL (capability ``sync_links``).

:data:`DDL` is one self-contained migration step (two new tables, nothing
else touched), so it can move to another position in
:data:`crmkit_postgres.schema.MIGRATIONS` when branches are merged.

* ``sync_links``: one row per (contact, provider, mailbox), the link as
  ``jsonb`` (:meth:`crmkit.sync.SyncLink.to_dict`) plus the columns looked up
  by.  No foreign key to ``contacts``: a deleted or erased contact's links
  stay, reduced to :func:`crmkit.store.erased_link`, so the provider can
  still delete the remote copy after the commit.
* ``sync_state``: a small key/value table per (provider, mailbox).

Every function here runs on the caller's connection, inside its transaction.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from crmkit.errors import ConflictError, NotFoundError, StoreError
from crmkit.store import erased_link
from crmkit.sync import SyncLink

Conn = psycopg.Connection[TupleRow]

#: The DDL of the sync-link migration.
DDL: Final[tuple[str, ...]] = (
    """CREATE TABLE sync_links (
        contact_id text COLLATE "C" NOT NULL,
        provider text COLLATE "C" NOT NULL,
        mailbox text COLLATE "C" NOT NULL,
        remote_id text COLLATE "C",
        status text COLLATE "C" NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (contact_id, provider, mailbox)
    )""",
    # A remote id belongs to one contact per provider and mailbox.
    """CREATE UNIQUE INDEX sync_links_remote ON sync_links (provider, mailbox, remote_id)
        WHERE remote_id IS NOT NULL""",
    "CREATE INDEX sync_links_status ON sync_links (status)",
    """CREATE TABLE sync_state (
        provider text COLLATE "C" NOT NULL,
        mailbox text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (provider, mailbox, key)
    )""",
)


def _key(value: object) -> bool:
    return isinstance(value, str) and "\x00" not in value


def _load(path: str, data: Any) -> SyncLink:
    try:
        return SyncLink.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise StoreError(code="store.corrupt", path=path, detail=f"sync link: {exc}") from exc


def put_link(conn: Conn, link: SyncLink) -> None:
    """Insert or replace *link* (see ``SyncLinkStore.put_sync_link``)."""
    if link.status != "erased" and (
        not _key(link.contact_id)
        or conn.execute("SELECT 1 FROM contacts WHERE id = %s", (link.contact_id,)).fetchone()
        is None
    ):
        raise NotFoundError(kind="contact", key=link.contact_id)
    if link.remote_id is not None:
        holder = conn.execute(
            "SELECT contact_id FROM sync_links"
            " WHERE provider = %s AND mailbox = %s AND remote_id = %s",
            (link.provider, link.mailbox, link.remote_id),
        ).fetchone()
        if holder is not None and holder[0] != link.contact_id:
            raise ConflictError(code="exists", kind="sync link", key=link.remote_id)
    conn.execute(
        "INSERT INTO sync_links (contact_id, provider, mailbox, remote_id, status, data)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (contact_id, provider, mailbox) DO UPDATE"
        " SET remote_id = excluded.remote_id, status = excluded.status, data = excluded.data",
        (
            link.contact_id,
            link.provider,
            link.mailbox,
            link.remote_id,
            link.status,
            Jsonb(link.to_dict()),
        ),
    )


def get_link(
    conn: Conn, path: str, contact_id: str, provider: str, mailbox: str
) -> SyncLink | None:
    """The link with this key, or ``None``."""
    if not all(_key(v) for v in (contact_id, provider, mailbox)):
        return None
    row = conn.execute(
        "SELECT data FROM sync_links WHERE contact_id = %s AND provider = %s AND mailbox = %s",
        (contact_id, provider, mailbox),
    ).fetchone()
    return None if row is None else _load(path, row[0])


def find_link(
    conn: Conn, path: str, provider: str, mailbox: str, remote_id: str
) -> SyncLink | None:
    """The link to *remote_id*, or ``None``."""
    if not all(_key(v) for v in (provider, mailbox, remote_id)):
        return None
    row = conn.execute(
        "SELECT data FROM sync_links WHERE provider = %s AND mailbox = %s AND remote_id = %s",
        (provider, mailbox, remote_id),
    ).fetchone()
    return None if row is None else _load(path, row[0])


def links(
    conn: Conn,
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
            if not _key(value):
                return []
            where.append(f"{column} = %s")
            params.append(value)
    query = "SELECT data FROM sync_links"
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY contact_id, provider, mailbox"
    return [_load(path, row[0]) for row in conn.execute(query, params).fetchall()]


def delete_link(conn: Conn, contact_id: str, provider: str, mailbox: str) -> None:
    """Remove a link (nothing happens when there is none)."""
    if all(_key(v) for v in (contact_id, provider, mailbox)):
        conn.execute(
            "DELETE FROM sync_links WHERE contact_id = %s AND provider = %s AND mailbox = %s",
            (contact_id, provider, mailbox),
        )


def erase_links(conn: Conn, path: str, contact_id: str) -> None:
    """Reduce the links of a deleted or erased contact to :func:`crmkit.store.erased_link`."""
    for link in links(conn, path, provider=None, mailbox=None, contact_id=contact_id, status=None):
        put_link(conn, erased_link(link))


def put_state(conn: Conn, provider: str, mailbox: str, key: str, value: str | None) -> None:
    """Set (or with ``None`` remove) a state value."""
    if value is None:
        conn.execute(
            "DELETE FROM sync_state WHERE provider = %s AND mailbox = %s AND key = %s",
            (provider, mailbox, key),
        )
        return
    conn.execute(
        "INSERT INTO sync_state (provider, mailbox, key, value) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (provider, mailbox, key) DO UPDATE SET value = excluded.value",
        (provider, mailbox, key, value),
    )


def get_state(conn: Conn, provider: str, mailbox: str, key: str) -> str | None:
    """A state value, or ``None``."""
    if not all(_key(v) for v in (provider, mailbox, key)):
        return None
    row = conn.execute(
        "SELECT value FROM sync_state WHERE provider = %s AND mailbox = %s AND key = %s",
        (provider, mailbox, key),
    ).fetchone()
    return None if row is None else str(row[0])


__all__ = [
    "DDL",
    "delete_link",
    "erase_links",
    "find_link",
    "get_link",
    "get_state",
    "links",
    "put_link",
    "put_state",
]
