"""Segments and records on PostgreSQL: schema version 3, one parameterised query per segment."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

import crmkit
from crmkit import Segment
from crmkit.serialize import to_dict
from crmkit.store import segment_ids
from crmkit_postgres import SCHEMA_VERSION, PostgresStore
from crmkit_postgres.schema import migrate
from crmkit_postgres.segments import segment_sql

HOSTILE = "x'); DROP TABLE contacts; --"


@pytest.fixture
def admin(postgres_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


def test_schema_version_3_adds_records_to_a_version_2_database(
    postgres_url: str, new_schema: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    person = crmkit.Person(first_name="Erika", last_name="Gäbler", tags={"VIP"})
    data = to_dict(person)
    data["number"], data["version"] = "C00001", 1
    with psycopg.connect(postgres_url) as conn:  # one transaction: a version-2 database
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        migrate(conn, 0, 2)
        conn.execute(
            "INSERT INTO contacts (id, number, number_seq, kind, version, data)"
            " VALUES (%s, 'C00001', 1, 'person', 1, %s)",
            (person.id, Jsonb(data)),
        )
        conn.execute("UPDATE counters SET value = 1")
    store = PostgresStore(postgres_url, schema=schema)
    try:
        row = admin.execute(
            sql.SQL("SELECT value FROM {}.crmkit_meta WHERE key = 'schema_version'").format(
                sql.Identifier(schema)
            )
        ).fetchone()
        assert row == (str(SCHEMA_VERSION),)
        assert {"segments", "records"} <= store.capabilities
        assert store.segment_ids(Segment(tags_any={"VIP"})) == [person.id]
        store.put_record("segment", "VIP", {"tags_any": ["VIP"]})
        assert store.iter_records("segment") == [("VIP", {"tags_any": ["VIP"]})]
    finally:
        store.close()


def test_values_are_parameters_never_statement_text() -> None:
    segment = Segment(
        tags_any={HOSTILE},
        city=HOSTILE,
        postal_code_prefix="7'; --",
        lead_sources={HOSTILE},
        owner=HOSTILE,
    ) | ~Segment(tags_none={HOSTILE}, lead_statuses={"new"})
    where, params = segment_sql(segment)
    assert "DROP" not in where and HOSTILE not in where and "7'" not in where
    assert where.count("%s") == len(params)
    flat = [v for p in params for v in (p if isinstance(p, list) else [p])]
    assert flat.count(HOSTILE) == 5


def test_hostile_values_select_by_value_and_change_nothing(
    make_store: Callable[..., PostgresStore],
) -> None:
    store = make_store()
    odd = store.add_contact(
        crmkit.Person(
            first_name="Max",
            last_name="Mustermann",
            tags={HOSTILE, "Straße"},
            addresses=[crmkit.Address(street="Weg 1", postal_code="70173", city=HOSTILE)],
        )
    )
    plain = store.add_contact(crmkit.Company(name="Muster GmbH", tags={"VIP"}))
    assert segment_ids(store, Segment(tags_any={HOSTILE})) == [odd.id]
    assert segment_ids(store, Segment(city=HOSTILE)) == [odd.id]
    assert segment_ids(store, Segment(tags_none={HOSTILE})) == [plain.id]
    assert segment_ids(store, Segment(tags_all={HOSTILE, "Straße"})) == [odd.id]
    assert segment_ids(store, Segment(postal_code_prefix="70%")) == []  # no LIKE patterns
    assert store.count_contacts() == 2
