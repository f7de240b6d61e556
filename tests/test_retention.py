"""Retention periods, legal holds and the erasure plan, with fixed dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit import Person, ValidationError
from crmkit.consent import ConsentEvent
from crmkit.correspondence import CorrespondenceEntry
from crmkit.retention import GERMAN_DEFAULTS, LegalHold, RetentionPolicy, verdict

D = dt.date


def letter(day: str, category: str | None = "business_letter") -> CorrespondenceEntry:
    return CorrespondenceEntry(contact_ids=["c1"], channel="letter", direction="outbound",
                               occurred_at=f"{day}T10:00:00+00:00", subject="Angebot",
                               retention_category=category)  # fmt: skip


@pytest.mark.parametrize(
    ("category", "day", "until"),
    [
        ("business_letter", D(2026, 3, 5), D(2032, 12, 31)),  # 6 years from the end of 2026
        ("business_letter", D(2026, 12, 31), D(2032, 12, 31)),
        ("accounting_voucher", D(2026, 1, 1), D(2034, 12, 31)),  # 8 years since BEG IV
        ("books", D(2025, 6, 30), D(2035, 12, 31)),
        ("phone_consent_proof", D(2026, 2, 10), D(2031, 2, 10)),  # §7a UWG: from the event
        ("phone_consent_proof", D(2028, 2, 29), D(2033, 2, 28)),
    ],
)
def test_periods(category: str, day: D, until: D) -> None:
    assert GERMAN_DEFAULTS[category].keep_until(day) == until


def test_a_business_letter_holds_until_the_end_of_its_sixth_year() -> None:
    entries = [letter("2026-03-05"), letter("2020-01-10"), letter("2026-05-01", None)]
    held = verdict("c1", D(2032, 12, 31), entries=entries)
    assert not held.erase_now and held.hold_until == D(2032, 12, 31)
    assert held.erasable_from == D(2033, 1, 1)
    assert [k.category for k in held.keeps] == ["business_letter"]
    assert "§257" in held.keeps[0].basis
    assert verdict("c1", D(2033, 1, 1), entries=entries).erase_now


def test_phone_consent_proof_holds_five_years_from_grant_and_every_use() -> None:
    proof = {"channel": "phone", "source": "Anruf"}
    events = [
        ConsentEvent(contact_id="c1", purpose="phone_marketing", kind="granted",
                     at="2026-02-10T10:00:00+00:00", **proof),
        ConsentEvent(contact_id="c1", purpose="phone_marketing", kind="used",
                     at="2027-06-01T10:00:00+00:00"),
        ConsentEvent(contact_id="c1", purpose="newsletter", kind="granted",
                     at="2026-02-10T10:00:00+00:00", **proof),
    ]  # fmt: skip
    held = verdict("c1", D(2031, 3, 1), consents=events)
    assert held.hold_until == D(2032, 6, 1) and len(held.keeps) == 1
    assert verdict("c1", D(2032, 6, 2), consents=events).erase_now


def test_legal_holds_and_unknown_categories() -> None:
    open_ended = LegalHold(contact_id="c1", reason="Betriebsprüfung 2024", placed_on=D(2026, 1, 5))
    held = verdict("c1", D(2040, 1, 1), holds=[open_ended])
    assert not held.erase_now and held.hold_until is None and held.erasable_from is None
    lifted = LegalHold(contact_id="c1", reason="Klage", placed_on=D(2026, 1, 5),
                       until="2027-06-30", lifted_on="2026-12-01")  # fmt: skip
    assert verdict("c1", D(2026, 12, 1), holds=[lifted]).erase_now
    assert not verdict("c1", D(2026, 11, 30), holds=[lifted]).erase_now
    with pytest.raises(ValidationError) as info:
        verdict("c1", D(2026, 1, 1), entries=[letter("2025-01-01", "geschaeftsbrief")])
    assert info.value.findings[0].field == "retention_category"
    with pytest.raises(ValidationError):
        LegalHold(contact_id="c1", reason=" ", placed_on=D(2026, 1, 1))
    bank = {**GERMAN_DEFAULTS, "accounting_voucher": RetentionPolicy(
        category="accounting_voucher", years=10, basis="Banken: 10 Jahre")}  # fmt: skip
    voucher = letter("2026-01-01", "accounting_voucher")
    assert verdict("c1", D(2035, 1, 1), entries=[voucher], policies=bank).hold_until == D(
        2036, 12, 31
    )


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, clock=lambda: dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)) as crm:
        yield crm


def test_retention_and_holds_through_the_facade(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    erika = crm.contacts.add(Person(first_name="Erika", last_name="Beispiel"))
    crm.correspondence.log(max_, "letter", direction="outbound",
                           occurred_at="2025-04-01T10:00:00+02:00", subject="Auftragsbestätigung",
                           retention_category="business_letter")  # fmt: skip
    assert crm.privacy.retention(max_).hold_until == D(2031, 12, 31)
    assert crm.privacy.retention(erika).erase_now
    hold = crm.privacy.place_hold(erika, "Steuerbescheid 2025 offen", until="2027-12-31")
    assert crm.privacy.retention(erika).hold_until == D(2027, 12, 31)
    [item] = crm.worklist(D(2026, 11, 23)).of_kind("privacy.hold")
    assert item.contact_name == "Erika Beispiel" and "Steuerbescheid" in item.reason("de")
    crm.privacy.lift_hold(hold)
    assert crm.privacy.retention(erika).erase_now
    assert crm.worklist(D(2026, 11, 23)).of_kind("privacy.hold") == []
    crm.contacts.archive(max_, "kein Kunde mehr")
    crm.contacts.archive(erika, "verzogen")
    plan: dict[str, Any] = {v.contact_id: v for v in crm.privacy.erasure_plan()}
    assert plan[erika.id].erase_now and plan[max_.id].erasable_from == D(2032, 1, 1)
    assert [h.id for h in crm.privacy.holds(erika)] == [hold.id]


def test_letters_and_emails_default_to_business_letters(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(last_name="Mustermann"))
    log = crm.correspondence.log
    letter_ = log(max_, "letter", direction="outbound", occurred_at=crm.now(),
                  subject="Auftragsbestätigung")  # fmt: skip
    call = crm.correspondence.log(max_, "phone", direction="inbound", occurred_at=crm.now(),
                                  subject="Rückfrage")  # fmt: skip
    offer = crm.correspondence.log(max_, "email", direction="outbound", occurred_at=crm.now(),
                                   subject="Angebot ohne Abschluss",
                                   retention_category="")  # not a Handelsbrief  # fmt: skip
    assert (letter_.retention_category, call.retention_category, offer.retention_category) == (
        "business_letter", None, None,
    )  # fmt: skip
    crm.correspondence.default_retention["phone"] = "tax_document"
    later = crm.correspondence.log(max_, "phone", direction="inbound", occurred_at=crm.now(),
                                   subject="Steuerfrage")  # fmt: skip
    assert later.retention_category == "tax_document"
