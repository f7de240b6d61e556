"""Request and reminder mails over a real SMTP server on 127.0.0.1, with proof in the ledger."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

import crmkit
from crmkit.consent import text_sha256
from crmkit.crm import CRM
from crmkit_survey import MailTemplate, Survey, configure, mail_sha256
from crmkit_survey.testing import TEXT, Inbox, body, link_in
from crmkit_survey.tokens import verify

pytest_plugins = ["crmkit_survey.fixtures"]


def person(crm: CRM, first: str, last: str, mail: str, **kw: object) -> crmkit.Person:
    contact = crm.contacts.add(crmkit.Person(first_name=first, last_name=last, emails=[mail], **kw))
    assert isinstance(contact, crmkit.Person)
    return contact


def test_request_mail_in_german_with_link_and_proof(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    erika = person(crm, "Erika", "Muster", "erika@muster.de", salutation="Frau")
    [requested] = survey.request(erika, "newsletter")
    assert requested.text_version == TEXT.version
    assert requested.text_sha256 == text_sha256(TEXT.de)
    [mail] = inbox.to("erika@muster.de")
    text = body(mail)
    assert mail["Subject"] == "Ihre Einwilligung: Newsletter per E-Mail"
    assert "Muster GmbH" in mail["From"] and "einwilligung@muster.de" in mail["From"]
    assert text.startswith("Sehr geehrte Frau Muster,")
    assert TEXT.de in text and "Musterstraße 1" in text and "21.12.2026" not in text
    assert "04.01.2027" in text  # valid until the case closes (42 days)
    for advert in ("Angebot", "Rabatt", "Aktion", "kaufen"):
        assert advert not in text
    claims = verify(survey.config.secret, link_in(mail).rsplit("/", 1)[1], now=crm.now())
    assert (claims.request_id, claims.contact_id, claims.purpose, claims.text_version) == (
        requested.request_id,
        erika.id,
        "newsletter",
        TEXT.version,
    )
    sent = [e for e in crm.consents.events(erika) if e.kind == "sent"]
    assert len(sent) == 1
    proof = sent[0]
    assert (proof.request_id, proof.channel, proof.contact_point, proof.note) == (
        requested.request_id,
        "email",
        "erika@muster.de",
        "request",
    )
    assert proof.text_version == f"request.de v1; newsletter {TEXT.version}"
    assert proof.text_sha256 == mail_sha256(mail["Subject"], text)
    assert mail["Message-ID"] in proof.source
    assert crm.consents.case(erika, "newsletter").stage == "open"  # type: ignore[union-attr]


def test_english_by_tag_or_country(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    john = person(crm, "John", "Smith", "john@example.co.uk", tags={"lang:en"})
    lisboa = {"street": "Rua 1", "postal_code": "1000-001", "city": "Lisboa", "country": "PT"}
    ana = crm.contacts.add(
        crmkit.Person(
            first_name="Ana", last_name="Silva", emails=["ana@example.pt"], addresses=[lisboa]
        )
    )
    survey.request([john, ana], "newsletter")
    for address in ("john@example.co.uk", "ana@example.pt"):
        [mail] = inbox.to(address)
        assert mail["Subject"] == "Your consent: newsletter by e-mail"
        assert TEXT.en in body(mail) and "2027-01-04" in body(mail)
    [requested] = [e for e in crm.consents.events(john) if e.kind == "requested"]
    assert requested.text_sha256 == text_sha256(TEXT.en)


def test_templates_are_overridable(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    own = MailTemplate(
        id="verein.de",
        version="7",
        subject="Frage von $controller",
        body="$greeting\n\nBitte hier antworten: $link\n\n$text\n",
    )
    configure(crm, attrs.evolve(survey.config, templates={"request.de": own}))
    max_ = person(crm, "Max", "Mustermann", "max@muster.de")
    crm.consents.request(max_, "newsletter", provider="survey")  # through the core
    [mail] = inbox.to("max@muster.de")
    assert mail["Subject"] == "Frage von Muster GmbH"
    assert "Bitte hier antworten: http://127.0.0.1:" in body(mail)
    [sent] = [e for e in crm.consents.events(max_) if e.kind == "sent"]
    assert sent.text_version == f"verein.de v7; newsletter {TEXT.version}"


def test_reminders_reuse_the_link_and_are_recorded(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    erika = person(crm, "Erika", "Muster", "erika@muster.de")
    survey.request(erika, "newsletter")
    [reminded] = crm.consents.run_schedule(dt.date(2026, 12, 7), provider="survey")
    assert reminded.kind == "reminded"
    first, second = inbox.to("erika@muster.de")
    assert second["Subject"].startswith("Erinnerung:")
    assert link_in(first) == link_in(second)
    notes = [e.note for e in crm.consents.events(erika) if e.kind == "sent"]
    assert notes == ["request", "reminder"]


def test_a_refused_recipient_is_recorded_and_on_the_worklist(
    crm: CRM, survey: Survey, inbox: Inbox
) -> None:
    inbox.refuse.add("gone@muster.de")
    gone = person(crm, "Gustav", "Gone", "gone@muster.de")
    ok = person(crm, "Olga", "Okay", "olga@muster.de")
    survey.request([gone, ok], "newsletter")
    assert inbox.to("gone@muster.de") == [] and len(inbox.to("olga@muster.de")) == 1
    [failed] = [e for e in crm.consents.events(gone) if e.kind == "send_failed"]
    assert failed.contact_point == "gone@muster.de" and "550" in failed.note
    assert crm.consents.case(gone, "newsletter").stage == "open"  # type: ignore[union-attr]
    [item] = crm.worklist(dt.date(2026, 11, 23)).of_kind("survey.")
    assert (item.kind, item.contact_id, item.ref) == ("survey.send_failed", gone.id, failed.id)
    assert "gone@muster.de" in item.reason("en") and "zugestellt" in item.reason("de")
    assert item.suggestion("de").startswith("E-Mail-Adresse prüfen")
    # a permanent refusal is a hard bounce: the address is undeliverable from now on
    [bounce] = crm.bounces.open()
    assert (bounce.address, bounce.kind, bounce.contact_ids) == (
        "gone@muster.de",
        "hard",
        (gone.id,),
    )
    assert crm.contacts.get(gone).emails[0].undeliverable
    crm.consents.run_schedule(dt.date(2026, 12, 7), provider="survey")
    last = [e for e in crm.consents.events(gone) if e.kind in ("sent", "send_failed")][-1]
    assert (last.kind, last.source) == ("send_failed", "no deliverable e-mail address")
    assert len(inbox.to("olga@muster.de")) == 2 and inbox.to("gone@muster.de") == []


def test_a_temporary_refusal_is_no_bounce(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    inbox.defer.add("busy@muster.de")
    busy = person(crm, "Berta", "Busy", "busy@muster.de")
    survey.request(busy, "newsletter")
    [failed] = [e for e in crm.consents.events(busy) if e.kind == "send_failed"]
    assert "451" in failed.note and crm.bounces.open() == []
    inbox.defer.clear()
    crm.consents.run_schedule(dt.date(2026, 12, 7), provider="survey")  # the reminder gets through
    assert len(inbox.to("busy@muster.de")) == 1
    assert crm.worklist(dt.date(2026, 12, 7)).of_kind("survey.") == []


def test_a_server_that_is_down_is_recorded_not_dropped(crm: CRM, survey: Survey) -> None:
    from crmkit_survey.testing import free_port

    down = attrs.evolve(survey.config.smtp, port=free_port())
    configure(crm, attrs.evolve(survey.config, smtp=down))
    erika = person(crm, "Erika", "Muster", "erika@muster.de")
    survey.request(erika, "newsletter")
    [failed] = [e for e in crm.consents.events(erika) if e.kind == "send_failed"]
    assert "ConnectionRefusedError" in failed.note
    assert [i.kind for i in crm.worklist(dt.date(2026, 11, 23)).of_kind("survey.")] == [
        "survey.send_failed"
    ]


def test_no_address_is_a_failed_delivery(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    nobody = crm.contacts.add(crmkit.Person(first_name="Nora", last_name="Ohne"))
    survey.request(nobody, "newsletter")
    [failed] = [e for e in crm.consents.events(nobody) if e.kind == "send_failed"]
    assert failed.source == "no deliverable e-mail address" and inbox.messages == []


def test_an_unknown_purpose_starts_nothing(crm: CRM, survey: Survey, inbox: Inbox) -> None:
    erika = person(crm, "Erika", "Muster", "erika@muster.de")
    with pytest.raises(crmkit.CrmkitError) as info:
        survey.request(erika, "phone_marketing")
    assert info.value.code == "survey.no_text"
    with pytest.raises(crmkit.PluginError):  # the core's path wraps it; nothing is stored
        crm.consents.request(erika, "phone_marketing", provider="survey")
    assert crm.consents.events(erika) == [] and inbox.messages == []


def test_without_configuration_the_provider_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import crmkit_survey.hooks

    monkeypatch.delenv("CRMKIT_SURVEY_CONFIG", raising=False)
    with crmkit.open("memory://", plugins=[crmkit_survey.hooks], load_entry_points=False) as crm:
        erika = person(crm, "Erika", "Muster", "erika@muster.de")
        with pytest.raises(crmkit.PluginError) as info:
            crm.consents.request(erika, "newsletter", provider="survey")
        assert "CRMKIT_SURVEY_CONFIG" in str(info.value)
        assert crm.consents.events(erika) == []
