"""The database schema and its migrations.

``MIGRATIONS[i]`` takes a database from schema version *i* to *i + 1*;
:data:`SCHEMA_VERSION` is the version this release writes.  The store runs
the missing migrations in one transaction when it opens a file, so an upgrade
is all or nothing.  A migration, once released, never changes: a new release
that needs another table or index appends a function.

The DDL is written out as SQL rather than generated, so the schema a file
gets does not depend on the installed sqlite-utils version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

#: The table holding ``schema_version`` (and nothing a user edits).
META_TABLE: Final = "crmkit_meta"
#: The name of the contact-number counter in the ``sequences`` table.
CONTACT_SEQUENCE: Final = "contact_number"

Migration = Callable[[sqlite3.Connection], None]


def _v1_core_tables(conn: sqlite3.Connection) -> None:
    """Version 1: metadata, the number counter, contacts, affiliations and the audit log."""
    for statement in (
        f"""CREATE TABLE {META_TABLE} (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE sequences (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""",
        # rid: a stable integer key (it survives VACUUM) for the lookup tables,
        # whose rows then append in order instead of landing at random places.
        """CREATE TABLE contacts (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            number TEXT NOT NULL UNIQUE,
            number_seq INTEGER,
            kind TEXT NOT NULL CHECK (kind IN ('person', 'company')),
            version INTEGER NOT NULL,
            archived INTEGER NOT NULL DEFAULT 0,
            owner TEXT,
            data TEXT NOT NULL
        )""",
        # Number order as crmkit defines it: shorter numbers first, then by text.
        "CREATE INDEX idx_contacts_number_order ON contacts (length(number), number)",
        "CREATE INDEX idx_contacts_owner ON contacts (owner)",
        """CREATE TABLE affiliations (
            id TEXT PRIMARY KEY,
            person_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
            company_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            created_at TEXT,
            is_primary INTEGER NOT NULL DEFAULT 0,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX idx_affiliations_person_id ON affiliations (person_id)",
        "CREATE INDEX idx_affiliations_company_id ON affiliations (company_id)",
        # The append-only audit log; seq keeps the order of appending.
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            at TEXT NOT NULL,
            actor_id TEXT NOT NULL,
            action TEXT NOT NULL,
            resource TEXT NOT NULL,
            entity_id TEXT,
            outcome TEXT NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX idx_audit_entity_id ON audit (entity_id)",
        "CREATE INDEX idx_audit_actor_id ON audit (actor_id)",
    ):
        conn.execute(statement)
    conn.execute("INSERT INTO sequences (name, value) VALUES (?, 0)", (CONTACT_SEQUENCE,))


def _v2_lookup_tables(conn: sqlite3.Connection) -> None:
    """Version 2: lookup tables for e-mail addresses, domains, phones, switchboard stems,
    and the FTS5 index of name words.

    They are derived from the stored contacts; the store fills them right after
    the upgrade (see :mod:`crmkit_sqlite.lookups`), in the same transaction.
    """
    for statement in (
        """CREATE TABLE contact_emails (
            contact_rid INTEGER NOT NULL REFERENCES contacts (rid) ON DELETE CASCADE,
            address_lower TEXT NOT NULL,
            domain TEXT NOT NULL,
            PRIMARY KEY (contact_rid, address_lower)
        ) WITHOUT ROWID""",
        "CREATE INDEX idx_contact_emails_address_lower ON contact_emails (address_lower)",
        "CREATE INDEX idx_contact_emails_domain ON contact_emails (domain)",
        """CREATE TABLE contact_phones (
            contact_rid INTEGER NOT NULL REFERENCES contacts (rid) ON DELETE CASCADE,
            e164 TEXT NOT NULL,
            PRIMARY KEY (contact_rid, e164)
        ) WITHOUT ROWID""",
        "CREATE INDEX idx_contact_phones_e164 ON contact_phones (e164)",
        # Folded name words (crmkit.search.name_words), one document per
        # contact, rowid = contacts.rid.  The ascii tokenizer keeps every
        # non-ASCII character inside a token, so a token is exactly one
        # folded word; prefix indexes speed up one- and two-letter look-ups.
        """CREATE VIRTUAL TABLE contact_names USING fts5 (
            words, tokenize = 'ascii', prefix = '1 2'
        )""",
        """CREATE TRIGGER contact_names_cascade AFTER DELETE ON contacts BEGIN
            DELETE FROM contact_names WHERE rowid = old.rid;
        END""",
        """CREATE TABLE contact_stems (
            contact_rid INTEGER NOT NULL REFERENCES contacts (rid) ON DELETE CASCADE,
            stem TEXT NOT NULL,
            PRIMARY KEY (contact_rid, stem)
        ) WITHOUT ROWID""",
        "CREATE INDEX idx_contact_stems_stem ON contact_stems (stem)",
    ):
        conn.execute(statement)
    conn.execute(f"DELETE FROM {META_TABLE} WHERE key = 'lookup_fingerprint'")


def _v3_rid_order_flag(conn: sqlite3.Connection) -> None:
    """Version 3: record whether ``contacts.rid`` order equals number order.

    Numbers allocated in sequence get ascending rids, so the lookup tables
    (all keyed and indexed by rid) and the FTS5 index (rowid = rid) deliver
    candidates already in number order and a search can stop after
    ``limit`` rows.  Contacts imported with their own numbers out of order
    break that; the flag (``crmkit_meta`` key :data:`RID_ORDER_KEY`, ``"1"``
    or ``"0"``) says whether the store may rely on it.  The store keeps it
    up to date on every insert (it only ever turns ``"0"``).
    """
    broken = conn.execute(
        """SELECT 1 FROM (
            SELECT length(number) AS len, number,
                lag(length(number)) OVER (ORDER BY rid) AS prev_len,
                lag(number) OVER (ORDER BY rid) AS prev_number
            FROM contacts
        ) WHERE prev_len > len OR (prev_len = len AND prev_number > number) LIMIT 1"""
    ).fetchone()
    conn.execute(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (RID_ORDER_KEY, "0" if broken else "1"),
    )


def _v4_correspondence(conn: sqlite3.Connection) -> None:
    """Version 4: correspondence entries, their contact links, revisions and full text.

    See :mod:`crmkit_sqlite.entries` for the tables.
    """
    from crmkit_sqlite.entries import create_tables

    create_tables(conn)


def _v5_bounces(conn: sqlite3.Connection) -> None:
    """Version 5: the bounce log (see :mod:`crmkit_sqlite.cockpit`)."""
    from crmkit_sqlite.cockpit import create_bounce_table

    create_bounce_table(conn)


def _v6_merges(conn: sqlite3.Connection) -> None:
    """Version 6: merge records (see :mod:`crmkit_sqlite.cockpit`)."""
    from crmkit_sqlite.cockpit import create_merge_table

    create_merge_table(conn)


def _v7_dedup_decisions(conn: sqlite3.Connection) -> None:
    """Version 7: "not a duplicate" decisions (see :mod:`crmkit_sqlite.cockpit`)."""
    from crmkit_sqlite.cockpit import create_decision_table

    create_decision_table(conn)


def _v8_consent_ledger(conn: sqlite3.Connection) -> None:
    """Version 8: the consent ledger (see :mod:`crmkit_sqlite.cockpit`)."""
    from crmkit_sqlite.cockpit import create_consent_table

    create_consent_table(conn)


def _v9_privacy_requests(conn: sqlite3.Connection) -> None:
    """Version 9: data-subject requests (see :mod:`crmkit_sqlite.cockpit`)."""
    from crmkit_sqlite.cockpit import create_privacy_table

    create_privacy_table(conn)


def _v10_legal_holds(conn: sqlite3.Connection) -> None:
    """Version 10: legal holds (see :mod:`crmkit_sqlite.cockpit`)."""
    from crmkit_sqlite.cockpit import create_hold_table

    create_hold_table(conn)


def _v11_tombstones(conn: sqlite3.Connection) -> None:
    """Version 11: tombstones of erased contacts (see :mod:`crmkit_sqlite.cockpit`)."""
    from crmkit_sqlite.cockpit import create_tombstone_table

    create_tombstone_table(conn)


def _v12_records(conn: sqlite3.Connection) -> None:
    """Version 12: records of the analytical side — saved segments, campaign lists,
    revenue, quality snapshots — as JSON by kind and key (see :mod:`crmkit_sqlite.segments`)."""
    from crmkit_sqlite.segments import create_record_table

    create_record_table(conn)


def _sync_links(conn: sqlite3.Connection) -> None:
    """Sync links and sync state of contact sync (see :mod:`crmkit_sqlite.synclinks`).

    Self-contained (two new tables, nothing else touched), so it can move to
    another position in :data:`MIGRATIONS` when branches are merged.
    """
    from crmkit_sqlite.synclinks import create_tables

    create_tables(conn)


def _v14_flag_columns(conn: sqlite3.Connection) -> None:
    """Version 14: the lead status and the restriction flag as columns of ``contacts``.

    Until version 13 two partial indexes (the worklist's leads by status, the
    restricted contacts) were defined over ``json_extract`` of ``data``, so
    every insert and update parsed the JSON document twice just to decide
    whether the row belonged in them.  Now the writer fills ``lead_status``
    (the status of ``lead``, ``NULL`` for a contact that is not a lead) and
    ``restricted`` (1 while processing is restricted) and the indexes cover
    those columns; the owner index, too, now holds only contacts with an
    owner (``owner = ?`` still uses it).
    """
    conn.execute("ALTER TABLE contacts ADD COLUMN lead_status TEXT")
    conn.execute("ALTER TABLE contacts ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0")
    conn.execute(
        "UPDATE contacts SET lead_status = json_extract(data, '$.lead.status'),"
        " restricted = json_extract(data, '$.restricted_at') IS NOT NULL"
        " WHERE json_extract(data, '$.lead') IS NOT NULL"
        " OR json_extract(data, '$.restricted_at') IS NOT NULL"
    )
    for name in ("idx_contacts_lead_status", "idx_contacts_restricted", "idx_contacts_owner"):
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute(
        "CREATE INDEX idx_contacts_lead_status ON contacts (lead_status)"
        " WHERE lead_status IS NOT NULL"
    )
    conn.execute("CREATE INDEX idx_contacts_restricted ON contacts (rid) WHERE restricted = 1")
    conn.execute("CREATE INDEX idx_contacts_owner ON contacts (owner) WHERE owner IS NOT NULL")


#: The ``crmkit_meta`` key of the rid-order flag (schema version 3).
RID_ORDER_KEY: Final = "rid_in_number_order"

#: Index *i* migrates from schema version *i* to *i + 1*.
MIGRATIONS: Final[list[Migration]] = [
    _v1_core_tables,
    _v2_lookup_tables,
    _v3_rid_order_flag,
    _v4_correspondence,
    _v5_bounces,
    _v6_merges,
    _v7_dedup_decisions,
    _v8_consent_ledger,
    _v9_privacy_requests,
    _v10_legal_holds,
    _v11_tombstones,
    _v12_records,
    _sync_links,  # version 13
    _v14_flag_columns,
]
#: The schema version this release creates and understands.
SCHEMA_VERSION: Final = len(MIGRATIONS)


def read_schema_version(conn: sqlite3.Connection) -> int | None:
    """The stored schema version, or ``None`` if the database has no ``crmkit_meta``.

    Raises :class:`ValueError` if the table exists but the value is not a
    non-negative integer.
    """
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (META_TABLE,)
    ).fetchone()
    if found is None:
        return None
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise ValueError("crmkit_meta has no schema_version")
    value = str(row[0])
    if not value.isdigit():
        raise ValueError(f"schema_version is {value!r}, not a number")
    return int(value)


def migrate(conn: sqlite3.Connection, current: int, target: int = SCHEMA_VERSION) -> None:
    """Apply ``MIGRATIONS[current:target]`` and record *target* as the schema version.

    The caller owns the transaction: run this between ``BEGIN IMMEDIATE`` and
    ``COMMIT`` so an interrupted upgrade leaves the old schema intact.
    """
    for step in MIGRATIONS[current:target]:
        step(conn)
    conn.execute(
        f"INSERT INTO {META_TABLE} (key, value) VALUES ('schema_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(target),),
    )


__all__ = [
    "CONTACT_SEQUENCE",
    "META_TABLE",
    "MIGRATIONS",
    "RID_ORDER_KEY",
    "SCHEMA_VERSION",
    "Migration",
    "migrate",
    "read_schema_version",
]
