"""Bounces through ``crm.bounces`` on both stores: recording, flagging, processing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import crmkit
from crmkit import Company, ConflictError, NotFoundError, Person, ValidationError
from crmkit.auth import Actor
from crmkit.bounce import Bounce
from crmkit.errors import PermissionDenied

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
AT = dt.datetime(2026, 11, 20, 7, 30, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, clock=lambda: NOW, load_entry_points=request.param == "sqlite") as crm:
        yield crm


@pytest.fixture
def world(crm: crmkit.CRM) -> dict[str, Any]:
    max_ = crm.contacts.add(
        Person(first_name="Max", last_name="Mustermann",
               emails=["Max@Muster.de", "max.privat@gmx.de"])
    )  # fmt: skip
    firma = crm.contacts.add(Company(name="Muster GmbH", emails=["max@muster.de"]))
    other = crm.contacts.add(Person(first_name="Erika", last_name="Beispiel",
                                    emails=["ax@muster.de", "max@muster.de.example"]))  # fmt: skip
    return {"max": max_, "firma": firma, "other": other}


def _bounced(crm: crmkit.CRM, contact: crmkit.Contact) -> dict[str, dt.datetime | None]:
    return {e.address: e.bounced_at for e in crm.contacts.get(contact.id).emails}


def test_hard_bounce_flags_every_contact_with_the_address(
    crm: crmkit.CRM, world: dict[str, Any]
) -> None:
    bounce = crm.bounces.record("MAX@muster.DE", "hard", at=AT, detail="550 5.1.1 user unknown")
    assert (bounce.address, bounce.kind, bounce.at, bounce.version) == (
        "MAX@muster.de", "hard", AT, 1)  # fmt: skip
    assert set(bounce.contact_ids) == {world["max"].id, world["firma"].id}
    assert not bounce.processed
    assert _bounced(crm, world["max"]) == {"Max@muster.de": AT, "max.privat@gmx.de": None}
    assert _bounced(crm, world["firma"]) == {"max@muster.de": AT}
    assert set(_bounced(crm, world["other"]).values()) == {None}
    report = crm.check()
    undeliverable = report.of("contact.email_undeliverable")
    assert {(f.contact_id, f.field) for f in undeliverable} == {
        (world["max"].id, "emails.0"), (world["firma"].id, "emails.0")}  # fmt: skip
    assert "max@muster.de" in undeliverable[0].message().lower()
    [audit] = [r for r in crm.audit.history(bounce.id) if r.resource == "bounce"]
    assert audit.action == "create"
    assert [r.action for r in crm.audit.history(world["max"].id)] == ["create", "update"]


def test_a_later_hard_bounce_keeps_the_first_date(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    crm.bounces.record("max@muster.de", at=AT)
    crm.bounces.record("max@muster.de", at=AT + dt.timedelta(days=2))
    assert _bounced(crm, world["firma"]) == {"max@muster.de": AT}
    assert len(crm.bounces.of("max@muster.de")) == 2


def test_soft_bounce_only_records(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    before = crm.contacts.get(world["max"].id)
    bounce = crm.bounces.record("max@muster.de", "Soft", at="2026-11-20T08:30:00+01:00")
    assert (bounce.kind, bounce.at) == ("soft", AT)
    assert set(bounce.contact_ids) == {world["max"].id, world["firma"].id}
    assert crm.contacts.get(world["max"].id) == before
    assert crm.check().of("contact.email_undeliverable") == []
    assert crm.bounces.open() == [bounce]


def test_default_kind_and_time(crm: crmkit.CRM) -> None:
    bounce = crm.bounces.record("niemand@muster.de")
    assert (bounce.kind, bounce.at, bounce.contact_ids) == ("hard", NOW, ())
    assert crm.bounces.open() == [bounce]


def test_mark_processed(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    bounce = crm.bounces.record("max@muster.de", at=AT)
    done = crm.bounces.mark_processed(bounce)
    assert (done.processed, done.processed_at, done.processed_by, done.version) == (
        True, NOW, crm.actor.id, 2)  # fmt: skip
    assert crm.bounces.open() == []
    assert crm.bounces.of("max@muster.de") == [done]
    assert [r.action for r in crm.audit.history(bounce.id)] == ["create", "update"]
    with pytest.raises(ConflictError):
        crm.bounces.mark_processed(bounce)  # stale version
    assert crm.bounces.of("max@muster.de") == [done]


def test_mark_processed_by_id_and_unknown_id(crm: crmkit.CRM) -> None:
    bounce = crm.bounces.record("niemand@muster.de", "soft", at=AT)
    assert crm.bounces.mark_processed(bounce.id).processed
    with pytest.raises(NotFoundError):
        crm.bounces.mark_processed("nope")


def test_open_and_of(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    late = crm.bounces.record("max@muster.de", "soft", at=AT + dt.timedelta(hours=1))
    early = crm.bounces.record("ax@muster.de", "soft", at=AT)
    third = crm.bounces.record("Max@Muster.de", "hard", at=AT + dt.timedelta(hours=2))
    assert crm.bounces.open() == [early, late, third]
    assert crm.bounces.of(" MAX@MUSTER.DE ") == [late, third]
    assert crm.bounces.of("ax@muster.de") == [early]
    assert crm.bounces.of("nobody@muster.de") == []
    crm.bounces.mark_processed(early)
    assert crm.bounces.open() == [late, third]
    with pytest.raises(ValidationError) as info:
        crm.bounces.of(42)  # type: ignore[arg-type]
    assert info.value.findings[0].field == "address"


@pytest.mark.parametrize(
    ("args", "kw", "field"),
    [
        (("kein-at-zeichen",), {}, "address"),
        (("max@",), {}, "address"),
        ((None,), {}, "address"),
        (("max@muster.de", "medium"), {}, "kind"),
        (("max@muster.de", ""), {}, "kind"),
        (("max@muster.de",), {"at": dt.datetime(2026, 11, 20, 8)}, "at"),
        (("max@muster.de",), {"at": "gestern"}, "at"),
        (("max@muster.de",), {"detail": "x" * 1001}, "detail"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    crm: crmkit.CRM, world: dict[str, Any], args: tuple[Any, ...], kw: dict[str, Any], field: str
) -> None:
    audit = crm.audit.history()
    with pytest.raises(ValidationError) as info:
        crm.bounces.record(*args, **kw)
    assert [f.field for f in info.value.findings] == [field]
    assert crm.bounces.open() == []
    assert crm.audit.history() == audit
    assert set(_bounced(crm, world["max"]).values()) == {None}


def test_a_readonly_actor_cannot_record(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    reader = crm.as_actor(Actor(id="rita", roles={"readonly"}))
    with pytest.raises(PermissionDenied):
        reader.bounces.record("max@muster.de")
    assert crm.bounces.open() == []
    assert reader.bounces.open() == []


def test_a_failed_update_rolls_the_bounce_back(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    class Refuse:
        @crmkit.hookimpl
        def crmkit_validate_contact(self, contact: crmkit.Contact) -> list[crmkit.Finding]:
            if any(e.bounced_at for e in contact.emails):
                return [crmkit.Finding(field="emails", code="value.invalid",
                                       params={"value": "x", "reason": "no"})]  # fmt: skip
            return []

    crm.pm.register(Refuse())
    with pytest.raises(ValidationError):
        crm.bounces.record("max@muster.de", at=AT)
    assert crm.bounces.open() == []
    assert set(_bounced(crm, world["firma"]).values()) == {None}


def test_bounce_value_object() -> None:
    bounce = Bounce(address=" Max@Muster.DE ", kind=" HARD ", at=AT)
    assert (bounce.address, bounce.kind) == ("Max@muster.de", "hard")
    assert attrs.evolve(bounce) == bounce
    with pytest.raises(ValidationError) as info:
        Bounce(address="max@muster.de", at=None)
    assert info.value.findings[0].field == "at"
