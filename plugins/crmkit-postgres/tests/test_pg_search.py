"""Search parity: the PostgreSQL store finds exactly what ``select`` and the SQLite store find.

The cases are those of the SQLite plugin's search tests (hand-built text
queries with hostile words, a crowd larger than one read chunk with numbers in
and out of order), run against both stores.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql

from crmkit import Company, Contact, Person
from crmkit.search import Query, analyze, select
from crmkit.testing.contract import T0
from crmkit_postgres import PostgresStore
from crmkit_postgres import store as pg_store
from crmkit_postgres.store import READ_CHUNK
from crmkit_sqlite import SQLiteStore

Stores = tuple[PostgresStore, SQLiteStore]


@pytest.fixture(scope="module")
def module_schema(postgres_url: str) -> Iterator[str]:
    """A schema for this module's stores, dropped at the end."""
    name = f"search_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def _both(postgres_url: str, schema: str, contacts: list[Contact]) -> Stores:
    pg = PostgresStore(postgres_url, schema=schema)
    lite = SQLiteStore()
    pg.add_contacts(contacts)
    lite.add_contacts(contacts)
    return pg, lite


@pytest.fixture(scope="module")
def small(postgres_url: str, module_schema: str) -> Iterator[Stores]:
    pg, lite = _both(
        postgres_url,
        module_schema + "_small",
        [
            Person(first_name="Jürgen", last_name="Müller-Lüdenscheidt"),
            Person(first_name="Zoë", last_name="Ñandú"),
            Person(first_name="Ödön", last_name="Straße"),
            Company(name="Bäckerei Groß GmbH & Co. KG"),
            Company(name="NEAR OR AND GmbH"),
            Company(name="東京 株式会社"),
            Company(name="100% Bio_Laden \\ Söhne"),
            Person(last_name="Co"),
        ],
    )
    yield pg, lite
    pg.close()
    lite.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(module_schema + "_small"))
        )


_alphabet = st.sampled_from('aäbcdegklmnorsuzß"*^:-()+.{}%_\\ \x00東京OoRrNEAR')


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(words=st.lists(st.text(_alphabet, max_size=6) | st.text(max_size=4), max_size=3))
@example(words=['"', "*"])
@example(words=["near", "or"])
@example(words=["mue", "jue"])
@example(words=["東京"])
@example(words=["%"])
@example(words=["_"])
@example(words=["100%"])
@example(words=["bio_"])
@example(words=["\\"])
@example(words=[""])
@example(words=[])
@example(words=["a\x00"])
@example(words=["mueller", "m"])  # the last name and its initial (the duplicate check)
@example(words=["m", "mü", "müller"])
@example(words=["jürgen", "j", "ju"])
def test_hand_built_text_queries_agree_with_select(small: Stores, words: list[str]) -> None:
    pg, lite = small
    query = Query(mode="text", words=tuple(words), include_archived=True)
    expected = select(pg.iter_contacts(), query)
    assert pg.search(query) == expected
    assert [c.id for c in expected] == [c.id for c in lite.search(query)]


@pytest.mark.parametrize(
    "text",
    ["100%", "bio_laden", "%", "_", "\\", "söhne", "' OR 1=1 --", "'; DROP TABLE contacts; --"],
)
def test_like_wildcards_and_quotes_are_plain_text(small: Stores, text: str) -> None:
    pg, lite = small
    query = analyze(text)
    found = pg.search(query)
    assert found == select(pg.iter_contacts(), query)
    assert [c.id for c in found] == [c.id for c in lite.search(query)]
    assert pg.count_contacts() == 8


