"""The facade on memory://: the DESIGN.md API lines, transactions and events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import attrs
import pytest

import crmkit
from crmkit import (
    Company,
    ConflictError,
    Finding,
    NotFoundError,
    Person,
    PluginError,
    StoreError,
    ValidationError,
)

Clock = Callable[[], dt.datetime]


@pytest.fixture
def crm(clock: Clock) -> crmkit.CRM:
    return crmkit.open("memory://", load_entry_points=False, clock=clock)


def test_design_api_lines(crm: crmkit.CRM, clock: Clock) -> None:
    acme = crm.contacts.add(
        crmkit.Company(
            name="Muster GmbH",
            relationships={"customer"},
            emails=["info@muster.de"],
            phones=["+49 123 456-0"],
            tags={"Branche-IT"},
        )
    )
    max_ = crm.contacts.add(
        crmkit.Person(
            first_name="Max",
            last_name="Mustermann",
            emails=["max.mustermann@muster.de"],
            phones=["0170 1234567"],
        )
    )
    aff = crm.affiliations.link(
        max_,
        acme,
        position="Geschäftsführer",
        department="Geschäftsleitung",
        roles={"decision_maker"},
    )
    assert (acme.number, max_.number) == ("C00001", "C00002")
    assert acme.created_at == clock() == acme.updated_at
    assert crm.contacts.get("C00002") == max_
    assert crm.contacts.get("c00002") == max_
    assert crm.contacts.get(max_.id) == max_
    assert crm.affiliations.of_company(acme) == [aff]
    assert crm.affiliations.of_person("C00002") == [aff]
    assert crm.affiliations.people(acme) == [(aff, max_)]
    assert aff.roles == {"decision_maker"}


def test_update_checks_version(crm: crmkit.CRM) -> None:
    p = crm.contacts.add(Person(last_name="Muster"))
    p2 = crm.contacts.update(attrs.evolve(p, first_name="Erika"))
    assert p2.version == 2
    with pytest.raises(ConflictError) as info:
        crm.contacts.update(attrs.evolve(p, first_name="Alt"))
    assert "C00001" in str(info.value)
    assert "neu laden" in info.value.message("de")
    assert crm.contacts.get(p.id) == p2


def test_archive_hides_and_keeps(crm: crmkit.CRM, clock: Clock) -> None:
    p = crm.contacts.add(Person(last_name="Muster"))
    archived = crm.contacts.archive(p, reason="Firma aufgelöst")
    assert archived.archived_at == clock()
    assert archived.archive_reason == "Firma aufgelöst"
    assert crm.contacts.count() == 0 and crm.contacts.count(include_archived=True) == 1
    assert list(crm.contacts.all()) == []
    back = crm.contacts.unarchive("C00001")
    assert not back.is_archived and crm.contacts.count() == 1
    with pytest.raises(ConflictError):
        crm.contacts.archive(p)


def test_add_many_is_all_or_nothing(crm: crmkit.CRM) -> None:
    good = Person(last_name="A")
    with pytest.raises(ConflictError):
        crm.contacts.add_many([good, Person(last_name="B"), good])
    assert crm.contacts.count() == 0


def test_failed_transaction_changes_nothing(crm: crmkit.CRM) -> None:
    c = crm.contacts.add(Company(name="Muster GmbH"))
    with pytest.raises(NotFoundError), crm.transaction():
        p = crm.contacts.add(Person(last_name="Neu"))
        crm.affiliations.link(p, c)
        crm.affiliations.link(p, "C09999")
    assert crm.contacts.count() == 1
    assert crm.affiliations.of_company(c) == []


def test_link_checks_kinds(crm: crmkit.CRM) -> None:
    p = crm.contacts.add(Person(last_name="Muster"))
    c = crm.contacts.add(Company(name="Muster GmbH"))
    with pytest.raises(ValidationError):
        crm.affiliations.link(c, p)
    with pytest.raises(ValidationError):
        crm.affiliations.of_company(p)
    with pytest.raises(ValidationError):
        crm.affiliations.of_person(c)
    with pytest.raises(ValidationError):
        crm.contacts.get(42)  # type: ignore[arg-type]


def test_affiliation_update_and_unlink(crm: crmkit.CRM) -> None:
    p = crm.contacts.add(Person(last_name="Muster"))
    c = crm.contacts.add(Company(name="Muster GmbH"))
    aff = crm.affiliations.link(p, c, roles="billing")
    ended = crm.affiliations.update(attrs.evolve(aff, until=dt.date(2026, 6, 30)))
    assert ended.version == 2 and crm.affiliations.get(aff.id).until == dt.date(2026, 6, 30)
    crm.affiliations.unlink(ended)
    assert crm.affiliations.of_company(c) == []


class Recorder:
    """A plugin that records events and adds a finding."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @crmkit.hookimpl
    def crmkit_on_contact_saved(self, contact: crmkit.Contact, created: bool) -> None:
        self.events.append(("saved" if created else "updated", contact.number))

    @crmkit.hookimpl
    def crmkit_on_affiliation_saved(self, affiliation: crmkit.Affiliation) -> None:
        self.events.append(("linked", affiliation.id))

    @crmkit.hookimpl
    def crmkit_validate_contact(self, contact: crmkit.Contact) -> list[Finding]:
        if "verboten" in contact.tags:
            return [
                Finding(
                    field="tags",
                    code="value.invalid",
                    params={"value": "verboten", "reason": "tag not allowed"},
                )
            ]
        return []


