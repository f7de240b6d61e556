"""The database schema and its migrations.

Everything lives in one PostgreSQL schema (``crmkit`` unless the URL names
another: ``?schema=crm``), so crmkit can share a database with other
applications.  The store sets ``search_path`` to that schema on every pooled
connection, so the statements here name tables without a schema.

``MIGRATIONS[i]`` takes a schema from version *i* to *i + 1*;
:data:`SCHEMA_VERSION` is the version this release writes.  The store runs
the missing migrations in one transaction (PostgreSQL DDL is transactional)
while holding an advisory lock, so two processes opening a new database at
once do not both migrate, and an interrupted upgrade leaves the old schema
intact.  A released migration never changes: a new release appends one.

Text columns that are compared or ordered use ``COLLATE "C"`` (code-point
order, as the other stores and Python compare), whatever the database's
default collation is.  The search keys (folded name words, e-mail addresses
and domains, E.164 numbers, switchboard stems, folded entry words) are the
ones :mod:`crmkit.search` and :mod:`crmkit.correspondence` compute, kept in
side tables with B-tree indexes (``text_pattern_ops`` for prefix look-ups),
so every search gives exactly what the memory and SQLite stores give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import psycopg
from psycopg import sql

from crmkit_postgres.segments import RECORDS_DDL
from crmkit_postgres.synclinks import DDL as SYNC_LINKS_DDL

#: The table holding ``schema_version`` (and nothing a user edits).
META_TABLE: Final = "crmkit_meta"
#: The schema used when the URL names none.
DEFAULT_SCHEMA: Final = "crmkit"
#: The name of the contact-number counter in the ``counters`` table.
CONTACT_COUNTER: Final = "contact_number"

_IDENTIFIER_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

#: Version 1: metadata, the number counter, contacts, their search keys,
#: affiliations and the audit log.
_V1: Final[tuple[str, ...]] = (
    f"""CREATE TABLE {META_TABLE} (
        key text COLLATE "C" PRIMARY KEY,
        value text NOT NULL
    )""",
    # A counter row, not a SEQUENCE: a number is handed out inside the
    # transaction that stores the contact, so a rolled-back insert gives its
    # number back (the contract suite requires it); concurrent inserts wait
    # for the row lock and get distinct numbers.
    """CREATE TABLE counters (
        name text COLLATE "C" PRIMARY KEY,
        value bigint NOT NULL
    )""",
    f"INSERT INTO counters (name, value) VALUES ('{CONTACT_COUNTER}', 0)",
    """CREATE TABLE contacts (
        id text COLLATE "C" PRIMARY KEY,
        number text COLLATE "C" NOT NULL UNIQUE,
        number_seq bigint,
        kind text NOT NULL CHECK (kind IN ('person', 'company')),
        version integer NOT NULL,
        archived boolean NOT NULL DEFAULT false,
        owner text COLLATE "C",
        data jsonb NOT NULL
    )""",
    # Number order as crmkit defines it: shorter numbers first, then by text.
    "CREATE INDEX contacts_number_order ON contacts (length(number), number)",
    "CREATE INDEX contacts_owner ON contacts (owner)",
    """CREATE TABLE contact_emails (
        contact_id text COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        address_lower text COLLATE "C" NOT NULL,
        domain text COLLATE "C" NOT NULL,
        PRIMARY KEY (contact_id, address_lower)
    )""",
    "CREATE INDEX contact_emails_address ON contact_emails (address_lower)",
    "CREATE INDEX contact_emails_domain ON contact_emails (domain)",
    """CREATE TABLE contact_phones (
        contact_id text COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        e164 text COLLATE "C" NOT NULL,
        PRIMARY KEY (contact_id, e164)
    )""",
    "CREATE INDEX contact_phones_e164 ON contact_phones (e164)",
    """CREATE TABLE contact_stems (
        contact_id text COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        stem text COLLATE "C" NOT NULL,
        PRIMARY KEY (contact_id, stem)
    )""",
    "CREATE INDEX contact_stems_stem ON contact_stems (stem)",
    # Folded name words (crmkit.search.name_words), one row per word.
    """CREATE TABLE contact_words (
        contact_id text COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        word text COLLATE "C" NOT NULL,
        PRIMARY KEY (contact_id, word)
    )""",
    "CREATE INDEX contact_words_word ON contact_words (word text_pattern_ops)",
    """CREATE TABLE affiliations (
        id text COLLATE "C" PRIMARY KEY,
        person_id text COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        company_id text COLLATE "C" NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        version integer NOT NULL,
        data jsonb NOT NULL
    )""",
    "CREATE INDEX affiliations_person ON affiliations (person_id)",
    "CREATE INDEX affiliations_company ON affiliations (company_id)",
    # The append-only audit log; seq keeps the order of appending.
    """CREATE TABLE audit (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL,
        actor_id text COLLATE "C" NOT NULL,
        entity_id text COLLATE "C",
        data jsonb NOT NULL
    )""",
    "CREATE INDEX audit_entity ON audit (entity_id)",
    "CREATE INDEX audit_actor ON audit (actor_id)",
)

#: Version 2: correspondence, bounces, merges, "not a duplicate" decisions,
#: the consent ledger, data-subject requests, legal holds and tombstones.
_V2: Final[tuple[str, ...]] = (
    """CREATE TABLE correspondence (
        rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        revision integer NOT NULL,
        occurred_at timestamptz NOT NULL,
        channel text COLLATE "C" NOT NULL,
        internal boolean NOT NULL,
        source text COLLATE "C" UNIQUE,
        follow_up_due date,
        follow_up_assignee text COLLATE "C",
        follow_up_open boolean NOT NULL DEFAULT false,
        data jsonb NOT NULL
    )""",
    "CREATE INDEX correspondence_occurred ON correspondence (occurred_at)",
    """CREATE INDEX correspondence_follow_up ON correspondence (follow_up_due)
        WHERE follow_up_open""",
    # No ON DELETE on the contact: a contact with history is not deleted by accident.
    """CREATE TABLE correspondence_contacts (
        contact_id text COLLATE "C" NOT NULL REFERENCES contacts (id),
        entry_rid bigint NOT NULL REFERENCES correspondence (rid) ON DELETE CASCADE,
        PRIMARY KEY (contact_id, entry_rid)
    )""",
    "CREATE INDEX correspondence_contacts_entry ON correspondence_contacts (entry_rid)",
    """CREATE TABLE correspondence_revisions (
        entry_rid bigint NOT NULL REFERENCES correspondence (rid) ON DELETE CASCADE,
        revision integer NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (entry_rid, revision)
    )""",
    # Folded words of subject, content, agreements and next steps (entry_words).
    """CREATE TABLE correspondence_words (
        entry_rid bigint NOT NULL REFERENCES correspondence (rid) ON DELETE CASCADE,
        word text COLLATE "C" NOT NULL,
        PRIMARY KEY (entry_rid, word)
    )""",
    "CREATE INDEX correspondence_words_word ON correspondence_words (word text_pattern_ops)",
    """CREATE TABLE bounces (
        id text COLLATE "C" PRIMARY KEY,
        address_lower text COLLATE "C" NOT NULL,
        at timestamptz NOT NULL,
        processed boolean NOT NULL,
        version integer NOT NULL,
        data jsonb NOT NULL
    )""",
    "CREATE INDEX bounces_open ON bounces (at) WHERE NOT processed",
    "CREATE INDEX bounces_address ON bounces (address_lower)",
    """CREATE TABLE merges (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        survivor_id text COLLATE "C" NOT NULL,
        data jsonb NOT NULL
    )""",
    "CREATE INDEX merges_survivor ON merges (survivor_id)",
    """CREATE TABLE dedup_decisions (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        data jsonb NOT NULL
    )""",
    """CREATE TABLE consent_events (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        contact_id text COLLATE "C" NOT NULL REFERENCES contacts (id),
        purpose text COLLATE "C" NOT NULL,
        at timestamptz NOT NULL,
        data jsonb NOT NULL
    )""",
    "CREATE INDEX consent_events_contact ON consent_events (contact_id, at)",
    """CREATE TABLE privacy_requests (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        status text COLLATE "C" NOT NULL,
        received date NOT NULL,
        version integer NOT NULL,
        data jsonb NOT NULL
    )""",
    "CREATE INDEX privacy_requests_status ON privacy_requests (status, received)",
    """CREATE TABLE legal_holds (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        contact_id text COLLATE "C" NOT NULL REFERENCES contacts (id),
        data jsonb NOT NULL
    )""",
    "CREATE INDEX legal_holds_contact ON legal_holds (contact_id)",
    """CREATE TABLE tombstones (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        contact_id text COLLATE "C" NOT NULL UNIQUE,
        data jsonb NOT NULL
    )""",
    # The worklist's lead and restriction questions read few rows: partial indexes.
    "CREATE INDEX contacts_lead_status ON contacts ((data -> 'lead' ->> 'status'))"
    " WHERE data ->> 'lead' IS NOT NULL",
    "CREATE INDEX contacts_restricted ON contacts (id) WHERE data ->> 'restricted_at' IS NOT NULL",
)

#: Version 3: records of the analytical side (saved segments, campaign lists,
#: revenue, quality snapshots) as JSON text by kind and key; see
#: :mod:`crmkit_postgres.segments`.
_V3: Final[tuple[str, ...]] = RECORDS_DDL

#: Version 5: the word and domain indexes carry the contact id, so a search reads the
#: contacts of its words (and their intersection) from the index alone.
_V5: Final[tuple[str, ...]] = (
    "CREATE INDEX contact_words_word_id ON contact_words (word text_pattern_ops, contact_id)",
    "DROP INDEX contact_words_word",
    "CREATE INDEX contact_emails_domain_id ON contact_emails (domain, contact_id)",
    "DROP INDEX contact_emails_domain",
)

#: Index *i* migrates from schema version *i* to *i + 1* (DDL statements, in order).
#: Version 4: sync links and sync state (self-contained, see :mod:`crmkit_postgres.synclinks`).
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (_V1, _V2, _V3, SYNC_LINKS_DDL, _V5)
#: The schema version this release creates and understands.
SCHEMA_VERSION: Final = len(MIGRATIONS)


def check_schema_name(name: object) -> str:
    """*name* if it is a plain PostgreSQL identifier; else ``ValueError`` saying why.

    Letters, digits and ``_``, not starting with a digit, at most 63
    characters, and not ``pg_…`` (reserved by PostgreSQL).  The name is
    still always quoted (:class:`psycopg.sql.Identifier`) where it is used.
    """
    if not isinstance(name, str) or not _IDENTIFIER_RE.match(name):
        raise ValueError("letters, digits and _ only, not starting with a digit, 1-63 characters")
    if name.lower().startswith("pg_"):
        raise ValueError("names starting with pg_ are reserved by PostgreSQL")
    return name


def read_schema_version(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> int | None:
    """The stored schema version; ``None`` if *schema* has no ``crmkit_meta`` table.

    Raises :class:`ValueError` if the table exists but the value is not a
    non-negative integer.
    """
    found = conn.execute(
        "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = %s",
        (schema, META_TABLE),
    ).fetchone()
    if found is None:
        return None
    row = conn.execute(
        sql.SQL("SELECT value FROM {}.{} WHERE key = 'schema_version'").format(
            sql.Identifier(schema), sql.Identifier(META_TABLE)
        )
    ).fetchone()
    if row is None:
        raise ValueError(f"{META_TABLE} has no schema_version")
    value = str(row[0])
    if not value.isdigit():
        raise ValueError(f"schema_version is {value!r}, not a number")
    return int(value)


def other_tables(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> Sequence[str]:
    """The tables and views in *schema* (to refuse a schema crmkit did not make)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY c.relname",
        (schema,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def migrate(
    conn: psycopg.Connection[tuple[object, ...]], current: int, target: int = SCHEMA_VERSION
) -> None:
    """Apply ``MIGRATIONS[current:target]`` and record *target* as the schema version.

    The caller owns the transaction and has set ``search_path`` to the schema.
    """
    for step in MIGRATIONS[current:target]:
        for statement in step:
            conn.execute(statement)  # DDL, no user values
    conn.execute(
        f"INSERT INTO {META_TABLE} (key, value) VALUES ('schema_version', %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(target),),
    )


__all__ = [
    "CONTACT_COUNTER",
    "DEFAULT_SCHEMA",
    "META_TABLE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "check_schema_name",
    "migrate",
    "other_tables",
    "read_schema_version",
]
