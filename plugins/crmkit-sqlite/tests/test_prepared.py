"""``add_prepared`` (capability ``bulk_prepared``) stores exactly what ``add_contacts`` does."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import attrs
import pytest

from crmkit import Company, ConflictError, Contact, Person, ValidationError
from crmkit.search import analyze, select
from crmkit.store import PreparedContact, prepare_contact
from crmkit.testing import sample_company, sample_person
from crmkit.testing.contract import T0
from crmkit_sqlite import SQLiteStore

TABLES = {
    "contacts": "SELECT rid, id, number, number_seq, kind, version, archived, owner FROM contacts",
    "contact_emails": "SELECT * FROM contact_emails",
    "contact_phones": "SELECT * FROM contact_phones",
    "contact_stems": "SELECT * FROM contact_stems",
    "contact_names": "SELECT rowid, words FROM contact_names",
    "meta": "SELECT key, value FROM crmkit_meta",
    "sequences": "SELECT * FROM sequences",
}


def _contacts() -> list[Contact]:
    return [
        Person(
            first_name="Jürgen-Peter",
            last_name="Müller-Lüdenscheidt",
            emails=["Max.Mustermann@Bäckerei-Groß.DE", "x@EXAMPLE.org", "y@example.org"],
            phones=["+49 170 1234567", "030 1234560"],
            relationships={"customer"},
            tags={"VIP"},
            owner="anna",
        ),
        Company(
            name="Bäckerei Groß GmbH & Co. KG",
            emails=["info@muster.de"],
            phones=["+49 711 781937-0", "+49 30 1234560"],
            archived_at=T0,
        ),
        sample_person(number="C00042"),
        sample_company(),
        Person(last_name="東京"),
        Person(first_name="Max", last_name="Müller", number="C00007"),
    ]


@pytest.fixture
def pair() -> Iterator[tuple[SQLiteStore, SQLiteStore]]:
    plain, prepared = SQLiteStore(), SQLiteStore()
    yield plain, prepared
    plain.close()
    prepared.close()


def _dump(store: SQLiteStore) -> dict[str, list[tuple[object, ...]]]:
    return {name: sorted(store._conn.execute(sql).fetchall()) for name, sql in TABLES.items()}


def test_prepared_rows_store_the_same_as_contacts(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    plain, prepared = pair
    assert "bulk_prepared" in prepared.capabilities
    contacts = _contacts()
    for _ in range(2):  # the second round starts from a non-empty store
        stored = plain.add_contacts(contacts)
        items = [pickle.loads(pickle.dumps(prepare_contact(c))) for c in contacts]
        assert prepared.add_prepared(items) == [c.number for c in stored]
        contacts = [attrs.evolve(c, id=f"{c.id}b", number=None) for c in contacts]
    assert _dump(prepared) == _dump(plain)
    assert list(prepared.iter_contacts()) == list(plain.iter_contacts())
    for text in ["müll", "Müller Max", "@example.org", "Bäckerei", "tokyo", "東京", "C00042"]:
        query = analyze(text, include_archived=True)
        assert prepared.search(query) == plain.search(query)
        assert prepared.search(query) == select(prepared.iter_contacts(), query)


def test_prepared_duplicates_are_reported_and_change_nothing(
    pair: tuple[SQLiteStore, SQLiteStore],
) -> None:
    _plain, store = pair
    first = sample_person()
    [number] = store.add_prepared([prepare_contact(first)])
    before = _dump(store)
    with pytest.raises(ConflictError) as info:
        store.add_prepared([prepare_contact(sample_person()), prepare_contact(first)])
    assert info.value.params["key"] == first.id
    with pytest.raises(ConflictError) as info:
        store.add_prepared([prepare_contact(sample_company(number=number))])
    assert info.value.params["key"] == number
    assert _dump(store) == before


def test_only_prepared_contacts_are_taken(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    _plain, store = pair
    with pytest.raises(ValidationError):
        store.add_prepared([sample_person()])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        prepare_contact("C00001")  # type: ignore[arg-type]
    assert store.count_contacts() == 0
    assert isinstance(prepare_contact(sample_person()), PreparedContact)
