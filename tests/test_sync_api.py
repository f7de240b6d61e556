"""``crm.sync``: status, links, the worklist, decisions and writes tagged as sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

import crmkit
from crmkit.auth import as_actor, default_policy
from crmkit.errors import StoreError, ValidationError
from crmkit.hookspecs import hookimpl
from crmkit.memory import MemoryStore
from crmkit.model import Contact
from crmkit.store import sync_link_store
from crmkit.sync import SyncLink
from crmkit.testing.sync_contract import sample_link

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Recorder:
    """Records every contact-saved notification with its origin, as a provider would."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, str, int]] = []

    @hookimpl
    def crmkit_on_contact_saved(self, contact: Contact, created: bool, origin: str) -> None:
        self.saved.append((contact.id, origin, contact.version))


def _crm(*plugins: object) -> crmkit.CRM:
    return crmkit.open("memory://", plugins=plugins, load_entry_points=False, clock=lambda: NOW)


def test_status_and_links_of_a_contact() -> None:
    crm = _crm()
    max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
    assert crm.sync.status(max_).state == "not_linked"
    store = sync_link_store(crm.store)
    store.put_sync_link(sample_link(max_.id))
    status = crm.sync.status(max_.number or "")
    assert status.state == "ok" and [link.remote_id for link in status] == [f"AAMk-{max_.id}"]
    store.put_sync_link(sample_link(max_.id, mailbox="b@x.de", status="error", last_error="503"))
    assert crm.sync.status(max_).state == "error"
    assert len(crm.sync.links()) == 2
    assert [link.mailbox for link in crm.sync.links(status="error")] == ["b@x.de"]
    with pytest.raises(ValidationError):
        crm.sync.links(status="weird")


def test_sync_errors_conflicts_skips_and_unlinks_are_on_the_worklist() -> None:
    crm = _crm()
    people = [
        crm.contacts.add(crmkit.Person(last_name=name, emails=[f"{name.lower()}@x.de"]))
        for name in ("Fehler", "Konflikt", "Ohne", "Weg", "Gut")
    ]
    store = sync_link_store(crm.store)
    store.put_sync_link(sample_link(people[0].id, status="error", last_error="HTTP 503"))
    store.put_sync_link(
        sample_link(people[1].id, status="conflict", conflicts=("surname", "job_title"))
    )
    store.put_sync_link(sample_link(people[2].id, status="skipped_no_email", remote_id=None))
    store.put_sync_link(
        sample_link(people[3].id, status="unlinked", remote_id=None, last_error="deleted")
    )
    store.put_sync_link(sample_link(people[4].id))
    items = [i for i in crm.worklist(today=NOW.date()) if i.source == "sync"]
    kinds = sorted((i.kind, i.contact_name) for i in items)
    assert kinds == [
        ("sync.conflict", "Konflikt"),
        ("sync.error", "Fehler"),
        ("sync.skipped_no_email", "Ohne"),
        ("sync.unlinked", "Weg"),
    ]
    conflict = next(i for i in items if i.kind == "sync.conflict")
    assert "job_title, surname" in conflict.reason("en")
    assert "wurde im CRM und in m365" in conflict.reason("de")
    assert conflict.suggestion("de").startswith("entscheiden")
    error = next(i for i in items if i.kind == "sync.error")
    assert "HTTP 503" in error.reason("en") and error.severity == "error"


def test_writes_inside_applying_are_tagged_and_audited_as_sync() -> None:
    recorder = Recorder()
    crm = _crm(recorder)
    max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
    with crm.sync.applying("m365"):
        synced = crm.contacts.update(attrs.evolve(max_, last_name="Muster"))
    crm.contacts.update(attrs.evolve(synced, first_name="Max"))
    assert [origin for _id, origin, _v in recorder.saved] == ["user", "sync:m365", "user"]
    reasons = [r.reason for r in crm.audit.history(max_) if r.action == "update"]
    assert reasons == ["sync:m365", ""]


def test_notifications_of_a_rolled_back_sync_write_never_arrive() -> None:
    recorder = Recorder()
    crm = _crm(recorder)
    max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
    with pytest.raises(RuntimeError), crm.sync.applying("m365"), crm.transaction():
        crm.contacts.update(attrs.evolve(max_, last_name="Muster"))
        raise RuntimeError("the push failed before commit")
    assert [origin for _id, origin, _v in recorder.saved] == ["user"]
    assert crm.contacts.get(max_).last_name == "Mustermann"  # type: ignore[attr-defined]


def test_conflict_decisions_are_kept_until_applied() -> None:
    crm = _crm()
    max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
    crm.sync.resolve(max_, "m365", "anna@x.de", {"surname": "crm"})
    crm.sync.resolve(max_, "m365", "anna@x.de", {"job_title": "remote"})
    assert crm.sync.decisions(max_, "m365", "anna@x.de") == {
        "surname": "crm",
        "job_title": "remote",
    }
    assert any(r.action == "resolve_sync" for r in crm.audit.history(max_))
    crm.sync.clear_decisions(max_, "m365", "anna@x.de")
    assert crm.sync.decisions(max_, "m365", "anna@x.de") == {}
    with pytest.raises(ValidationError):
        crm.sync.resolve(max_, "m365", "anna@x.de", {"surname": "both"})  # type: ignore[dict-item]


class _NoLinks(MemoryStore):
    capabilities = frozenset({"concurrent"})


def test_a_store_without_sync_links_refuses_clearly() -> None:
    store = _NoLinks()
    crm = crmkit.CRM(
        store,
        pm=crmkit.make_plugin_manager(load_entry_points=False),
        clock=lambda: NOW,
        actor=as_actor(None),
        authorizer=default_policy(),
    )
    max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
    assert crm.sync.status(max_).state == "not_linked"
    with pytest.raises(StoreError) as info:
        crm.sync.links()
    assert "sync_links" in str(info.value)
    assert [i for i in crm.worklist(today=NOW.date()) if i.source == "sync"] == []


class _Provider:
    name = "demo"

    def __init__(self) -> None:
        self.calls: list[bool] = []

    def sync(self, crm: Any, *, dry_run: bool = False) -> dict[str, Any]:
        self.calls.append(dry_run)
        return {"dry_run": dry_run, "contacts": crm.contacts.count()}


def test_run_a_provider_by_name() -> None:
    provider = _Provider()

    class Plugin:
        @hookimpl
        def crmkit_register_sync_providers(self, register: Any) -> None:
            register("demo", provider)

    crm = _crm(Plugin())
    assert crm.sync.run("demo", dry_run=True) == {"dry_run": True, "contacts": 0}
    assert list(crm.sync.providers()) == ["demo"]
    with pytest.raises(ValidationError):
        crm.sync.run("nope")
    assert isinstance(sample_link("x"), SyncLink)
