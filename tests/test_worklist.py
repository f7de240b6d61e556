"""The worklist (``crm.worklist``) and ``crm.check()`` on both stores, with fixed dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import matplotlib
import pandas as pd
import pytest

import crmkit
from crmkit import Company, Contact, Person, PluginError, ValidationError
from crmkit.auth import Actor
from crmkit.cockpit import CheckReport, WorklistRequest
from crmkit.rules import RulePolicy
from crmkit.summary import SAMPLE_MODULUS, month_seed, sample_coefficients, sample_key
from crmkit.worklist import WorkItem, Worklist

matplotlib.use("Agg")

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
BERLIN = dt.timezone(dt.timedelta(hours=1))
QUIET = RulePolicy(quality_sample_size=0)  # most tests look at one source without the sample


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _open(url: str, clock: Clock, plugins: Iterable[object] = ()) -> crmkit.CRM:
    return crmkit.open(
        url,
        clock=clock,
        rules=QUIET,
        plugins=plugins,
        load_entry_points=url.startswith("sqlite"),
    )


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture
def crm(url: str, clock: Clock) -> Iterator[crmkit.CRM]:
    with _open(url, clock) as crm:
        yield crm


def items(
    crm: crmkit.CRM, day: dt.date, kind: str, policy: RulePolicy | None = None, **kw: Any
) -> list[tuple[str, dt.date | None]]:
    """The (contact name, due day) of the items of *kind* on *day*."""
    return [(i.contact_name, i.due) for i in crm.worklist(day, policy=policy, **kw).of_kind(kind)]


def names(crm: crmkit.CRM, day: dt.date, kind: str, **kw: Any) -> set[str]:
    return {name for name, _due in items(crm, day, kind, **kw)}


def _lead(crm: crmkit.CRM, name: str, **kw: Any) -> Contact:
    owner = kw.pop("owner", None)
    return crm.leads.create(
        Company(name=name, emails=[f"info@{name.split()[0].lower()}.de"], owner=owner),
        source="Messe",
        **kw,
    )


def _call(crm: crmkit.CRM, contact: Contact, when: dt.datetime, **kw: Any) -> Any:
    kw.setdefault("subject", "Anruf")
    return crm.correspondence.log(contact, "phone", direction="outbound", occurred_at=when, **kw)


# -- leads ---------------------------------------------------------------------------------------
def test_new_leads_to_qualify(crm: crmkit.CRM) -> None:
    neu = _lead(crm, "Neu GmbH")
    crm.contacts.add(Company(name="Kunde GmbH", relationships={"customer"}))
    assert items(crm, TODAY, "lead.qualify") == [("Neu GmbH", dt.date(2026, 12, 7))]
    [item] = crm.worklist(TODAY).of_kind("lead.qualify")
    assert (item.severity, item.action, item.source) == ("info", "action.qualify_lead", "leads")
    assert item.reason("de") == "neuer Interessent Neu GmbH: qualifizieren"
    assert crm.worklist(dt.date(2026, 12, 7)).overdue() == []
    assert [i.kind for i in crm.worklist(dt.date(2026, 12, 8)).overdue()] == ["lead.qualify"]
    short = RulePolicy(lead_qualify_days=3, quality_sample_size=0)
    assert items(crm, TODAY, "lead.qualify", short) == [("Neu GmbH", dt.date(2026, 11, 26))]
    crm.leads.qualify(neu)
    assert items(crm, TODAY, "lead.qualify") == []


def test_converting_or_archiving_clears_lead_items(crm: crmkit.CRM) -> None:
    won, lost = _lead(crm, "Gewonnen GmbH"), _lead(crm, "Verloren GmbH")
    assert names(crm, TODAY, "lead.") == {"Gewonnen GmbH", "Verloren GmbH"}
    crm.leads.convert(won)
    crm.leads.archive(lost, "kein Budget")
    late = dt.date(2028, 1, 1)
    assert names(crm, TODAY, "lead.") == set() == names(crm, late, "lead.")


def test_open_leads_older_than_the_limit(crm: crmkit.CRM) -> None:
    lead = _lead(crm, "Alt GmbH")
    crm.leads.qualify(_lead(crm, "Qualifiziert GmbH"))
    day90, day91 = dt.date(2027, 2, 21), dt.date(2027, 2, 22)
    assert items(crm, day90, "lead.stale") == []
    assert names(crm, day90, "lead.qualify") == {"Alt GmbH"}
    assert set(items(crm, day91, "lead.stale")) == {
        ("Alt GmbH", day90),
        ("Qualifiziert GmbH", day90),
    }
    assert names(crm, day91, "lead.qualify") == set()  # one item per lead
    [item] = [i for i in crm.worklist(day91).of_kind("lead.stale") if i.contact_id == lead.id]
    assert dict(item.params) == {"days": 91}
    assert item.reason() == "lead Alt GmbH has been open for 91 days"
    assert item in crm.worklist(day91).overdue()
    shorter = RulePolicy(lead_open_days=30, quality_sample_size=0)
    assert names(crm, dt.date(2026, 12, 23), "lead.stale", policy=shorter) == set()
    assert names(crm, dt.date(2026, 12, 24), "lead.stale", policy=shorter) == {
        "Alt GmbH", "Qualifiziert GmbH"}  # fmt: skip


def test_leads_untouched_for_a_year(crm: crmkit.CRM, clock: Clock) -> None:
    _lead(crm, "Vergessen GmbH")
    called = _lead(crm, "Angerufen GmbH")
    changed = _lead(crm, "Geändert GmbH")
    day365, day366 = dt.date(2027, 11, 23), dt.date(2027, 11, 24)
    assert items(crm, day365, "lead.untouched") == []
    clock.now = dt.datetime(2027, 6, 1, 9, tzinfo=dt.UTC)
    _call(crm, called, clock.now)
    crm.leads.qualify(changed)
    assert items(crm, day366, "lead.untouched") == [("Vergessen GmbH", day366)]
    assert names(crm, day366, "lead.stale") == {"Angerufen GmbH", "Geändert GmbH"}
    [item] = crm.worklist(day366).of_kind("lead.untouched")
    assert (item.severity, item.action, dict(item.params)) == (
        "warning", "action.decide_lead", {"days": 365})  # fmt: skip
    policy = RulePolicy(lead_untouched_days=100, quality_sample_size=0)
    assert names(crm, dt.date(2027, 9, 10), "lead.untouched", policy=policy) == {
        "Vergessen GmbH", "Angerufen GmbH", "Geändert GmbH"}  # fmt: skip
    assert names(crm, dt.date(2027, 9, 9), "lead.untouched", policy=policy) == {"Vergessen GmbH"}


# -- customers -----------------------------------------------------------------------------------
def test_customers_without_contact(crm: crmkit.CRM) -> None:
    long_ago = dt.datetime(2024, 1, 10, 9, tzinfo=dt.UTC)
    quiet = crm.contacts.add(
        Company(name="Still GmbH", relationships={"customer"}, created_at=long_ago)
    )
    talked = crm.contacts.add(
        Company(name="Gespräch GmbH", relationships={"customer"}, created_at=long_ago)
    )
    crm.contacts.add(Company(name="Neukunde GmbH", relationships={"customer"}))
    crm.contacts.add(
        Company(name="Lieferant GmbH", relationships={"supplier"}, created_at=long_ago)
    )
    _call(crm, talked, dt.datetime(2026, 1, 15, 11, tzinfo=BERLIN))
    assert names(crm, TODAY, "customer.silent") == {"Still GmbH"}
    assert names(crm, dt.date(2027, 1, 15), "customer.silent") == {"Still GmbH"}
    assert names(crm, dt.date(2027, 1, 16), "customer.silent") == {"Still GmbH", "Gespräch GmbH"}
    assert names(crm, dt.date(2027, 11, 24), "customer.silent") == {
        "Still GmbH", "Gespräch GmbH", "Neukunde GmbH"}  # fmt: skip
    [item] = crm.worklist(TODAY).of_kind("customer.silent")
    assert (item.contact_id, item.due, item.severity) == (quiet.id, TODAY, "info")
    assert item.reason("de") == "Kunde Still GmbH: seit über 365 Tagen kein Kontakt"
    _call(crm, quiet, dt.datetime(2026, 11, 20, 9, tzinfo=BERLIN))
    assert names(crm, TODAY, "customer.silent") == set()
    month = RulePolicy(customer_silence_days=30, quality_sample_size=0)
    assert names(crm, dt.date(2026, 12, 20), "customer.silent", policy=month) == {
        "Gespräch GmbH"}  # fmt: skip
    assert names(crm, dt.date(2026, 12, 21), "customer.silent", policy=month) == {
        "Gespräch GmbH", "Still GmbH"}  # fmt: skip


def test_silence_is_counted_in_days_across_summer_time(crm: crmkit.CRM) -> None:
    long_ago = dt.datetime(2024, 1, 10, 9, tzinfo=dt.UTC)
    customer = crm.contacts.add(
        Company(name="Sommerzeit GmbH", relationships={"customer"}, created_at=long_ago)
    )
    _call(crm, customer, dt.datetime(2026, 3, 1, 23, 30, tzinfo=BERLIN))  # CET, late evening
    month = RulePolicy(customer_silence_days=30, quality_sample_size=0)
    assert names(crm, dt.date(2026, 3, 31), "customer.silent", policy=month) == set()
    assert names(crm, dt.date(2026, 4, 1), "customer.silent", policy=month) == {"Sommerzeit GmbH"}


# -- roles and data gaps -------------------------------------------------------------------------
def test_companies_missing_roles(crm: crmkit.CRM) -> None:
    kunde = crm.contacts.add(Company(name="Kunde GmbH", relationships={"customer"}))
    lieferant = crm.contacts.add(Company(name="Lieferant GmbH", relationships={"supplier"}))
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    assert items(crm, TODAY, "company.no_decision_maker") == [
        ("Kunde GmbH", TODAY), ("Lieferant GmbH", TODAY)]  # fmt: skip
    assert items(crm, TODAY, "customer.no_billing_contact") == [("Kunde GmbH", TODAY)]
    [item] = crm.worklist(TODAY).of_kind("customer.no_billing_contact")
    assert (item.severity, item.action) == ("error", "action.add_billing")
    crm.affiliations.link(max_, kunde, roles={"decision_maker"})
    assert names(crm, TODAY, "company.no_decision_maker") == {"Lieferant GmbH"}
    crm.affiliations.link(max_, kunde, roles={"billing"}, position="Buchhaltung")
    assert names(crm, TODAY, "customer.no_billing_contact") == set()
    supplier_billing = RulePolicy(billing_required_for={"supplier"}, quality_sample_size=0)
    assert names(crm, TODAY, "customer.no_billing_contact", policy=supplier_billing) == {
        "Lieferant GmbH"}  # fmt: skip
    off = RulePolicy(disabled={"company.no_decision_maker"}, quality_sample_size=0)
    assert names(crm, TODAY, "company.no_decision_maker", policy=off) == set()
    softer = RulePolicy(severities={"company.no_decision_maker": "info"}, quality_sample_size=0)
    [item] = crm.worklist(TODAY, policy=softer).of_kind("company.no_decision_maker")
    assert (item.contact_id, item.severity) == (lieferant.id, "info")


def test_persons_not_linked_and_contacts_without_email(crm: crmkit.CRM) -> None:
    firma = crm.contacts.add(Company(name="Muster GmbH", emails=["info@muster.de"]))
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    erika = crm.contacts.add(
        Person(first_name="Erika", last_name="Beispiel", emails=["erika@gmx.de"])
    )
    assert items(crm, TODAY, "person.not_linked") == [
        ("Max Mustermann", None), ("Erika Beispiel", None)]  # fmt: skip
    assert items(crm, TODAY, "contact.no_email") == [("Max Mustermann", None)]
    crm.affiliations.link(max_, firma, roles={"decision_maker"})
    crm.contacts.update(attrs.evolve(crm.contacts.get(max_.id), emails=["max@muster.de"]))
    assert names(crm, TODAY, "person.not_linked") == {"Erika Beispiel"}
    assert names(crm, TODAY, "contact.no_email") == set()
    crm.contacts.archive(erika)
    assert names(crm, TODAY, "person.not_linked") == set()
    off = RulePolicy(disabled={"person.not_linked"}, quality_sample_size=0)
    crm.contacts.add(Person(last_name="Neu"))
    assert names(crm, TODAY, "person.not_linked", policy=off) == set()
    assert names(crm, TODAY, "person.not_linked") == {"Neu"}


# -- bounces -------------------------------------------------------------------------------------
def test_unprocessed_bounces(crm: crmkit.CRM) -> None:
    crm.contacts.add(Person(last_name="Mustermann", emails=["max@muster.de"], owner="anna"))
    hard = crm.bounces.record("max@muster.de", "hard", at="2026-11-20T08:00:00+01:00")
    soft = crm.bounces.record("niemand@muster.de", "soft", at="2026-11-21T08:00:00+01:00")
    found = crm.worklist(TODAY).of_kind("bounce.unprocessed")
    assert [(i.ref, i.contact_name, i.due, i.severity, i.owner) for i in found] == [
        (hard.id, "Mustermann", dt.date(2026, 11, 20), "warning", "anna"),
        (soft.id, "", dt.date(2026, 11, 21), "info", None),
    ]
    assert found[0].reason() == "hard bounce for max@muster.de not processed yet"
    assert found[1].reason("de") == (
        "vorübergehende Unzustellbarkeit für niemand@muster.de noch nicht bearbeitet")  # fmt: skip
    crm.bounces.mark_processed(hard)
    assert [i.ref for i in crm.worklist(TODAY).of_kind("bounce.")] == [soft.id]
    crm.bounces.mark_processed(soft.id)
    assert crm.worklist(TODAY).of_kind("bounce.") == []


# -- follow-ups ----------------------------------------------------------------------------------
def test_follow_ups_due_and_overdue(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann", owner="anna"))
    when = dt.datetime(2026, 11, 20, 9, tzinfo=BERLIN)
    late = _call(crm, max_, when, subject="Angebot nachfassen", follow_up="2026-11-20")
    soon = _call(crm, max_, when, subject="Rückruf", follow_up="2026-11-27")
    later = _call(crm, max_, when, subject="Vertrag", follow_up="2026-12-10")
    wl = crm.worklist(TODAY)
    assert [(i.kind, i.ref, i.due, i.severity) for i in wl.of_kind("follow_up.")] == [
        ("follow_up.overdue", late.id, dt.date(2026, 11, 20), "warning"),
        ("follow_up.due", soon.id, dt.date(2026, 11, 27), "info"),
    ]
    assert wl.of_kind("follow_up.")[0].reason("de") == (
        "Wiedervorlage überfällig: Angebot nachfassen")  # fmt: skip
    assert wl.of_kind("follow_up.")[0].contact_name == "Max Mustermann"
    assert [i.ref for i in crm.worklist(dt.date(2026, 12, 3)).of_kind("follow_up.")] == [
        late.id, soon.id, later.id]  # fmt: skip
    wide = RulePolicy(follow_up_horizon_days=30, quality_sample_size=0)
    assert len(crm.worklist(TODAY, policy=wide).of_kind("follow_up.")) == 3
    crm.correspondence.complete_follow_up(late)
    assert [i.ref for i in crm.worklist(TODAY).of_kind("follow_up.")] == [soon.id]


# -- owner filter and urgency --------------------------------------------------------------------
def test_owner_filter(crm: crmkit.CRM) -> None:
    annas = crm.contacts.add(Person(last_name="Annas Kontakt", owner="anna"))
    crm.contacts.add(Person(last_name="Bens Kontakt", owner="ben"))
    when = dt.datetime(2026, 11, 20, 9, tzinfo=BERLIN)
    for_ben = _call(crm, annas, when, follow_up={"due": "2026-11-24", "assignee": "ben"})
    mine = crm.worklist(TODAY, owner="anna")
    assert {i.contact_name for i in mine} == {"Annas Kontakt"}
    assert {i.owner for i in mine} == {"anna"}
    assert "follow_up.due" not in mine.counts()
    bens = crm.worklist(TODAY, owner="ben")
    assert {(i.kind, i.contact_name) for i in bens.of_kind("follow_up.")} == {
        ("follow_up.due", "Annas Kontakt")}  # fmt: skip
    assert bens.of_kind("follow_up.")[0].ref == for_ben.id
    assert {i.contact_name for i in bens.of_kind("person.")} == {"Bens Kontakt"}
    assert len(crm.worklist(TODAY, owner="nobody")) == 0


def test_urgency_order() -> None:
    def item(kind: str, severity: Any, due: dt.date | None, number: str = "C1") -> WorkItem:
        return WorkItem(kind=kind, severity=severity, due=due, contact_number=number)

    day = dt.date(2026, 11, 23)
    wl = Worklist(
        [
            item("c.info_none", "info", None),
            item("b.warn_later", "warning", dt.date(2026, 12, 1)),
            item("a.error_today", "error", day),
            item("d.info_overdue", "info", dt.date(2026, 11, 1)),
            item("e.warn_soon", "warning", dt.date(2026, 11, 24)),
            item("f.error_none", "error", None),
            item("g.warn_overdue", "warning", dt.date(2026, 11, 22)),
            item("a.error_today", "error", day, "C0"),
        ],
        day,
    )
    assert [(i.kind, i.contact_number) for i in wl] == [
        ("g.warn_overdue", "C1"),
        ("d.info_overdue", "C1"),
        ("a.error_today", "C0"),
        ("a.error_today", "C1"),
        ("f.error_none", "C1"),
        ("e.warn_soon", "C1"),
        ("b.warn_later", "C1"),
        ("c.info_none", "C1"),
    ]
    assert [i.kind for i in wl.overdue()] == ["g.warn_overdue", "d.info_overdue"]


def test_the_facade_sorts_overdue_first(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    crm.contacts.add(Company(name="Muster GmbH", emails=["info@muster.de"]))
    _call(crm, max_, dt.datetime(2026, 11, 2, 9, tzinfo=BERLIN), follow_up="2026-11-10")
    wl = crm.worklist(TODAY)
    assert wl[0].kind == "follow_up.overdue"
    keys = [i.urgency(TODAY) for i in wl]
    assert keys == sorted(keys)
    assert wl[1].severity == "error"
    assert wl[-1].severity == "info"


# -- the quality sample --------------------------------------------------------------------------
def _sample(crm: crmkit.CRM, day: dt.date, size: int) -> list[str]:
    policy = RulePolicy(quality_sample_size=size)
    return [i.contact_number for i in crm.worklist(day, policy=policy).of_kind("quality.sample")]


def test_quality_sample(crm: crmkit.CRM) -> None:
    added = crm.contacts.add_many(Person(last_name=f"Muster{i:02d}") for i in range(30))
    numbers = [c.number or "" for c in added]
    november = _sample(crm, dt.date(2026, 11, 1), 5)
    assert len(november) == 5 and len(set(november)) == 5
    assert _sample(crm, dt.date(2026, 11, 30), 5) == november
    assert _sample(crm, TODAY, 5) == november
    december = _sample(crm, dt.date(2026, 12, 1), 5)
    assert december != november and len(december) == 5
    for day in (dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 7, 15)):
        expected = sorted(numbers, key=lambda n: sample_key(n, month_seed(day)))[:5]
        assert sorted(_sample(crm, day, 5)) == sorted(expected)
    assert _sample(crm, TODAY, 0) == []
    assert len(_sample(crm, TODAY, 100)) == 30
    sample = crm.worklist(TODAY, policy=RulePolicy(quality_sample_size=1)).of_kind("quality.")
    assert [(i.due, dict(i.params)) for i in sample] == [
        (dt.date(2026, 11, 30), {"month": "2026-11"})]  # fmt: skip
    assert crm.worklist(dt.date(2027, 2, 10), policy=RulePolicy(quality_sample_size=1)).of_kind(
        "quality.")[0].due == dt.date(2027, 2, 28)  # fmt: skip
    crm.contacts.archive(november[0])
    assert november[0] not in _sample(crm, TODAY, 30)


def test_the_default_sample_size(crm: crmkit.CRM) -> None:
    crm.contacts.add_many(Person(last_name=f"Muster{i:02d}") for i in range(25))
    assert len(crm.worklist(TODAY, policy=RulePolicy()).of_kind("quality.sample")) == 20


# -- plugins -------------------------------------------------------------------------------------
class BirthdaySource:
    @crmkit.hookimpl
    def crmkit_register_worklist_sources(
        self, register: Callable[[str, Callable[[crmkit.CRM, WorklistRequest], Any]], None]
    ) -> None:
        register("birthdays", self.birthdays)

    @staticmethod
    def birthdays(crm: crmkit.CRM, request: WorklistRequest) -> list[WorkItem]:
        return [
            WorkItem(
                kind="birthday",
                severity="info",
                due=request.today,
                contact_name=c.display_name,
                owner=c.owner,
                source="birthdays",
            )
            for c in crm.contacts.all()
            if "Geburtstag" in c.tags
        ]


class DuplicateSource:
    @crmkit.hookimpl
    def crmkit_register_worklist_sources(self, register: Callable[[str, Any], None]) -> None:
        register("leads", lambda crm, request: [])


def test_a_plugin_source_appears(url: str, clock: Clock) -> None:
    with _open(url, clock, plugins=[BirthdaySource()]) as crm:
        crm.contacts.add(Person(last_name="Mustermann", tags={"Geburtstag"}, owner="anna"))
        crm.contacts.add(Person(last_name="Beispiel"))
        [item] = crm.worklist(TODAY).of_kind("birthday")
        assert (item.contact_name, item.due, item.source) == ("Mustermann", TODAY, "birthdays")
        assert crm.worklist(TODAY, owner="ben").of_kind("birthday") == []


def test_a_duplicate_source_name_is_a_plugin_error(url: str, clock: Clock) -> None:
    with (
        _open(url, clock, plugins=[DuplicateSource()]) as crm,
        pytest.raises(PluginError, match="leads"),
    ):
        crm.worklist(TODAY)


# -- row scope -----------------------------------------------------------------------------------
def test_sales_sees_only_its_rows(crm: crmkit.CRM) -> None:
    annas = crm.contacts.add(Company(name="Anna GmbH", relationships={"customer"}, owner="anna"))
    bens = crm.contacts.add(Company(name="Ben GmbH", relationships={"customer"}, owner="ben"))
    crm.contacts.add(Person(last_name="Anna Person", owner="anna", emails=["p@anna.de"]))
    crm.contacts.add(Person(last_name="Ben Person", owner="ben", emails=["p@ben.de"]))
    when = dt.datetime(2026, 11, 20, 9, tzinfo=BERLIN)
    _call(crm, annas, when, follow_up="2026-11-24")
    _call(crm, bens, when, follow_up="2026-11-24")
    crm.bounces.record("p@anna.de", at=when)
    crm.bounces.record("p@ben.de", at=when)
    anna = crm.as_actor(Actor(id="anna", roles={"sales"}))
    wl = anna.worklist(TODAY, policy=RulePolicy(quality_sample_size=10))
    shown = {i.contact_name for i in wl}
    assert shown == {"Anna GmbH", "Anna Person"}
    assert {i.kind for i in wl} >= {
        "company.no_decision_maker", "customer.no_billing_contact", "person.not_linked",
        "bounce.unprocessed", "follow_up.due", "quality.sample"}  # fmt: skip
    assert len(wl.of_kind("quality.sample")) == 2
    assert {i.contact_name for i in crm.worklist(TODAY)} >= {"Ben GmbH", "Ben Person"}
    assert {f.contact_id for f in anna.check()} == {
        annas.id, crm.contacts.get("C00003").id}  # fmt: skip


def test_readonly_sees_the_worklist_but_not_internal_follow_ups(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(last_name="Mustermann"))
    when = dt.datetime(2026, 11, 20, tzinfo=BERLIN)
    crm.correspondence.log(
        max_, "internal_note", occurred_at=when, content="Intern nachhaken", follow_up="2026-11-24"
    )
    reader = crm.as_actor(Actor(id="rita", roles={"readonly"}))
    assert reader.worklist(TODAY).of_kind("follow_up.") == []
    assert len(crm.worklist(TODAY).of_kind("follow_up.")) == 1


def test_today_must_be_a_date(crm: crmkit.CRM) -> None:
    with pytest.raises(ValidationError) as info:
        crm.worklist(NOW)
    assert info.value.findings[0].field == "today"
    assert crm.worklist().today == TODAY


# -- output --------------------------------------------------------------------------------------
@pytest.fixture
def busy(crm: crmkit.CRM) -> crmkit.CRM:
    crm.contacts.add(Company(name="<script>alert(1)</script> & Co. KG", relationships={"customer"},
                             legal_basis="contract"))  # fmt: skip
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann", owner="anna",
                                   legal_basis="contract"))  # fmt: skip
    _call(crm, max_, dt.datetime(2026, 11, 2, 9, tzinfo=BERLIN), follow_up="2026-11-10",
          subject="<b>Angebot</b>")  # fmt: skip
    return crm


def test_worklist_rows_counts_and_overdue(busy: crmkit.CRM) -> None:
    wl = busy.worklist(TODAY)
    assert len(wl) == len(wl.rows()) == sum(wl.counts().values())
    assert wl.counts() == {
        "follow_up.overdue": 1,
        "company.no_decision_maker": 1,
        "customer.no_billing_contact": 1,
        "contact.no_email": 2,
        "person.not_linked": 1,
    }
    assert [i.kind for i in wl.overdue()] == ["follow_up.overdue"]
    first = wl.rows("de")[0]
    assert first == {
        "kind": "follow_up.overdue",
        "severity": "warning",
        "due": "2026-11-10",
        "contact_id": busy.contacts.get("C00002").id,
        "contact_number": "C00002",
        "contact_name": "Max Mustermann",
        "owner": "local-admin",  # an unassigned follow-up belongs to its author
        "reason": "Wiedervorlage überfällig: <b>Angebot</b>",
        "action": "Vereinbartes erledigen",
        "source": "follow_ups",
        "ref": first["ref"],
    }
    assert repr(wl) == "<Worklist 2026-11-23: 6 items>"
    assert wl[1:3] == tuple(wl)[1:3]
    assert wl.age_by_kind()["follow_up.overdue"] == {"≤ 30 days": 1}
    for row in wl.rows():
        assert "{" not in row["reason"] and "{" not in row["action"]


def test_worklist_to_pandas(busy: crmkit.CRM) -> None:
    frame = busy.worklist(TODAY).to_pandas("de")
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 6
    assert list(frame.columns) == [
        "kind", "severity", "due", "contact_id", "contact_number", "contact_name", "owner",
        "reason", "action", "source", "ref"]  # fmt: skip
    assert frame.iloc[0]["kind"] == "follow_up.overdue"
    assert (frame["severity"] == "error").sum() == 2
    assert len(Worklist([], TODAY).to_pandas()) == 0


def test_worklist_plot(busy: crmkit.CRM) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fig = busy.worklist(TODAY).plot()
    assert isinstance(fig, Figure)
    [ax] = fig.axes
    assert {t.get_text() for t in ax.get_yticklabels()} == set(busy.worklist(TODAY).counts())
    plt.close(fig)
    empty = Worklist([], TODAY).plot()
    assert isinstance(empty, Figure)
    plt.close(empty)


def test_worklist_html_is_escaped(busy: crmkit.CRM) -> None:
    html = busy.worklist(TODAY)._repr_html_()
    assert "<script>" not in html and "<b>Angebot" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co. KG" in html
    assert "&lt;b&gt;Angebot&lt;/b&gt;" in html
    assert html.count("<tr") == 7
    assert 'style="color:#b00"' in html


# -- crm.check() ---------------------------------------------------------------------------------
def test_check_report(busy: crmkit.CRM) -> None:
    report = busy.check()
    assert isinstance(report, CheckReport)
    assert report.total == 2
    assert report.score == 0.5  # the customer has errors, Max only warnings and infos
    assert {f.code for f in report.of("company.no_decision_maker")} == {
        "company.no_decision_maker"}  # fmt: skip
    assert report.of("nope") == []
    assert all(f.contact_id for f in report)
    assert sum(report.by_severity().values()) == len(report)
    rows = report.rows("de")
    assert len(rows) == len(report)
    row = next(
        r for r in rows if r["code"] == "contact.no_email" and r["contact_number"] == "C00002"
    )
    assert row == {
        "severity": "warning",
        "code": "contact.no_email",
        "contact_id": busy.contacts.get("C00002").id,
        "contact_number": "C00002",
        "field": "emails",
        "message": "Max Mustermann hat keine E-Mail-Adresse (und kann deshalb nicht mit "
        "Microsoft 365 synchronisiert werden)",
        "action": "E-Mail-Adresse ergänzen",
    }
    frame = report.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "severity",
        "code",
        "contact_id",
        "contact_number",
        "field",
        "message",
        "action",
    ]
    assert len(frame) == len(report)
    html = report._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert repr(report).startswith(f"<CheckReport {len(report)} findings, score 50.0%")


def test_check_score_follows_fixes(crm: crmkit.CRM) -> None:
    assert crm.check().score == 1.0 and len(crm.check()) == 0
    firma = crm.contacts.add(Company(name="Muster GmbH", relationships={"customer"}))
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    assert crm.check().score == 0.5
    crm.affiliations.link(max_, firma, roles={"decision_maker", "billing"})
    assert crm.check().score == 1.0
    strict = RulePolicy(severities={"contact.no_email": "error"})
    assert crm.check(policy=strict).score == 0.0


def test_check_uses_company_domains_and_plugin_findings(url: str, clock: Clock) -> None:
    class Verboten:
        @crmkit.hookimpl
        def crmkit_validate_contact(self, contact: Contact) -> list[crmkit.Finding]:
            if "verboten" not in contact.tags:
                return []
            return [crmkit.Finding(field="tags", code="value.invalid", severity="warning",
                                   params={"value": "verboten", "reason": "Tag"})]  # fmt: skip

    with _open(url, clock, plugins=[Verboten()]) as crm:
        crm.contacts.add(Company(name="Muster GmbH", emails=["info@muster.de"]))
        max_ = crm.contacts.add(
            Person(last_name="Mustermann", emails=["max@muster.de"], tags={"verboten"})
        )
        report = crm.check()
        [unlinked] = report.of("person.company_domain_unlinked")
        assert unlinked.contact_id == max_.id
        [plugin] = report.of("value.invalid")
        assert plugin.contact_id == max_.id


def test_the_sample_order_is_shuffled_for_small_books() -> None:
    numbers = [f"C{n:05d}" for n in range(1, 31)]
    samples = set()
    for year in (2026, 2027):
        for month in range(1, 13):
            seed = month_seed(dt.date(year, month, 1))
            a, b = sample_coefficients(seed)
            assert 0 < a < 2**31 and 0 <= b < SAMPLE_MODULUS
            samples.add(tuple(sorted(numbers, key=lambda n: sample_key(n, seed))[:5]))
    assert len(samples) == 24
    assert tuple(numbers[:5]) not in samples
    keys = {sample_key(f"C{n:05d}", 202611)[0] for n in range(1, 5001)}
    assert len(keys) == 5000


def test_a_decision_maker_who_left_is_missing(crm: crmkit.CRM) -> None:
    firma = crm.contacts.add(Company(name="Muster GmbH"))
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    crm.affiliations.link(max_, firma, roles={"decision_maker"}, until="2026-06-30")
    assert crm.check().of("company.no_decision_maker")
    assert names(crm, TODAY, "company.no_decision_maker") == {"Muster GmbH"}
