"""Everything beside contacts and affiliations: correspondence, summaries and the cockpit tables.

The functions here run on a connection the store handed out, inside the
transaction and savepoint it opened.  They find candidates through indexes;
the core's functions (:func:`crmkit.correspondence.select_entries`,
:func:`crmkit.summary.matches` as the definition) decide what matches, as in
every store.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection
from typing import Any, Final, Generic, TypeVar

import attrs
import psycopg
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from crmkit.bounce import Bounce
from crmkit.consent import ConsentEvent
from crmkit.correspondence import (
    CorrespondenceEntry,
    EntryRevision,
    TimelineQuery,
    entry_words,
    select_entries,
    select_follow_ups,
)
from crmkit.errors import ConflictError, NotFoundError, StoreError, ValidationError
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.privacy import PrivacyRequest, Tombstone
from crmkit.retention import LegalHold
from crmkit.serialize import from_dict, to_dict
from crmkit.store import check_entry_revision, check_version
from crmkit.summary import SAMPLE_MODULUS, ContactSummary, SummaryFilter, sample_coefficients

Conn = psycopg.Connection[TupleRow]
T = TypeVar("T")
Scope = tuple[str, tuple[str, ...]]

#: Tables that hold personal data (``purge_deleted`` vacuums them).
PERSONAL_TABLES: Final = (
    "contacts",
    "contact_emails",
    "contact_phones",
    "contact_words",
    "contact_stems",
    "affiliations",
    "correspondence",
    "correspondence_contacts",
    "correspondence_revisions",
    "correspondence_words",
    "consent_events",
    "bounces",
    "merges",
    "legal_holds",
    "privacy_requests",
    "audit",
    "sync_links",
)


def _key(value: object) -> bool:
    return isinstance(value, str) and "\x00" not in value


def load(cls: type[T], path: str, what: str, data: Any) -> T:
    """The *cls* entity in the stored JSON *data*; damage is a ``store.corrupt`` error.

    *what* names the row in the message (``"bounce 1f3…"``), *path* the database.
    """
    try:
        if isinstance(data, str):
            data = json.loads(data)
        return from_dict(cls, data)
    except (ValueError, TypeError, ValidationError) as exc:
        raise StoreError(code="store.corrupt", path=path, detail=f"{what}: {exc}") from exc


def _json(entity: object) -> Jsonb:
    return Jsonb(to_dict(entity))


@attrs.frozen
class VersionedTable(Generic[T]):
    """A table of versioned entities (an ``id``, a ``version``, the JSON in ``data``).

    *columns* are the indexed columns kept beside the JSON, *values* computes
    them from an entity.  Adding gives version 1; an update must carry the
    stored version (:func:`crmkit.store.check_version`), and its ``UPDATE``
    repeats the check in its ``WHERE``.
    """

    table: str
    kind: str
    cls: type[T]
    columns: tuple[str, ...]
    values: Callable[[T], tuple[Any, ...]]

    def add(self, conn: Conn, entity: T) -> T:
        """Insert *entity* with version 1; a repeated id is a conflict."""
        key = getattr(entity, "id")  # noqa: B009
        if (
            _key(key)
            and conn.execute(
                f"SELECT 1 FROM {self.table} WHERE id = %s",
                (key,),
            ).fetchone()
        ):
            raise ConflictError(code="exists", kind=self.kind, key=key)
        stored = attrs.evolve(entity, version=1)  # type: ignore[misc]
        names = ", ".join((*self.columns, "version", "data"))
        marks = ", ".join(["%s"] * (len(self.columns) + 3))
        conn.execute(
            f"INSERT INTO {self.table} (id, {names}) VALUES ({marks})",
            (key, *self.values(stored), 1, _json(stored)),
        )
        return stored

    def get(self, conn: Conn, path: str, key: str) -> T:
        """The entity with this id; :class:`crmkit.NotFoundError` if there is none."""
        row = None
        if _key(key):
            row = conn.execute(
                f"SELECT data FROM {self.table} WHERE id = %s",
                (key,),
            ).fetchone()
        if row is None:
            raise NotFoundError(kind=self.kind, key=key)
        return load(self.cls, path, f"{self.kind} {key}", row[0])

    def update(self, conn: Conn, path: str, entity: T) -> T:
        """Replace the stored entity, checking its version."""
        key = getattr(entity, "id")  # noqa: B009
        current = self.get(conn, path, key)
        stored_version = getattr(current, "version")  # noqa: B009
        check_version(self.kind, key, getattr(entity, "version"), stored_version)  # noqa: B009
        stored = attrs.evolve(entity, version=stored_version + 1)  # type: ignore[misc]
        sets = ", ".join(f"{c} = %s" for c in (*self.columns, "version", "data"))
        done = conn.execute(
            f"UPDATE {self.table} SET {sets} WHERE id = %s AND version = %s",
            (*self.values(stored), stored_version + 1, _json(stored), key, stored_version),
        ).rowcount
        if done != 1:
            raise ConflictError(
                kind=self.kind, key=key, expected=stored_version, actual=stored_version + 1
            )
        return stored


# -- correspondence --------------------------------------------------------------------------
_ENTRY_COLUMNS: Final = (
    "revision",
    "occurred_at",
    "channel",
    "internal",
    "source",
    "follow_up_due",
    "follow_up_assignee",
    "follow_up_open",
    "data",
)


def _entry_row(entry: CorrespondenceEntry) -> tuple[Any, ...]:
    fu = entry.follow_up
    return (
        entry.revision,
        entry.occurred_at,
        entry.channel,
        entry.internal,
        entry.source,
        fu.due if fu else None,
        fu.assignee if fu else None,
        entry.has_open_follow_up,
        _json(entry),
    )


def _index_entry(conn: Conn, rid: int, entry: CorrespondenceEntry) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO correspondence_contacts (contact_id, entry_rid) VALUES (%s, %s)",
            [(contact_id, rid) for contact_id in dict.fromkeys(entry.contact_ids)],
        )
        words = entry_words(entry)
        if words:
            cur.executemany(
                "INSERT INTO correspondence_words (entry_rid, word) VALUES (%s, %s)",
                [(rid, w) for w in dict.fromkeys(words)],
            )


def _check_contacts(conn: Conn, entry: CorrespondenceEntry) -> None:
    ids = list(entry.contact_ids)
    found = {
        r[0] for r in conn.execute("SELECT id FROM contacts WHERE id = ANY(%s)", (ids,)).fetchall()
    }
    for contact_id in ids:
        if contact_id not in found:
            raise NotFoundError(kind="contact", key=contact_id)


def _insert_revision(conn: Conn, rid: int, revision: EntryRevision) -> None:
    conn.execute(
        "INSERT INTO correspondence_revisions (entry_rid, revision, data) VALUES (%s, %s, %s)",
        (rid, revision.revision, _json(revision)),
    )


def add_entry(conn: Conn, revision: EntryRevision) -> CorrespondenceEntry:
    """Insert a new entry with its first revision (see ``Store.add_entry``)."""
    entry = revision.entry
    if conn.execute("SELECT 1 FROM correspondence WHERE id = %s", (entry.id,)).fetchone():
        raise ConflictError(code="exists", kind="correspondence entry", key=entry.id)
    if (
        entry.source is not None
        and conn.execute(
            "SELECT 1 FROM correspondence WHERE source = %s", (entry.source,)
        ).fetchone()
    ):
        raise ConflictError(code="exists", kind="correspondence entry", key=entry.source)
    check_entry_revision(revision, None)
    _check_contacts(conn, entry)
    names = ", ".join(_ENTRY_COLUMNS)
    marks = ", ".join(["%s"] * len(_ENTRY_COLUMNS))
    row = conn.execute(
        f"INSERT INTO correspondence (id, {names}) VALUES (%s, {marks}) RETURNING rid",
        (entry.id, *_entry_row(entry)),
    ).fetchone()
    assert row is not None
    _index_entry(conn, row[0], entry)
    _insert_revision(conn, row[0], revision)
    return entry


def correct_entry(conn: Conn, revision: EntryRevision) -> CorrespondenceEntry:
    """Replace the current row with a new revision and keep it (see ``Store.correct_entry``)."""
    entry = revision.entry
    row = conn.execute(
        "SELECT rid, revision FROM correspondence WHERE id = %s FOR UPDATE", (entry.id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(kind="correspondence entry", key=entry.id)
    rid, stored = row
    check_entry_revision(revision, stored)
    _check_contacts(conn, entry)
    sets = ", ".join(f"{c} = %s" for c in _ENTRY_COLUMNS)
    conn.execute(
        f"UPDATE correspondence SET {sets} WHERE rid = %s",
        (*_entry_row(entry), rid),
    )
    conn.execute("DELETE FROM correspondence_contacts WHERE entry_rid = %s", (rid,))
    conn.execute("DELETE FROM correspondence_words WHERE entry_rid = %s", (rid,))
    _index_entry(conn, rid, entry)
    _insert_revision(conn, rid, revision)
    return entry


def delete_entry(conn: Conn, entry_id: str) -> None:
    """Remove an entry; its links, revisions and words go by cascade."""
    deleted = 0
    if _key(entry_id):
        deleted = conn.execute("DELETE FROM correspondence WHERE id = %s", (entry_id,)).rowcount
    if deleted == 0:
        raise NotFoundError(kind="correspondence entry", key=entry_id)


def _load_entry(path: str, entry_id: str, data: Any) -> CorrespondenceEntry:
    return load(CorrespondenceEntry, path, f"correspondence entry {entry_id}", data)


def _visible(scope_sql: str) -> str:
    if not scope_sql:
        return ""
    return (
        " AND EXISTS (SELECT 1 FROM correspondence_contacts cc JOIN contacts"
        f" ON contacts.id = cc.contact_id WHERE cc.entry_rid = e.rid{scope_sql})"
    )


def get_entry(conn: Conn, path: str, entry_id: str, scope: Scope) -> CorrespondenceEntry:
    """The current revision; *scope* is the store's ``(" AND …", params)`` for ``contacts``."""
    row = None
    if _key(entry_id):
        row = conn.execute(
            f"SELECT data FROM correspondence e WHERE e.id = %s{_visible(scope[0])}",
            (entry_id, *scope[1]),
        ).fetchone()
    if row is None:
        raise NotFoundError(kind="correspondence entry", key=entry_id)
    return _load_entry(path, entry_id, row[0])


