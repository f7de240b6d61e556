"""Real files: damaged, foreign, future and old databases; persistence; pragmas; locking."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlite_utils

from crmkit import (
    Company,
    Contact,
    CrmkitError,
    NotFoundError,
    Person,
    StoreError,
    ValidationError,
    link,
)
from crmkit.memory import MemoryStore
from crmkit.search import Query, analyze, select
from crmkit.serialize import to_dict
from crmkit.testing import sample_company, sample_person
from crmkit.testing.contract import T0
from crmkit_sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore, lookups
from crmkit_sqlite.schema import migrate
from crmkit_sqlite.store import READ_CHUNK


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crm.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(db_path)
    yield s
    s.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fill(path: Path, n: int = 300) -> list[Contact]:
    """A closed database with *n* contacts (German data, e-mails and phones)."""
    store = SQLiteStore(path)
    try:
        return store.add_contacts(
            sample_person(last_name=f"Müller{i}", emails=[f"m{i}@bäckerei-groß.de"])
            for i in range(n)
        )
    finally:
        store.close()


def _open_error(path: Path) -> StoreError:
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert not isinstance(info.value, sqlite3.Error)
    return info.value


def _every_read(store: SQLiteStore, contact: Contact) -> list[Callable[[], Any]]:
    return [
        lambda: list(store.iter_contacts()),
        lambda: store.count_contacts(include_archived=False),
        lambda: store.get_contact(contact.id),
        lambda: store.get_contact_by_number(contact.number or ""),
        lambda: store.affiliations_of_person(contact.id),
        lambda: store.update_contact(attrs.evolve(contact, notes="x")),
        lambda: store.add_contact(sample_company()),
        lambda: store.delete_contact(contact.id),
    ]


# -- files that are not (good) crmkit databases ------------------------------------
def test_garbage_file_is_not_a_crmkit_database(db_path: Path) -> None:
    db_path.write_bytes(b"Kundenliste\x00\xff\xfe" + bytes(range(256)) * 40)
    before = _digest(db_path)
    error = _open_error(db_path)
    assert error.code == "store.not_crmkit"
    assert error.params["path"] == str(db_path)
    assert isinstance(error.__cause__, sqlite3.DatabaseError)
    assert "is not a crmkit database" in str(error)
    assert "ist keine crmkit-Datenbank" in error.message("de")
    assert _digest(db_path) == before


def test_text_file_is_not_a_crmkit_database(db_path: Path) -> None:
    db_path.write_text("Name;E-Mail\nMüller;m@example.org\n" * 200, encoding="utf-8")
    assert _open_error(db_path).code == "store.not_crmkit"


@pytest.mark.parametrize("fraction", [0.9, 0.5, 0.1, 0.01])
def test_truncated_database_is_reported_as_damaged(db_path: Path, fraction: float) -> None:
    made = _fill(db_path, 400)
    size = db_path.stat().st_size
    with db_path.open("r+b") as f:
        f.truncate(int(size * fraction))
    try:
        store = SQLiteStore(db_path)
    except StoreError as exc:
        assert exc.code in {"store.corrupt", "store.not_crmkit"}
        return
    try:
        with pytest.raises(StoreError) as info:
            for read in _every_read(store, made[-1]):
                read()
        assert info.value.code == "store.corrupt"
    finally:
        store.close()


def test_damaged_pages_give_store_errors_from_every_method(db_path: Path) -> None:
    made = _fill(db_path, 400)
    data = bytearray(db_path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for start in range(page, len(data), page):  # every page but the first (the schema)
        data[start : start + page] = bytes([0xA5]) * page
    db_path.write_bytes(bytes(data))
    try:
        store = SQLiteStore(db_path)
    except StoreError as exc:
        assert exc.code == "store.corrupt"
        return
    try:
        for read in _every_read(store, made[0]):
            try:
                read()
            except CrmkitError as exc:
                assert not isinstance(exc, sqlite3.Error)
                assert isinstance(exc, StoreError | NotFoundError)
            # any other exception (a raw sqlite3.Error) fails the test
    finally:
        store.close()


def test_damaged_json_is_a_corrupt_store(store: SQLiteStore) -> None:
    p = store.add_contact(sample_person())
    # The lead-status and restriction indexes read the JSON, so SQLite refuses to write
    # broken JSON; damage from outside (a bad disk, a foreign tool) has no index.
    store._conn.execute("DROP INDEX idx_contacts_lead_status")
    store._conn.execute("DROP INDEX idx_contacts_restricted")
    sql = "UPDATE contacts SET data = ? WHERE id = ?"
    store._conn.execute(sql, ('{"kind": "person", ', p.id))
    with pytest.raises(StoreError) as info:
        store.get_contact(p.id)
    assert info.value.code == "store.corrupt"
    assert p.id in str(info.value)
    store._conn.execute(sql, ('{"kind": "robot"}', p.id))
    with pytest.raises(StoreError):
        list(store.iter_contacts())


def test_empty_file_becomes_a_new_database(db_path: Path) -> None:
    db_path.touch()
    store = SQLiteStore(db_path)
    try:
        assert store.count_contacts() == 0
        assert store.add_contact(sample_company()).number == "C00001"
    finally:
        store.close()


def test_foreign_sqlite_database_is_refused_and_left_alone(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE kunden (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO kunden (name) VALUES ('Müller GmbH')")
    conn.commit()
    conn.close()
    before = _digest(db_path)
    error = _open_error(db_path)
    assert error.code == "store.not_crmkit"
    assert "kunden" in error.params["detail"]
    assert "crmkit_meta" in str(error)
    assert _digest(db_path) == before
    assert sqlite_utils.Database(db_path).table_names() == ["kunden"]
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_schema_from_the_future_is_refused_and_left_alone(db_path: Path) -> None:
    _fill(db_path, 3)
    conn = sqlite3.connect(db_path)
    conn.execute(
        "UPDATE crmkit_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 7),)
    )
    conn.commit()
    conn.close()
    before = _digest(db_path)
    error = _open_error(db_path)
    assert error.code == "store.schema_too_new"
    assert error.params == {
        "path": str(db_path),
        "found": SCHEMA_VERSION + 7,
        "supported": SCHEMA_VERSION,
        "distribution": "crmkit-sqlite",
    }
    assert "upgrade crmkit-sqlite" in str(error)
    assert _digest(db_path) == before


def test_unreadable_schema_version_is_a_corrupt_store(db_path: Path) -> None:
    _fill(db_path, 1)
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE crmkit_meta SET value = 'zwei' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    assert _open_error(db_path).code == "store.corrupt"


@pytest.mark.parametrize("kind", ["missing directory", "parent is a file", "a directory"])
def test_unopenable_paths_are_io_errors(tmp_path: Path, kind: str) -> None:
    if kind == "missing directory":
        path = tmp_path / "gibt-es-nicht" / "crm.db"
    elif kind == "parent is a file":
        (tmp_path / "datei.txt").write_text("x")
        path = tmp_path / "datei.txt" / "crm.db"
    else:
        path = tmp_path
    error = _open_error(path)
    assert error.code == "store.io"
    assert error.params["path"] == str(path)


# -- migrations -------------------------------------------------------------------------------
def _v1_database(path: Path, contacts: list[Contact]) -> None:
    """A database as release 1 wrote it: only the first migration, rows written by hand."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    migrate(conn, 0, target=1)
    for i, c in enumerate(contacts, start=1):
        stored = attrs.evolve(c, number=f"C{i:05d}", version=1)
        conn.execute(
            "INSERT INTO contacts (id, number, number_seq, kind, version, archived, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stored.id, stored.number, i, stored.kind, 1, 0, json.dumps(to_dict(stored))),
        )
    conn.execute("UPDATE sequences SET value = ? WHERE name = 'contact_number'", (len(contacts),))
    conn.execute("COMMIT")
    conn.close()


