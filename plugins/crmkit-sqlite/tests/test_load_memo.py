"""Loaded contacts are kept by their stored JSON: equal text, the same (immutable) contact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

from crmkit import Person
from crmkit.privacy import Tombstone
from crmkit_sqlite import SQLiteStore
from crmkit_sqlite import store as sqlite_store


def test_a_stored_row_is_loaded_once_and_a_change_is_seen(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "crm.db")
    try:
        stored = store.add_contact(Person(first_name="Anna", last_name="Groß"))
        first = store.get_contact(stored.id)
        assert isinstance(first, Person)
        assert store.get_contact(stored.id) is first
        assert store.get_contact_by_number(stored.number or "") is first
        changed = store.update_contact(attrs.evolve(first, last_name="Weiß"))
        again = store.get_contact(stored.id)
        assert isinstance(again, Person)
        assert again == changed and again.last_name == "Weiß" and again.version == 2
        assert first.last_name == "Groß"  # what was handed out stays as it was
    finally:
        store.close()


def test_the_memo_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "LOADED_CONTACTS", 3)
    store = SQLiteStore(tmp_path / "crm.db")
    try:
        people = store.add_contacts([Person(last_name=f"Müller {i}") for i in range(10)])
        for person in people:
            assert store.get_contact(person.id) == person
            assert len(store._loaded) <= 3
        assert [c.id for c in store.iter_contacts()] == [p.id for p in people]
        assert len(store._loaded) <= 3
    finally:
        store.close()


def test_changed_deleted_and_erased_contacts_are_not_kept(tmp_path: Path) -> None:
    # Old data of a contact must not stay in memory once it is changed or
    # gone (erasure under Art. 17 GDPR included).
    store = SQLiteStore(tmp_path / "crm.db")
    other = SQLiteStore(tmp_path / "crm.db")
    try:
        anna, ben, cem, dora = store.add_contacts(
            [Person(last_name=n) for n in ("Anna", "Ben", "Cem", "Dora")]
        )
        for person in (anna, ben, cem, dora):
            store.get_contact(person.id)
        assert len(store._loaded) == 4
        store.update_contact(attrs.evolve(store.get_contact(anna.id), notes="neu"))
        store.delete_contact(ben.id)
        tombstone = Tombstone(contact_id=dora.id, number=dora.number or "",
                              erased_on=dt.date(2026, 12, 5), reason="Art. 17 request")  # fmt: skip
        store.erase_contact(dora.id, tombstone)
        assert {c.id for c in store._loaded.values()} == {cem.id}
        # Changed by another connection: reading it again keeps only the new version.
        other.update_contact(attrs.evolve(other.get_contact(cem.id), notes="anders"))
        assert store.get_contact(cem.id).notes == "anders"
        assert [c.version for c in store._loaded.values()] == [2]
        assert all("Ben" not in data and "Dora" not in data for data in store._loaded)
    finally:
        other.close()
        store.close()