def test_events_fire_after_commit_only(clock: Clock) -> None:
    rec = Recorder()
    crm = crmkit.open("memory://", plugins=[rec], load_entry_points=False, clock=clock)
    with pytest.raises(RuntimeError), crm.transaction():
        crm.contacts.add(Person(last_name="Weg"))
        raise RuntimeError("rollback")
    assert rec.events == []
    with crm.transaction():
        p = crm.contacts.add(Person(last_name="Da"))
        assert rec.events == []  # not yet committed
    assert rec.events == [("saved", "C00001")]
    crm.contacts.update(attrs.evolve(p, first_name="Jetzt"))
    assert rec.events[-1] == ("updated", "C00001")


def test_plugin_validation_errors_stop_the_save(clock: Clock) -> None:
    crm = crmkit.open("memory://", plugins=[Recorder()], load_entry_points=False, clock=clock)
    with pytest.raises(ValidationError) as info:
        crm.contacts.add(Person(last_name="X", tags={"verboten"}))
    assert info.value.findings[0].field == "tags"
    assert crm.contacts.count() == 0
    warnings = crm.contacts.validate(Company(name="Muster GmbH", phones=["+49 123 456-0"]))
    assert [f.code for f in warnings] == ["phone.unassigned"]


def test_a_failing_plugin_is_named() -> None:
    class Broken:
        @crmkit.hookimpl
        def crmkit_on_contact_saved(self) -> None:
            raise KeyError("oops")

    crm = crmkit.open("memory://", plugins=[Broken()], load_entry_points=False)
    with pytest.raises(PluginError) as info:
        crm.contacts.add(Person(last_name="X"))
    assert "KeyError" in str(info.value)
    assert crm.contacts.count() == 1  # the committed change stays


def test_bad_hook_signature_is_a_plugin_error() -> None:
    bad = SimpleNamespace()

    @crmkit.hookimpl
    def crmkit_on_contact_saved(nonsense: int) -> None: ...

    bad.crmkit_on_contact_saved = crmkit_on_contact_saved
    with pytest.raises(PluginError):
        crmkit.make_plugin_manager([bad], load_entry_points=False)


def test_duplicate_scheme_is_a_plugin_error() -> None:
    class Dup:
        @crmkit.hookimpl
        def crmkit_register_stores(self, register: Callable[..., None]) -> None:
            register("memory", lambda url, options: None)

    with pytest.raises(PluginError, match="memory"):
        crmkit.open("memory://", plugins=[Dup()], load_entry_points=False)


def test_unknown_scheme_lists_known_ones_and_hints_install() -> None:
    with pytest.raises(StoreError) as info:
        crmkit.open("postgresql://localhost/crm", load_entry_points=False)
    text = str(info.value)
    assert "memory://" in text and "crmkit-postgres" in text
    assert "crmkit-postgres" in info.value.message("de")
    with pytest.raises(StoreError):
        crmkit.open("crm.db")


def test_closed_store(crm: crmkit.CRM) -> None:
    with crm:
        crm.contacts.add(Person(last_name="X"))
    with pytest.raises(StoreError):
        crm.contacts.count()


def test_naive_clock_is_refused() -> None:
    crm = crmkit.open("memory://", load_entry_points=False, clock=lambda: dt.datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        crm.contacts.add(Person(last_name="X"))


def test_search_and_caller_id_on_the_facade(crm: crmkit.CRM) -> None:
    acme = crm.contacts.add(
        Company(
            name="Muster GmbH",
            phones=["+49 123 456-0"],
            emails=["info@muster.de"],
            tags={"Branche-IT"},
            relationships={"customer"},
        )
    )
    max_ = crm.contacts.add(
        Person(
            first_name="Max",
            last_name="Mustermann",
            phones=["0170 1234567"],
            emails=["max@muster.de"],
        )
    )
    assert crm.search("@muster.de") == [acme, max_]
    assert crm.search("C00001") == [acme]
    assert crm.search("Muster", kind="company") == [acme]
    assert crm.search("", kind="company", relationships={"customer"}, tags={"Branche-IT"}) == [acme]
    [hit] = crm.lookup_phone("+49 170 1234567")
    assert (hit.contact, hit.match) == (max_, "exact")
    [hit] = crm.lookup_phone("+49 123 456-123")
    assert (hit.contact, hit.match) == (acme, "switchboard")
    with pytest.raises(ValidationError):
        crm.lookup_phone("kein Anschluss")
    with pytest.raises(ValidationError):
        crm.search("x", kind="robot")
    with pytest.raises(ValidationError):
        crm.search("x", limit=0)
    crm.contacts.archive(max_)
    assert crm.lookup_phone("0170 1234567") == []
    assert crm.search("Mustermann") == []
