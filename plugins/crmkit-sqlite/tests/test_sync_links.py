"""Sync links in a SQLite file: the migration, persistence, and links of deleted contacts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crmkit.model import Person
from crmkit.testing.sync_contract import sample_link
from crmkit_sqlite import SCHEMA_VERSION, SQLiteStore
from crmkit_sqlite.schema import MIGRATIONS, migrate


def test_a_database_of_the_previous_version_gets_the_sync_tables(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    # The step may move when branches are merged: migrate to just before it.
    step = [m.__name__ for m in MIGRATIONS].index("_sync_links")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    migrate(conn, 0, target=step)
    conn.execute("COMMIT")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "sync_links" not in tables and step < SCHEMA_VERSION
    store = SQLiteStore(path)
    try:
        person = store.add_contact(Person(last_name="Weiß", emails=["weiss@example.de"]))
        store.put_sync_link(sample_link(person.id))
        store.put_sync_state("m365", "anna@x.de", "delta/F1", "https://graph/delta?t=1")
    finally:
        store.close()
    again = SQLiteStore(path)
    try:
        assert again.get_sync_link(person.id, "m365", "anna@müller-gmbh.de") == sample_link(
            person.id
        )
        assert again.get_sync_state("m365", "anna@x.de", "delta/F1") == "https://graph/delta?t=1"
    finally:
        again.close()


def test_a_deleted_contact_leaves_only_the_remote_id_of_its_link(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "crm.db")
    try:
        person = store.add_contact(Person(last_name="Weiß", emails=["weiss@example.de"]))
        store.put_sync_link(sample_link(person.id))
        store.delete_contact(person.id)
        (left,) = store.sync_links()
        assert (left.status, left.remote_id, left.snapshot) == ("erased", f"AAMk-{person.id}", {})
        raw = store._conn.execute("SELECT data FROM sync_links").fetchone()[0]
        assert "Weiß" not in raw and "jürgen" not in raw
    finally:
        store.close()