@pytest.fixture(scope="module", params=["sequential", "shuffled"])
def crowd(
    request: pytest.FixtureRequest, postgres_url: str, module_schema: str
) -> Iterator[tuple[PostgresStore, SQLiteStore, list[Contact]]]:
    """More candidates than one read chunk, so search streams them.

    ``sequential``: numbers allocated in order; ``shuffled``: imported with
    their own numbers out of order (some longer), so number order is not
    insertion order.
    """
    people: list[Contact] = [
        Person(
            first_name="Max" if i % 3 else "Mia",
            last_name="Müller" if i % 4 == 0 else f"Mustermann{i}",
            emails=[f"m{i}@muster.de"],
            archived_at=T0 if i % 11 == 0 else None,
            relationships={"customer"} if i % 2 else (),
        )
        for i in range(READ_CHUNK + 700)
    ]
    people += [Company(name=f"Muster {i} GmbH", emails=[f"info{i}@muster.de"]) for i in range(50)]
    if request.param == "shuffled":
        numbers = [f"C{n:05d}" if n % 7 else f"C{n:06d}" for n in range(1, len(people) + 1)]
        random.Random(3).shuffle(numbers)
        people = [attrs.evolve(p, number=n) for p, n in zip(people, numbers, strict=True)]
    schema = f"{module_schema}_{request.param}"
    pg, lite = _both(postgres_url, schema, people)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        # Statistics as after a while in use: the single-key heuristic sees a size.
        conn.execute(sql.SQL("ANALYZE {}.contacts").format(sql.Identifier(schema)))
    yield pg, lite, list(pg.iter_contacts())
    pg.close()
    lite.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["auto", "walk", "drive"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How searches find candidates: as chosen by key counts, always by walking the
    number order, or always driven by the rarest key (same results every way)."""
    if request.param == "walk":
        monkeypatch.setattr(pg_store, "DRIVE_BELOW", 0)
    elif request.param == "drive":
        monkeypatch.setattr(pg_store, "DRIVE_BELOW", 10**9)
        monkeypatch.setattr(pg_store, "walk_is_cheaper", lambda n, want, contacts: False)
    return str(request.param)


@pytest.mark.parametrize(
    "text",
    [
        "m",
        "mu",
        "Müller",
        "mueller max",
        "max",
        "Mustermann1",
        "@muster.de",
        "muster",
        "",
        "mueller m",
        "m mueller",
        "mustermann1 m mu",
        "max m",
    ],
)
@pytest.mark.parametrize("limit", [1, 50, READ_CHUNK + 200])
def test_streamed_search_agrees_with_select_and_sqlite(
    crowd: tuple[PostgresStore, SQLiteStore, list[Contact]], text: str, limit: int, strategy: str
) -> None:
    pg, lite, everything = crowd
    options: list[dict[str, Any]] = [
        {},
        {"include_archived": True},
        {"kind": "person", "relationships": "kunde"},
    ]
    for filters in options:
        query = analyze(text, limit=limit, **filters)
        expected = select(everything, query)
        assert pg.search(query) == expected, (text, limit, filters)
        assert [c.id for c in lite.search(query)] == [c.id for c in expected]


@pytest.mark.parametrize(
    "text", ["C00007", "c00007", "m7@muster.de", "M7@MUSTER.DE", "@muster.de", "muster.de"]
)
def test_exact_modes_agree(
    crowd: tuple[PostgresStore, SQLiteStore, list[Contact]], text: str, strategy: str
) -> None:
    pg, lite, everything = crowd
    query = analyze(text, include_archived=True)
    expected = select(everything, query)
    assert pg.search(query) == expected
    assert [c.id for c in lite.search(query)] == [c.id for c in expected]
    if query.mode == "number":
        assert len(expected) == 1


@given(st.lists(st.text("abmuü", max_size=4), max_size=5).map(lambda w: tuple(dict.fromkeys(w))))
@example(("mueller", "m", "anna"))
@example(("m", "m"))
def test_implied_prefixes_are_dropped_and_nothing_else(words: tuple[str, ...]) -> None:
    kept = pg_store.without_implied_prefixes(words)
    assert set(kept) <= set(words)
    assert list(kept) == [w for w in words if w in kept]  # order kept
    for word in words:
        # Dropped exactly when another word begins with it: a word starting
        # with that one starts with this one, too.
        begun = any(v != word and v.startswith(word) for v in words)
        assert (word not in kept) == begun
    for word in set(words) - set(kept):
        assert any(v.startswith(word) for v in kept)


def test_store_connections_run_without_jit(small: Stores) -> None:
    pg, _ = small
    with pg._connection() as conn:
        row = conn.execute("SHOW jit").fetchone()
    assert row is not None and row[0] == "off"
