"""The ``sqlite`` entry point is found and ``sqlite://`` URLs open the right database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import crmkit
import crmkit_sqlite.hooks
from crmkit.crm import known_schemes
from crmkit.plugins import Hooks
from crmkit_sqlite import SQLiteStore, open_sqlite_store, parse_url
from crmkit_sqlite.store import MEMORY


def test_default_plugin_manager_finds_the_entry_point() -> None:
    pm = crmkit.make_plugin_manager()
    assert pm.get_plugin("sqlite") is crmkit_sqlite.hooks
    info = {p.name: p for p in Hooks(pm).plugins()}["sqlite"]
    assert (info.module, info.distribution, info.version) == (
        "crmkit_sqlite.hooks",
        "crmkit-sqlite",
        "0.1.0",
    )
    assert info.hooks == ("crmkit_register_stores",)
    assert known_schemes(pm)["sqlite"] == "sqlite"


def test_registering_the_module_by_hand_works_without_entry_points(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crm.db"
    with crmkit.open(url, plugins=[crmkit_sqlite.hooks], load_entry_points=False) as crm:
        assert isinstance(crm.store, SQLiteStore)


def test_open_returns_a_crm_on_the_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    with crmkit.open(f"sqlite:///{path}") as crm:
        assert isinstance(crm.store, SQLiteStore)
        assert crm.url == f"sqlite:///{path}"
        acme = crm.contacts.add(crmkit.Company(name="Muster GmbH", emails=["info@muster.de"]))
        max_ = crm.contacts.add(crmkit.Person(first_name="Max", last_name="Mustermann"))
        crm.affiliations.link(max_, acme, position="Geschäftsführer", roles={"decision_maker"})
        assert acme.number == "C00001"
    assert path.exists()
    with crmkit.open(f"sqlite:///{path}") as crm:
        assert crm.contacts.get("C00002") == max_
        assert [a.position for a in crm.affiliations.of_company(acme)] == ["Geschäftsführer"]
        assert crm.search("Muster") == [acme, max_]
        assert crm.search("@muster.de") == [acme]
        assert crm.search("Mustermann", kind="company") == []


def test_documented_example_runs_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with crmkit.open("sqlite:///kunden.db") as crm:
        crm.contacts.add(crmkit.Company(name="Muster GmbH", emails=["info@muster.de"],
                                        phones=["+49 123 456-0"]))  # fmt: skip
        crm.contacts.add(crmkit.Person(first_name="Erika", last_name="Direkt",
                                       phones=["+49 123 456-123"]))  # fmt: skip
    with crmkit.open("sqlite:///kunden.db") as crm:  # still there
        assert [c.display_name for c in crm.search("Muster")] == ["Muster GmbH"]
        [hit] = crm.lookup_phone("+49 123 456-124")
        assert (hit.contact.display_name, hit.match) == ("Muster GmbH", "switchboard")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///crm.db", "crm.db"),
        ("sqlite:///data/crm.db", "data/crm.db"),
        ("sqlite:////srv/crm/crm.db", "/srv/crm/crm.db"),
        ("sqlite:///my%20crm.db", "my crm.db"),
        ("sqlite:///Kundendaten-Müller.db", "Kundendaten-Müller.db"),
        ("SQLite:///crm.db", "crm.db"),
        ("sqlite://", MEMORY),
        ("sqlite:///:memory:", MEMORY),
    ],
)
def test_url_forms(url: str, expected: str) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://host/crm.db",
        "sqlite://user@/crm.db",
        "sqlite:///",
        "sqlite:///crm.db?mode=ro",
        "sqlite:///crm.db#x",
        "sqlite:crm.db",
        "memory://",
        "crm.db",
    ],
)
def test_bad_urls_are_store_errors(url: str) -> None:
    with pytest.raises(crmkit.StoreError) as info:
        parse_url(url)
    assert info.value.code == "store.bad_url"
    assert info.value.params["url"] == url


def test_bad_url_through_open() -> None:
    with pytest.raises(crmkit.StoreError) as info:
        crmkit.open("sqlite://somehost/crm.db")
    assert info.value.code == "store.bad_url"
    assert "sqlite://somehost/crm.db" in str(info.value)


def test_relative_url_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_sqlite_store("sqlite:///relative.db", {})
    try:
        store.add_contact(crmkit.Person(last_name="Groß"))
    finally:
        store.close()
    assert (tmp_path / "relative.db").exists()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_memory_urls_make_private_empty_databases(url: str, tmp_path: Path) -> None:
    before = set(os.listdir(tmp_path))
    with crmkit.open(url) as first, crmkit.open(url) as second:
        first.contacts.add(crmkit.Person(last_name="Müller"))
        assert first.contacts.count() == 1
        assert second.contacts.count() == 0
        assert "persistent" not in first.store.capabilities
    assert set(os.listdir(tmp_path)) == before


def test_capabilities_of_a_file_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "crm.db")
    try:
        assert store.capabilities == {
            "persistent",
            "concurrent",
            "fulltext",
            "bulk_prepared",
            "bulk_load",
            "segments",
            "records",
            "sync_links",
        }
        assert store.capabilities <= crmkit.store.CAPABILITIES
    finally:
        store.close()


def test_busy_timeout_option(tmp_path: Path) -> None:
    store = open_sqlite_store(f"sqlite:///{tmp_path}/crm.db", {"busy_timeout": 250})
    try:
        assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 250
    finally:
        store.close()
