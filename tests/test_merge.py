"""Merging duplicates and undoing it: nothing lost, on both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import Company, ConflictError, Person, ValidationError
from crmkit.auth import Actor
from crmkit.errors import NotFoundError, PermissionDenied
from crmkit.merge import plan_merge
from crmkit.model import Affiliation

Clock = Callable[[], dt.datetime]
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, clock: Clock, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, clock=clock) as crm:
        yield crm


# -- survivorship (pure) ------------------------------------------------------------------------
def test_survivorship_rules() -> None:
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    survivor = Company(name="Muster GmbH", emails=["info@muster.de"], tags={"A"},
                       notes="Zahlt pünktlich.", customer_since="2021-05-01", created_at=NOW,
                       updated_at=NOW)  # fmt: skip
    older = Company(name="Muster Gesellschaft mbH", emails=["INFO@muster.de", "rechnung@muster.de"],
                    phones=["+49 30 1234560"], website="muster.de", tags={"B"},
                    notes="Zahlt pünktlich.", customer_since="2019-02-01", vat_id="DE136695976",
                    created_at=old, updated_at=old)  # fmt: skip
    newer = Company(name="Muster", website="www.muster.de", notes="Neuer Standort Köln.",
                    relationships={"customer"}, updated_at=NOW)  # fmt: skip
    plan = plan_merge(survivor, [older, newer], now=NOW)
    s = plan.survivor
    assert isinstance(s, Company)
    assert s.name == "Muster GmbH" and plan.sources["name"] == survivor.id  # non-empty wins
    assert [e.address for e in s.emails] == ["info@muster.de", "rechnung@muster.de"]
    assert [p.e164 for p in s.phones] == ["+49301234560"]
    assert s.website == "www.muster.de" and plan.sources["website"] == newer.id  # newer wins
    assert s.vat_id == "DE136695976"
    assert s.tags == {"A", "B"} and {r.value for r in s.relationships} == {"customer"}
    assert s.notes == "Zahlt pünktlich.\n\nNeuer Standort Köln."
    assert s.customer_since == dt.date(2019, 2, 1) and s.created_at == old
    assert all(m.merged_into == survivor.id and m.archived_at == NOW for m in plan.merged)
    chosen = plan_merge(survivor, [older], now=NOW, choose={"name": older.id})
    assert isinstance(chosen.survivor, Company)
    assert chosen.survivor.name == "Muster Gesellschaft mbH"


def test_a_bounced_address_stays_bounced() -> None:
    bounced = {"address": "max@muster.de", "bounced_at": NOW}
    a = Person(last_name="Mustermann", emails=["Max@Muster.de"])
    b = Person(last_name="Mustermann", emails=[bounced])
    [email] = plan_merge(a, [b], now=NOW).survivor.emails
    assert email.undeliverable


@pytest.mark.parametrize(
    ("others", "choose", "field"),
    [
        (lambda p, c: [c], None, "others.0"),
        (lambda p, c: [p], None, "others"),
        (lambda p, c: [], None, "others"),
        (lambda p, c: [Person(last_name="B")], {"nope": "x"}, "choose.nope"),
        (lambda p, c: [Person(last_name="B")], {"last_name": "stranger"}, "choose.last_name"),
        (lambda p, c: [Person(last_name="B", merged_into="x")], None, "others.0"),
    ],
)
def test_bad_merges_are_refused(
    others: Callable[[Person, Company], list[Any]], choose: dict[str, str] | None, field: str
) -> None:
    p, c = Person(last_name="A"), Company(name="C GmbH")
    with pytest.raises(ValidationError) as info:
        plan_merge(p, others(p, c), now=NOW, choose=choose)
    assert info.value.findings[0].field == field


# -- through the facade ---------------------------------------------------------------------------
def _world(crm: crmkit.CRM) -> dict[str, Any]:
    firm = crm.contacts.add(Company(name="Muster GmbH", emails=["info@muster.de"]))
    twin = crm.contacts.add(
        Company(
            name="Muster Gesellschaft mbH", emails=["info@muster.de"],
            phones=["+49 30 1234560"], relationships={"customer"},
        )
    )  # fmt: skip
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    eva = crm.contacts.add(Person(first_name="Eva", last_name="Schmidt"))
    both = crm.affiliations.link(max_, firm, roles={"decision_maker"})
    dup = crm.affiliations.link(max_, twin, roles={"billing"}, position="Geschäftsführer")
    moved = crm.affiliations.link(eva, twin, roles={"technical"})
    call = crm.correspondence.log(twin, "phone", direction="inbound", occurred_at=NOW,
                                  subject="Anruf wegen Rechnung")  # fmt: skip
    shared = crm.correspondence.log([max_, twin, firm], "meeting", direction="outbound",
                                    occurred_at=NOW, subject="Jahresgespräch")  # fmt: skip
    return {"firm": firm, "twin": twin, "max": max_, "eva": eva, "both": both, "dup": dup,
            "moved": moved, "call": call, "shared": shared}  # fmt: skip


def test_merge_moves_everything_and_old_numbers_still_work(crm: crmkit.CRM) -> None:
    w = _world(crm)
    result = crm.merge(w["firm"], w["twin"].number)
    s = result.survivor
    assert [p.e164 for p in s.phones] == ["+49301234560"]
    assert crm.contacts.get(w["twin"].number).id == s.id  # the old number leads to the survivor
    assert crm.contacts.get(w["twin"].id).id == s.id
    assert crm.search("Muster Gesellschaft") == []  # archived, not found twice
    links = {a.person_id: a for a in crm.affiliations.of_company(s)}
    assert links[w["max"].id].roles == {"decision_maker", "billing"}
    assert links[w["max"].id].position == "Geschäftsführer"
    assert links[w["eva"].id].roles == {"technical"}
    with pytest.raises(NotFoundError):
        crm.affiliations.get(w["dup"].id)
    timeline = crm.correspondence.timeline(s)
    assert {e.id for e in timeline} == {w["call"].id, w["shared"].id}
    assert crm.correspondence.get(w["shared"].id).contact_ids == (w["max"].id, s.id)
    assert crm.correspondence.revisions(w["call"])[-1].action == "merge"
    [record] = crm.merges(s)
    assert record.merged_ids == (w["twin"].id,) and record.sources["phones"] == w["twin"].id
    actions = [(r.action, r.resource) for r in crm.audit.history(s.id)]
    assert ("merge", "contact") in actions


def test_dry_run_and_refusals_write_nothing(crm: crmkit.CRM) -> None:
    w = _world(crm)
    before = crm.audit.history()
    preview = crm.merge(w["firm"], w["twin"], dry_run=True)
    assert preview.dry_run and preview.record is None
    assert {c.after is None for c in preview.plan.affiliations} == {True, False}
    assert len(preview.plan.entries) == 2
    with pytest.raises(ValidationError):
        crm.merge(w["firm"], w["max"])
    with pytest.raises(ConflictError):
        crm.merge(attrs.evolve(w["firm"], version=7), w["twin"])
    with pytest.raises(PermissionDenied):
        crm.as_actor(Actor(id="sam", roles={"staff"})).merge(w["firm"], w["twin"])
    assert crm.contacts.get(w["twin"]).merged_into is None
    assert crm.merges(w["firm"]) == []
    written = [r for r in crm.audit.history() if r not in before]
    assert [(r.actor_id, r.outcome) for r in written] == [("sam", "denied")]


def test_unmerge_restores_everything(crm: crmkit.CRM) -> None:
    w = _world(crm)
    crm.merge(w["firm"], w["twin"])
    survivor = crm.unmerge(w["firm"])
    assert survivor.phones == () and survivor.relationships == frozenset()
    twin = crm.contacts.get(w["twin"].number)
    assert twin.id == w["twin"].id and twin.merged_into is None and twin.archived_at is None
    assert {a.id for a in crm.affiliations.of_company(w["twin"])} == {w["dup"].id, w["moved"].id}
    assert crm.affiliations.get(w["both"].id).roles == {"decision_maker"}
    assert crm.correspondence.get(w["call"].id).contact_ids == (w["twin"].id,)
    assert crm.correspondence.get(w["shared"].id).contact_ids == w["shared"].contact_ids
    with pytest.raises(NotFoundError):
        crm.unmerge(w["firm"])  # nothing left to undo
    [record] = crm.merges(w["firm"])
    assert record.undone_at == crm.now()
    with pytest.raises(ValidationError):
        crm.unmerge(record)


def test_unmerge_keeps_later_edits(crm: crmkit.CRM) -> None:
    w = _world(crm)
    survivor = crm.merge(w["firm"], w["twin"]).survivor
    edited = crm.contacts.update(attrs.evolve(survivor, website="muster.de"))
    crm.contacts.update(attrs.evolve(edited, phones=["+49 30 9999990"]))
    back = crm.unmerge(w["firm"])
    assert back.website == "muster.de"  # added after the merge: kept
    assert [p.e164 for p in back.phones] == ["+49309999990"]  # changed after the merge: kept
    assert back.relationships == frozenset()  # from the merge, untouched since: undone


class Hook:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    @crmkit.hookimpl
    def crmkit_on_contacts_merged(
        self, survivor: crmkit.Contact, merged_ids: tuple[str, ...]
    ) -> None:
        self.calls.append((survivor.id, merged_ids))


def test_the_merge_hook_fires_after_commit(clock: Clock) -> None:
    hook = Hook()
    crm = crmkit.open("memory://", plugins=[hook], clock=clock)
    a = crm.contacts.add(Person(last_name="Müller"))
    b = crm.contacts.add(Person(last_name="Mueller"))
    with pytest.raises(RuntimeError), crm.transaction():
        crm.merge(a, b)
        raise RuntimeError("abbrechen")
    assert hook.calls == [] and crm.contacts.get(b).merged_into is None
    crm.merge(a, b)
    assert hook.calls == [(a.id, (b.id,))]


# -- merge and unmerge round-trip, whatever the links --------------------------------------------
def _snapshot(crm: crmkit.CRM, ids: Sequence[str], entry_ids: Sequence[str]) -> Any:
    contacts = {i: attrs.evolve(crm.store.get_contact(i), version=0, updated_at=None) for i in ids}
    affs: dict[str, Affiliation] = {}
    for i in ids:
        for a in crm.store.affiliations_of_person(i) + crm.store.affiliations_of_company(i):
            affs[a.id] = attrs.evolve(a, version=0, updated_at=None)
    entries = {e: crm.store.get_entry(e).contact_ids for e in entry_ids}
    ledgers = {i: crm.consents.events(i) for i in ids}
    decisions = {
        i: (crm.consents.may_contact(i, "newsletter", "email").code,
            crm.consents.may_contact(i, "newsletter", "letter").code)
        for i in ids
    }  # fmt: skip
    return contacts, affs, entries, ledgers, decisions


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    links=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 2),
            st.sampled_from([frozenset(), frozenset({"billing"}), frozenset({"decision_maker"})]),
        ),
        max_size=6,
    ),
    notes=st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=3), max_size=6),
    merged=st.sets(st.integers(1, 2), min_size=1),
    consents=st.lists(
        st.tuples(
            st.integers(0, 6), st.sampled_from(["granted", "withdrawn", "objected", "requested"])
        ),
        max_size=5,
    ),
)
def test_merge_then_unmerge_loses_nothing(
    clock: Clock,
    links: list[tuple[int, int, frozenset[str]]],
    notes: list[list[int]],
    merged: set[int],
    consents: list[tuple[int, str]],
) -> None:
    crm = crmkit.open("memory://", clock=clock)
    people = [crm.contacts.add(Person(last_name=f"P{i}", emails=[f"p{i}@x.de"])) for i in range(4)]
    firms = [crm.contacts.add(Company(name=f"Firma {i} GmbH", tags={f"t{i}"})) for i in range(3)]
    for p, f, roles in links:
        try:
            crm.affiliations.link(people[p], firms[f], roles=roles)
        except crmkit.CrmkitError:
            pass
    everyone = people + firms
    entries = [
        crm.correspondence.log([everyone[i] for i in sorted(set(ids))], "letter",
                               direction="outbound", occurred_at=NOW, subject="Brief").id
        for ids in notes
    ]  # fmt: skip
    for i, kind in consents:
        purpose = "direct_marketing" if kind == "objected" else "newsletter"
        crm.consents.record(everyone[i], purpose, kind, channel="web_form", source="form")
    ids = [c.id for c in everyone]
    before = _snapshot(crm, ids, entries)
    survivor_no = {code for i in (0, *merged) for code in before[4][firms[i].id] if ".no." in code}
    crm.merge(firms[0], *[firms[i] for i in sorted(merged)])
    after = crm.consents.may_contact(firms[0], "newsletter", "letter")
    if "consent.no.objected" in survivor_no:  # an objection on any side survives the merge
        assert after.code == "consent.no.objected"
    for entry_id in entries:  # every entry still there, on a live contact
        entry = crm.correspondence.get(entry_id)
        assert all(crm.store.get_contact(i).merged_into is None for i in entry.contact_ids)
    crm.unmerge(firms[0])
    assert _snapshot(crm, ids, entries) == before
