"""The FTS5 name index never reads query words as FTS syntax and never misses a match."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crmkit import Company, ConflictError, Contact, Person
from crmkit.search import Query, analyze, select
from crmkit.testing.contract import T0
from crmkit_sqlite import SQLiteStore
from crmkit_sqlite.store import SMALL_CANDIDATES


@pytest.fixture(scope="module")
def store() -> Iterator[SQLiteStore]:
    s = SQLiteStore()
    s.add_contacts(
        [
            Person(first_name="Jürgen", last_name="Müller-Lüdenscheidt"),
            Person(first_name="Zoë", last_name="Ñandú"),
            Person(first_name="Ödön", last_name="Straße"),
            Company(name="Bäckerei Groß GmbH & Co. KG"),
            Company(name="NEAR OR AND GmbH"),
            Company(name="東京 株式会社"),
            Person(last_name="Co"),
        ]
    )
    yield s
    s.close()


_alphabet = st.sampled_from('aäbcdegklmnorsuzß"*^:-()+.{} \x00東京OoRrNEAR')


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(words=st.lists(st.text(_alphabet, max_size=6) | st.text(max_size=4), max_size=3))
@example(words=['"', "*"])
@example(words=["near", "or"])
@example(words=["mue", "jue"])
@example(words=["東京"])
def test_hand_built_text_queries_agree_with_select(store: SQLiteStore, words: list[str]) -> None:
    query = Query(mode="text", words=tuple(words), include_archived=True)
    assert store.search(query) == select(store.iter_contacts(), query)


@pytest.fixture(scope="module", params=["sequential", "shuffled"])
def crowd(request: pytest.FixtureRequest) -> Iterator[tuple[SQLiteStore, list[Contact]]]:
    """More candidates than are read at once, so search streams them.

    ``sequential``: numbers allocated in order, so rid order is number order
    and search reads along the rids; ``shuffled``: imported with their own
    numbers out of order (some longer), so search must sort by number.
    """
    s = SQLiteStore()
    people: list[Contact] = [
        Person(
            first_name="Max" if i % 3 else "Mia",
            last_name="Müller" if i % 4 == 0 else f"Mustermann{i}",
            emails=[f"m{i}@muster.de"],
            archived_at=T0 if i % 11 == 0 else None,
            relationships={"customer"} if i % 2 else (),
        )
        for i in range(SMALL_CANDIDATES + 700)
    ]
    people += [Company(name=f"Muster {i} GmbH", emails=[f"info{i}@muster.de"]) for i in range(50)]
    if request.param == "shuffled":
        numbers = [f"C{n:05d}" if n % 7 else f"C{n:06d}" for n in range(1, len(people) + 1)]
        random.Random(3).shuffle(numbers)
        people = [attrs.evolve(p, number=n) for p, n in zip(people, numbers, strict=True)]
    s.add_contacts(people)
    assert s._rid_in_number_order() == (request.param == "sequential")
    yield s, list(s.iter_contacts())
    s.close()


@pytest.mark.parametrize(
    "text", ["m", "mu", "Müller", "mueller max", "max", "Mustermann1", "@muster.de", "muster", ""]
)
@pytest.mark.parametrize("limit", [1, 50, 700, SMALL_CANDIDATES + 200])
def test_streamed_search_agrees_with_select(
    crowd: tuple[SQLiteStore, list[Contact]], text: str, limit: int
) -> None:
    store, everything = crowd
    options: list[dict[str, Any]] = [
        {},
        {"include_archived": True},
        {"kind": "person", "relationships": "kunde"},
    ]
    for filters in options:
        query = analyze(text, limit=limit, **filters)
        assert store.search(query) == select(everything, query), (text, limit, filters)


def test_rid_order_flag_turns_off_for_a_number_out_of_order() -> None:
    s = SQLiteStore()
    try:
        first = s.add_contacts([Person(last_name="Müller") for _ in range(3)])
        s.add_contact(Person(last_name="Müller", number="C00010"))
        assert s._rid_in_number_order()
        s.delete_contact(first[-1].id)
        s.add_contact(Person(last_name="Müller"))  # C00011
        assert s._rid_in_number_order()
        with pytest.raises(ConflictError):  # a failed insert changes nothing
            s.add_contacts([Person(last_name="Müller", number="C00005"), first[0]])
        assert s._rid_in_number_order()
        s.add_contact(Person(last_name="Müller", number="C00005"))
        assert not s._rid_in_number_order()
        s.add_contact(Person(last_name="Müller"))
        assert not s._rid_in_number_order()
        query = analyze("müll")
        found = s.search(query)
        assert [c.number for c in found] == ["C00001", "C00002", "C00005", "C00010", "C00011",
                                             "C00012"]  # fmt: skip
        assert found == select(s.iter_contacts(), query)
    finally:
        s.close()
