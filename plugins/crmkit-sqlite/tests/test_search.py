"""The FTS5 name index never reads query words as FTS syntax and never misses a match."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crmkit import Company, Contact, Person
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


@pytest.fixture(scope="module")
def crowd() -> Iterator[tuple[SQLiteStore, list[Contact]]]:
    """More candidates than are read at once, so search streams them."""
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
    s.add_contacts(people)
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
