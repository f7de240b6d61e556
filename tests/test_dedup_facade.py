"""crm.find_duplicates and crm.mark_distinct on both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import crmkit
from crmkit import Company, Person
from crmkit.auth import Actor
from crmkit.dedup import DuplicateReport
from crmkit.errors import PermissionDenied, ValidationError

Clock = Callable[[], dt.datetime]


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, clock: Clock, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, clock=clock) as crm:
        crm.contacts.add(
            Person(first_name="Jürgen", last_name="Müller", emails=["j.mueller@muster.de"],
                   phones=["0170 1234567"])
        )  # fmt: skip
        crm.contacts.add(Person(first_name="Erika", last_name="Beispiel",
                                emails=["erika@beispiel.de"]))  # fmt: skip
        crm.contacts.add(Company(name="Muster GmbH", emails=["info@muster.de"],
                                 phones=["+49 30 1234560"]))  # fmt: skip
        yield crm


def test_search_before_you_create(crm: crmkit.CRM) -> None:
    juergen = crm.contacts.get("C00001")
    new = Person(first_name="Juergen", last_name="Mueller", phones=["+49 170 1234567"])
    [pair] = crm.find_duplicates(new)
    assert (pair.left_id, pair.right_id, pair.verdict) == (new.id, juergen.id, "match")
    assert "phone" in pair.explanation.agreeing
    firm = Company(name="Muster Gesellschaft mbH", emails=["info@muster.de"])
    assert [p.right_id for p in crm.find_duplicates(firm)] == [crm.contacts.get("C00003").id]
    assert crm.find_duplicates(Person(first_name="Zoë", last_name="Unbekannt")) == ()
    with pytest.raises(ValidationError):
        crm.find_duplicates("C00001")  # type: ignore[arg-type]


def test_each_candidate_search_runs_once(crm: crmkit.CRM, monkeypatch: pytest.MonkeyPatch) -> None:
    # A person's two name keys (last name + initial, last name + phonetic
    # first name) look up the same words: the store is asked once.
    asked: list[object] = []
    search, by_phone = crm.store.search, crm.store.find_by_phone

    def counting_search(query: Any, **kwargs: Any) -> Any:
        asked.append(query)
        return search(query, **kwargs)

    def counting_phone(e164: str, **kwargs: Any) -> Any:
        asked.append(e164)
        return by_phone(e164, **kwargs)

    monkeypatch.setattr(crm.store, "search", counting_search)
    monkeypatch.setattr(crm.store, "find_by_phone", counting_phone)
    new = Person(first_name="Jürgen", last_name="Müller", emails=["j.mueller@muster.de"],
                 phones=["0170 1234567", "+49 170 1234567"])  # fmt: skip
    pairs = crm.find_duplicates(new)
    assert [p.right_id for p in pairs] == [crm.contacts.get("C00001").id]
    assert len(asked) == len(set(asked)) >= 3  # e-mail, phone, name (and domain)
    assert "+491701234567" in asked


def test_the_monthly_check_and_decisions(crm: crmkit.CRM) -> None:
    twin = crm.contacts.add(Person(first_name="Juergen", last_name="Mueller",
                                   phones=["+49 170 1234567"]))  # fmt: skip
    report = crm.find_duplicates()
    assert isinstance(report, DuplicateReport)
    juergen = crm.contacts.get("C00001")
    assert [{p.left_id, p.right_id} for p in report.pairs] == [{juergen.id, twin.id}]
    decision = crm.mark_distinct(juergen, twin)
    assert decision.actor_id == crm.actor.id
    assert len(crm.find_duplicates().pairs) == 0
    assert crm.find_duplicates(twin) == ()
    assert [d.key for d in crm.store.dedup_decisions()] == [decision.key]
    assert ("mark_distinct", twin.id) in [(r.action, r.reason) for r in crm.audit.history(juergen)]
    # A change in a field the matching looks at brings the pair back.
    crm.contacts.update(attrs.evolve(crm.contacts.get(twin), emails=["j.mueller@muster.de"]))
    assert len(crm.find_duplicates().pairs) == 1
    with pytest.raises(ValidationError):
        crm.mark_distinct(juergen, juergen)


def test_merged_contacts_are_no_candidates(crm: crmkit.CRM) -> None:
    twin = crm.contacts.add(Person(first_name="Juergen", last_name="Mueller",
                                   phones=["+49 170 1234567"]))  # fmt: skip
    crm.merge("C00001", twin)
    assert len(crm.find_duplicates().pairs) == 0
    again = Person(first_name="Jürgen", last_name="Müller", phones=["0170 1234567"])
    assert [p.right_id for p in crm.find_duplicates(again)] == [crm.contacts.get("C00001").id]


def test_readonly_may_look_but_not_decide(crm: crmkit.CRM) -> None:
    rita = crm.as_actor(Actor(id="rita", roles={"readonly"}))
    assert len(rita.find_duplicates().pairs) == 0
    with pytest.raises(PermissionDenied):
        rita.mark_distinct("C00001", "C00002")
