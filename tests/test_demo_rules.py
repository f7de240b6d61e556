"""The demo data shows every rule firing where it was planted, and nowhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import crmkit
from crmkit.cli import main
from crmkit.rules import RULES
from crmkit.sample import demo_dataset


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> crmkit.CRM:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(main, ["--db", str(db), "demo"])
    assert result.exit_code == 0, result.output
    return crmkit.open(f"sqlite:///{db}")


def test_every_rule_fires_somewhere_in_the_demo(report: crmkit.CRM) -> None:
    fired = {f.code for f in report.check()}
    assert set(RULES) - {"company.no_billing_contact", "contact.field_not_needed"} <= fired
    assert "phone.unassigned" in fired


@pytest.mark.parametrize("code", sorted(demo_dataset().expected))
def test_planted_rules_fire_exactly_where_planted(report: crmkit.CRM, code: str) -> None:
    expected = demo_dataset().expected[code]
    findings = report.check().of(code)
    names = {report.contacts.get(f.contact_id or "").display_name for f in findings}
    assert names == expected
    assert expected, f"{code} is planted nowhere"


def test_the_worklist_of_the_demo_has_every_builtin_kind_but_stale_leads(
    report: crmkit.CRM,
) -> None:
    kinds = set(report.worklist().counts())
    assert {
        "company.no_decision_maker",
        "customer.no_billing_contact",
        "contact.no_email",
        "person.not_linked",
        "bounce.unprocessed",
        "follow_up.due",
        "follow_up.overdue",
        "lead.qualify",
        "quality.sample",
    } <= kinds


def test_demo_dataset_is_reproducible(tmp_path: Path) -> None:
    a, b = demo_dataset(7), demo_dataset(7)
    assert [c.display_name for c in a.persons] == [c.display_name for c in b.persons]
    assert a.expected == b.expected and a.bounces == b.bounces


def test_the_demo_runs_a_consent_case_to_each_end_state(report: crmkit.CRM) -> None:
    stages = {c.stage for c in report.consents.cases()}
    assert stages == {"granted", "declined", "no_response"}
    assert report.worklist().of_kind("consent.decision_needed")