def test_there_are_several_migrations() -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION >= 2


def test_version_1_database_is_upgraded_with_its_data_intact(db_path: Path) -> None:
    people = [sample_person(last_name=f"Groß{i}") for i in range(5)]
    company = sample_company()
    _v1_database(db_path, [*people, company])
    assert "contact_emails" not in sqlite_utils.Database(db_path).table_names()

    store = SQLiteStore(db_path)
    try:
        version = store._conn.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'schema_version'"
        ).fetchone()[0]
        assert version == str(SCHEMA_VERSION)
        loaded = list(store.iter_contacts())
        assert [c.id for c in loaded] == [c.id for c in [*people, company]]
        for before, after in zip([*people, company], loaded, strict=True):
            assert attrs.evolve(after, number=None, version=0) == before
        emails = store._conn.execute(
            "SELECT c.id, address_lower, domain FROM contact_emails "
            "JOIN contacts c ON c.rid = contact_rid ORDER BY 1, 2"
        ).fetchall()
        expected = sorted(
            (c.id, e.address.lower(), e.domain.lower()) for c in loaded for e in c.emails
        )
        assert emails == expected
        assert len(emails) == 2 * 5 + 1
        phones = store._conn.execute(
            "SELECT c.id, e164 FROM contact_phones JOIN contacts c ON c.rid = contact_rid"
        ).fetchall()
        assert sorted(phones) == sorted((c.id, p.e164) for c in loaded for p in c.phones)
        assert store.add_contact(sample_person()).number == "C00007"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("numbers", "in_order"),
    [
        (["C00001", "C00002", "C00010", "C100000"], True),
        (["C00002", "C00001", "C00010", "C100000"], False),
        (["C00001", "C100000", "C00010", "C00011"], False),
    ],
)
def test_version_2_database_gets_the_rid_order_flag(
    db_path: Path, numbers: list[str], in_order: bool
) -> None:
    people = [sample_person(last_name="Müller", first_name=f"Max{i}") for i in range(4)]
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN")
    migrate(conn, 0, target=2)
    for p, number in zip(people, numbers, strict=True):
        stored = attrs.evolve(p, number=number, version=1)
        conn.execute(
            "INSERT INTO contacts (id, number, number_seq, kind, version, archived, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stored.id, number, int(number[1:]), "person", 1, 0, json.dumps(to_dict(stored))),
        )
    conn.execute("UPDATE sequences SET value = 100000 WHERE name = 'contact_number'")
    conn.execute("COMMIT")
    conn.close()

    store = SQLiteStore(db_path)
    try:
        flag = store._conn.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'rid_in_number_order'"
        ).fetchone()[0]
        assert flag == ("1" if in_order else "0")
        query = analyze("müll")
        found = store.search(query)
        assert [c.number for c in found] == sorted(numbers, key=lambda n: (len(n), n))
        assert found == select(store.iter_contacts(), query)
    finally:
        store.close()


