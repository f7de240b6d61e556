"""What the worklist asks of SQLite: contact summaries by filter, and bounces.

:func:`summaries` turns a :class:`crmkit.summary.SummaryFilter` into one
``SELECT`` over ``contacts`` with ``EXISTS`` probes into the lookup,
affiliation and correspondence tables, and reads only the JSON fields a
summary shows (``json_extract``), so a million contacts are filtered in the
database rather than loaded into Python.  What a filter means is defined by
:func:`crmkit.summary.matches`; the contract suite checks that this agrees.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Collection, Iterator
from typing import Any, Final

import attrs

from crmkit.bounce import Bounce
from crmkit.consent import ConsentEvent
from crmkit.errors import ConflictError, NotFoundError
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.privacy import PrivacyRequest, Tombstone
from crmkit.retention import LegalHold
from crmkit.serialize import to_dict
from crmkit.summary import (
    SAMPLE_MODULUS,
    ContactSummary,
    SummaryFilter,
    sample_coefficients,
)
from crmkit_sqlite.rows import VersionedTable, load_row

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Written exactly like this in the indexes (schema version 14) and the
#: queries, so SQLite uses the partial indexes.
_LEAD_STATUS_OF_ROW: Final = "lead_status"
_IS_LEAD_ROW: Final = "lead_status IS NOT NULL"
_RESTRICTED_ROW: Final = "restricted = 1"
#: The version 5 and 11 definitions (replaced by version 14's).
_LEAD_STATUS_OF_JSON: Final = "json_extract(data, '$.lead.status')"
_IS_LEAD_JSON: Final = "json_extract(data, '$.lead') IS NOT NULL"
_RESTRICTED_JSON: Final = "json_extract(data, '$.restricted_at') IS NOT NULL"
_SEPARATORS: Final = (",", ":")
_LEAD_SINCE: Final = (
    "COALESCE(json_extract(c.data, '$.lead.since'), "
    "substr(json_extract(c.data, '$.created_at'), 1, 10))"
)
#: One ``json_extract`` with many paths parses each row's JSON once (not once per field).
_COLUMNS: Final = (
    "c.id, c.number, c.kind, c.owner, c.archived, json_extract(c.data, '$.title', "
    "'$.first_name', '$.last_name', '$.name', '$.relationships', '$.lead.status', "
    "'$.lead.since', '$.created_at', '$.updated_at', '$.legal_basis'), "
    "EXISTS (SELECT 1 FROM contact_emails e WHERE e.contact_rid = c.rid), "
    "CASE WHEN c.kind = 'person' "
    "THEN EXISTS (SELECT 1 FROM affiliations a WHERE a.person_id = c.id{active}) "
    "ELSE EXISTS (SELECT 1 FROM affiliations a WHERE a.company_id = c.id{active}) END"
)


def create_merge_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 6: merge records (for showing and undoing merges)."""
    conn.execute(
        """CREATE TABLE merges (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            survivor_id TEXT NOT NULL,
            data TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX idx_merges_survivor ON merges (survivor_id)")


def add_merge(conn: sqlite3.Connection, record: MergeRecord) -> None:
    """Insert a merge record."""
    if conn.execute("SELECT 1 FROM merges WHERE id = ?", (record.id,)).fetchone():
        raise ConflictError(code="exists", kind="merge", key=record.id)
    conn.execute(
        "INSERT INTO merges (id, survivor_id, data) VALUES (?, ?, ?)",
        (record.id, record.survivor_id, _merge_json(record)),
    )


def update_merge(conn: sqlite3.Connection, record: MergeRecord) -> None:
    """Replace a merge record."""
    done = conn.execute(
        "UPDATE merges SET survivor_id = ?, data = ? WHERE id = ?",
        (record.survivor_id, _merge_json(record), record.id),
    ).rowcount
    if not done:
        raise NotFoundError(kind="merge", key=record.id)


def get_merge(conn: sqlite3.Connection, path: str, merge_id: str) -> MergeRecord:
    """The merge record with this id."""
    row = None
    if isinstance(merge_id, str):
        row = conn.execute("SELECT data FROM merges WHERE id = ?", (merge_id,)).fetchone()
    if row is None:
        raise NotFoundError(kind="merge", key=merge_id)
    return load_row(MergeRecord, path, f"merge {merge_id}", row[0])


def merges_of(conn: sqlite3.Connection, path: str, survivor_id: str) -> list[MergeRecord]:
    """The merges into *survivor_id*, oldest first."""
    rows = conn.execute(
        "SELECT id, data FROM merges WHERE survivor_id = ? ORDER BY seq", (survivor_id,)
    ).fetchall()
    return [load_row(MergeRecord, path, f"merge {i}", d) for i, d in rows]


def _merge_json(record: MergeRecord) -> str:
    return json.dumps(to_dict(record), ensure_ascii=False, separators=_SEPARATORS)


def create_decision_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 7: "not a duplicate" decisions."""
    conn.execute(
        """CREATE TABLE dedup_decisions (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            key TEXT NOT NULL,
            data TEXT NOT NULL
        )"""
    )


def add_decision(conn: sqlite3.Connection, decision: DedupDecision) -> None:
    """Insert a decision."""
    if conn.execute("SELECT 1 FROM dedup_decisions WHERE id = ?", (decision.id,)).fetchone():
        raise ConflictError(code="exists", kind="decision", key=decision.id)
    data = json.dumps(to_dict(decision), ensure_ascii=False, separators=_SEPARATORS)
    conn.execute(
        "INSERT INTO dedup_decisions (id, key, data) VALUES (?, ?, ?)",
        (decision.id, decision.key, data),
    )


def decisions(conn: sqlite3.Connection, path: str) -> list[DedupDecision]:
    """Every decision, oldest first."""
    rows = conn.execute("SELECT id, data FROM dedup_decisions ORDER BY seq").fetchall()
    return [load_row(DedupDecision, path, f"decision {i}", d) for i, d in rows]


def create_consent_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 8: the append-only consent ledger."""
    conn.execute(
        """CREATE TABLE consent_events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            contact_id TEXT NOT NULL REFERENCES contacts (id),
            purpose TEXT NOT NULL,
            at_us INTEGER NOT NULL,
            data TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX idx_consent_contact ON consent_events (contact_id, at_us)")


def append_consent(conn: sqlite3.Connection, event: ConsentEvent) -> None:
    """Append a consent event."""
    if conn.execute("SELECT 1 FROM consent_events WHERE id = ?", (event.id,)).fetchone():
        raise ConflictError(code="exists", kind="consent event", key=event.id)
    if not conn.execute("SELECT 1 FROM contacts WHERE id = ?", (event.contact_id,)).fetchone():
        raise NotFoundError(kind="contact", key=event.contact_id)
    data = json.dumps(to_dict(event), ensure_ascii=False, separators=_SEPARATORS)
    conn.execute(
        "INSERT INTO consent_events (id, contact_id, purpose, at_us, data) VALUES (?, ?, ?, ?, ?)",
        (event.id, event.contact_id, event.purpose, _micros(event.at), data),
    )


def consent_events(
    conn: sqlite3.Connection, path: str, contact_id: str, purpose: str | None
) -> list[ConsentEvent]:
    """A contact's consent events, by time, then as appended."""
    sql = "SELECT id, data FROM consent_events WHERE contact_id = ?"
    params: list[Any] = [contact_id]
    if purpose is not None:
        sql += " AND purpose = ?"
        params.append(purpose)
    rows = conn.execute(sql + " ORDER BY at_us, seq", params).fetchall()
    return [load_row(ConsentEvent, path, f"consent event {i}", d) for i, d in rows]


def create_privacy_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 9: data-subject requests."""
    conn.execute(
        """CREATE TABLE privacy_requests (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL,
            received TEXT NOT NULL,
            version INTEGER NOT NULL,
            data TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX idx_privacy_status ON privacy_requests (status, received)")


#: The data-subject requests (schema version 9).
PRIVACY_REQUESTS: Final = VersionedTable(
    table="privacy_requests",
    kind="privacy request",
    cls=PrivacyRequest,
    columns=("status", "received"),
    values=lambda r: (r.status, r.received.isoformat()),
)


def add_privacy_request(conn: sqlite3.Connection, request: PrivacyRequest) -> PrivacyRequest:
    """Insert a request with version 1."""
    return PRIVACY_REQUESTS.add(conn, request)


def get_privacy_request(conn: sqlite3.Connection, path: str, request_id: str) -> PrivacyRequest:
    """The request with this id."""
    return PRIVACY_REQUESTS.get(conn, path, request_id)


def update_privacy_request(
    conn: sqlite3.Connection, path: str, request: PrivacyRequest
) -> PrivacyRequest:
    """Replace a request, checking its version."""
    return PRIVACY_REQUESTS.update(conn, path, request)


def privacy_requests(
    conn: sqlite3.Connection, path: str, status: str | None
) -> list[PrivacyRequest]:
    """Requests by received day, then as added."""
    sql = "SELECT id, data FROM privacy_requests"
    params: list[Any] = []
    if status is not None:
        sql += " WHERE status = ?"
        params.append(status)
    rows = conn.execute(sql + " ORDER BY received, seq", params).fetchall()
    return [load_row(PrivacyRequest, path, f"privacy request {i}", d) for i, d in rows]


def create_hold_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 10: legal holds."""
    conn.execute(
        """CREATE TABLE legal_holds (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            contact_id TEXT NOT NULL REFERENCES contacts (id),
            data TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX idx_legal_holds_contact ON legal_holds (contact_id)")


def put_legal_hold(conn: sqlite3.Connection, hold: LegalHold) -> None:
    """Insert or replace a legal hold."""
    if not conn.execute("SELECT 1 FROM contacts WHERE id = ?", (hold.contact_id,)).fetchone():
        raise NotFoundError(kind="contact", key=hold.contact_id)
    data = json.dumps(to_dict(hold), ensure_ascii=False, separators=_SEPARATORS)
    conn.execute(
        "INSERT INTO legal_holds (id, contact_id, data) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id, data = excluded.data",
        (hold.id, hold.contact_id, data),
    )


def legal_holds(conn: sqlite3.Connection, path: str, contact_id: str | None) -> list[LegalHold]:
    """Legal holds, oldest first."""
    sql = "SELECT id, data FROM legal_holds"
    params: list[Any] = []
    if contact_id is not None:
        sql += " WHERE contact_id = ?"
        params.append(contact_id)
    rows = conn.execute(sql + " ORDER BY seq", params).fetchall()
    return [load_row(LegalHold, path, f"legal hold {i}", d) for i, d in rows]


def create_tombstone_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 11: tombstones of erased contacts, and a small
    partial index of the restricted ones (the worklist shows their erasure dates)."""
    conn.execute(f"CREATE INDEX idx_contacts_restricted ON contacts (rid) WHERE {_RESTRICTED_JSON}")
    conn.execute(
        """CREATE TABLE tombstones (
            seq INTEGER PRIMARY KEY,
            contact_id TEXT NOT NULL UNIQUE,
            data TEXT NOT NULL
        )"""
    )


def erase_contact(
    conn: sqlite3.Connection,
    path: str,
    contact_id: str,
    tombstone: Tombstone,
    scrub: Collection[str],
) -> None:
    """See ``Store.erase_contact``; the caller holds the transaction and savepoint."""
    if conn.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is None:
        raise NotFoundError(kind="contact", key=contact_id)
    entry_rows = conn.execute(
        "SELECT e.id, e.rid FROM correspondence e JOIN correspondence_contacts cc"
        " ON cc.entry_rid = e.rid WHERE cc.contact_id = ?",
        (contact_id,),
    ).fetchall()
    for entry_id, rid in entry_rows:
        others = conn.execute(
            "SELECT count(*) FROM correspondence_contacts WHERE entry_rid = ? AND contact_id != ?",
            (rid, contact_id),
        ).fetchone()[0]
        if others:
            raise ConflictError(
                code="store.entry_shared", kind="correspondence entry", key=entry_id
            )
        conn.execute("DELETE FROM correspondence WHERE rid = ?", (rid,))
    conn.execute("DELETE FROM consent_events WHERE contact_id = ?", (contact_id,))
    conn.execute("DELETE FROM legal_holds WHERE contact_id = ?", (contact_id,))
    for bounce_id, data in conn.execute("SELECT id, data FROM bounces").fetchall():
        if contact_id in json.loads(data).get("contact_ids", []):
            conn.execute("DELETE FROM bounces WHERE id = ?", (bounce_id,))
    for merge_id, data in conn.execute("SELECT id, data FROM merges").fetchall():
        record = json.loads(data)
        merged = [c.get("id") for c in record.get("merged_before", [])]
        if record.get("survivor_id") == contact_id or contact_id in merged:
            conn.execute("DELETE FROM merges WHERE id = ?", (merge_id,))
    for request in privacy_requests(conn, path, None):
        if request.contact_id == contact_id and request.requester:
            blank = json.dumps(to_dict(attrs.evolve(request, requester="")),
                               ensure_ascii=False, separators=_SEPARATORS)  # fmt: skip
            conn.execute("UPDATE privacy_requests SET data = ? WHERE id = ?", (blank, request.id))
    ids = sorted({contact_id, *scrub})
    marks = ", ".join("?" * len(ids))
    for seq, data in conn.execute(
        f"SELECT seq, data FROM audit WHERE entity_id IN ({marks})", ids
    ).fetchall():
        record = json.loads(data)
        changes = record.get("changes") or []
        if any(c.get("old") is not None or c.get("new") is not None for c in changes):
            record["changes"] = [{**c, "old": None, "new": None} for c in changes]
            conn.execute(
                "UPDATE audit SET data = ? WHERE seq = ?",
                (json.dumps(record, ensure_ascii=False, separators=_SEPARATORS), seq),
            )
    conn.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
    conn.execute(
        "INSERT INTO tombstones (contact_id, data) VALUES (?, ?)",
        (contact_id, json.dumps(to_dict(tombstone), ensure_ascii=False, separators=_SEPARATORS)),
    )


def tombstones(conn: sqlite3.Connection, path: str) -> list[Tombstone]:
    """Every tombstone, oldest first."""
    rows = conn.execute("SELECT contact_id, data FROM tombstones ORDER BY seq").fetchall()
    return [load_row(Tombstone, path, f"tombstone {i}", d) for i, d in rows]


def purge(conn: sqlite3.Connection) -> None:
    """Rewrite the full-text indexes (old segments are freed, and zeroed by
    ``secure_delete``) and checkpoint the WAL into the file, truncating it."""
    for table in ("contact_names", "correspondence_text"):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def create_bounce_table(conn: sqlite3.Connection) -> None:
    """The DDL of schema version 5: the bounce log."""
    conn.execute(
        """CREATE TABLE bounces (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            address_lower TEXT NOT NULL,
            at TEXT NOT NULL,
            processed INTEGER NOT NULL,
            version INTEGER NOT NULL,
            data TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX idx_bounces_open ON bounces (at) WHERE processed = 0")
    conn.execute("CREATE INDEX idx_bounces_address ON bounces (address_lower)")
    # The worklist's lead questions read only leads: a partial index on their status.
    conn.execute(
        f"CREATE INDEX idx_contacts_lead_status ON contacts ({_LEAD_STATUS_OF_JSON})"
        f" WHERE {_IS_LEAD_JSON}"
    )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def _json_list(values: frozenset[str]) -> str:
    return json.dumps(sorted(values))


def _active_sql(where: SummaryFilter) -> tuple[str, list[Any]]:
    """The ``AND …`` on affiliations ``a`` that keeps those active on ``where.active_on``."""
    if where.active_on is None:
        return "", []
    day = where.active_on.isoformat()
    return (
        " AND (json_extract(a.data, '$.since') IS NULL OR json_extract(a.data, '$.since') <= ?)"
        " AND (json_extract(a.data, '$.until') IS NULL OR json_extract(a.data, '$.until') >= ?)",
        [day, day],
    )


def filter_sql(where: SummaryFilter) -> tuple[str, list[Any]]:
    """The ``WHERE`` conditions (joined by ``AND``, on ``contacts c``) and their parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    if not where.include_archived:
        clauses.append("c.archived = 0")
    if where.kind is not None:
        clauses.append("c.kind = ?")
        params.append(where.kind)
    if where.relationships:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(c.data, '$.relationships') r"
            " WHERE r.value IN (SELECT value FROM json_each(?)))"
        )
        params.append(_json_list(where.relationships))
    if where.has_email is not None:
        probe = "EXISTS (SELECT 1 FROM contact_emails e WHERE e.contact_rid = c.rid)"
        clauses.append(probe if where.has_email else f"NOT {probe}")
    active, active_params = _active_sql(where)
    if where.linked is not None:
        probe = f"EXISTS (SELECT 1 FROM affiliations a WHERE a.person_id = c.id{active})"
        clauses.append("c.kind = 'person'")
        clauses.append(probe if where.linked else f"NOT {probe}")
        params.extend(active_params)
    if where.has_people is not None:
        probe = f"EXISTS (SELECT 1 FROM affiliations a WHERE a.company_id = c.id{active})"
        clauses.append("c.kind = 'company'")
        clauses.append(probe if where.has_people else f"NOT {probe}")
        params.extend(active_params)
    if where.missing_role is not None:
        clauses.append("c.kind = 'company'")
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM affiliations a, json_each(a.data, '$.roles') r"
            f" WHERE a.company_id = c.id AND r.value = ?{active})"
        )
        params.append(where.missing_role)
        params.extend(active_params)
    if where.lead_statuses:
        clauses.append(
            f"{_IS_LEAD_ROW} AND {_LEAD_STATUS_OF_ROW} IN (SELECT value FROM json_each(?))"
        )
        params.append(_json_list(where.lead_statuses))
    if where.lead_since_before is not None:
        clauses.append(f"{_IS_LEAD_ROW} AND {_LEAD_SINCE} < ?")
        params.append(where.lead_since_before.isoformat())
    for key, limit in (("created_at", where.created_before), ("updated_at", where.changed_before)):
        if limit is not None:
            clauses.append(
                f"(json_extract(c.data, '$.{key}') IS NULL OR json_extract(c.data, '$.{key}') < ?)"
            )
            params.append(_iso(limit))
    if where.silent_since is not None:
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM correspondence_contacts cc JOIN correspondence e"
            " ON e.rid = cc.entry_rid WHERE cc.contact_id = c.id AND e.occurred_us >= ?)"
        )
        params.append(_micros(where.silent_since))
    if where.has_legal_basis is not None:
        basis = "json_extract(c.data, '$.legal_basis') IS NOT NULL"
        clauses.append(basis if where.has_legal_basis else f"NOT ({basis})")
    if where.restricted is not None:
        clauses.append(_RESTRICTED_ROW if where.restricted else f"NOT ({_RESTRICTED_ROW})")
    if where.owner is not None:
        clauses.append("c.owner = ?")
        params.append(where.owner)
    return " AND ".join(clauses) or "1", params


def _datetime(value: str | None) -> dt.datetime | None:
    # Stored in UTC ("…+00:00"): the parsed value is that instant already.
    return dt.datetime.fromisoformat(value) if value else None


def _summary(row: tuple[Any, ...]) -> ContactSummary:
    cid, number, kind, owner, archived, extracted, has_email, affiliated = row
    title, first, last, name, rels, status, since, created, updated, basis = json.loads(extracted)
    shown = " ".join(filter(None, (title, first, last))) if kind == "person" else name or ""
    if status is not None and since is None and created:
        since = created[:10]  # a lead without a "since" day: the day it was created (UTC)
    return ContactSummary(
        id=cid,
        number=number,
        kind=kind,
        owner=owner,
        name=shown,
        relationships=frozenset(rels or ()),
        lead_status=status,
        lead_since=dt.date.fromisoformat(since) if status is not None and since else None,
        created_at=_datetime(created),
        updated_at=_datetime(updated),
        archived=bool(archived),
        has_email=bool(has_email),
        has_legal_basis=basis is not None,
        affiliated=bool(affiliated),
    )


def summaries(
    conn: sqlite3.Connection,
    where: SummaryFilter,
    scope: tuple[str, tuple[str, ...]],
    limit: int | None,
) -> list[ContactSummary]:
    """The summaries of the contacts passing *where*; *scope* is the store's clause on ``c``."""
    conditions, params = filter_sql(where)
    scope_sql = scope[0].replace("contacts.", "c.")
    active, active_params = _active_sql(where)
    columns = _COLUMNS.replace("{active}", active)
    sql = f"SELECT {columns} FROM contacts c WHERE {conditions}{scope_sql}"
    params = [*active_params, *active_params, *params, *scope[1]]
    if where.sample_seed is not None:
        a, b = sample_coefficients(where.sample_seed)
        seq = "COALESCE(c.number_seq, 0)"
        m = SAMPLE_MODULUS
        sql += f" ORDER BY (({seq} % {m:d}) * {a:d} + {b:d}) % {m:d}, {seq}"
    else:
        sql += " ORDER BY length(c.number), c.number"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_summary(row) for row in conn.execute(sql, params)]


# -- bounces ------------------------------------------------------------------------------
#: The bounce log (schema version 5).
BOUNCES: Final = VersionedTable(
    table="bounces",
    kind="bounce",
    cls=Bounce,
    columns=("address_lower", "at", "processed"),
    values=lambda b: (b.address.lower(), to_dict(b)["at"], int(b.processed)),
)


def _load_bounce(path: str, bounce_id: str, data: str) -> Bounce:
    return load_row(Bounce, path, f"bounce {bounce_id}", data)


def add_bounce(conn: sqlite3.Connection, bounce: Bounce) -> Bounce:
    """Insert a new bounce with version 1."""
    return BOUNCES.add(conn, bounce)


def update_bounce(conn: sqlite3.Connection, path: str, bounce: Bounce) -> Bounce:
    """Replace a bounce, checking its version."""
    return BOUNCES.update(conn, path, bounce)


def get_bounce(conn: sqlite3.Connection, path: str, bounce_id: str) -> Bounce:
    """The bounce with this id."""
    return BOUNCES.get(conn, path, bounce_id)


def iter_bounces(
    conn: sqlite3.Connection, path: str, *, processed: bool | None, address: str | None
) -> Iterator[Bounce]:
    """Bounces oldest first (``at``, then id)."""
    sql = "SELECT id, data FROM bounces WHERE 1"
    params: list[Any] = []
    if processed is not None:
        sql += " AND processed = ?"
        params.append(int(processed))
    if address is not None:
        sql += " AND address_lower = ?"
        params.append(address.lower())
    sql += " ORDER BY at, id"
    for bounce_id, data in conn.execute(sql, params).fetchall():
        yield _load_bounce(path, bounce_id, data)


__all__ = [
    "add_bounce",
    "add_decision",
    "add_merge",
    "add_privacy_request",
    "append_consent",
    "consent_events",
    "create_bounce_table",
    "create_consent_table",
    "create_decision_table",
    "create_hold_table",
    "create_merge_table",
    "create_privacy_table",
    "create_tombstone_table",
    "decisions",
    "erase_contact",
    "filter_sql",
    "get_bounce",
    "get_merge",
    "get_privacy_request",
    "iter_bounces",
    "legal_holds",
    "merges_of",
    "privacy_requests",
    "purge",
    "put_legal_hold",
    "summaries",
    "tombstones",
    "update_bounce",
    "update_merge",
    "update_privacy_request",
]
