"""Bulk writes (``COPY``) store exactly what single writes (``INSERT``) store."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import attrs
import pytest

from crmkit import Company, ConflictError, Contact, Person, ValidationError
from crmkit.search import analyze
from crmkit.store import prepare_contact
from crmkit.testing import sample_company, sample_person
from crmkit_postgres import PostgresStore
from crmkit_postgres.store import COPY_FROM


def _contacts(n: int) -> list[Contact]:
    made: list[Contact] = []
    for i in range(n):
        if i % 3:
            made.append(
                sample_person(
                    first_name=f"Jürgen{i}", emails=[f"j{i}@bäckerei-groß.de"],
                    phones=[f"+49 170 {1000000 + i}"], number=f"C{900 + i:05d}" if i % 7 == 0
                    else None,
                )
            )  # fmt: skip
        else:
            made.append(sample_company(name=f"Groß {i} GmbH & Co. KG", phones=[f"+49 711 {i}0"]))
    return made


def test_copy_and_insert_store_the_same(make_store: Callable[..., PostgresStore]) -> None:
    contacts = _contacts(COPY_FROM * 2)
    bulk, single = make_store(), make_store()
    stored_bulk = bulk.add_contacts(contacts)
    stored_single = [single.add_contact(c) for c in contacts]
    assert stored_bulk == stored_single
    assert list(bulk.iter_contacts()) == list(single.iter_contacts())
    for text in ("jürgen1", "groß", "@bäckerei-groß.de", "+49 170 1000005", "C00903", "gmbh co"):
        query = analyze(text, include_archived=True)
        assert bulk.search(query) == single.search(query), text
    assert bulk.find_switchboards("+4971130123") == single.find_switchboards("+4971130123")


def test_prepared_items_from_another_process_store_the_same(
    make_store: Callable[..., PostgresStore],
) -> None:
    contacts = _contacts(COPY_FROM + 5)
    items = pickle.loads(pickle.dumps([prepare_contact(c) for c in contacts]))
    plain, prepared = make_store(), make_store()
    numbers = prepared.add_prepared(items)
    assert numbers == [c.number for c in plain.add_contacts(contacts)]
    assert list(prepared.iter_contacts()) == list(plain.iter_contacts())


def test_a_bad_item_in_a_large_batch_changes_nothing(
    make_store: Callable[..., PostgresStore],
) -> None:
    store = make_store()
    first = store.add_contact(Person(first_name="Max", last_name="Mustermann"))
    contacts = _contacts(COPY_FROM + 5)
    with pytest.raises(ValidationError) as info:
        store.add_contacts([*contacts, "kein Kontakt"])  # type: ignore[list-item]
    assert info.value.findings[0].field == "contact"
    with pytest.raises(ConflictError):
        store.add_contacts([*contacts, attrs.evolve(first, number=None)])
    with pytest.raises(ConflictError):
        store.add_contacts([*contacts, contacts[0]])
    assert list(store.iter_contacts()) == [first]
    assert store.add_contact(Company(name="Nächste GmbH")).number == "C00002"