def find_by_source(conn: Conn, path: str, source: str) -> CorrespondenceEntry | None:
    """The entry stored under an import key, if any."""
    if not _key(source):
        return None
    row = conn.execute(
        "SELECT id, data FROM correspondence WHERE source = %s", (source,)
    ).fetchone()
    return None if row is None else _load_entry(path, row[0], row[1])


def revisions(conn: Conn, path: str, entry_id: str) -> list[EntryRevision]:
    """Every stored revision, oldest first."""
    rows = []
    if _key(entry_id):
        rows = conn.execute(
            "SELECT r.data FROM correspondence_revisions r JOIN correspondence e"
            " ON e.rid = r.entry_rid WHERE e.id = %s ORDER BY r.revision",
            (entry_id,),
        ).fetchall()
    if not rows:
        raise NotFoundError(kind="correspondence entry", key=entry_id)
    return [load(EntryRevision, path, f"revision of {entry_id}", d) for (d,) in rows]


def _like_prefix(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def timeline(conn: Conn, path: str, query: TimelineQuery) -> list[CorrespondenceEntry]:
    """Candidates through the contact links, the filters and the word index; then
    ``select_entries``."""
    ids = [i for i in query.contact_ids if _key(i)]
    sql = (
        "SELECT e.id, e.data FROM correspondence e WHERE e.rid IN ("
        "SELECT entry_rid FROM correspondence_contacts WHERE contact_id = ANY(%s))"
    )
    params: list[Any] = [ids]
    if query.channels is not None:
        sql += " AND e.channel = ANY(%s)"
        params.append([c for c in query.channels if _key(c)])
    if query.since is not None:
        sql += " AND e.occurred_at >= %s"
        params.append(query.since)
    if query.before is not None:
        sql += " AND e.occurred_at < %s"
        params.append(query.before)
    if not query.include_internal:
        sql += " AND NOT e.internal"
    for word in dict.fromkeys(query.words):
        if not _key(word):
            return []
        sql += " AND e.rid IN (SELECT entry_rid FROM correspondence_words WHERE word LIKE %s)"
        params.append(_like_prefix(word))
    rows = conn.execute(sql, params).fetchall()
    return select_entries((_load_entry(path, i, d) for i, d in rows), query)


def open_follow_ups(
    conn: Conn,
    path: str,
    *,
    due_by: dt.date | None,
    assignee: str | None,
    scope: Scope,
) -> list[CorrespondenceEntry]:
    """Entries with an open follow-up through the partial index; then ``select_follow_ups``."""
    sql = "SELECT e.id, e.data FROM correspondence e WHERE e.follow_up_open"
    params: list[Any] = []
    if due_by is not None:
        sql += " AND e.follow_up_due <= %s"
        params.append(due_by)
    if assignee is not None:
        if not _key(assignee):
            return []
        sql += " AND e.follow_up_assignee = %s"
        params.append(assignee)
    sql += _visible(scope[0])
    params.extend(scope[1])
    rows = conn.execute(sql, params).fetchall()
    return select_follow_ups(
        (_load_entry(path, i, d) for i, d in rows), due_by=due_by, assignee=assignee
    )


def rebuild_words(conn: Conn, path: str) -> None:
    """Refill the entry-word table from the stored entries (after the folding rules changed)."""
    conn.execute("DELETE FROM correspondence_words")
    rows = conn.execute("SELECT rid, id, data FROM correspondence").fetchall()
    with conn.cursor() as cur:
        for rid, entry_id, data in rows:
            words = entry_words(_load_entry(path, entry_id, data))
            if words:
                cur.executemany(
                    "INSERT INTO correspondence_words (entry_rid, word) VALUES (%s, %s)",
                    [(rid, w) for w in dict.fromkeys(words)],
                )


# -- summaries ---------------------------------------------------------------------------------
_IS_LEAD: Final = "c.data ->> 'lead' IS NOT NULL"
_LEAD_STATUS: Final = "c.data -> 'lead' ->> 'status'"
_RESTRICTED: Final = "c.data ->> 'restricted_at' IS NOT NULL"
_LEAD_SINCE: Final = (
    "COALESCE(c.data -> 'lead' ->> 'since', substr(c.data ->> 'created_at', 1, 10))"
)
_SUMMARY_COLUMNS: Final = (
    "c.id, c.number, c.kind, c.owner, c.archived, c.data ->> 'title', c.data ->> 'first_name', "
    "c.data ->> 'last_name', c.data ->> 'name', c.data -> 'relationships', {status}, "
    "c.data -> 'lead' ->> 'since', c.data ->> 'created_at', c.data ->> 'updated_at', "
    "c.data ->> 'legal_basis' IS NOT NULL, "
    "EXISTS (SELECT 1 FROM contact_emails e WHERE e.contact_id = c.id), "
    "CASE WHEN c.kind = 'person' "
    "THEN EXISTS (SELECT 1 FROM affiliations a WHERE a.person_id = c.id{active}) "
    "ELSE EXISTS (SELECT 1 FROM affiliations a WHERE a.company_id = c.id{active}) END"
)


def _active_sql(where: SummaryFilter) -> tuple[str, list[Any]]:
    """The ``AND …`` on affiliations ``a`` that keeps those active on ``where.active_on``."""
    if where.active_on is None:
        return "", []
    day = where.active_on.isoformat()
    return (
        " AND (a.data ->> 'since' IS NULL OR (a.data ->> 'since') COLLATE \"C\" <= %s)"
        " AND (a.data ->> 'until' IS NULL OR (a.data ->> 'until') COLLATE \"C\" >= %s)",
        [day, day],
    )


def filter_sql(where: SummaryFilter) -> tuple[str, list[Any]]:
    """The ``WHERE`` conditions (joined by ``AND``, on ``contacts c``) and their parameters.

    What they mean is :func:`crmkit.summary.matches`; the contract suite checks
    that the two agree.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if not where.include_archived:
        clauses.append("NOT c.archived")
    if where.kind is not None:
        clauses.append("c.kind = %s")
        params.append(where.kind)
    if where.relationships:
        clauses.append("(c.data -> 'relationships') ?| %s")
        params.append(sorted(where.relationships))
    if where.has_email is not None:
        probe = "EXISTS (SELECT 1 FROM contact_emails e WHERE e.contact_id = c.id)"
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
            "NOT EXISTS (SELECT 1 FROM affiliations a"
            f" WHERE a.company_id = c.id AND (a.data -> 'roles') ? %s{active})"
        )
        params.append(where.missing_role)
        params.extend(active_params)
    if where.lead_statuses:
        clauses.append(f"{_IS_LEAD} AND {_LEAD_STATUS} = ANY(%s)")
        params.append(sorted(where.lead_statuses))
    if where.lead_since_before is not None:
        clauses.append(f'{_IS_LEAD} AND {_LEAD_SINCE} COLLATE "C" < %s')
        params.append(where.lead_since_before.isoformat())
    for key, limit in (("created_at", where.created_before), ("updated_at", where.changed_before)):
        if limit is not None:
            clauses.append(
                f"(c.data ->> '{key}' IS NULL OR (c.data ->> '{key}')::timestamptz < %s)"
            )
            params.append(limit)
    if where.silent_since is not None:
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM correspondence_contacts cc JOIN correspondence e"
            " ON e.rid = cc.entry_rid WHERE cc.contact_id = c.id AND e.occurred_at >= %s)"
        )
        params.append(where.silent_since)
    if where.has_legal_basis is not None:
        basis = "c.data ->> 'legal_basis' IS NOT NULL"
        clauses.append(basis if where.has_legal_basis else f"NOT ({basis})")
    if where.restricted is not None:
        clauses.append(_RESTRICTED if where.restricted else f"NOT ({_RESTRICTED})")
    if where.owner is not None:
        clauses.append("c.owner = %s")
        params.append(where.owner)
    return " AND ".join(clauses) or "true", params


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _summary(row: tuple[Any, ...]) -> ContactSummary:
    (cid, number, kind, owner, archived, title, first, last, name, rels, status, since,
     created, updated, basis, has_email, affiliated) = row  # fmt: skip
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
        has_legal_basis=bool(basis),
        affiliated=bool(affiliated),
    )


def summaries(
    conn: Conn, where: SummaryFilter, scope: Scope, limit: int | None
) -> list[ContactSummary]:
    """The summaries of the contacts passing *where*; *scope* is the store's clause."""
    conditions, params = filter_sql(where)
    scope_sql = scope[0].replace("contacts.", "c.")
    active, active_params = _active_sql(where)
    status = f"CASE WHEN {_IS_LEAD} THEN {_LEAD_STATUS} END"
    columns = _SUMMARY_COLUMNS.replace("{active}", active).replace("{status}", status)
    sql = f"SELECT {columns} FROM contacts c WHERE {conditions}{scope_sql}"
    params = [*active_params, *active_params, *params, *scope[1]]
    if where.sample_seed is not None:
        a, b = sample_coefficients(where.sample_seed)
        seq = "COALESCE(c.number_seq, 0)"
        m = SAMPLE_MODULUS
        sql += f" ORDER BY mod(mod({seq}, {m:d}) * {a:d} + {b:d}, {m:d}), {seq}"
    else:
        sql += " ORDER BY length(c.number), c.number"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return [_summary(row) for row in conn.execute(sql, params).fetchall()]


# -- bounces, merges, decisions --------------------------------------------------------------
#: The bounce log.
BOUNCES: Final = VersionedTable(
    table="bounces",
    kind="bounce",
    cls=Bounce,
    columns=("address_lower", "at", "processed"),
    values=lambda b: (b.address.lower(), b.at, b.processed),
)


def iter_bounces(
    conn: Conn, path: str, *, processed: bool | None, address: str | None
) -> list[Bounce]:
    """Bounces oldest first (``at``, then id)."""
    sql = "SELECT id, data FROM bounces WHERE true"
    params: list[Any] = []
    if processed is not None:
        sql += " AND processed = %s"
        params.append(bool(processed))
    if address is not None:
        if not _key(address):
            return []
        sql += " AND address_lower = %s"
        params.append(address.lower())
    rows = conn.execute(sql + " ORDER BY at, id", params).fetchall()
    return [load(Bounce, path, f"bounce {i}", d) for i, d in rows]


def add_merge(conn: Conn, record: MergeRecord) -> None:
    """Insert a merge record."""
    if conn.execute("SELECT 1 FROM merges WHERE id = %s", (record.id,)).fetchone():
        raise ConflictError(code="exists", kind="merge", key=record.id)
    conn.execute(
        "INSERT INTO merges (id, survivor_id, data) VALUES (%s, %s, %s)",
        (record.id, record.survivor_id, _json(record)),
    )


def update_merge(conn: Conn, record: MergeRecord) -> None:
    """Replace a merge record."""
    done = conn.execute(
        "UPDATE merges SET survivor_id = %s, data = %s WHERE id = %s",
        (record.survivor_id, _json(record), record.id),
    ).rowcount
    if not done:
        raise NotFoundError(kind="merge", key=record.id)


def get_merge(conn: Conn, path: str, merge_id: str) -> MergeRecord:
    """The merge record with this id."""
    row = None
    if _key(merge_id):
        row = conn.execute("SELECT data FROM merges WHERE id = %s", (merge_id,)).fetchone()
    if row is None:
        raise NotFoundError(kind="merge", key=merge_id)
    return load(MergeRecord, path, f"merge {merge_id}", row[0])


def merges_of(conn: Conn, path: str, survivor_id: str) -> list[MergeRecord]:
    """The merges into *survivor_id*, oldest first."""
    if not _key(survivor_id):
        return []
    rows = conn.execute(
        "SELECT id, data FROM merges WHERE survivor_id = %s ORDER BY seq", (survivor_id,)
    ).fetchall()
    return [load(MergeRecord, path, f"merge {i}", d) for i, d in rows]


def add_decision(conn: Conn, decision: DedupDecision) -> None:
    """Insert a "not a duplicate" decision."""
    if conn.execute("SELECT 1 FROM dedup_decisions WHERE id = %s", (decision.id,)).fetchone():
        raise ConflictError(code="exists", kind="decision", key=decision.id)
    conn.execute(
        "INSERT INTO dedup_decisions (id, data) VALUES (%s, %s)", (decision.id, _json(decision))
    )


def decisions(conn: Conn, path: str) -> list[DedupDecision]:
    """Every decision, oldest first."""
    rows = conn.execute("SELECT id, data FROM dedup_decisions ORDER BY seq").fetchall()
    return [load(DedupDecision, path, f"decision {i}", d) for i, d in rows]


# -- consent, privacy requests, legal holds ----------------------------------------------------
def append_consent(conn: Conn, event: ConsentEvent) -> None:
    """Append a consent event."""
    if conn.execute("SELECT 1 FROM consent_events WHERE id = %s", (event.id,)).fetchone():
        raise ConflictError(code="exists", kind="consent event", key=event.id)
    if not conn.execute("SELECT 1 FROM contacts WHERE id = %s", (event.contact_id,)).fetchone():
        raise NotFoundError(kind="contact", key=event.contact_id)
    conn.execute(
        "INSERT INTO consent_events (id, contact_id, purpose, at, data)"
        " VALUES (%s, %s, %s, %s, %s)",
        (event.id, event.contact_id, event.purpose, event.at, _json(event)),
    )


def consent_events(
    conn: Conn, path: str, contact_id: str, purpose: str | None
) -> list[ConsentEvent]:
    """A contact's consent events, by time, then as appended."""
    if not _key(contact_id) or (purpose is not None and not _key(purpose)):
        return []
    sql = "SELECT id, data FROM consent_events WHERE contact_id = %s"
    params: list[Any] = [contact_id]
    if purpose is not None:
        sql += " AND purpose = %s"
        params.append(purpose)
    rows = conn.execute(sql + " ORDER BY at, seq", params).fetchall()
    return [load(ConsentEvent, path, f"consent event {i}", d) for i, d in rows]


#: The data-subject requests.
PRIVACY_REQUESTS: Final = VersionedTable(
    table="privacy_requests",
    kind="privacy request",
    cls=PrivacyRequest,
    columns=("status", "received"),
    values=lambda r: (r.status, r.received),
)


def privacy_requests(conn: Conn, path: str, status: str | None) -> list[PrivacyRequest]:
    """Requests by received day, then as added."""
    sql = "SELECT id, data FROM privacy_requests"
    params: list[Any] = []
    if status is not None:
        if not _key(status):
            return []
        sql += " WHERE status = %s"
        params.append(status)
    rows = conn.execute(sql + " ORDER BY received, seq", params).fetchall()
    return [load(PrivacyRequest, path, f"privacy request {i}", d) for i, d in rows]


def put_legal_hold(conn: Conn, hold: LegalHold) -> None:
    """Insert or replace a legal hold."""
    if not conn.execute("SELECT 1 FROM contacts WHERE id = %s", (hold.contact_id,)).fetchone():
        raise NotFoundError(kind="contact", key=hold.contact_id)
    conn.execute(
        "INSERT INTO legal_holds (id, contact_id, data) VALUES (%s, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id, data = excluded.data",
        (hold.id, hold.contact_id, _json(hold)),
    )


def legal_holds(conn: Conn, path: str, contact_id: str | None) -> list[LegalHold]:
    """Legal holds, oldest first."""
    sql = "SELECT id, data FROM legal_holds"
    params: list[Any] = []
    if contact_id is not None:
        if not _key(contact_id):
            return []
        sql += " WHERE contact_id = %s"
        params.append(contact_id)
    rows = conn.execute(sql + " ORDER BY seq", params).fetchall()
    return [load(LegalHold, path, f"legal hold {i}", d) for i, d in rows]


# -- erasure -------------------------------------------------------------------------------------
def erase_contact(
    conn: Conn, path: str, contact_id: str, tombstone: Tombstone, scrub: Collection[str]
) -> None:
    """See ``Store.erase_contact``; the caller holds the transaction and savepoint."""
    if (
        not _key(contact_id)
        or not conn.execute(
            "SELECT 1 FROM contacts WHERE id = %s FOR UPDATE", (contact_id,)
        ).fetchone()
    ):
        raise NotFoundError(kind="contact", key=contact_id)
    entry_rows = conn.execute(
        "SELECT e.id, e.rid FROM correspondence e JOIN correspondence_contacts cc"
        " ON cc.entry_rid = e.rid WHERE cc.contact_id = %s",
        (contact_id,),
    ).fetchall()
    for entry_id, rid in entry_rows:
        others = conn.execute(
            "SELECT 1 FROM correspondence_contacts WHERE entry_rid = %s AND contact_id <> %s",
            (rid, contact_id),
        ).fetchone()
        if others:
            raise ConflictError(
                code="store.entry_shared", kind="correspondence entry", key=entry_id
            )
        conn.execute("DELETE FROM correspondence WHERE rid = %s", (rid,))
    conn.execute("DELETE FROM consent_events WHERE contact_id = %s", (contact_id,))
    conn.execute("DELETE FROM legal_holds WHERE contact_id = %s", (contact_id,))
    conn.execute("DELETE FROM bounces WHERE (data -> 'contact_ids') ? %s", (contact_id,))
    conn.execute(
        "DELETE FROM merges WHERE survivor_id = %s OR EXISTS ("
        "SELECT 1 FROM jsonb_array_elements(COALESCE(data -> 'merged_before', '[]'::jsonb)) m"
        " WHERE m ->> 'id' = %s)",
        (contact_id, contact_id),
    )
    for request in privacy_requests(conn, path, None):
        if request.contact_id == contact_id and request.requester:
            conn.execute(
                "UPDATE privacy_requests SET data = %s WHERE id = %s",
                (_json(attrs.evolve(request, requester="")), request.id),
            )
    ids = sorted(i for i in {contact_id, *scrub} if _key(i))
    for seq, data in conn.execute(
        "SELECT seq, data FROM audit WHERE entity_id = ANY(%s)", (ids,)
    ).fetchall():
        record = data if isinstance(data, dict) else json.loads(data)
        changes = record.get("changes") or []
        if any(c.get("old") is not None or c.get("new") is not None for c in changes):
            record["changes"] = [{**c, "old": None, "new": None} for c in changes]
            conn.execute("UPDATE audit SET data = %s WHERE seq = %s", (Jsonb(record), seq))
    conn.execute("DELETE FROM contacts WHERE id = %s", (contact_id,))
    conn.execute(
        "INSERT INTO tombstones (contact_id, data) VALUES (%s, %s)",
        (contact_id, _json(tombstone)),
    )


def tombstones(conn: Conn, path: str) -> list[Tombstone]:
    """Every tombstone, oldest first."""
    rows = conn.execute("SELECT contact_id, data FROM tombstones ORDER BY seq").fetchall()
    return [load(Tombstone, path, f"tombstone {i}", d) for i, d in rows]


__all__ = [
    "BOUNCES",
    "PERSONAL_TABLES",
    "PRIVACY_REQUESTS",
    "VersionedTable",
    "add_decision",
    "add_entry",
    "add_merge",
    "append_consent",
    "consent_events",
    "correct_entry",
    "decisions",
    "delete_entry",
    "erase_contact",
    "filter_sql",
    "find_by_source",
    "get_entry",
    "get_merge",
    "iter_bounces",
    "legal_holds",
    "load",
    "merges_of",
    "open_follow_ups",
    "privacy_requests",
    "rebuild_words",
    "revisions",
    "summaries",
    "timeline",
    "tombstones",
    "update_merge",
]
