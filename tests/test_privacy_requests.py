"""Data-subject requests: calendar-correct deadlines, extensions, refusals, the worklist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit import ConflictError, Person, ValidationError
from crmkit.auth import Actor
from crmkit.errors import PermissionDenied
from crmkit.privacy import PrivacyRequest, add_months, close, extend

D = dt.date


@pytest.mark.parametrize(
    ("received", "months", "due"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 12, 10), 1, D(2027, 1, 10)),
        (D(2026, 1, 31), 3, D(2026, 4, 30)),  # extended by two further months
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
    ],
)
def test_month_arithmetic(received: D, months: int, due: D) -> None:
    assert add_months(received, months) == due


@given(day=st.dates(min_value=D(1900, 1, 1), max_value=D(2999, 12, 31)),
       months=st.integers(0, 36))  # fmt: skip
def test_add_months_lands_in_the_right_month(day: D, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day and (result.day == day.day or result.day >= 28)


def test_extension_rules() -> None:
    req = PrivacyRequest(kind="access", received=D(2026, 1, 31))
    assert (req.first_due, req.due, req.article) == (D(2026, 2, 28), D(2026, 2, 28), "Art. 15")
    longer = extend(req, 2, "viele Anfragen zugleich", D(2026, 2, 20))
    assert longer.due == D(2026, 4, 30)
    with pytest.raises(ValidationError) as info:
        extend(req, 2, "zu spät", D(2026, 3, 1))
    assert "ersten Monats" in info.value.message("de")
    with pytest.raises(ValidationError):
        extend(req, 3, "drei Monate", D(2026, 2, 1))
    with pytest.raises(ValidationError):
        extend(req, 1, " ", D(2026, 2, 1))
    with pytest.raises(ValidationError):
        close(req, "done", "Auskunft erteilt", D(2026, 2, 10))  # identity not verified
    refused = close(req, "refused", "offensichtlich unbegründet, weil …", D(2026, 3, 2))
    assert refused.late  # a refusal must be explained within the first month
    with pytest.raises(ValidationError):
        close(refused, "done", "x", D(2026, 3, 3))


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    clock = lambda: dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC)  # noqa: E731
    with crmkit.open(url, clock=clock) as crm:
        yield crm


def test_a_request_runs_its_course(crm: crmkit.CRM) -> None:
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    req = crm.privacy.record_request("access", contact=max_, requester="Brief vom 30.1.")
    assert req.due == D(2026, 2, 28) and req.version == 1
    [item] = crm.worklist(D(2026, 2, 25)).of_kind("privacy.")
    assert (item.severity, item.due, item.contact_name) == ("warning", D(2026, 2, 28),
                                                            "Max Mustermann")  # fmt: skip
    assert "Art. 15" in item.reason("de")
    assert crm.worklist(D(2026, 3, 1)).of_kind("privacy.")[0].severity == "error"
    req = crm.privacy.extend(req, 1, "umfangreiche Korrespondenz")
    assert crm.privacy.get(req.id).due == D(2026, 3, 31)
    stale = PrivacyRequest(id=req.id, kind="access", received=req.received, version=1)
    with pytest.raises(ConflictError):
        crm.privacy.verify_identity(stale)
    req = crm.privacy.verify_identity(req)
    done = crm.privacy.complete(req, "Auskunft per Post verschickt")
    assert done.status == "done" and not done.late
    assert crm.privacy.requests() == [] and crm.privacy.requests(status=None) == [done]
    assert crm.worklist(D(2026, 3, 1)).of_kind("privacy.") == []
    actions = [r.action for r in crm.audit.history(req.id)]
    assert actions == ["create", "update", "update", "update"]


def test_bad_requests_and_rights(crm: crmkit.CRM) -> None:
    with pytest.raises(ValidationError) as info:
        crm.privacy.record_request("vergessen")
    assert info.value.findings[0].field == "kind"
    staff = crm.as_actor(Actor(id="sam", roles={"staff"}))
    logged = staff.privacy.record_request("erasure", requester="Anruf")  # staff may log
    with pytest.raises(PermissionDenied):
        staff.privacy.requests()  # … but not read them
    officer = crm.as_actor(Actor(id="dsb", roles={"privacy_officer"}))
    assert [r.id for r in officer.privacy.requests()] == [logged.id]
    assert officer.worklist(D(2026, 2, 1)).of_kind("privacy.")
    assert staff.worklist(D(2026, 2, 1)).of_kind("privacy.") == []
