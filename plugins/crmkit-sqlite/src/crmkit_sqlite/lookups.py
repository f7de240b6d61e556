"""The lookup tables: e-mail addresses, domains, phone numbers, name words and switchboard stems.

They are derived data: each row comes from a stored contact through the
key functions of :mod:`crmkit.search` (the same ones the memory store
indexes with), so every backend finds the same candidates.  Because those
functions live in the core and may change between releases (a new folding
rule, say), the store records a *fingerprint* of their behaviour in
``crmkit_meta`` and rebuilds the tables when it opens a file whose
fingerprint differs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Final

import attrs

from crmkit import search
from crmkit.errors import ValidationError
from crmkit.model import Company, Contact, Person

#: Bump when the layout or meaning of the lookup tables changes in this package.
LOOKUP_FORMAT: Final = 1
#: The ``crmkit_meta`` key holding the fingerprint.
FINGERPRINT_KEY: Final = "lookup_fingerprint"
#: The lookup tables with a ``contact_rid`` column (``contacts.rid``).
TABLES: Final = ("contact_emails", "contact_phones", "contact_stems")
#: The FTS5 table of folded name words; its rowid is ``contacts.rid``.
NAMES_TABLE: Final = "contact_names"

INSERT_EMAIL: Final = (
    "INSERT OR IGNORE INTO contact_emails (contact_rid, address_lower, domain) VALUES (?, ?, ?)"
)
INSERT_PHONE: Final = "INSERT OR IGNORE INTO contact_phones (contact_rid, e164) VALUES (?, ?)"
INSERT_NAME: Final = "INSERT INTO contact_names (rowid, words) VALUES (?, ?)"
INSERT_STEM: Final = "INSERT OR IGNORE INTO contact_stems (contact_rid, stem) VALUES (?, ?)"


@attrs.define
class LookupRows:
    """Rows for the lookup tables and the name index, collected for ``executemany``."""

    emails: list[tuple[int, str, str]] = attrs.field(factory=list)
    phones: list[tuple[int, str]] = attrs.field(factory=list)
    names: list[tuple[int, str]] = attrs.field(factory=list)
    stems: list[tuple[int, str]] = attrs.field(factory=list)

    def add(self, rid: int, contact: Contact) -> None:
        """Append the rows of *contact*, stored under ``contacts.rid`` *rid*."""
        self.emails.extend(
            (rid, address, e.domain.lower())
            for address, e in zip(search.email_keys(contact), contact.emails, strict=True)
        )
        self.phones.extend((rid, p.e164) for p in contact.phones)
        words = search.name_words(contact)
        if words:
            self.names.append((rid, " ".join(words)))
        if isinstance(contact, Company):
            self.stems.extend(
                (rid, stem) for p in contact.phones if (stem := search.switchboard_stem(p.e164))
            )

    def __len__(self) -> int:
        return len(self.emails) + len(self.phones) + len(self.names) + len(self.stems)

    def write(self, conn: sqlite3.Connection) -> None:
        """Insert the collected rows and forget them."""
        for sql, rows in (
            (INSERT_EMAIL, self.emails),
            (INSERT_PHONE, self.phones),
            (INSERT_NAME, self.names),
            (INSERT_STEM, self.stems),
        ):
            if rows:
                conn.executemany(sql, rows)
                rows.clear()


def delete_rows(conn: sqlite3.Connection, rid: int) -> None:
    """Remove every lookup row of one contact (before rewriting them)."""
    for table in TABLES:
        conn.execute(f"DELETE FROM {table} WHERE contact_rid = ?", (rid,))
    conn.execute(f"DELETE FROM {NAMES_TABLE} WHERE rowid = ?", (rid,))


#: The ``crmkit_meta`` key present while a bulk load runs: the JSON list of
#: ``[name, sql]`` of the lookup indexes it dropped.
BULK_LOAD_KEY: Final = "bulk_load_dropped_indexes"


def bulk_load_pending(conn: sqlite3.Connection) -> bool:
    """True while the lookup indexes are dropped for a bulk load (or one was killed)."""
    row = conn.execute("SELECT 1 FROM crmkit_meta WHERE key = ?", (BULK_LOAD_KEY,)).fetchone()
    return row is not None


def drop_indexes(conn: sqlite3.Connection) -> None:
    """Drop the secondary indexes of the lookup tables, remembering their DDL.

    Only indexes with DDL of their own are dropped (not the primary keys), and
    their ``CREATE INDEX`` statements are stored under :data:`BULK_LOAD_KEY`
    in the same transaction, so :func:`restore_indexes` builds exactly them
    again.  If the key is already there (another bulk load), nothing changes.
    The caller owns the transaction.
    """
    if bulk_load_pending(conn):
        return
    marks = ", ".join("?" * len(TABLES))
    indexes = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks}) "
        "AND sql IS NOT NULL ORDER BY name",
        TABLES,
    ).fetchall()
    conn.execute(
        "INSERT INTO crmkit_meta (key, value) VALUES (?, ?)",
        (BULK_LOAD_KEY, json.dumps([[name, sql] for name, sql in indexes])),
    )
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')


def restore_indexes(conn: sqlite3.Connection) -> None:
    """Build the indexes :func:`drop_indexes` dropped (those still missing) and forget them.

    Does nothing when no bulk load is pending.  The caller owns the transaction.
    """
    row = conn.execute("SELECT value FROM crmkit_meta WHERE key = ?", (BULK_LOAD_KEY,)).fetchone()
    if row is None:
        return
    for name, sql in json.loads(row[0]):
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).fetchone()
        if exists is None:
            conn.execute(sql)
    conn.execute("DELETE FROM crmkit_meta WHERE key = ?", (BULK_LOAD_KEY,))


def _probes() -> list[Contact | str]:
    makers: list[Callable[[], Contact]] = [
        lambda: Person(
            id="probe1",
            first_name="Jürgen-Peter",
            last_name="Müller-Lüdenscheidt ÆØÅ Straße ǅ İ ﬁ ①",
            emails=["Max.Mustermann@Bäckerei-Groß.DE", "x@EXAMPLE.org"],
            phones=["+49 170 1234567"],
        ),
        lambda: Company(
            id="probe2",
            name="Bäckerei Groß GmbH & Co. KG (Zweigstelle 3) Œuvre Þor Łódź",
            emails=["info@muster.de"],
            phones=["+49 711 781937-0", "+49 30 1234560"],
        ),
    ]
    out: list[Contact | str] = []
    for make in makers:
        try:
            out.append(make())
        except ValidationError as exc:  # the core got stricter: that is a change too
            out.append(f"invalid: {exc}")
    return out


def fingerprint() -> str:
    """A short hash of how the core's key functions treat a few tricky contacts."""
    keys: list[object] = []
    for probe in _probes():
        if isinstance(probe, str):
            keys.append(probe)
            continue
        rows = LookupRows()
        rows.add(0, probe)
        tables = (rows.emails, rows.phones, rows.names, rows.stems)
        keys.append([[list(row[1:]) for row in table] for table in tables])
    text = json.dumps([LOOKUP_FORMAT, keys], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_fingerprint(conn: sqlite3.Connection) -> str | None:
    """The fingerprint the lookup tables were built with, if any."""
    row = conn.execute("SELECT value FROM crmkit_meta WHERE key = ?", (FINGERPRINT_KEY,)).fetchone()
    return None if row is None else str(row[0])


def rebuild(
    conn: sqlite3.Connection, load: Callable[[str, str], Contact], *, batch: int = 20_000
) -> None:
    """Refill every lookup table from the stored contacts and record the fingerprint.

    *load* turns a row's ``(id, data)`` into a contact.  The caller owns the
    transaction.
    """
    for table in (*TABLES, NAMES_TABLE):
        conn.execute(f"DELETE FROM {table}")
    rows = LookupRows()
    last = 0
    while True:
        chunk = conn.execute(
            "SELECT rid, id, data FROM contacts WHERE rid > ? ORDER BY rid LIMIT 1000", (last,)
        ).fetchall()
        if not chunk:
            break
        for rid, contact_id, data in chunk:
            rows.add(rid, load(contact_id, data))
        last = chunk[-1][0]
        if len(rows) >= batch:
            rows.write(conn)
    rows.write(conn)
    conn.execute(
        "INSERT INTO crmkit_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (FINGERPRINT_KEY, fingerprint()),
    )


__all__ = [
    "BULK_LOAD_KEY",
    "FINGERPRINT_KEY",
    "LOOKUP_FORMAT",
    "NAMES_TABLE",
    "TABLES",
    "LookupRows",
    "bulk_load_pending",
    "delete_rows",
    "drop_indexes",
    "fingerprint",
    "rebuild",
    "restore_indexes",
    "stored_fingerprint",
]
