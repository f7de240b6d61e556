"""Schema version 14: lead status, restriction flag and owner as plain columns.

A version 13 file (partial indexes over ``json_extract``) is upgraded with
its rows' flags filled in; every write keeps them in step with the JSON; the
queries the worklist makes use the new indexes.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import attrs

from crmkit import Contact, Person
from crmkit.model import LeadInfo
from crmkit.serialize import to_dict
from crmkit.summary import SummaryFilter
from crmkit_sqlite import SCHEMA_VERSION, SQLiteStore
from crmkit_sqlite.schema import MIGRATIONS, migrate

RESTRICTED_AT = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def _people() -> list[Person]:
    return [
        Person(last_name="Groß", lead=LeadInfo(status="qualified")),
        Person(last_name="Weiß", restricted_at=RESTRICTED_AT, owner="anna"),
        Person(last_name="Öztürk", lead=LeadInfo(status="new"), restricted_at=RESTRICTED_AT),
        Person(last_name="Müller"),
    ]


def _flags(conn: sqlite3.Connection) -> dict[str, tuple[str | None, int, str | None]]:
    rows = conn.execute("SELECT id, lead_status, restricted, owner FROM contacts").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _expected(people: Sequence[Contact]) -> dict[str, tuple[str | None, int, str | None]]:
    return {
        p.id: (p.lead.status if p.lead else None, int(p.restricted_at is not None), p.owner)
        for p in people
    }


def test_a_version_13_file_gets_the_columns_filled(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    step = [m.__name__ for m in MIGRATIONS].index("_v14_flag_columns")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    migrate(conn, 0, target=step)
    people = _people()
    for rid, person in enumerate(people, start=1):
        data = to_dict(attrs.evolve(person, number=f"C{rid:05d}", version=1))
        conn.execute(
            "INSERT INTO contacts (rid, id, number, number_seq, kind, version, archived, owner,"
            " data) VALUES (?, ?, ?, ?, 'person', 1, 0, ?, ?)",
            (rid, person.id, f"C{rid:05d}", rid, person.owner, json.dumps(data)),
        )
    conn.execute("COMMIT")
    conn.close()

    store = SQLiteStore(path)
    try:
        assert store._conn.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
        ).fetchone()[0] == str(SCHEMA_VERSION)
        assert _flags(store._conn) == _expected(people)
        leads = store.summaries(SummaryFilter(lead_statuses=frozenset({"qualified", "new"})))
        assert sorted(s.name for s in leads) == ["Groß", "Öztürk"]
        restricted = store.summaries(SummaryFilter(restricted=True))
        assert sorted(s.name for s in restricted) == ["Weiß", "Öztürk"]
        assert [s.name for s in store.summaries(SummaryFilter(owner="anna"))] == ["Weiß"]
    finally:
        store.close()


def test_every_write_keeps_the_columns_in_step(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "crm.db")
    try:
        people = store.add_contacts(_people())
        assert _flags(store._conn) == _expected(people)
        groß, weiß, öztürk, müller = people
        changed = [
            store.update_contact(attrs.evolve(groß, lead=None)),
            store.update_contact(attrs.evolve(weiß, restricted_at=None, owner=None)),
            store.update_contact(attrs.evolve(öztürk, lead=LeadInfo(status="won"))),
            store.update_contact(attrs.evolve(müller, restricted_at=RESTRICTED_AT, owner="ben")),
        ]
        assert _flags(store._conn) == _expected(changed)
    finally:
        store.close()


def test_the_worklist_queries_use_the_column_indexes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "crm.db")
    try:
        store.add_contacts(_people())
        for condition, index in (
            ("lead_status IS NOT NULL AND lead_status IN ('new')", "idx_contacts_lead_status"),
            ("restricted = 1", "idx_contacts_restricted"),
            ("owner = 'anna'", "idx_contacts_owner"),
        ):
            plan = " ".join(
                str(row[-1])
                for row in store._conn.execute(
                    f"EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE {condition}"
                )
            )
            assert index in plan, (condition, plan)
    finally:
        store.close()
