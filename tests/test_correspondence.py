"""Correspondence through the facade: logging, corrections, follow-ups, timelines, rights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit import Company, ConflictError, Person, ValidationError
from crmkit.auth import Actor
from crmkit.correspondence import (
    CorrespondenceEntry,
    FollowUp,
    Timeline,
    channel_name,
    text_words,
    timeline_query,
)
from crmkit.errors import NotFoundError, PermissionDenied
from crmkit.serialize import from_dict, to_dict

Clock = Callable[[], dt.datetime]
BERLIN = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, clock: Clock, tmp_path: Path) -> Iterator[crmkit.CRM]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    with crmkit.open(url, load_entry_points=request.param == "sqlite", clock=clock) as crm:
        yield crm


@pytest.fixture
def world(crm: crmkit.CRM) -> dict[str, Any]:
    company = crm.contacts.add(Company(name="Muster GmbH", owner="anna"))
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann", owner=None))
    erika = crm.contacts.add(Person(first_name="Erika", last_name="Beispiel", owner="ben"))
    crm.affiliations.link(max_, company, roles={"decision_maker"})
    return {"company": company, "max": max_, "erika": erika}


def _call(crm: crmkit.CRM, contact: Any, **kw: Any) -> CorrespondenceEntry:
    channel = kw.pop("channel", "phone")
    fields: dict[str, Any] = {
        "direction": "inbound",
        "occurred_at": dt.datetime(2026, 11, 20, 9, 30, tzinfo=BERLIN),
        "subject": "Telefonnotiz: Rückfrage Angebot",
        "content": "Fragt nach Lieferzeit für 40 Lizenzen.",
        "agreements": "Angebot bis Freitag",
    }
    fields.update(kw)
    return crm.correspondence.log(contact, channel, **fields)


# -- logging ------------------------------------------------------------------------------------
def test_log_stamps_author_time_and_revision(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    entry = _call(crm, world["max"].number, follow_up="2026-11-27", tags={"Angebot"})
    assert entry.author == crm.actor.id
    assert entry.recorded_at == crm.now()
    assert entry.occurred_at == dt.datetime(2026, 11, 20, 8, 30, tzinfo=dt.UTC)
    assert entry.revision == 1 and entry.contact_ids == (world["max"].id,)
    assert entry.follow_up == FollowUp(due=dt.date(2026, 11, 27))
    assert crm.correspondence.get(entry.id) == entry
    [revision] = crm.correspondence.revisions(entry)
    assert (revision.action, revision.actor_id, revision.changes) == ("log", crm.actor.id, ())
    [audit] = crm.audit.history(entry.id)
    assert (audit.action, audit.resource) == ("create", "correspondence")
    assert {c.field for c in audit.changes} >= {"subject", "content", "agreements"}


def test_log_on_several_contacts_and_notes(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    meeting = crm.correspondence.log(
        [world["max"], world["company"].number], "meeting", direction="outbound",
        occurred_at="2026-11-18T14:00:00+01:00", subject="Gesprächsprotokoll Jahresgespräch",
        content="Teilnehmer: Herr Mustermann, Frau Schmidt (Vertrieb)",
        agreements="Rahmenvertrag wird verlängert", next_steps="Vertrag zusenden",
    )  # fmt: skip
    note = crm.correspondence.log(
        world["company"], "internal_note", occurred_at="2026-11-19T08:00:00+01:00",
        content="Zahlt Rechnungen oft erst nach Mahnung.",
    )  # fmt: skip
    club = crm.correspondence.log(
        world["max"], "Association Note", occurred_at="2026-11-19T19:00:00+01:00",
        subject="Vereinsnotiz", content="Übernimmt ab 2027 das Amt des Kassenwarts.",
    )  # fmt: skip
    assert meeting.contact_ids == (world["max"].id, world["company"].id)
    assert (note.direction, note.internal) == ("internal", True)
    assert (club.channel, club.internal) == ("association_note", True)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"occurred_at": None}, "occurred_at"),
        ({"occurred_at": dt.datetime(2026, 11, 20, 9, 30)}, "occurred_at"),
        ({"direction": None}, "direction"),
        ({"direction": "sideways"}, "direction"),
        ({"subject": "", "content": "", "agreements": ""}, "content"),
        ({"follow_up": "next week"}, "follow_up.due"),
        ({"channel": "Fax!"}, "channel"),
        ({"subject": "a\x00b"}, "subject"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    crm: crmkit.CRM, world: dict[str, Any], kw: dict[str, Any], field: str
) -> None:
    if kw.get("direction", "x") is None:
        kw = {"direction": None}
    with pytest.raises(ValidationError) as info:
        _call(crm, world["max"], **kw)
    assert field in [f.field for f in info.value.findings]
    assert crm.correspondence.timeline(world["max"]) == []
    assert [r.resource for r in crm.audit.history() if r.resource == "correspondence"] == []


def test_log_on_unknown_contact_is_not_found(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError):
        _call(crm, [world["max"], "C09999"])
    assert crm.correspondence.timeline(world["max"]) == []


# -- corrections --------------------------------------------------------------------------------
def test_corrections_are_revisions_with_reason(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    entry = _call(crm, world["max"])
    fixed = crm.correspondence.correct(
        entry, agreements="Angebot bis Montag", reason="Datum verwechselt"
    )
    assert (fixed.revision, fixed.agreements, fixed.author) == (
        2,
        "Angebot bis Montag",
        entry.author,
    )
    revisions = crm.correspondence.revisions(entry.id)
    assert [(r.revision, r.action, r.reason) for r in revisions] == [
        (1, "log", ""),
        (2, "correct", "Datum verwechselt"),
    ]
    [change] = revisions[1].changes
    assert (change.field, change.old, change.new) == (
        "agreements",
        "Angebot bis Freitag",
        "Angebot bis Montag",
    )
    assert revisions[0].entry == entry
    with pytest.raises(ConflictError):  # still revision 1
        crm.correspondence.correct(entry, subject="x", reason="zu spät")
    audit = crm.audit.history(entry.id)
    assert [(r.action, r.reason) for r in audit] == [
        ("create", ""),
        ("update", "Datum verwechselt"),
    ]
    assert crm.correspondence.correct(fixed, agreements=fixed.agreements, reason="nichts") == fixed
    assert len(crm.correspondence.revisions(entry.id)) == 2


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "  "}, "reason"),
        ({"reason": "x", "author": "ben"}, "author"),
        ({"reason": "x", "recorded_at": "2026-01-01T00:00:00+00:00"}, "recorded_at"),
        ({"reason": "x", "occurred_at": None}, "occurred_at"),
    ],
)
def test_bad_corrections_change_nothing(
    crm: crmkit.CRM, world: dict[str, Any], kw: dict[str, Any], field: str
) -> None:
    entry = _call(crm, world["max"])
    with pytest.raises(ValidationError) as info:
        crm.correspondence.correct(entry, **kw)
    assert field in [f.field for f in info.value.findings]
    assert crm.correspondence.get(entry.id) == entry
    assert len(crm.correspondence.revisions(entry.id)) == 1


def test_turning_an_entry_into_a_note_makes_it_internal(
    crm: crmkit.CRM, world: dict[str, Any]
) -> None:
    entry = _call(crm, world["max"])
    note = crm.correspondence.correct(entry, channel="Internal Note", reason="nur intern")
    assert (note.channel, note.direction, note.internal) == ("internal_note", "internal", True)


def test_follow_ups_open_and_complete(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    a = _call(crm, world["max"], follow_up={"due": "2026-11-27", "assignee": "anna"})
    b = _call(crm, world["company"], follow_up="2026-11-21")
    _call(crm, world["erika"])
    assert crm.correspondence.open_follow_ups() == [b, a]
    assert crm.correspondence.open_follow_ups(due_by="2026-11-23") == [b]
    assert crm.correspondence.open_follow_ups(assignee="anna") == [a]
    assert b.follow_up is not None and b.follow_up.is_overdue(dt.date(2026, 11, 23))
    done = crm.correspondence.complete_follow_up(b, note="Angebot verschickt")
    assert done.follow_up is not None
    assert (done.follow_up.done_at, done.follow_up.done_by) == (crm.now(), crm.actor.id)
    assert done.follow_up.note == "Angebot verschickt"
    assert crm.correspondence.open_follow_ups() == [a]
    assert crm.correspondence.revisions(b)[-1].action == "complete_follow_up"
    with pytest.raises(ValidationError):
        crm.correspondence.complete_follow_up(done)
    with pytest.raises(ValidationError):
        crm.correspondence.open_follow_ups(due_by="bald")


# -- timelines ------------------------------------------------------------------------------------
def test_company_view_shows_its_people(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    call = _call(crm, world["max"], occurred_at="2026-11-20T09:00:00+01:00")
    letter = crm.correspondence.log(
        world["company"], "letter", direction="outbound", occurred_at="2026-11-21T09:00:00+01:00",
        subject="Auftragsbestätigung", content="Vielen Dank für Ihren Auftrag.",
        retention_category="business_letter",
    )  # fmt: skip
    other = _call(crm, world["erika"], occurred_at="2026-11-22T09:00:00+01:00")
    assert crm.correspondence.timeline(world["company"]) == [letter]
    assert crm.correspondence.timeline(world["company"], include_company=True) == [letter, call]
    assert crm.correspondence.timeline(world["max"], include_company=True) == [letter, call]
    assert crm.correspondence.timeline(world["max"]) == [call]
    assert crm.correspondence.timeline(world["erika"], include_company=True) == [other]
    found = crm.correspondence.timeline(world["company"], include_company=True, text="LIEFERZ")
    assert found == [call]
    company = world["company"]
    timeline = crm.correspondence.timeline
    assert timeline(company, include_company=True, channels="letter", since="2026-11-21") == [
        letter
    ]
    assert timeline(company, include_company=True, until=dt.date(2026, 11, 20)) == [call]


def test_timeline_renders_safely_in_jupyter(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    _call(crm, world["max"], subject="<script>alert(1)</script>", follow_up="2026-11-27")
    timeline = crm.correspondence.timeline(world["max"])
    assert isinstance(timeline, Timeline) and len(timeline) == 1
    html = timeline._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Max Mustermann" in html and "2026-11-27" in html and "(open)" in html
    assert "1 entries" in repr(timeline)
    assert timeline[0]._repr_html_().count("<tr>") == 2
    assert timeline[:1] == timeline


# -- permissions ----------------------------------------------------------------------------------
def test_internal_notes_need_their_own_right(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    note = crm.correspondence.log(
        world["company"], "internal_note", occurred_at="2026-11-19T08:00:00+01:00",
        content="Zahlt spät", follow_up="2026-11-25",
    )  # fmt: skip
    call = _call(crm, world["company"], follow_up="2026-11-26")
    anna = crm.as_actor(Actor(id="anna", roles={"sales"}))
    rita = crm.as_actor(Actor(id="rita", roles={"readonly"}))
    staff = crm.as_actor(Actor(id="sam", roles={"staff"}))
    for reader in (anna, rita):
        assert reader.correspondence.timeline(world["company"]) == [call]
        assert reader.correspondence.open_follow_ups() == [call]
        with pytest.raises(PermissionDenied):
            reader.correspondence.get(note.id)
        with pytest.raises(PermissionDenied):
            reader.correspondence.revisions(note.id)
    assert staff.correspondence.timeline(world["company"]) == [call, note]
    with pytest.raises(PermissionDenied):
        anna.correspondence.log(world["company"], "internal_note", occurred_at=crm.now(),
                                content="darf nicht")  # fmt: skip
    with pytest.raises(PermissionDenied):
        rita.correspondence.log(world["company"], "phone", direction="inbound",
                                occurred_at=crm.now(), content="darf nicht")  # fmt: skip
    with pytest.raises(PermissionDenied):
        anna.correspondence.correct(call, channel="internal_note", reason="verstecken")
    assert len(crm.correspondence.timeline(world["company"])) == 2


def test_sales_sees_only_history_of_own_rows(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    mine = _call(crm, world["max"], follow_up="2026-11-24")
    theirs = _call(crm, world["erika"], follow_up="2026-11-24")
    anna = crm.as_actor(Actor(id="anna", roles={"sales"}))
    assert anna.correspondence.get(mine.id) == mine
    with pytest.raises(NotFoundError):
        anna.correspondence.get(theirs.id)
    with pytest.raises(NotFoundError):
        anna.correspondence.timeline(world["erika"])
    assert anna.correspondence.open_follow_ups() == [mine]
    done = anna.correspondence.complete_follow_up(mine)
    assert done.follow_up is not None and done.follow_up.done_by == "anna"


# -- hooks and transactions -----------------------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, bool]] = []

    @crmkit.hookimpl
    def crmkit_on_correspondence_saved(
        self, crm: crmkit.CRM, entry: CorrespondenceEntry, created: bool
    ) -> None:
        self.seen.append((entry.subject, entry.revision, created))


def test_hooks_fire_after_commit_only(clock: Clock, tmp_path: Path) -> None:
    recorder = Recorder()
    crm = crmkit.open(f"sqlite:///{tmp_path / 'h.db'}", plugins=[recorder], clock=clock)
    max_ = crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))
    entry = _call(crm, max_, subject="eins")
    crm.correspondence.correct(entry, subject="zwei", reason="Tippfehler")
    with pytest.raises(RuntimeError), crm.transaction():
        _call(crm, max_, subject="drei")
        assert recorder.seen == [("eins", 1, True), ("zwei", 2, False)]
        raise RuntimeError("abbrechen")
    assert recorder.seen == [("eins", 1, True), ("zwei", 2, False)]
    assert [e.subject for e in crm.correspondence.timeline(max_)] == ["zwei"]
    crm.close()


# -- the pure model ------------------------------------------------------------------------------
_entries = st.builds(
    CorrespondenceEntry,
    contact_ids=st.lists(st.sampled_from(["a", "b", "c1"]), min_size=1, max_size=3),
    channel=st.sampled_from(["phone", "meeting", "email", "letter", "messenger", "fax"]),
    direction=st.sampled_from(["inbound", "outbound", "internal"]),
    occurred_at=st.datetimes(
        min_value=dt.datetime(1990, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    subject=st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=40),
    content=st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=200).map(
        lambda s: s + "x"
    ),
    follow_up=st.one_of(st.none(), st.dates().map(lambda d: FollowUp(due=d, assignee="anna"))),
    tags=st.frozensets(st.sampled_from(["Angebot", "Mahnung", "Ü"])),
    internal=st.booleans(),
)


@given(entry=_entries)
def test_entries_survive_serialisation(entry: CorrespondenceEntry) -> None:
    assert from_dict(CorrespondenceEntry, to_dict(entry)) == entry
    assert attrs.evolve(entry) == entry


@given(text=st.text())
def test_any_filter_text_is_read(text: str) -> None:
    words = text_words(text)
    assert len(words) <= 8 and all(w and " " not in w for w in words)
    assert timeline_query(["a"], text=text).words == words


@given(value=st.text(max_size=50))
def test_channel_names_are_canonical_or_refused(value: str) -> None:
    try:
        name = channel_name(value)
    except ValidationError as exc:
        assert exc.findings[0].field == "channel"
    else:
        assert channel_name(name) == name and name == name.lower()


def test_channel_and_direction_must_fit(crm: crmkit.CRM, world: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        crm.correspondence.log(world["max"], "internal_note", direction="outbound",
                               occurred_at=crm.now(), content="x")  # fmt: skip
    assert info.value.findings[0].field == "direction"
    assert "immer intern" in info.value.message("de")
    with pytest.raises(ValidationError):
        crm.correspondence.log(world["max"], "internal_note", internal=False,
                               occurred_at=crm.now(), content="x")  # fmt: skip
