"""The lead lifecycle through ``crm.leads`` on both stores, and the pure lead metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit import Company, ConflictError, Contact, LeadInfo, Person, ValidationError
from crmkit import leads as lead_rules
from crmkit.auth import Actor
from crmkit.errors import PermissionDenied

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, clock=lambda: NOW) as crm:
        yield crm


def _new_lead(
    crm: crmkit.CRM, name: str = "Neu GmbH", *, owner: str | None = None, **kw: Any
) -> Contact:
    fields: dict[str, Any] = {
        "source": "Messe",
        "source_detail": "Messe IT-Days 2025, Stand 42",
        "budget": 25000,
        "timeframe": "Q1 2027",
        "next_steps": "Angebot schicken",
    }
    fields.update(kw)
    return crm.leads.create(Company(name=name, emails=["info@neu.de"], owner=owner), **fields)


def _audit(crm: crmkit.CRM, contact: Contact) -> list[str]:
    return [r.action for r in crm.audit.history(contact.id)]


# -- lifecycle -----------------------------------------------------------------------------------
def test_create_a_new_lead(crm: crmkit.CRM) -> None:
    boss = crm.contacts.add(Person(first_name="Erika", last_name="Neumann"))
    lead = _new_lead(crm, decision_maker=boss.number)
    assert lead.number is not None and lead.version == 1
    assert {r.value for r in lead.relationships} == {"lead"}
    assert lead.lead == LeadInfo(
        source="Messe",
        source_detail="Messe IT-Days 2025, Stand 42",
        budget=Decimal(25000),
        timeframe="Q1 2027",
        next_steps="Angebot schicken",
        status="new",
        since=TODAY,
        decision_maker_id=boss.id,
    )
    assert crm.contacts.get(lead.number) == lead
    assert _audit(crm, lead) == ["create"]
    assert [c.id for c in crm.leads.all()] == [lead.id]


def test_an_existing_contact_becomes_a_lead(crm: crmkit.CRM) -> None:
    customer = crm.contacts.add(Company(name="Muster GmbH", relationships={"customer"}))
    lead = crm.leads.create(customer.number or "", source="Empfehlung")
    assert {r.value for r in lead.relationships} == {"customer", "lead"}
    assert lead.version == 2 and lead.number == customer.number
    assert lead.lead is not None and lead.lead.source == "Empfehlung"
    assert _audit(crm, lead) == ["create", "update"]


def test_qualify(crm: crmkit.CRM) -> None:
    lead = _new_lead(crm)
    qualified = crm.leads.qualify(lead, budget="30000.50", next_steps="Termin vereinbaren")
    assert qualified.lead is not None
    assert (qualified.lead.status, qualified.lead.qualified_on) == ("qualified", TODAY)
    assert qualified.lead.budget == Decimal("30000.50")
    assert qualified.lead.next_steps == "Termin vereinbaren"
    assert qualified.lead.source_detail == "Messe IT-Days 2025, Stand 42"
    assert _audit(crm, lead) == ["create", "update"]


def test_qualify_names_the_decision_maker(crm: crmkit.CRM) -> None:
    boss = crm.contacts.add(Person(first_name="Erika", last_name="Neumann"))
    qualified = crm.leads.qualify(_new_lead(crm), decision_maker=boss.number)
    assert qualified.lead is not None and qualified.lead.decision_maker_id == boss.id
    with pytest.raises(crmkit.NotFoundError):
        crm.leads.qualify(qualified, decision_maker="C09999")


def test_convert_keeps_the_lead_history(crm: crmkit.CRM) -> None:
    lead = crm.leads.qualify(_new_lead(crm))
    won = crm.leads.convert(lead.number or "")
    assert {r.value for r in won.relationships} == {"customer"}
    assert won.customer_since == TODAY
    assert won.lead is not None
    assert (won.lead.status, won.lead.closed_on, won.lead.qualified_on) == ("won", TODAY, TODAY)
    assert won.lead.source_detail == "Messe IT-Days 2025, Stand 42"
    assert won.archived_at is None
    assert crm.contacts.get(won.id) == won
    assert _audit(crm, won) == ["create", "update", "update"]
    changed = {c.field for c in crm.audit.history(won.id)[-1].changes}
    assert {"relationships", "customer_since"} <= changed
    assert crm.leads.all() == []
    assert [c.id for c in crm.leads.all(include_closed=True)] == [won.id]


def test_convert_keeps_an_earlier_customer_since(crm: crmkit.CRM) -> None:
    old = crm.contacts.add(
        Company(name="Alt GmbH", relationships={"customer"}, customer_since="2019-04-01")
    )
    won = crm.leads.convert(crm.leads.create(old))
    assert won.customer_since == dt.date(2019, 4, 1)


def test_archiving_a_lead_only_contact_archives_it(crm: crmkit.CRM) -> None:
    lead = _new_lead(crm)
    lost = crm.leads.archive(lead, "kein Budget")
    assert lost.lead is not None
    assert (lost.lead.status, lost.lead.closed_on, lost.lead.close_reason) == (
        "lost", TODAY, "kein Budget")  # fmt: skip
    assert lost.archived_at == NOW and lost.archive_reason == "kein Budget"
    assert list(crm.contacts.all()) == []
    assert crm.contacts.get(lead.id) == lost
    assert crm.leads.all() == []
    assert [c.id for c in crm.leads.all(include_closed=True)] == [lead.id]


def test_archiving_a_customer_lead_keeps_the_customer(crm: crmkit.CRM) -> None:
    customer = crm.contacts.add(Company(name="Muster GmbH", relationships={"customer"}))
    lead = crm.leads.create(customer, source="Cross-Selling")
    lost = crm.leads.archive(lead, "Projekt verschoben")
    assert lost.lead is not None and lost.lead.status == "lost"
    assert lost.archived_at is None
    assert [c.id for c in crm.contacts.all()] == [customer.id]


# -- errors change nothing -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setup", "action", "field", "code"),
    [
        ("won", lambda crm, c: crm.leads.qualify(c), "lead.status", "lead.closed"),
        ("won", lambda crm, c: crm.leads.convert(c), "lead.status", "lead.closed"),
        ("lost", lambda crm, c: crm.leads.qualify(c), "lead.status", "lead.closed"),
        ("lost", lambda crm, c: crm.leads.archive(c, "doppelt"), "lead.status", "lead.closed"),
        ("new", lambda crm, c: crm.leads.archive(c, ""), "reason", "lead.reason_required"),
        ("new", lambda crm, c: crm.leads.archive(c, "   "), "reason", "lead.reason_required"),
        ("customer", lambda crm, c: crm.leads.convert(c), "lead", "lead.not_a_lead"),
        ("customer", lambda crm, c: crm.leads.qualify(c), "lead", "lead.not_a_lead"),
        ("customer", lambda crm, c: crm.leads.archive(c, "x"), "lead", "lead.not_a_lead"),
        ("new", lambda crm, c: crm.leads.qualify(c, budget="viel"), "budget", "value.invalid"),
        ("new", lambda crm, c: crm.leads.qualify(c, status="won"), "status", None),
        ("new", lambda crm, c: crm.leads.qualify(c, colour="blau"), "colour", None),
        ("new", lambda crm, c: crm.leads.qualify(c, since="2020-01-01"), "since", None),
    ],
)
def test_errors_change_nothing(
    crm: crmkit.CRM, setup: str, action: Any, field: str, code: str | None
) -> None:
    contact: Contact
    if setup == "customer":
        contact = crm.contacts.add(Company(name="Muster GmbH", relationships={"customer"}))
    else:
        contact = _new_lead(crm)
        if setup == "won":
            contact = crm.leads.convert(contact)
        elif setup == "lost":
            contact = crm.leads.archive(contact, "kein Bedarf")
    audit_before = crm.audit.history()
    with pytest.raises(ValidationError) as info:
        action(crm, contact)
    [finding] = info.value.findings
    assert finding.field == field
    if code is not None:
        assert finding.code == code
    assert crm.contacts.get(contact.id) == contact
    assert crm.audit.history() == audit_before


def test_a_stale_lead_is_a_conflict(crm: crmkit.CRM) -> None:
    lead = _new_lead(crm)
    crm.leads.qualify(lead)
    with pytest.raises(ConflictError):
        crm.leads.convert(lead)
    current = crm.contacts.get(lead.id)
    assert current.lead is not None and current.lead.status == "qualified"


def test_creating_a_lead_twice_keeps_the_first(crm: crmkit.CRM) -> None:
    lead = crm.leads.qualify(_new_lead(crm))
    with pytest.raises(ValidationError) as info:
        crm.leads.create(lead, source="Webinar")
    assert info.value.findings[0].code == "lead.open_already"
    assert crm.contacts.get(lead.id) == lead


def test_a_won_customer_may_become_a_lead_again(crm: crmkit.CRM) -> None:
    won = crm.leads.convert(_new_lead(crm))
    again = crm.leads.create(won, source="Webinar")
    assert again.lead is not None and (again.lead.status, again.lead.source) == ("new", "Webinar")
    assert {r.value for r in again.relationships} == {"customer", "lead"}


# -- permissions ---------------------------------------------------------------------------------
def test_readonly_cannot_create_or_change_leads(crm: crmkit.CRM) -> None:
    lead = _new_lead(crm)
    reader = crm.as_actor(Actor(id="rita", roles={"readonly"}))
    with pytest.raises(PermissionDenied):
        reader.leads.create(Company(name="Heimlich GmbH"), source="Messe")
    with pytest.raises(PermissionDenied):
        reader.leads.qualify(lead)
    with pytest.raises(PermissionDenied):
        reader.leads.archive(lead, "nein")
    assert [c.id for c in crm.contacts.all()] == [lead.id]
    assert crm.contacts.get(lead.id) == lead
    denied = [r for r in crm.audit.by_actor("rita") if r.outcome == "denied"]
    assert len(denied) == 3
    assert [c.id for c in reader.leads.all()] == [lead.id]


def test_sales_owns_the_leads_it_creates(crm: crmkit.CRM) -> None:
    anna = crm.as_actor(Actor(id="anna", roles={"sales"}))
    lead = anna.leads.create(Company(name="Anna Kunde GmbH"), source="Kaltakquise")
    other = _new_lead(crm, owner="ben")
    assert lead.owner == "anna"
    assert [c.id for c in anna.leads.all()] == [lead.id]
    with pytest.raises(crmkit.NotFoundError):
        anna.leads.qualify(other)


# -- metrics -------------------------------------------------------------------------------------
def test_metrics_through_the_facade(crm: crmkit.CRM) -> None:
    crm.leads.convert(_new_lead(crm, "Eins GmbH"))
    crm.leads.archive(_new_lead(crm, "Zwei GmbH", source="Web"), "zu klein")
    _new_lead(crm, "Drei GmbH", source="Web")
    metrics = crm.leads.metrics()
    assert metrics == {
        "conversion_rate": 0.5,
        "median_days_to_conversion": 0.0,
        "by_source": {
            "Web": {"total": 2, "open": 1, "won": 0, "lost": 1},
            "Messe": {"total": 1, "open": 0, "won": 1, "lost": 0},
        },
    }


def _lead(status: str, since: str | None = "2026-01-01", closed: str | None = None,
          source: str | None = "Messe") -> Contact:  # fmt: skip
    info = LeadInfo(status=status, since=since, closed_on=closed, source=source)
    return Company(name="Lead GmbH", relationships={"lead"}, lead=info)


@pytest.mark.parametrize(
    ("contacts", "rate"),
    [
        ([], None),
        ([_lead("new"), _lead("qualified")], None),
        ([_lead("won", closed="2026-02-01"), _lead("lost", closed="2026-02-01")], 0.5),
        ([_lead("won", closed="2026-02-01"), _lead("new")], 1.0),
        ([_lead("lost"), _lead("lost"), _lead("won"), _lead("new")], 1 / 3),
        ([_lead("lost")], 0.0),
        ([Company(name="Kein Lead GmbH")], None),
    ],
)
def test_conversion_rate(contacts: list[Contact], rate: float | None) -> None:
    assert lead_rules.conversion_rate(contacts) == rate


@pytest.mark.parametrize(
    ("contacts", "days"),
    [
        ([], None),
        ([_lead("lost", closed="2026-03-01")], None),
        ([_lead("won", closed="2026-01-11")], 10.0),
        ([_lead("won", closed="2026-01-11"), _lead("won", closed="2026-01-21")], 15.0),
        ([_lead("won", closed="2026-01-11"), _lead("won", closed="2026-01-21"),
          _lead("won", closed="2026-02-10"), _lead("lost", closed="2026-01-02")], 20.0),
        ([_lead("won", since=None, closed="2026-01-11")], None),
        ([_lead("won", closed=None)], None),
    ],
)  # fmt: skip
def test_median_days_to_conversion(contacts: list[Contact], days: float | None) -> None:
    assert lead_rules.median_days_to_conversion(contacts) == days


def test_leads_by_source() -> None:
    contacts = [
        _lead("new", source="Web"),
        _lead("won", source="Messe"),
        _lead("lost", source="Messe"),
        _lead("qualified", source=None),
        _lead("new", source="Messe"),
        _lead("proposal", source="Web"),
        Company(name="Kein Lead GmbH"),
    ]
    by_source = lead_rules.leads_by_source(contacts)
    assert list(by_source) == ["Messe", "Web", "—"]
    assert by_source == {
        "Messe": {"total": 3, "open": 1, "won": 1, "lost": 1},
        "Web": {"total": 2, "open": 2, "won": 0, "lost": 0},
        "—": {"total": 1, "open": 1, "won": 0, "lost": 0},
    }
    assert lead_rules.leads_by_source([]) == {}


# -- the pure lifecycle --------------------------------------------------------------------------
def test_pure_lifecycle_returns_new_contacts() -> None:
    person = Person(first_name="Max", last_name="Mustermann")
    lead = lead_rules.start(person, TODAY, source="Web", budget="1000")
    assert person.lead is None and lead.lead is not None
    assert lead.lead.budget == Decimal(1000)
    later = dt.date(2027, 1, 5)
    won = lead_rules.convert(lead_rules.qualify(lead, later), later)
    assert won.customer_since == later
    assert won.lead is not None and (won.lead.since, won.lead.closed_on) == (TODAY, later)
    with pytest.raises(ValidationError):
        lead_rules.lose(won, later, "zu spät")
    lost = lead_rules.lose(lead, later, "kein Bedarf")
    assert lost.lead is not None and lost.lead.close_reason == "kein Bedarf"
    assert lost.relationships == lead.relationships
