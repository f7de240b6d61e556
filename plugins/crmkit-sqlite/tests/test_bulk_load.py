"""``bulk_load()`` (capability ``bulk_load``): faster writes, the same stored data and answers.

Inside the block the lookup indexes are dropped; on leaving it (normally, by
an exception, or — after the process died inside it — on the next open) they
are built again exactly as they were.  Reads inside the block give the same
answers, only slower.  The SIGKILL case is in ``test_kill.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from crmkit import Company, ConflictError, Contact, Person
from crmkit.search import analyze, select
from crmkit.store import prepare_contact
from crmkit.testing import sample_company, sample_person
from crmkit.testing.contract import T0
from crmkit_sqlite import SQLiteStore
from crmkit_sqlite.lookups import BULK_LOAD_KEY

TABLES = {
    "contacts": "SELECT rid, id, number, number_seq, kind, version, archived, owner, data "
    "FROM contacts",
    "contact_emails": "SELECT * FROM contact_emails",
    "contact_phones": "SELECT * FROM contact_phones",
    "contact_stems": "SELECT * FROM contact_stems",
    "contact_names": "SELECT rowid, words FROM contact_names",
    "meta": "SELECT key, value FROM crmkit_meta",
    "sequences": "SELECT * FROM sequences",
}

QUERIES = ["müll", "Müller Max", "@example.org", "x@example.org", "Bäckerei", "東京", "C00042",
           "+49 711 781937-0", "+49 170 1234567"]  # fmt: skip


def _contacts() -> list[Contact]:
    return [
        Person(
            first_name="Jürgen-Peter",
            last_name="Müller-Lüdenscheidt",
            emails=["Max.Mustermann@Bäckerei-Groß.DE", "x@EXAMPLE.org", "y@example.org"],
            phones=["+49 170 1234567", "030 1234560"],
            relationships={"customer"},
            owner="anna",
        ),
        Company(
            name="Bäckerei Groß GmbH & Co. KG",
            emails=["info@muster.de"],
            phones=["+49 711 781937-0", "+49 30 1234560"],
            archived_at=T0,
        ),
        sample_person(),
        sample_company(),
        Person(last_name="東京"),
        Person(first_name="Max", last_name="Müller", emails=["max@example.org"]),
    ]


def _dump(store: SQLiteStore) -> dict[str, list[tuple[object, ...]]]:
    return {name: sorted(store._conn.execute(sql).fetchall()) for name, sql in TABLES.items()}


def _indexes(store: SQLiteStore) -> list[tuple[str, str]]:
    return store._conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
    ).fetchall()


def _pending(store: SQLiteStore) -> bool:
    row = store._conn.execute("SELECT 1 FROM crmkit_meta WHERE key = ?", (BULK_LOAD_KEY,))
    return row.fetchone() is not None


def _batches(rounds: int) -> Iterator[list[Contact]]:
    contacts = _contacts()
    for k in range(rounds):
        yield [attrs.evolve(c, id=f"{c.id}r{k}", number=None) for c in contacts]


@pytest.fixture
def pair() -> Iterator[tuple[SQLiteStore, SQLiteStore]]:
    plain, bulk = SQLiteStore(), SQLiteStore()
    yield plain, bulk
    plain.close()
    bulk.close()


def _same_answers(store: SQLiteStore, other: SQLiteStore) -> None:
    for text in QUERIES:
        query = analyze(text, include_archived=True)
        assert store.search(query) == other.search(query), text
        assert store.search(query) == select(store.iter_contacts(), query), text
    phone = "+4971178193700"
    assert store.find_by_phone(phone) == other.find_by_phone(phone)
    assert store.find_switchboards(phone) == other.find_switchboards(phone)


def test_bulk_load_stores_the_same_and_restores_the_indexes(
    pair: tuple[SQLiteStore, SQLiteStore],
) -> None:
    plain, bulk = pair
    assert "bulk_load" in bulk.capabilities
    indexes = _indexes(bulk)
    assert any("contact_emails" in sql for _name, sql in indexes)
    with bulk.bulk_load():
        assert _pending(bulk)
        dropped = set(indexes) - set(_indexes(bulk))
        assert {name for name, _sql in dropped} == {
            "idx_contact_emails_address_lower",
            "idx_contact_emails_domain",
            "idx_contact_phones_e164",
            "idx_contact_stems_stem",
        }
        for k, batch in enumerate(_batches(3)):
            plain.add_contacts(batch)
            if k % 2:
                bulk.add_prepared([prepare_contact(c) for c in batch])
            else:
                bulk.add_contacts(batch)
            # Committed contacts are complete and found while the indexes are away.
            _same_answers(bulk, plain)
    assert not _pending(bulk)
    assert _indexes(bulk) == indexes
    assert _dump(bulk) == _dump(plain)
    assert list(bulk.iter_contacts()) == list(plain.iter_contacts())
    _same_answers(bulk, plain)


def test_an_error_inside_the_block_keeps_what_was_committed(
    pair: tuple[SQLiteStore, SQLiteStore],
) -> None:
    _plain, bulk = pair
    indexes = _indexes(bulk)
    first, second = _batches(2)
    with pytest.raises(ConflictError), bulk.bulk_load():
        bulk.add_contacts(first)
        bulk.add_contacts(second[:2] + first[:1])  # a duplicate id: this batch fails whole
    assert bulk.count_contacts() == len(first)
    assert _indexes(bulk) == indexes
    assert not _pending(bulk)


def test_nested_blocks_restore_once_at_the_end(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    _plain, bulk = pair
    indexes = _indexes(bulk)
    with bulk.bulk_load():
        with bulk.bulk_load():
            bulk.add_contacts(next(_batches(1)))
        assert _pending(bulk)
        assert _indexes(bulk) != indexes
    assert _indexes(bulk) == indexes


def test_the_next_open_restores_what_a_closed_block_left(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    store = SQLiteStore(path)
    indexes = _indexes(store)
    block = store.bulk_load()
    block.__enter__()
    store.add_contacts(next(_batches(1)))
    store.close()  # inside the block: leaving it cannot rebuild anything
    block.__exit__(None, None, None)

    raw = sqlite3.connect(path)
    try:
        pending = raw.execute("SELECT count(*) FROM crmkit_meta WHERE key = ?", (BULK_LOAD_KEY,))
        assert pending.fetchone() == (1,)
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        raw.close()
    reopened = SQLiteStore(path)
    try:
        assert _indexes(reopened) == indexes
        assert not _pending(reopened)
        assert reopened.count_contacts() == len(_contacts())
    finally:
        reopened.close()


def test_another_store_on_the_file_sees_consistent_data_during_a_bulk_load(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.db"
    writer = SQLiteStore(path)
    try:
        indexes = _indexes(writer)
        with writer.bulk_load():
            writer.add_contacts(next(_batches(1)))
            # Opening the file meanwhile builds the indexes again (it cannot
            # tell a running load from a killed one); the load goes on correctly.
            reader = SQLiteStore(path)
            try:
                assert _indexes(reader) == indexes
                assert reader.count_contacts() == len(_contacts())
            finally:
                reader.close()
            writer.add_contacts(list(_batches(2))[1])
        assert _indexes(writer) == indexes
        assert not _pending(writer)
        assert writer.count_contacts() == 2 * len(_contacts())
    finally:
        writer.close()
