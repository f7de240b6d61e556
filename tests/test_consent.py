"""The consent ledger and may-I-contact decisions, with fixed dates and legal examples."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit import Company, Person, ValidationError
from crmkit.auth import Actor
from crmkit.consent import ConsentEvent, may_contact, state, text_sha256
from crmkit.errors import ConflictError, NotFoundError, PermissionDenied

Clock = Callable[[], dt.datetime]
TODAY = dt.date(2026, 11, 23)
PROOF = {"channel": "web_form", "source": "https://muster.de/newsletter"}


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + "T10:00:00+00:00")


def ev(kind: str, day: str, purpose: str = "email_marketing", **kw: Any) -> ConsentEvent:
    fields: dict[str, Any] = {"contact_id": "c1", "purpose": purpose, "kind": kind,
                              "at": _at(day), **(PROOF if kind == "granted" else {})}  # fmt: skip
    fields.update(kw)
    return ConsentEvent(**fields)


# -- the ledger's states ----------------------------------------------------------------------
def test_state_follows_the_events_in_time_order() -> None:
    events = [
        ev("granted", "2026-03-01"),
        ev("requested", "2026-01-10"),
        ev("reminded", "2026-01-24"),
        ev("withdrawn", "2026-09-01"),
    ]
    current = state(events, "email_marketing")
    assert (current.status, current.since) == ("withdrawn", _at("2026-09-01"))
    assert state(events[:3], "email_marketing").status == "granted"
    assert state(events[1:3], "email_marketing").reminders == 1
    assert state(events, "newsletter").status == "none"


def test_consent_counts_only_for_its_contact_point() -> None:
    events = [ev("granted", "2026-03-01", contact_point="Max@Muster.de")]
    assert state(events, "email_marketing", "max@muster.de").status == "granted"
    assert state(events, "email_marketing", "privat@web.de").status == "none"


def test_a_grant_needs_its_proof_and_bad_values_are_named() -> None:
    with pytest.raises(ValidationError) as info:
        ConsentEvent(contact_id="c1", purpose="newsletter", kind="granted", at=_at("2026-01-01"))
    assert info.value.findings[0].field == "source"
    base: dict[str, Any] = {"contact_id": "c1", "purpose": "newsletter", "kind": "requested",
                            "at": _at("2026-01-01")}  # fmt: skip
    for kw, field in (({"kind": "maybe"}, "kind"), ({"purpose": "Neues!"}, "purpose"),
                      ({"contact_point": "kein@"}, "contact_point"),
                      ({"text_sha256": "abc"}, "text_sha256")):  # fmt: skip
        with pytest.raises(ValidationError) as info:
            ConsentEvent(**{**base, **kw})
        assert info.value.findings[0].field == field


def test_text_hash_is_of_the_text_as_shown() -> None:
    assert text_sha256("Ja, ich will.\r\n") == text_sha256("Ja, ich will.")
    assert text_sha256("Ja, ich will.") != text_sha256("Ja, ich will!")
    assert len(text_sha256("x")) == 64


@given(kinds=st.lists(st.sampled_from(["requested", "reminded", "granted", "declined",
                                        "withdrawn", "expired", "used"]), max_size=12))  # fmt: skip
def test_the_state_is_the_last_state_event(kinds: list[str]) -> None:
    events = [ev(k, f"2026-01-{i + 1:02d}") for i, k in enumerate(kinds)]
    deciding = [k for k in kinds if k not in ("reminded", "used")]
    assert state(events, "email_marketing").status == (deciding[-1] if deciding else "none")


# -- may I contact? -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("channel", "events", "kw", "allowed", "code"),
    [
        # §7(2) Nr. 2 UWG: e-mail advertising needs prior express consent, B2B too.
        ("email", [], {}, False, "consent.no.email"),
        ("email", [], {"business": True}, False, "consent.no.email"),
        ("email", [ev("granted", "2026-06-01")], {}, True, "consent.yes.granted"),
        ("email", [ev("granted", "2026-06-01"), ev("withdrawn", "2026-07-01")], {}, False,
         "consent.no.withdrawn"),
        ("email", [ev("requested", "2026-06-01"), ev("declined", "2026-06-05")], {}, False,
         "consent.no.declined"),
        # §7(3) UWG: the existing-customer exception needs all four conditions.
        ("email", [ev("sale_notice", "2026-02-01")],
         {"existing_customer": True, "similar_goods": True}, True,
         "consent.yes.customer_exception"),
        ("email", [ev("sale_notice", "2026-02-01")],
         {"existing_customer": True, "similar_goods": False}, False, "consent.no.email"),
        ("email", [], {"existing_customer": True, "similar_goods": True}, False,
         "consent.no.email"),
        ("email", [ev("sale_notice", "2026-02-01"), ev("objected", "2026-03-01",
                                                       purpose="direct_marketing")],
         {"existing_customer": True, "similar_goods": True}, False, "consent.no.objected"),
        # §7(2) Nr. 1 UWG: phone — consumers need express, businesses presumed consent.
        ("phone", [], {}, False, "consent.no.phone_consumer"),
        ("phone", [], {"business": True}, False, "consent.no.phone_business"),
        ("phone", [ev("granted", "2026-06-01", channel="presumed")], {"business": True}, True,
         "consent.yes.granted"),
        ("phone", [ev("granted", "2026-06-01", channel="presumed")], {}, False,
         "consent.no.presumed_only"),
        # Letters rest on legitimate interest — unless objected (Art. 21(3) GDPR).
        ("letter", [], {}, True, "consent.yes.letter"),
        ("letter", [ev("objected", "2026-03-01", purpose="direct_marketing")], {}, False,
         "consent.no.objected"),
        # Art. 18: a restricted contact is only stored.
        ("letter", [], {"restricted": True}, False, "consent.no.restricted"),
        # Unused for more than two years: re-confirm (LG München I 17 HK O 138/10 …).
        ("email", [ev("granted", "2024-10-01")], {}, False, "consent.no.stale"),
        ("email", [ev("granted", "2024-10-01"), ev("used", "2026-01-15")], {}, True,
         "consent.yes.granted"),
    ],
)  # fmt: skip
def test_may_contact(
    channel: str, events: list[ConsentEvent], kw: dict[str, Any], allowed: bool, code: str
) -> None:
    decision = may_contact(purpose="email_marketing", channel=channel, today=TODAY,
                           events=events, **kw)  # fmt: skip
    assert (decision.allowed, decision.code) == (allowed, code)
    assert bool(decision) is allowed and decision.legal_basis
    for lang in ("en", "de"):
        sentence = decision.reason(lang)
        assert "{" not in sentence and sentence.startswith(("yes", "no", "ja", "nein"))


# -- through the facade, on both stores ----------------------------------------------------------
@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, clock: Clock, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, clock=clock) as crm:
        yield crm


def test_record_state_evidence_and_audit(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann",
                                   emails=["max@muster.de"]))  # fmt: skip
    crm.consents.record(max_, "newsletter", "requested", at="2026-11-01T09:00:00+01:00",
                        contact_point="max@muster.de", channel="email", source="survey-1",
                        request_id="req-1")  # fmt: skip
    granted = crm.consents.record(
        max_, "newsletter", "granted", at="2026-11-02T18:30:00+01:00",
        contact_point="max@muster.de", channel="web_form", source="https://muster.de/doi",
        text="Ja, ich möchte den Newsletter.", text_version="v3", request_id="req-1",
        ip="203.0.113.7", user_agent="Firefox",
    )  # fmt: skip
    assert granted.recorded_by == crm.actor.id and granted.text_sha256
    assert crm.consents.state(max_, "newsletter").status == "granted"
    assert crm.consents.may_contact(max_, "newsletter", "email").allowed
    bundle = crm.consents.evidence(max_, "newsletter")
    assert [e["kind"] for e in bundle["events"]] == ["requested", "granted"]
    assert bundle["status"] == "granted" and len(bundle["digest"]) == 64
    text = crm.consents.evidence_text(max_, "newsletter", "de")
    assert "Einwilligungsnachweis" in text and "203.0.113.7" in text and granted.text_sha256 in text
    assert [r.reason for r in crm.audit.history(max_) if r.resource == "consent"] == [
        "newsletter: requested", "newsletter: granted",
    ]  # fmt: skip
    with pytest.raises(ValidationError):
        crm.consents.record(max_, "newsletter", "granted")  # no proof: nothing stored
    assert len(crm.consents.events(max_)) == 2


def test_the_ledger_is_append_only_and_keeps_the_contact(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(last_name="Mustermann"))
    event = crm.consents.object(max_)
    with pytest.raises(ConflictError):
        crm.store.append_consent_event(event)
    with pytest.raises(NotFoundError):
        crm.store.append_consent_event(ConsentEvent(contact_id="nobody", purpose="newsletter",
                                                    kind="requested", at=crm.now()))  # fmt: skip
    with pytest.raises(ConflictError) as info:
        crm.store.delete_contact(max_.id)
    assert info.value.code == "store.contact_has_consents"
    with pytest.raises(RuntimeError), crm.transaction():
        crm.consents.record(max_, "events", "requested")
        raise RuntimeError("undo")
    assert [e.kind for e in crm.consents.events(max_)] == ["objected"]
    assert not crm.consents.may_contact(max_, "events", "letter").allowed


def test_a_merge_never_turns_a_no_into_a_yes(crm: crmkit.CRM) -> None:
    a = crm.contacts.add(Person(first_name="Max", last_name="Mustermann", emails=["m@x.de"]))
    b = crm.contacts.add(Person(first_name="Max", last_name="Mustermann", emails=["m@x.de"]))
    crm.consents.record(a, "newsletter", "granted", at="2026-01-01T00:00:00+00:00", **PROOF)
    crm.consents.record(b, "newsletter", "withdrawn", at="2026-06-01T00:00:00+00:00")
    crm.consents.object(b)
    assert crm.consents.may_contact(a, "newsletter", "email").allowed
    crm.merge(a, b)
    assert crm.consents.state(a, "newsletter").status == "withdrawn"
    decision = crm.consents.may_contact(a, "newsletter", "email")
    assert not decision.allowed and decision.code == "consent.no.objected"
    crm.unmerge(a)
    assert crm.consents.may_contact(a, "newsletter", "email").allowed


def test_business_contacts_and_customers(crm: crmkit.CRM) -> None:
    firm = crm.contacts.add(Company(name="Muster GmbH", relationships={"customer"}))
    boss = crm.contacts.add(Person(first_name="Eva", last_name="Chefin"))
    crm.affiliations.link(boss, firm, roles={"decision_maker"})
    crm.consents.record(firm, "phone_marketing", "granted", channel="presumed",
                        source="Messegespräch IT-Days")  # fmt: skip
    assert crm.consents.may_contact(firm, "phone_marketing", "phone").allowed
    assert crm.consents.may_contact(boss, "phone_marketing", "phone").code == (
        "consent.no.phone_business"
    )
    crm.consents.record(firm, "email_marketing", "sale_notice", channel="order",
                        source="Auftrag 2026-118")  # fmt: skip
    assert crm.consents.may_contact(firm, "email_marketing", "email", similar_goods=True).allowed
    assert not crm.consents.may_contact(firm, "email_marketing", "email").allowed


def test_who_may_read_and_write_consents(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(last_name="Mustermann"))
    crm.consents.record(max_, "newsletter", "granted", **PROOF)
    staff = crm.as_actor(Actor(id="sam", roles={"staff"}))
    rita = crm.as_actor(Actor(id="rita", roles={"readonly"}))
    assert staff.consents.state(max_, "newsletter").status == "granted"
    staff.consents.record(max_, "newsletter", "used", channel="mailing", source="Newsletter 12")
    with pytest.raises(PermissionDenied):
        staff.consents.evidence(max_, "newsletter")  # evidence: privacy officer and admin
    with pytest.raises(PermissionDenied):
        rita.consents.state(max_, "newsletter")
    officer = crm.as_actor(Actor(id="dsb", roles={"privacy_officer"}))
    assert officer.consents.evidence(max_, "newsletter")["status"] == "granted"


# -- the clarification process, with fixed dates ---------------------------------------------------
class Outbox:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str, bool]] = []
        self.fail = fail

    @crmkit.hookimpl
    def crmkit_register_consent_providers(self, register: Callable[[str, Any], None]) -> None:
        register("outbox", self)

    def send(self, crm: crmkit.CRM, contact: crmkit.Contact, event: ConsentEvent,
             reminder: bool) -> None:  # fmt: skip
        if self.fail:
            raise OSError("SMTP down")
        self.sent.append((contact.id, event.kind, reminder))


@pytest.mark.parametrize("answer", ["granted", "declined", None])
def test_every_case_ends_in_a_clear_state(clock: Clock, answer: str | None) -> None:
    outbox = Outbox()
    crm = crmkit.open("memory://", plugins=[outbox], clock=clock)  # 2026-11-23
    erika = crm.contacts.add(Person(first_name="Erika", last_name="Muster",
                                    emails=["erika@muster.de"]))  # fmt: skip
    [request] = crm.consents.request(erika, "events", provider="outbox", text="Dürfen wir …?",
                                     text_version="v1")  # fmt: skip
    case = crm.consents.case(erika, "events")
    assert case is not None and (case.stage, case.next_action) == ("open", "remind")
    assert case.due == dt.date(2026, 12, 7)
    assert crm.consents.run_schedule(dt.date(2026, 12, 6), provider="outbox") == []
    [first] = crm.consents.run_schedule(dt.date(2026, 12, 7), provider="outbox")
    assert first.kind == "reminded" and crm.consents.run_schedule(dt.date(2026, 12, 7)) == []
    assert crm.consents.case(erika, "events").due == dt.date(2026, 12, 21)  # type: ignore[union-attr]
    work = crm.worklist(dt.date(2026, 12, 22)).of_kind("consent.")
    assert [(i.kind, i.due) for i in work] == [("consent.case_open", dt.date(2026, 12, 21))]
    if answer is not None:
        crm.consents.record_answer(
            erika, "events", answer, request_id=request.request_id, channel="survey",
            source="https://umfrage.example/abc",
        )  # fmt: skip
        assert crm.consents.case(erika, "events").stage == answer  # type: ignore[union-attr]
        assert crm.consents.run_schedule(dt.date(2027, 2, 1)) == []
        assert crm.worklist(dt.date(2027, 2, 1)).of_kind("consent.") == []
        return
    crm.consents.run_schedule(dt.date(2026, 12, 21), provider="outbox")
    [closed] = crm.consents.run_schedule(dt.date(2027, 1, 4))
    assert closed.kind == "no_response"
    assert outbox.sent == [(erika.id, "requested", False), (erika.id, "reminded", True),
                           (erika.id, "reminded", True)]  # fmt: skip
    [item] = crm.worklist(dt.date(2027, 1, 5)).of_kind("consent.")
    assert item.kind == "consent.decision_needed" and "nicht geantwortet" in item.reason("de")
    with pytest.raises(ValidationError):
        crm.consents.decide(erika, "events", "forget_it")
    crm.consents.decide(erika, "events", "clean_up")
    assert crm.consents.case(erika, "events").decision == "clean_up"  # type: ignore[union-attr]
    assert crm.worklist(dt.date(2027, 1, 5)).of_kind("consent.") == []
    assert not crm.consents.may_contact(erika, "events", "email").allowed


def test_a_failing_provider_stores_nothing(clock: Clock) -> None:
    crm = crmkit.open("memory://", plugins=[Outbox(fail=True)], clock=clock)
    erika = crm.contacts.add(Person(last_name="Muster", emails=["erika@muster.de"]))
    with pytest.raises(crmkit.PluginError):
        crm.consents.request(erika, "events", provider="outbox")
    assert crm.consents.events(erika) == []
    with pytest.raises(ValidationError) as info:
        crm.consents.request(erika, "events", provider="unknown")
    assert info.value.findings[0].field == "provider"


def test_the_schedule_is_policy_data() -> None:
    from crmkit.consent import ClarificationPolicy, case

    policy = ClarificationPolicy(remind_after_days=[7], close_after_days=21)
    events = [ev("requested", "2026-11-02", purpose="events")]
    found = case(events, "events", policy)
    assert found is not None and found.due == dt.date(2026, 11, 9)
    with pytest.raises(ValidationError):
        ClarificationPolicy(remind_after_days=[28, 14])
    with pytest.raises(ValidationError):
        ClarificationPolicy(remind_after_days=[14], close_after_days=10)


def test_stale_consents_are_on_the_worklist(clock: Clock) -> None:
    crm = crmkit.open("memory://", clock=clock)
    old = crm.contacts.add(Person(last_name="Altkunde"))
    fresh = crm.contacts.add(Person(last_name="Neukunde"))
    crm.consents.record(old, "newsletter", "granted", at="2024-09-01T10:00:00+00:00", **PROOF)
    crm.consents.record(fresh, "newsletter", "granted", at="2026-09-01T10:00:00+00:00", **PROOF)
    [item] = crm.worklist(dt.date(2026, 11, 23)).of_kind("consent.stale")
    assert item.contact_id == old.id and "2024-09-01" in item.reason("de")
    crm.consents.record(old, "newsletter", "used", channel="mailing", source="Newsletter 11/2026")
    assert crm.worklist(dt.date(2026, 11, 23)).of_kind("consent.stale") == []
