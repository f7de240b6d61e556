"""Campaign lists: frozen with reasons, responses into the consent ledger, re-check on export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import attrs
import pytest

import crmkit
from crmkit import Segment
from crmkit.auth import Actor
from crmkit.campaigns import RULES_VERSION

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> crmkit.CRM:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    return crmkit.open(url, clock=lambda: NOW)


def _grant(crm: crmkit.CRM, contact: crmkit.Contact, purpose: str = "newsletter") -> None:
    crm.consents.record(contact, purpose, "granted", channel="web_form",
                        source="https://muster.de/nl", at=NOW - dt.timedelta(days=30))  # fmt: skip


@pytest.fixture
def people(crm: crmkit.CRM) -> dict[str, crmkit.Contact]:
    add = crm.contacts.add
    c: dict[str, crmkit.Contact] = {
        "max": add(crmkit.Person(first_name="Max", last_name="Mustermann",
                                 emails=["max@muster.de"], tags={"Kunde"})),
        "erika": add(crmkit.Person(first_name="Erika", last_name="Gäbler",
                                   emails=["erika@web.de"], tags={"Kunde"})),
        "jan": add(crmkit.Person(first_name="Jan", last_name="Öztürk", tags={"Kunde"})),
        "lea": add(crmkit.Person(first_name="Lea", last_name="Bounce",
                                 emails=[crmkit.EmailAddress(address="lea@alt.de",
                                                             bounced_at=NOW)], tags={"Kunde"})),
        "rita": add(crmkit.Person(first_name="Rita", last_name="Ruhe", emails=["rita@ruhe.de"],
                                  tags={"Kunde"})),
        "otto": add(crmkit.Person(first_name="Otto", last_name="Ohne", emails=["otto@ohne.de"],
                                  tags={"Kunde"})),
        "eva": add(crmkit.Person(first_name="Eva", last_name="Einspruch",
                                 emails=["eva@x.de"], tags={"Kunde"})),
    }  # fmt: skip
    for key in ("max", "erika", "jan", "lea", "rita", "eva"):
        _grant(crm, c[key])
    crm.consents.object(c["eva"])
    crm.contacts.update(attrs.evolve(crm.contacts.get(c["rita"].id), restricted_at=NOW))
    return c


def test_create_freezes_the_list_with_reasons(
    crm: crmkit.CRM, people: dict[str, crmkit.Contact]
) -> None:
    campaign = crm.campaigns.create("Herbst-Newsletter", Segment(tags_any={"Kunde"}),
                                    "newsletter", "email", TODAY)  # fmt: skip
    assert campaign.rules_version == RULES_VERSION
    assert [m.name for m in campaign.included] == ["Max Mustermann", "Erika Gäbler"]
    reasons = {m.name: (m.decision.code, m.decision.legal_basis) for m in campaign.excluded}
    assert reasons == {
        "Jan Öztürk": ("campaign.no_email", ""),
        "Lea Bounce": ("campaign.bounced", ""),
        "Rita Ruhe": ("consent.no.restricted", "Art. 18 GDPR"),
        "Otto Ohne": ("consent.no.email", "§7(2) Nr. 2 UWG"),
        "Eva Einspruch": ("consent.no.objected", "Art. 21(3) GDPR"),
    }
    assert campaign.member(people["max"].id).contact_point == "max@muster.de"  # type: ignore[union-attr]
    lea = campaign.member(people["lea"].id)
    assert (
        lea is not None
        and lea.reason("de") == "nein: die E-Mail-Adresse lea@alt.de ist unzustellbar (Bounce)"
    )
    assert crm.campaigns.get(campaign.id) == campaign
    assert crm.campaigns.list() == [campaign]
    rows = crm.campaigns.report(campaign, "de")
    assert rows[0] == {"number": "C00001", "name": "Max Mustermann", "included": "yes",
                       "reason": "ja: ausdrückliche Einwilligung für newsletter liegt seit "
                       "2026-10-24 vor", "legal_basis": "Art. 6(1)(a) GDPR; §7(2) UWG",
                       "dropped_on": ""}  # fmt: skip


def test_letters_need_an_address_and_no_objection(
    crm: crmkit.CRM, people: dict[str, crmkit.Contact]
) -> None:
    crm.contacts.update(attrs.evolve(crm.contacts.get(people["jan"].id), addresses=[
        crmkit.Address(street="Hauptstr. 1", postal_code="70173", city="Stuttgart")]))  # fmt: skip
    campaign = crm.campaigns.create("Brief", Segment(tags_any={"Kunde"}), "events", "letter")
    assert [m.name for m in campaign.included] == ["Jan Öztürk"]
    assert campaign.included[0].contact_point == "Hauptstr. 1, 70173 Stuttgart"
    codes = {m.name: m.decision.code for m in campaign.excluded}
    assert codes["Eva Einspruch"] == "consent.no.objected"
    assert codes["Max Mustermann"] == "campaign.no_address"


def test_unsubscribe_records_withdrawal_or_objection_at_once(
    crm: crmkit.CRM, people: dict[str, crmkit.Contact]
) -> None:
    campaign = crm.campaigns.create("Herbst", Segment(tags_any={"Kunde"}), "newsletter", "email")
    campaign = crm.campaigns.respond(campaign, people["max"], "reacted", on=TODAY)
    campaign = crm.campaigns.respond(campaign.id, people["erika"], "unsubscribed")
    assert [(r.kind, r.on) for r in campaign.responses] == [
        ("reacted", TODAY), ("unsubscribed", TODAY),
    ]  # fmt: skip
    assert crm.consents.state(people["erika"], "newsletter").status == "withdrawn"
    event_id = campaign.responses[1].consent_event_id
    assert event_id in [e.id for e in crm.consents.events(people["erika"])]
    # Someone approached without consent (a letter) objects instead.
    crm.contacts.update(attrs.evolve(crm.contacts.get(people["otto"].id), addresses=[
        crmkit.Address(street="Weg 2", postal_code="10115", city="Berlin")]))  # fmt: skip
    letter = crm.campaigns.create("Brief", Segment(tags_any={"Kunde"}), "events", "letter")
    crm.campaigns.respond(letter, people["otto"], "unsubscribed")
    assert not crm.consents.may_contact(people["otto"], "events", "letter").allowed
    with pytest.raises(crmkit.ValidationError) as info:
        crm.campaigns.respond(letter, people["max"], "angerufen")
    assert info.value.findings[0].field == "kind"
    before = crm.campaigns.get(letter.id)
    with pytest.raises(crmkit.ValidationError):
        crm.campaigns.respond(letter, crm.contacts.add(crmkit.Person(last_name="Fremd")), "reacted")
    assert crm.campaigns.get(letter.id) == before


def test_export_rechecks_and_drops_who_withdrew_since(
    crm: crmkit.CRM, people: dict[str, crmkit.Contact], tmp_path: Path
) -> None:
    person = crm.contacts.get(people["max"].id)
    assert isinstance(person, crmkit.Person)
    crm.contacts.update(attrs.evolve(person, first_name="", last_name="=1+2"))
    campaign = crm.campaigns.create("Herbst", Segment(tags_any={"Kunde"}), "newsletter", "email")
    assert len(campaign.included) == 2
    crm.consents.record(people["erika"], "newsletter", "withdrawn", channel="email",
                        source="reply")  # fmt: skip
    done = crm.campaigns.export_csv(campaign, tmp_path / "liste.csv")
    assert [m.name for m in done.dropped] == ["Erika Gäbler"]
    assert done.dropped[0].dropped is not None
    assert done.dropped[0].dropped.code == "consent.no.withdrawn"
    assert done.rows == 1
    text = (tmp_path / "liste.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows == [
        ["Kundennummer", "Name", "Kontakt", "Kanal", "Zweck", "Rechtsgrundlage"],
        ["C00001", "'=1+2", "max@muster.de", "email", "newsletter",
         "Art. 6(1)(a) GDPR; §7(2) UWG"],
    ]  # fmt: skip
    stored = crm.campaigns.get(campaign.id)
    assert stored.rechecked_on == (TODAY,)
    erika = stored.member(people["erika"].id)
    assert erika is not None and not erika.included and erika.decision.included
    again = crm.campaigns.export_csv(campaign)
    assert again.dropped == () and again.text.count("\r\n") == 2


def test_staff_may_create_but_not_export(
    crm: crmkit.CRM, people: dict[str, crmkit.Contact]
) -> None:
    staff = crm.as_actor(Actor(id="anna", name="Anna", roles={"staff"}))
    campaign = staff.campaigns.create("Herbst", Segment(tags_any={"Kunde"}), "newsletter", "email")
    with pytest.raises(crmkit.PermissionDenied):
        staff.campaigns.export_csv(campaign)
    assert crm.campaigns.export_csv(campaign).rows == 2


def test_bad_input_changes_nothing(crm: crmkit.CRM, people: dict[str, crmkit.Contact]) -> None:
    for args, field in (
        (("", Segment(), "newsletter", "email"), "name"),
        (("X", Segment(), "Newsletter!", "email"), "purpose"),
        (("X", Segment(), "newsletter", "brieftaube"), "channel"),
    ):
        with pytest.raises(crmkit.ValidationError) as info:
            crm.campaigns.create(*args)
        assert info.value.findings[0].field == field
    assert crm.campaigns.list() == []


def test_erasure_blanks_the_person_in_campaigns(
    crm: crmkit.CRM, people: dict[str, crmkit.Contact]
) -> None:
    campaign = crm.campaigns.create("Herbst", Segment(tags_any={"Kunde"}), "newsletter", "email")
    crm.campaigns.respond(campaign, people["lea"], "reacted", note="rief an: Lea Bounce")
    crm.privacy.erase(people["lea"], reason="Art. 17")
    stored = crm.campaigns.get(campaign.id)
    lea = stored.member(people["lea"].id)
    assert lea is not None and lea.name == "" and lea.decision.params == {}
    assert "Lea" not in str(crmkit.serialize.to_dict(stored))


def test_a_campaign_shows_as_a_table_in_jupyter(
    crm: crmkit.CRM, people: dict[str, crmkit.Contact]
) -> None:
    otto = crm.contacts.get(people["otto"].id)
    assert isinstance(otto, crmkit.Person)
    crm.contacts.update(attrs.evolve(otto, last_name="<b>Ohne</b>"))
    campaign = crm.campaigns.create("Herbst <1>", Segment(tags_any={"Kunde"}), "newsletter",
                                    "email", TODAY)  # fmt: skip
    html = campaign._repr_html_()
    assert "Herbst &lt;1&gt; (newsletter, email, 2026-11-23): 2 included, 5 excluded" in html
    assert "&lt;b&gt;Ohne&lt;/b&gt;" in html and "<b>Ohne" not in html
    assert html.count("<tr>") == 1 + len(campaign.members)
    assert "prior express consent" in html
