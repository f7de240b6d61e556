"""Correspondence in a real SQLite file: upgrade to schema 4, persistence, damage, FTS5 input."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlite_utils
from hypothesis import given
from hypothesis import strategies as st

from crmkit import ConflictError, Person, StoreError
from crmkit.correspondence import timeline_query
from crmkit.serialize import to_dict
from crmkit.testing import sample_company, sample_person
from crmkit.testing.correspondence_contract import revision_of, sample_entry
from crmkit_sqlite import SCHEMA_VERSION, SQLiteStore
from crmkit_sqlite.entries import TEXT_TABLE, fts_query
from crmkit_sqlite.schema import migrate


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crm.db"


def test_version_3_database_is_upgraded_to_correspondence(db_path: Path) -> None:
    person = attrs.evolve(sample_person(), number="C00001", version=1)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN")
    migrate(conn, 0, target=3)
    conn.execute(
        "INSERT INTO contacts (id, number, number_seq, kind, version, archived, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (person.id, "C00001", 1, "person", 1, 0, json.dumps(to_dict(person))),
    )
    conn.execute("UPDATE sequences SET value = 1 WHERE name = 'contact_number'")
    conn.execute("COMMIT")
    conn.close()
    assert "correspondence" not in sqlite_utils.Database(db_path).table_names()

    store = SQLiteStore(db_path)
    try:
        version = store._conn.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
        ).fetchone()[0]
        assert version == str(SCHEMA_VERSION)
        entry = store.add_entry(revision_of(sample_entry([person.id])))
        assert store.timeline(timeline_query([person.id], text="rahmenvertrag")) == [entry]
    finally:
        store.close()


def test_schema_keeps_history_when_contacts_go(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    try:
        db = sqlite_utils.Database(store._conn)
        assert {"correspondence", "correspondence_contacts", "correspondence_revisions",
                TEXT_TABLE} <= set(db.table_names())  # fmt: skip
        links = {row[2]: row[6] for row in db.execute(
            "PRAGMA foreign_key_list(correspondence_contacts)")}  # fmt: skip
        assert links == {"contacts": "NO ACTION", "correspondence": "CASCADE"}
        person = store.add_contact(sample_person())
        entry = store.add_entry(revision_of(sample_entry([person.id])))
        with pytest.raises(ConflictError) as info:
            store.delete_contact(person.id)
        assert info.value.code == "store.contact_has_correspondence"
        assert "Löschung" in info.value.message("de")
        store.delete_entry(entry.id)
        for table in ("correspondence_contacts", "correspondence_revisions", TEXT_TABLE):
            assert store._conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    finally:
        store.close()


def test_entries_and_revisions_persist(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    person = store.add_contact(sample_person())
    company = store.add_contact(sample_company())
    entry = store.add_entry(revision_of(sample_entry([person.id, company.id], source="email:1")))
    second = attrs.evolve(entry, content="Preis akzeptiert", revision=2)
    store.correct_entry(revision_of(second, action="correct", reason="Nachtrag"))
    store.close()

    again = SQLiteStore(db_path)
    try:
        assert again.get_entry(entry.id) == second
        assert [r.entry for r in again.entry_revisions(entry.id)] == [entry, second]
        assert again.find_entry_by_source("email:1") == second
        assert again.timeline(timeline_query([company.id], text="akzeptiert")) == [second]
        assert again.open_follow_ups() == [second]
    finally:
        again.close()


def test_damaged_entry_is_a_corrupt_store(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    try:
        person = store.add_contact(sample_person())
        entry = store.add_entry(revision_of(sample_entry([person.id])))
        store._conn.execute("UPDATE correspondence SET data = '{\"id\": 1}'")
        store._conn.execute("UPDATE correspondence_revisions SET data = 'nope'")
        calls: list[Callable[[], Any]] = [
            lambda: store.get_entry(entry.id),
            lambda: store.timeline(timeline_query([person.id])),
            lambda: store.open_follow_ups(),
            lambda: store.entry_revisions(entry.id),
        ]
        for call in calls:
            with pytest.raises(StoreError) as info:
                call()
            assert info.value.code == "store.corrupt"
            assert entry.id in str(info.value)
    finally:
        store.close()


def test_closed_store_refuses_entry_methods(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    person = store.add_contact(Person(last_name="Muster"))
    entry = store.add_entry(revision_of(sample_entry([person.id])))
    store.close()
    calls: list[Callable[[], Any]] = [
        lambda: store.add_entry(revision_of(sample_entry([person.id]))),
        lambda: store.correct_entry(revision_of(attrs.evolve(entry, revision=2))),
        lambda: store.get_entry(entry.id),
        lambda: store.find_entry_by_source("x"),
        lambda: store.entry_revisions(entry.id),
        lambda: store.timeline(timeline_query([person.id])),
        lambda: store.open_follow_ups(),
        lambda: store.delete_entry(entry.id),
    ]
    for call in calls:
        with pytest.raises(StoreError) as info:
            call()
        assert info.value.code == "store.closed"


def test_entry_text_index_is_rebuilt_with_the_lookups(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    person = store.add_contact(sample_person())
    entry = store.add_entry(revision_of(sample_entry([person.id])))
    store._conn.execute(f"DELETE FROM {TEXT_TABLE}")
    store._conn.execute("UPDATE crmkit_meta SET value = 'old' WHERE key = 'lookup_fingerprint'")
    store.close()
    again = SQLiteStore(db_path)
    try:
        assert again.timeline(timeline_query([person.id], text="lieferzeit angebot")) == []
        assert again.timeline(timeline_query([person.id], text="Müller")) == [entry]
    finally:
        again.close()


@given(words=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=5))
def test_hand_built_fts_queries_never_fail(words: list[str]) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE {TEXT_TABLE} USING fts5 (words, tokenize = 'ascii')")
    conn.execute(f"INSERT INTO {TEXT_TABLE} (rowid, words) VALUES (1, 'angebot mueller')")
    folded = [w.replace("\x00", "") for w in words]
    folded = [w for w in folded if w]
    if folded:
        conn.execute(f"SELECT rowid FROM {TEXT_TABLE} WHERE {TEXT_TABLE} MATCH ?",
                     (fts_query(folded),)).fetchall()  # fmt: skip
    conn.close()
