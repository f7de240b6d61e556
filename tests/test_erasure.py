"""Erasure (Art. 17) and restriction (Art. 18): nothing left behind, nothing lost too early."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import crmkit
from crmkit import Company, NotFoundError, Person, ValidationError
from crmkit.auth import Actor
from crmkit.errors import PermissionDenied

NAME = ("Quirinus", "Zwetschgenbaum")
EMAIL = "quirinus.z@zwetschge-example.de"
PHONE = "0171 2345678"
SECRETS = [b"Quirinus", b"Zwetschgenbaum", b"zwetschgenbaum", b"quirinus.z@", b"+491712345678",
           b"2345678", b"Zwetschge-Allee"]  # fmt: skip


class Recipient:
    def __init__(self) -> None:
        self.told: list[str] = []

    @crmkit.hookimpl
    def crmkit_on_contact_deleted(self, contact: crmkit.Contact) -> None:
        self.told.append(contact.id)


def _world(crm: crmkit.CRM) -> dict[str, crmkit.Contact]:
    firm = crm.contacts.add(Company(name="Muster GmbH", emails=["info@muster.de"]))
    colleague = crm.contacts.add(Person(first_name="Erika", last_name="Beispiel"))
    q = crm.contacts.add(
        Person(first_name=NAME[0], last_name=NAME[1], emails=[EMAIL], phones=[PHONE],
               notes="wohnt in der Zwetschge-Allee 3")
    )  # fmt: skip
    twin = crm.contacts.add(Person(first_name=NAME[0], last_name=NAME[1], emails=[EMAIL]))
    crm.contacts.update(attrs.evolve(crm.contacts.get(q), notes="Zwetschge-Allee 3, 2. Stock"))
    crm.affiliations.link(q, firm, roles={"billing"})
    crm.correspondence.log(
        q, "phone", direction="inbound", occurred_at=crm.now(), subject=f"Anruf {NAME[1]}",
        content=f"{NAME[0]} fragt nach …",
    )  # fmt: skip
    crm.correspondence.log([q, colleague], "meeting", direction="outbound",
                           occurred_at=crm.now(), subject="Jahresgespräch",
                           content="Termin mit der Buchhaltung")  # fmt: skip
    crm.consents.record(q, "newsletter", "granted", contact_point=EMAIL, channel="web_form",
                        source="https://muster.de/nl")  # fmt: skip
    crm.bounces.record(EMAIL, "soft")
    crm.privacy.record_request("erasure", contact=q, requester=f"E-Mail von {NAME[0]} {NAME[1]}")
    crm.merge(q.number or q.id, twin)
    return {"firm": firm, "colleague": colleague, "q": q, "twin": twin}


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    clock = lambda: dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)  # noqa: E731
    with crmkit.open(url, clock=clock, plugins=[Recipient()]) as crm:
        yield crm


def test_erasure_removes_the_person_and_keeps_the_rest(crm: crmkit.CRM) -> None:
    w = _world(crm)
    result = crm.privacy.erase(w["q"], reason="Löschantrag vom 20.11.2026")
    assert result.erased
    assert {t.contact_id for t in result.tombstones} == {w["q"].id, w["twin"].id}
    for contact in (w["q"], w["twin"]):
        with pytest.raises(NotFoundError):
            crm.contacts.get(contact.id)
    assert crm.search(NAME[1]) == [] and crm.search(EMAIL) == []
    assert crm.lookup_phone(PHONE) == []
    [meeting] = crm.correspondence.timeline(w["colleague"])
    assert meeting.contact_ids == (w["colleague"].id,)  # shared history stays, unlinked
    assert crm.correspondence.revisions(meeting)[-1].action == "erase"
    assert crm.affiliations.of_company(w["firm"]) == []
    assert crm.bounces.open() == []
    [req] = crm.privacy.requests()
    assert req.requester == "" and req.kind == "erasure"
    for record in crm.audit.history(w["q"].id):
        assert all(c.old is None and c.new is None for c in record.changes)
    assert [r.action for r in crm.audit.history(w["q"].id)][-1] == "erase"
    assert [t.number for t in crm.privacy.tombstones()] == [w["q"].number, w["twin"].number]
    told = next(p for p in crm.pm.get_plugins() if isinstance(p, Recipient)).told
    assert sorted(told) == sorted([w["q"].id, w["twin"].id])  # Art. 19: recipients told
    assert crm.contacts.add(Person(last_name="Neu")).number == "C00005"  # numbers not reused


def test_no_byte_of_the_erased_person_remains_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    clock = lambda: dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)  # noqa: E731
    with crmkit.open(f"sqlite:///{db}", clock=clock) as crm:
        w = _world(crm)
        crm.contacts.update(attrs.evolve(crm.contacts.get(w["firm"]),
                                         notes="Ansprechpartner: Muster"))  # fmt: skip
        before = b"".join(p.read_bytes() for p in tmp_path.glob("crm.db*"))
        assert all(secret in before for secret in SECRETS[:4])  # the test can see them at all
        crm.privacy.erase(w["q"], reason="Art. 17")
        after = b"".join(p.read_bytes() for p in tmp_path.glob("crm.db*"))
        assert b"Muster GmbH" in after and b"Erika" in after
        for secret in SECRETS:
            assert secret not in after, secret
    final = b"".join(p.read_bytes() for p in tmp_path.glob("crm.db*"))
    for secret in SECRETS:
        assert secret not in final, secret


def test_a_retention_period_restricts_instead(crm: crmkit.CRM) -> None:
    q = crm.contacts.add(Person(first_name=NAME[0], last_name=NAME[1], emails=[EMAIL]))
    crm.consents.record(q, "newsletter", "granted", channel="web_form", source="form")
    crm.correspondence.log(q, "letter", direction="outbound",
                           occurred_at="2026-03-01T10:00:00+01:00", subject="Rechnung 2026-17",
                           retention_category="business_letter")  # fmt: skip
    result = crm.privacy.erase(q, reason="Löschantrag")
    assert not result.erased and result.restricted and result.erase_from == dt.date(2033, 1, 1)
    stored = crm.contacts.get(q)
    assert stored.restricted_at is not None and stored.archived_at is not None
    assert crm.search(NAME[1]) == []
    decision = crm.consents.may_contact(q, "newsletter", "email")
    assert not decision.allowed and decision.code == "consent.no.restricted"
    [item] = crm.worklist(dt.date(2026, 11, 23)).of_kind("privacy.erasure_scheduled")
    assert item.due == dt.date(2033, 1, 1) and "2033-01-01" in item.reason("de")
    assert crm.privacy.run_due_erasures(dt.date(2032, 12, 31)) == []
    [tombstone] = crm.privacy.run_due_erasures(dt.date(2033, 1, 1))
    assert tombstone.contact_id == q.id
    with pytest.raises(NotFoundError):
        crm.contacts.get(q)


def test_a_legal_hold_blocks_erasure_until_lifted(crm: crmkit.CRM) -> None:
    q = crm.contacts.add(Person(first_name=NAME[0], last_name=NAME[1]))
    hold = crm.privacy.place_hold(q, "Betriebsprüfung 2025")
    assert crm.privacy.erase(q, reason="Antrag").restricted
    assert crm.privacy.run_due_erasures(dt.date(2030, 1, 1)) == []
    crm.privacy.lift_hold(hold)
    assert len(crm.privacy.run_due_erasures()) == 1


def test_only_the_erase_right_erases_and_bad_input_changes_nothing(crm: crmkit.CRM) -> None:
    q = crm.contacts.add(Person(first_name=NAME[0], last_name=NAME[1]))
    with pytest.raises(PermissionDenied):
        crm.as_actor(Actor(id="sam", roles={"staff"})).privacy.erase(q, reason="x")
    with pytest.raises(ValidationError):
        crm.privacy.erase(q, reason=" ")
    assert crm.contacts.get(q).id == q.id
    officer = crm.as_actor(Actor(id="dsb", roles={"privacy_officer"}))
    assert officer.privacy.erase(q, reason="Art. 17").erased