def test_failed_upgrade_leaves_the_old_schema(db_path: Path) -> None:
    _v1_database(db_path, [sample_person()])
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE contacts SET data = 'kein JSON'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        SQLiteStore(db_path)
    assert info.value.code == "store.corrupt"
    assert str(db_path) in str(info.value)  # which file; the reason depends on the step
    db = sqlite_utils.Database(db_path)
    assert "contact_emails" not in db.table_names()
    assert db.execute("SELECT value FROM crmkit_meta").fetchone()[0] == "1"


# -- persistence, pragmas, schema ------------------------------------------------------------
def test_data_persists_across_close_and_reopen(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    p = store.add_contact(sample_person())
    c = store.add_contact(sample_company())
    gone = store.add_contact(sample_person(first_name="Zoë", last_name="Ödön"))
    aff = store.add_affiliation(link(p, c, position="Geschäftsführerin", primary=True))
    p2 = store.update_contact(attrs.evolve(p, notes="Straße geändert"))
    store.delete_contact(gone.id)
    store.close()

    again = SQLiteStore(db_path)
    try:
        assert list(again.iter_contacts()) == [p2, c]
        assert again.get_contact(p.id).notes == "Straße geändert"
        assert again.affiliations_of_company(c.id) == [aff]
        assert again.add_contact(sample_person()).number == "C00004"
    finally:
        again.close()


def test_pragmas_are_set(store: SQLiteStore) -> None:
    def pragma(name: str) -> Any:
        return store._conn.execute(f"PRAGMA {name}").fetchone()[0]

    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("secure_delete") == 1
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("busy_timeout") == 5000


def test_memory_database_pragmas() -> None:
    store = SQLiteStore()
    try:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "memory"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.url == "sqlite://"
    finally:
        store.close()


def test_schema_tables_indexes_and_cascades(store: SQLiteStore, db_path: Path) -> None:
    db = sqlite_utils.Database(db_path)
    assert set(db.table_names()) >= {
        "crmkit_meta",
        "sequences",
        "contacts",
        "contact_emails",
        "contact_phones",
        "contact_names",
        "contact_stems",
        "affiliations",
    }
    indexed = {tuple(i.columns) for t in db.table_names() for i in db.table(t).indexes}
    assert {
        ("person_id",),
        ("company_id",),
        ("address_lower",),
        ("domain",),
        ("e164",),
        ("stem",),
    } <= indexed
    for table in (
        "affiliations",
        "contact_emails",
        "contact_phones",
        "contact_stems",
    ):
        actions = {row[6] for row in db.execute(f"PRAGMA foreign_key_list({table})")}
        assert actions == {"CASCADE"}


def test_lookup_tables_follow_the_contacts(store: SQLiteStore) -> None:
    p = store.add_contact(sample_person())
    c = store.add_contact(sample_company())

    def emails() -> set[tuple[str, str, str]]:
        sql = (
            "SELECT c.id, address_lower, domain FROM contact_emails "
            "JOIN contacts c ON c.rid = contact_rid"
        )
        return set(store._conn.execute(sql).fetchall())

    assert (p.id, "j.mueller@example.org", "example.org") in emails()
    assert (c.id, "info@bäckerei-groß.de", "bäckerei-groß.de") in emails()
    store.update_contact(attrs.evolve(p, emails=["neu@muster.de"], phones=[]))
    assert {row for row in emails() if row[0] == p.id} == {(p.id, "neu@muster.de", "muster.de")}
    phones = store._conn.execute(
        "SELECT e164 FROM contact_phones JOIN contacts c ON c.rid = contact_rid WHERE c.id = ?",
        (p.id,),
    )
    assert phones.fetchall() == []
    store.delete_contact(c.id)
    assert {row[0] for row in emails()} == {p.id}


def test_number_counter_survives_deletes_and_reopen(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    last = store.add_contact(sample_person(number="C00042"))
    store.delete_contact(last.id)
    store.close()
    store = SQLiteStore(db_path)
    try:
        assert store.add_contact(sample_company()).number == "C00043"
    finally:
        store.close()


# -- locking, closing, transactions ----------------------------------------------------------
def test_locked_database_is_busy_not_a_raw_error(db_path: Path) -> None:
    store = SQLiteStore(db_path, busy_timeout=100)
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError) as info:
            store.add_contact(sample_person())
        assert info.value.code == "store.busy"
        assert isinstance(info.value.__cause__, sqlite3.OperationalError)
        other.execute("ROLLBACK")
        assert store.add_contact(sample_person()).number == "C00001"
    finally:
        other.close()
        store.close()


def test_two_stores_on_one_file_see_each_others_commits(db_path: Path) -> None:
    first, second = SQLiteStore(db_path), SQLiteStore(db_path)
    try:
        a = first.add_contact(sample_company())
        b = second.add_contact(sample_person())
        assert (a.number, b.number) == ("C00001", "C00002")
        assert second.get_contact(a.id) == a
        assert first.count_contacts() == 2
    finally:
        first.close()
        second.close()


def test_closed_store_refuses_every_method(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    p = store.add_contact(sample_person())
    c = store.add_contact(sample_company())
    aff = store.add_affiliation(link(p, c))
    store.close()
    store.close()  # harmless
    calls: list[Callable[[], Any]] = [
        lambda: store.add_contact(sample_person()),
        lambda: store.add_contacts([sample_person()]),
        lambda: store.get_contact(p.id),
        lambda: store.get_contact_by_number("C00001"),
        lambda: store.update_contact(p),
        lambda: store.delete_contact(p.id),
        lambda: store.iter_contacts(),
        lambda: store.count_contacts(),
        lambda: store.add_affiliation(link(p, c)),
        lambda: store.get_affiliation(aff.id),
        lambda: store.update_affiliation(aff),
        lambda: store.delete_affiliation(aff.id),
        lambda: store.affiliations_of_person(p.id),
        lambda: store.affiliations_of_company(c.id),
        lambda: store.transaction().__enter__(),
    ]
    for call in calls:
        with pytest.raises(StoreError) as info:
            call()
        assert info.value.code == "store.closed"


def test_iteration_stops_cleanly_when_the_store_closes(store: SQLiteStore) -> None:
    store.add_contacts(Person(last_name=f"P{i}") for i in range(2500))
    it = store.iter_contacts()
    assert next(it).number == "C00001"
    store.close()
    with pytest.raises(StoreError) as info:
        list(it)
    assert info.value.code == "store.closed"


def test_iteration_streams_in_chunks_in_number_order(store: SQLiteStore) -> None:
    made = store.add_contacts(
        [Person(last_name=f"P{i}") for i in range(2500)]
        + [sample_company(number="C123456"), sample_company(number="C200000")]
    )
    numbers = [c.number for c in store.iter_contacts()]
    assert numbers == sorted((c.number or "" for c in made), key=lambda n: int(n[1:]))
    assert numbers[-2:] == ["C123456", "C200000"]
    assert store.count_contacts() == 2502


def test_failed_method_inside_a_transaction_changes_nothing(store: SQLiteStore) -> None:
    first = store.add_contact(sample_person())
    with store.transaction():
        kept = store.add_contact(sample_company())
        with pytest.raises(CrmkitError):
            store.add_contacts([sample_person(), first])
        assert store.count_contacts() == 2
    assert [c.id for c in store.iter_contacts()] == [first.id, kept.id]
    assert store.add_contact(sample_person()).number == "C00003"


def test_conflicts_name_the_duplicate(store: SQLiteStore) -> None:
    p = store.add_contact(sample_person())
    fresh = sample_person()
    with pytest.raises(CrmkitError) as info:
        store.add_contacts([fresh, sample_company(), fresh])
    assert (info.value.code, info.value.params["key"]) == ("exists", fresh.id)
    assert info.value.params["kind"] == "contact"
    with pytest.raises(CrmkitError) as info:
        store.add_contacts([sample_company(), sample_company(number=p.number)])
    assert info.value.params == {"kind": "contact number", "key": p.number}
    assert store.count_contacts() == 1


def test_affiliation_errors_match_the_memory_store(store: SQLiteStore) -> None:
    p = store.add_contact(sample_person())
    c = store.add_contact(sample_company())
    with pytest.raises(NotFoundError) as missing:
        store.add_affiliation(link(p, Company(name="Geist GmbH", id="geist")))
    assert missing.value.params == {"kind": "contact", "key": "geist"}
    other = store.add_contact(Person(last_name="Zwei"))
    with pytest.raises(ValidationError) as wrong:
        store.add_affiliation(attrs.evolve(link(p, c), company_id=other.id))
    assert [(f.field, f.code, dict(f.params)) for f in wrong.value.findings] == [
        ("company_id", "affiliation.kind", {"expected": "company", "actual": "person"})
    ]


# -- order, search and the lookup index ----------------------------------------------------
def test_number_order_is_the_memory_stores(store: SQLiteStore) -> None:
    numbers = ["C000042", "C00043", "C100000", "C00007", "C0000001", "C99999"]
    memory = MemoryStore()
    for n in numbers:
        memory.add_contact(sample_person(id=f"id{n}", number=n))
        store.add_contact(sample_person(id=f"id{n}", number=n))
    expected = [c.number for c in memory.iter_contacts()]
    assert [c.number for c in store.iter_contacts()] == expected
    nxt = store.add_contact(sample_company(id="next"))
    assert nxt == memory.add_contact(sample_company(id="next"))
    assert nxt.number == "C100001"


def test_empty_search_walks_past_chunk_boundaries(store: SQLiteStore) -> None:
    store.add_contacts(
        Person(last_name=f"P{i}", archived_at=T0 if i % 7 == 0 else None)
        for i in range(2 * READ_CHUNK + 50)
    )
    everything = list(store.iter_contacts())
    for limit in (1, READ_CHUNK, READ_CHUNK + 1, 2 * READ_CHUNK + 50):
        for archived in (False, True):
            query = analyze("", limit=limit, include_archived=archived)
            assert store.search(query) == select(everything, query)


def test_lookup_index_is_rebuilt_when_its_fingerprint_changes(db_path: Path) -> None:
    made = _fill(db_path, 50)
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM contact_names")
    conn.execute("DELETE FROM contact_emails")
    conn.execute("UPDATE crmkit_meta SET value = 'old-folding' WHERE key = 'lookup_fingerprint'")
    conn.commit()
    conn.close()
    store = SQLiteStore(db_path)
    try:
        assert store.search(analyze("Müller7")) == [made[7]]
        assert store.search(analyze("m7@bäckerei-groß.de")) == [made[7]]
        fp = store._conn.execute(
            "SELECT value FROM crmkit_meta WHERE key = 'lookup_fingerprint'"
        ).fetchone()[0]
        assert fp == lookups.fingerprint()
    finally:
        store.close()


def test_name_index_follows_updates_and_deletes(store: SQLiteStore) -> None:
    p = store.add_contact(sample_person())
    c = store.add_contact(sample_company())
    assert isinstance(p, Person)

    def names() -> list[tuple[int, str]]:
        return store._conn.execute("SELECT rowid, words FROM contact_names ORDER BY 1").fetchall()

    assert names() == [(1, "juergen mueller luedenscheidt"), (2, "baeckerei gross gmbh co kg")]
    store.update_contact(attrs.evolve(p, first_name="Zoë"))
    assert names()[0] == (1, "zoe mueller luedenscheidt")
    store.delete_contact(c.id)
    assert names() == [(1, "zoe mueller luedenscheidt")]
    assert store.search(analyze("zo mue")) == [store.get_contact(p.id)]


@pytest.mark.parametrize(
    "words",
    [("",), ("...",), ('"',), ("co.",), ("a b",), ("m", ""), ("NEAR",), ("*",), ("x\x00y",)],
)
def test_hand_built_text_queries_agree_with_select(
    store: SQLiteStore, words: tuple[str, ...]
) -> None:
    store.add_contacts([sample_person(), sample_company(), Person(last_name="Co")])
    query = Query(mode="text", words=words)
    assert store.search(query) == select(store.iter_contacts(), query)


def test_closing_inside_a_transaction_commits_nothing(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    with pytest.raises(StoreError) as info, store.transaction():
        store.add_contact(sample_person())
        store.close()
    assert info.value.code == "store.closed"
    again = SQLiteStore(db_path)
    try:
        assert again.count_contacts() == 0
    finally:
        again.close()


def test_path_with_a_nul_character_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        SQLiteStore(f"{tmp_path}/crm\x00.db")
    assert info.value.code == "store.io"


def test_errors_inside_a_user_transaction_leave_earlier_writes(store: SQLiteStore) -> None:
    with store.transaction():
        kept = store.add_contact(sample_person())
        with pytest.raises(NotFoundError):
            store.delete_contact("gibt-es-nicht")
        with pytest.raises(CrmkitError):
            store.update_contact(attrs.evolve(kept, version=7))
    assert store.get_contact(kept.id) == kept


def test_other_threads_wait_for_an_open_transaction(store: SQLiteStore) -> None:
    started, seen = threading.Event(), []

    def reader() -> None:
        started.set()
        seen.append(store.count_contacts())

    with store.transaction():
        store.add_contact(sample_person())
        thread = threading.Thread(target=reader)
        thread.start()
        started.wait(5)
        thread.join(0.2)
        assert thread.is_alive()  # blocked until the transaction ends
        store.add_contact(sample_company())
    thread.join(5)
    assert seen == [2]
