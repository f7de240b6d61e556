"""Discovery, URLs, the schema option, migrations and refusing what is not ours."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

import crmkit
import crmkit_postgres.hooks
from crmkit import Company, Person
from crmkit.crm import known_schemes
from crmkit.errors import StoreError
from crmkit.plugins import Hooks
from crmkit.search import analyze
from crmkit.serialize import to_dict
from crmkit_postgres import SCHEMA_VERSION, PostgresStore, parse_url
from crmkit_postgres.schema import DEFAULT_SCHEMA, migrate
from crmkit_postgres.store import FINGERPRINT_KEY
from crmkit_postgres.testing import with_schema


@pytest.fixture
def admin(postgres_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain autocommit connection to the test database, to look behind the store."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        yield conn


def _version(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> str:
    row = conn.execute(
        sql.SQL("SELECT value FROM {}.crmkit_meta WHERE key = 'schema_version'").format(
            sql.Identifier(schema)
        )
    ).fetchone()
    assert row is not None
    return str(row[0])


# -- discovery and URLs --------------------------------------------------------------------
def test_default_plugin_manager_finds_the_entry_point() -> None:
    pm = crmkit.make_plugin_manager()
    assert pm.get_plugin("postgres") is crmkit_postgres.hooks
    info = {p.name: p for p in Hooks(pm).plugins()}["postgres"]
    assert (info.module, info.distribution, info.version) == (
        "crmkit_postgres.hooks",
        "crmkit-postgres",
        "0.1.0",
    )
    assert info.hooks == ("crmkit_register_stores",)
    schemes = known_schemes(pm)
    assert schemes["postgresql"] == schemes["postgres"] == "postgres"


def test_open_by_url_with_schema_and_pool_options(
    postgres_url: str, new_schema: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    url = with_schema(postgres_url, schema) + "&pool_max_size=3"
    for shown in (url, url.replace("postgresql://", "postgres://", 1)):
        with crmkit.open(shown) as crm:
            assert isinstance(crm.store, PostgresStore)
            assert crm.store.schema == schema
            crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
            assert [c.display_name for c in crm.search("muster")] == ["Max Mustermann"] * (
                1 if shown == url else 2
            )
    found = admin.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename = 'contacts'",
        (schema,),
    ).fetchone()
    assert found == (1,)


def test_registering_the_module_by_hand_works_without_entry_points(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    url = with_schema(postgres_url, new_schema())
    with crmkit.open(url, plugins=[crmkit_postgres.hooks], load_entry_points=False) as crm:
        assert isinstance(crm.store, PostgresStore)
        assert crm.store.capabilities >= {"persistent", "concurrent", "fulltext"}


def test_url_parsing_keeps_libpq_options_and_hides_the_password() -> None:
    target = parse_url(
        "postgresql://anna:geheim%21@db.example.org:5433/crm?sslmode=require&schema=crm"
        "&pool_min_size=2&pool_max_size=5&pool_timeout=2.5"
    )
    assert target.schema == "crm"
    assert (target.pool_min_size, target.pool_max_size, target.pool_timeout) == (2, 5, 2.5)
    libpq = urlsplit(target.conninfo)
    assert libpq.password == "geheim%21" and libpq.query == "sslmode=require"
    assert "geheim" not in target.safe_url
    assert target.safe_url.startswith("postgresql://anna@db.example.org:5433/crm?")
    assert "schema=crm" in target.safe_url
    assert parse_url("postgres://localhost/crm").schema == DEFAULT_SCHEMA
    assert parse_url("postgresql:///crm", {"schema": "other", "busy_timeout": 3}).schema == "other"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://localhost/crm",
        "postgresql//localhost/crm",
        "postgresql://localhost/crm#frag",
        "postgresql://localhost:notaport/crm",
        "postgresql://localhost/crm\x00",
    ],
)
def test_bad_urls_are_store_errors(url: str) -> None:
    with pytest.raises(StoreError) as info:
        parse_url(url)
    assert info.value.code == "store.bad_url"


@pytest.mark.parametrize(
    ("query", "option"),
    [
        ("schema=crm%3B%20DROP%20SCHEMA%20public", "schema"),
        ('schema=a"b', "schema"),
        ("schema=1abc", "schema"),
        ("schema=pg_catalog", "schema"),
        ("schema=" + "a" * 64, "schema"),
        ("schema=", "schema"),
        ("schema=crm%00", "schema"),
        ("pool_max_size=0", "pool_max_size"),
        ("pool_max_size=many", "pool_max_size"),
        ("pool_min_size=5&pool_max_size=2", "pool_min_size"),
        ("pool_timeout=-1", "pool_timeout"),
    ],
)
def test_bad_options_name_the_option_in_both_languages(query: str, option: str) -> None:
    with pytest.raises(StoreError) as info:
        parse_url(f"postgresql://localhost/crm?{query}")
    assert info.value.code == "store.bad_option"
    assert info.value.params["option"] == option
    assert str(info.value).startswith(f"store option {option}:")
    assert info.value.message("de").startswith(f"Speicher-Option {option}:")


def test_hostile_schema_name_through_open_changes_nothing(
    postgres_url: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    before = admin.execute("SELECT count(*) FROM pg_namespace").fetchone()
    with pytest.raises(StoreError):
        crmkit.open(postgres_url, schema='x"; DROP SCHEMA public CASCADE; --')
    assert admin.execute("SELECT count(*) FROM pg_namespace").fetchone() == before


def test_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError) as info:
        PostgresStore("postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2")
    assert info.value.code == "store.io"
    assert "127.0.0.1" in str(info.value) or "connect" in str(info.value)


# -- schemas -----------------------------------------------------------------------------------
def test_schemas_keep_stores_apart_and_leave_other_tables_alone(
    make_store: Callable[..., PostgresStore], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    admin.execute("CREATE TABLE IF NOT EXISTS public.app_orders (id int PRIMARY KEY)")
    admin.execute("INSERT INTO public.app_orders VALUES (1) ON CONFLICT DO NOTHING")
    try:
        one, two = make_store(), make_store()
        one.add_contact(Company(name="Eins GmbH"))
        assert two.count_contacts() == 0
        assert two.add_contact(Company(name="Zwei GmbH")).number == "C00001"
        assert [c.display_name for c in one.search(analyze("GmbH"))] == ["Eins GmbH"]
        assert admin.execute("SELECT count(*) FROM public.app_orders").fetchone() == (1,)
    finally:
        admin.execute("DROP TABLE public.app_orders")


def test_a_schema_with_other_tables_is_refused(
    postgres_url: str, new_schema: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    admin.execute(sql.SQL("CREATE TABLE {}.invoices (id int)").format(sql.Identifier(schema)))
    with pytest.raises(StoreError) as info:
        PostgresStore(postgres_url, schema=schema)
    assert info.value.code == "store.not_crmkit"
    assert "invoices" in str(info.value)
    tables = admin.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
    ).fetchall()
    assert tables == [("invoices",)]


def test_a_newer_schema_version_is_refused_and_left_alone(
    make_store: Callable[..., PostgresStore],
    postgres_url: str,
    admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    store = make_store()
    store.add_contact(Person(first_name="Max", last_name="Mustermann"))
    store.close()
    meta = sql.SQL("UPDATE {}.crmkit_meta SET value = %s WHERE key = 'schema_version'").format(
        sql.Identifier(store.schema)
    )
    admin.execute(meta, (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError) as info:
        PostgresStore(postgres_url, schema=store.schema)
    assert info.value.code == "store.schema_too_new"
    assert "crmkit-postgres" in str(info.value) and "crmkit-postgres" in info.value.message("de")
    assert _version(admin, store.schema) == str(SCHEMA_VERSION + 1)
    admin.execute(meta, ("zwei",))
    with pytest.raises(StoreError) as bad:
        PostgresStore(postgres_url, schema=store.schema)
    assert bad.value.code == "store.corrupt"


def test_an_older_schema_is_upgraded_and_its_search_keys_built(
    postgres_url: str, new_schema: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    person = Person(
        first_name="Jürgen", last_name="Müller", emails=["j@muster.de"], phones=["0170 1234567"]
    )
    data = to_dict(person)
    data["number"], data["version"] = "C00007", 1
    with psycopg.connect(postgres_url) as conn:  # one transaction: a version-1 database
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        migrate(conn, 0, 1)
        conn.execute(
            "INSERT INTO contacts (id, number, number_seq, kind, version, data)"
            " VALUES (%s, 'C00007', 7, 'person', 1, %s)",
            (person.id, Jsonb(data)),
        )
        conn.execute("UPDATE counters SET value = 7")
    assert _version(admin, schema) == "1"
    store = PostgresStore(postgres_url, schema=schema)
    try:
        assert _version(admin, schema) == str(SCHEMA_VERSION)
        found = store.get_contact(person.id)
        assert found.number == "C00007"
        assert store.search(analyze("mueller")) == [found]
        assert store.search(analyze("@muster.de")) == [found]
        assert store.find_by_phone("+491701234567") == [found]
        assert store.add_contact(Company(name="Neu GmbH")).number == "C00008"
        assert store.timeline(crmkit.correspondence.timeline_query([person.id])) == []
    finally:
        store.close()


def test_changed_key_rules_rebuild_the_search_keys(
    make_store: Callable[..., PostgresStore],
    postgres_url: str,
    admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    store = make_store()
    max_ = store.add_contact(Person(first_name="Max", last_name="Mustermann"))
    store.close()
    ident = sql.Identifier(store.schema)
    admin.execute(sql.SQL("DELETE FROM {}.contact_words").format(ident))
    admin.execute(
        sql.SQL("UPDATE {}.crmkit_meta SET value = 'old' WHERE key = %s").format(ident),
        (FINGERPRINT_KEY,),
    )
    again = PostgresStore(postgres_url, schema=store.schema)
    try:
        assert again.search(analyze("muster")) == [max_]
    finally:
        again.close()


def test_stores_opening_a_new_schema_at_once_migrate_it_once(
    postgres_url: str, new_schema: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    schema = new_schema()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    stores: list[PostgresStore] = []

    def open_one() -> None:
        barrier.wait()
        try:
            stores.append(PostgresStore(postgres_url, schema=schema, pool_max_size=2))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert len(stores) == 4
        assert _version(admin, schema) == str(SCHEMA_VERSION)
        stores[0].add_contact(Person(first_name="Max", last_name="Mustermann"))
        assert all(s.count_contacts() == 1 for s in stores)
    finally:
        for s in stores:
            s.close()


def test_a_store_opened_with_a_conninfo_string_names_it_without_the_password(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    target = urlsplit(postgres_url)
    conninfo = (
        f"host={target.hostname} port={target.port} dbname={target.path.lstrip('/')}"
        f" user={target.username} password=geheim"
    )
    schema = new_schema()
    store = PostgresStore(conninfo, schema=schema)
    try:
        assert "geheim" not in store.url
        assert store.url == (
            f"postgresql://{target.username}@{target.hostname}:{target.port}"
            f"{target.path}?schema={schema}"
        )
        assert repr(store) == f"<PostgresStore {store.url} (open)>"
    finally:
        store.close()
    assert repr(store).endswith("(closed)>")


def test_a_version_4_schema_gets_the_covering_search_indexes(
    postgres_url: str, new_schema: Callable[[], str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    """Version 5 replaces the word and domain indexes by ones that carry the contact id."""
    schema = new_schema()
    with psycopg.connect(postgres_url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        migrate(conn, 0, 4)

    def indexes() -> set[str]:
        rows = admin.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)
        ).fetchall()
        return {str(r[0]) for r in rows}

    assert {"contact_words_word", "contact_emails_domain"} <= indexes()
    store = PostgresStore(postgres_url, schema=schema)
    try:
        assert _version(admin, schema) == str(SCHEMA_VERSION) == "5"
        found = indexes()
        assert {"contact_words_word_id", "contact_emails_domain_id"} <= found
        assert not {"contact_words_word", "contact_emails_domain"} & found
        muster = store.add_contact(Company(name="Muster GmbH", emails=["info@muster.de"]))
        assert store.search(analyze("Muster GmbH")) == [muster]
        assert store.search(analyze("@muster.de")) == [muster]
    finally:
        store.close()


def test_bulk_load_leaves_the_tables_analysed(
    make_store: Callable[..., PostgresStore], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    store = make_store()
    assert "bulk_load" in store.capabilities
    with store.bulk_load():
        store.add_contacts([Person(first_name="Max", last_name=f"Muster{i}") for i in range(300)])
    rows = admin.execute(
        "SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL"
        " FROM pg_stat_user_tables WHERE schemaname = %s AND relname = ANY(%s)",
        (store.schema, ["contacts", "contact_words"]),
    ).fetchall()
    assert sorted(rows) == [("contact_words", True, True), ("contacts", True, True)]
    with store.transaction(), pytest.raises(StoreError) as caught, store.bulk_load():
        pass
    assert caught.value.code == "store.transaction_nested"
    assert len(store.search(analyze("max muster29"))) == 11  # Muster29, Muster290 … Muster299
