"""Sync links in PostgreSQL: the migration, persistence, and links of deleted contacts."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

from crmkit.model import Person
from crmkit.testing.sync_contract import sample_link
from crmkit_postgres import SCHEMA_VERSION, PostgresStore
from crmkit_postgres.schema import MIGRATIONS, migrate
from crmkit_postgres.synclinks import DDL


def test_a_schema_of_the_previous_version_gets_the_sync_tables(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    # The step may move when branches are merged: migrate to just before it.
    step = MIGRATIONS.index(DDL)
    assert step < SCHEMA_VERSION
    schema = new_schema()
    with psycopg.connect(postgres_url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        migrate(conn, 0, step)
    store = PostgresStore(postgres_url, schema=schema)
    try:
        person = store.add_contact(Person(last_name="Weiß", emails=["weiss@example.de"]))
        store.put_sync_link(sample_link(person.id))
        store.put_sync_state("m365", "anna@x.de", "delta/F1", "https://graph/delta?t=1")
    finally:
        store.close()
    again = PostgresStore(postgres_url, schema=schema)
    try:
        assert again.get_sync_link(person.id, "m365", "anna@müller-gmbh.de") == sample_link(
            person.id
        )
        assert again.get_sync_state("m365", "anna@x.de", "delta/F1") == "https://graph/delta?t=1"
    finally:
        again.close()


def test_a_deleted_contact_leaves_only_the_remote_id_of_its_link(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    store = make_store()
    person = store.add_contact(Person(last_name="Weiß", emails=["weiss@example.de"]))
    store.put_sync_link(sample_link(person.id))
    store.delete_contact(person.id)
    (left,) = store.sync_links()
    assert (left.status, left.remote_id, left.snapshot) == ("erased", f"AAMk-{person.id}", {})
    with psycopg.connect(postgres_url) as conn:
        raw = conn.execute(
            sql.SQL("SELECT data::text FROM {}.sync_links").format(sql.Identifier(store.schema))
        ).fetchone()
    assert raw is not None and "Weiß" not in raw[0]
