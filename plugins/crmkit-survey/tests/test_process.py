"""The whole clarification run with a moving clock: request, two reminders, some answers
through the answer page, silence from others — every end state visible on the worklist."""

from __future__ import annotations

import datetime as dt

import crmkit
from crmkit.crm import CRM
from crmkit_survey import Survey, report
from crmkit_survey.testing import FakeClock, Inbox, form_fields, http, link_in

pytest_plugins = ["crmkit_survey.fixtures"]


def answer(inbox: Inbox, address: str, choice: str) -> None:
    link = link_in(inbox.to(address)[-1])
    page = http(link)
    assert page.status == 200
    assert http(link, {**form_fields(page.text), "answer": choice}).status == 200


def stage(crm: CRM, contact: crmkit.Contact) -> str:
    found = crm.consents.case(contact, "newsletter")
    assert found is not None
    return found.stage


def test_the_full_clarification_run(
    crm: CRM, survey: Survey, inbox: Inbox, fake_clock: FakeClock
) -> None:
    def add(first: str, mail: str) -> crmkit.Contact:
        return crm.contacts.add(crmkit.Person(first_name=first, last_name="Muster", emails=[mail]))

    anna, bernd = add("Anna", "anna@muster.de"), add("Bernd", "bernd@muster.de")
    clara, dieter = add("Clara", "clara@muster.de"), add("Dieter", "dieter@alt.example")
    inbox.refuse.add("dieter@alt.example")
    day0 = fake_clock.now.date()

    survey.request([anna, bernd, clara, dieter], "newsletter")
    assert [len(inbox.to(f"{n}@muster.de")) for n in ("anna", "bernd", "clara")] == [1, 1, 1]
    work = crm.worklist(day0)
    assert sorted(i.contact_name for i in work.of_kind("consent.case_open")) == [
        "Anna Muster",
        "Bernd Muster",
        "Clara Muster",
        "Dieter Muster",
    ]
    [failed] = work.of_kind("survey.send_failed")
    assert failed.contact_id == dieter.id

    fake_clock.advance(days=2)
    answer(inbox, "anna@muster.de", "granted")  # answers the first mail
    assert stage(crm, anna) == "granted"

    fake_clock.advance(days=12)  # day 14: first reminder
    reminded = crm.consents.run_schedule(fake_clock.now.date(), provider="survey")
    assert sorted(e.contact_id for e in reminded) == sorted([bernd.id, clara.id, dieter.id])
    assert len(inbox.to("bernd@muster.de")) == 2 and len(inbox.to("anna@muster.de")) == 1
    assert crm.consents.run_schedule(fake_clock.now.date(), provider="survey") == []

    fake_clock.advance(days=1)
    answer(inbox, "bernd@muster.de", "declined")  # answers the reminder

    fake_clock.advance(days=13)  # day 28: second reminder
    reminded = crm.consents.run_schedule(fake_clock.now.date(), provider="survey")
    assert sorted(e.contact_id for e in reminded) == sorted([clara.id, dieter.id])
    assert len(inbox.to("clara@muster.de")) == 3
    late_link = link_in(inbox.to("clara@muster.de")[-1])

    fake_clock.advance(days=14)  # day 42: closed without response
    closed = crm.consents.run_schedule(fake_clock.now.date(), provider="survey")
    assert {(e.contact_id, e.kind) for e in closed} == {
        (clara.id, "no_response"),
        (dieter.id, "no_response"),
    }
    assert http(late_link).status == 410  # too late: a clear page, nothing recorded
    assert [stage(crm, c) for c in (anna, bernd, clara, dieter)] == [
        "granted",
        "declined",
        "no_response",
        "no_response",
    ]

    work = crm.worklist(fake_clock.now.date())
    assert work.of_kind("consent.case_open") == [] and work.of_kind("survey.") == []
    decide = work.of_kind("consent.decision_needed")
    assert sorted(i.contact_name for i in decide) == ["Clara Muster", "Dieter Muster"]
    crm.consents.decide(clara, "newsletter", "restart_later")
    crm.consents.decide(dieter, "newsletter", "clean_up")
    assert crm.worklist(fake_clock.now.date()).of_kind("consent.") == []

    assert crm.consents.may_contact(anna, "newsletter", "email").allowed
    for other in (bernd, clara, dieter):
        assert not crm.consents.may_contact(other, "newsletter", "email").allowed

    counts = report(crm, "newsletter").as_dict()
    assert counts == {
        "requests": 4,
        "sent": 3,
        "reminders": 3,
        "bounced": 1,
        "granted": 1,
        "declined": 1,
        "withdrawn": 0,
        "open": 0,
        "no_response": 2,
        "answered": 2,
    }
    evidence = crm.consents.evidence_text(anna, "newsletter", "de")
    assert "requested" in evidence and "sent" in evidence and "granted" in evidence
    assert "ip=127.0.0.1" in evidence and "text_sha256=" in evidence
    assert day0 == dt.date(2026, 11, 23)


def test_the_report_counts_a_merged_contacts_request_once(
    crm: CRM, survey: Survey, inbox: Inbox
) -> None:
    erika = crm.contacts.add(
        crmkit.Person(first_name="Erika", last_name="Muster", emails=["erika@muster.de"])
    )
    twin = crm.contacts.add(
        crmkit.Person(first_name="Erika", last_name="Muster", emails=["e.muster@muster.de"])
    )
    survey.request([erika, twin], "newsletter")
    assert report(crm).requests == 2
    crm.merge(erika, twin)
    counts = report(crm, "newsletter")
    assert (counts.requests, counts.sent, counts.open) == (2, 2, 2)
