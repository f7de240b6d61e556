"""The access report (Art. 15/20) is complete, checked against the personal-data registry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

import crmkit
from crmkit.auth import Actor
from crmkit.cli import main
from crmkit.errors import PermissionDenied
from crmkit.plugins import Hooks
from crmkit.registry import PersonalField, by_entity
from crmkit.serialize import to_dict
from crmkit.testing import undeclared_fields


def test_every_persisted_field_is_declared() -> None:
    assert undeclared_fields() == set()

    @attrs.frozen
    class Membership:
        contact_id: str
        iban: str

    assert undeclared_fields({"membership": Membership}) == {
        "membership.contact_id", "membership.iban",
    }  # fmt: skip

    class Declares:
        @crmkit.hookimpl
        def crmkit_register_personal_data(self, register):  # type: ignore[no-untyped-def]
            register(PersonalField(entity="membership", field="contact_id", category="none",
                                   erase="keep", export="omit"))  # fmt: skip
            register(PersonalField(entity="membership", field="iban", category="contact_data"))

    assert undeclared_fields({"membership": Membership}, plugins=[Declares()]) == set()


def test_the_access_report_of_a_demo_person_is_complete(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert CliRunner().invoke(main, ["--db", str(db), "demo"]).exit_code == 0
    with crmkit.open(f"sqlite:///{db}") as crm:
        boehm = next(p for p in crm.search("Böhm") if p.display_name.endswith("Małgorzata Böhm"))
        crm.consents.record(boehm, "newsletter", "granted", contact_point=boehm.emails[0].address,
                            channel="web_form", source="https://muster.de/nl")  # fmt: skip
        crm.privacy.record_request("access", contact=boehm, requester="Brief vom 1.12.")
        note = crm.correspondence.log(boehm, "internal_note", occurred_at=crm.now(),
                                      content="<b>zahlt spät</b>")  # fmt: skip
        report = crm.privacy.access_report(boehm)
        data = json.loads(report.to_json())
        stored = to_dict(crm.contacts.get(boehm))
        declared = by_entity(Hooks(crm.pm).personal_data())
        checked = 0
        for field, decl in declared["person"].items():
            present = stored.get(field) not in (None, "", [])
            if decl.personal and decl.export == "report" and present:
                assert data["contacts"][0][field] == stored[field], field
                checked += 1
        assert checked >= 5
        entries = crm.correspondence.timeline(boehm, include_company=False)
        assert {e["id"] for e in data["correspondence"]} >= {e.id for e in entries}
        assert note.id in {e["id"] for e in data["correspondence"] if e["internal"]}
        # The demo's clarification (requested, two reminders, granted) and our own grant.
        kinds = [c["kind"] for c in data["consents"]]
        assert kinds.count("granted") == 2 and kinds[0] == "requested"
        assert len(kinds) == len(crm.consents.events(boehm))
        assert [r["kind"] for r in data["privacy_requests"]] == ["access"]
        assert data["affiliations"] and data["audit"]
        assert data["retention"]["erase_now"] in (True, False)
        text = report.markdown("de")
        assert text.startswith("# Auskunft nach Art. 15 DSGVO: ")
        assert "## Korrespondenz einschließlich interner Notizen" in text
        html = report._repr_html_()
        assert html.startswith("<pre>") and "&lt;b&gt;zahlt spät" in html and "<b>" not in html
        assert crm.audit.history(boehm)[-1].action == "export"


def test_only_who_may_export_gets_a_report() -> None:
    crm = crmkit.open("memory://", clock=lambda: dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann"))
    with pytest.raises(PermissionDenied):
        crm.as_actor(Actor(id="sam", roles={"staff"})).privacy.access_report(max_)
    officer = crm.as_actor(Actor(id="dsb", roles={"privacy_officer"}))
    assert officer.privacy.access_report(max_).data["number"] == max_.number
