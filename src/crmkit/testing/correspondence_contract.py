"""Contract tests for correspondence entries; part of :class:`crmkit.testing.StoreContract`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.auth import RowScope
from crmkit.correspondence import (
    CorrespondenceEntry,
    EntryRevision,
    FollowUp,
    TimelineQuery,
    select_entries,
    select_follow_ups,
    timeline_query,
)
from crmkit.errors import ConflictError, NotFoundError
from crmkit.model import Company, Person, link
from crmkit.store import Store

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def sample_entry(contact_ids: Sequence[str], **overrides: Any) -> CorrespondenceEntry:
    """A phone note in German with agreements and an open follow-up."""
    fields: dict[str, Any] = {
        "contact_ids": contact_ids,
        "channel": "phone",
        "direction": "inbound",
        "occurred_at": T0,
        "recorded_at": T0 + dt.timedelta(minutes=5),
        "author": "anna",
        "subject": "Rückruf wegen Angebot „Rahmenvertrag“",
        "content": "Herr Müller fragt nach dem Angebot.\nPreis: 12.500 € – zu hoch?",
        "agreements": "Angebot bis Freitag überarbeiten",
        "next_steps": "Kalkulation mit Vertrieb klären",
        "follow_up": FollowUp(due=dt.date(2026, 1, 9), assignee="anna", note="Angebot senden"),
        "retention_category": "business_letter",
        "tags": {"Angebot", "Vertrieb ✉"},
    }
    fields.update(overrides)
    return CorrespondenceEntry(**fields)


def revision_of(entry: CorrespondenceEntry, *, actor: str = "anna", **kw: Any) -> EntryRevision:
    """The revision record a facade would store for *entry*."""
    return EntryRevision(
        entry=entry, at=entry.recorded_at or T0, actor_id=actor, actor_name=actor.title(), **kw
    )


class CorrespondenceContract:
    """Behaviour of the correspondence part of every store (needs the ``store`` fixture)."""

    @pytest.fixture
    def pair(self, store: Store) -> tuple[Person, Company]:
        """A person working at a company, both stored."""
        person = store.add_contact(Person(first_name="Jürgen", last_name="Müller", owner="anna"))
        company = store.add_contact(Company(name="Muster GmbH", owner="anna"))
        store.add_affiliation(link(person, company))
        assert isinstance(person, Person) and isinstance(company, Company)
        return person, company

    def test_entry_round_trip_keeps_every_field(
        self, store: Store, pair: tuple[Person, Company]
    ) -> None:
        person, company = pair
        entry = sample_entry([person.id, company.id], source="email:abc@example.org")
        assert store.add_entry(revision_of(entry)) == entry
        assert store.get_entry(entry.id) == entry
        assert store.find_entry_by_source("email:abc@example.org") == entry
        assert store.find_entry_by_source("email:other") is None
        [first] = store.entry_revisions(entry.id)
        assert first == revision_of(entry)

    def test_add_entry_checks_contacts_ids_sources_and_revision(
        self, store: Store, pair: tuple[Person, Company]
    ) -> None:
        person, _ = pair
        entry = sample_entry([person.id], source="whatsapp:x:2026-01-05")
        with pytest.raises(NotFoundError):
            store.add_entry(revision_of(sample_entry([person.id, "nobody"])))
        with pytest.raises(ConflictError):
            store.add_entry(revision_of(attrs.evolve(entry, revision=2)))
        store.add_entry(revision_of(entry))
        with pytest.raises(ConflictError):
            store.add_entry(revision_of(attrs.evolve(entry, subject="anders")))
        with pytest.raises(ConflictError):
            store.add_entry(revision_of(sample_entry([person.id], source=entry.source)))
        assert store.timeline(timeline_query([person.id])) == [entry]
        with pytest.raises(NotFoundError):
            store.get_entry("missing")
        with pytest.raises(NotFoundError):
            store.entry_revisions("missing")

    def test_corrections_keep_every_revision(
        self, store: Store, pair: tuple[Person, Company]
    ) -> None:
        person, company = pair
        entry = sample_entry([person.id])
        store.add_entry(revision_of(entry))
        second = attrs.evolve(
            entry, agreements="Angebot bis Montag", contact_ids=[person.id, company.id], revision=2
        )
        store.correct_entry(revision_of(second, actor="ben", action="correct", reason="Datum"))
        with pytest.raises(ConflictError):  # someone else's correction of revision 1
            store.correct_entry(revision_of(attrs.evolve(entry, subject="x", revision=2)))
        with pytest.raises(NotFoundError):
            store.correct_entry(revision_of(attrs.evolve(sample_entry([person.id]), revision=2)))
        assert store.get_entry(entry.id) == second
        revisions = store.entry_revisions(entry.id)
        assert [(r.revision, r.actor_id, r.action, r.reason) for r in revisions] == [
            (1, "anna", "log", ""),
            (2, "ben", "correct", "Datum"),
        ]
        assert revisions[0].entry == entry
        assert store.timeline(timeline_query([company.id])) == [second]
        assert store.timeline(timeline_query([company.id], text="montag")) == [second]
        assert store.timeline(timeline_query([company.id], text="freitag")) == []

    def test_timeline_order_and_filters(self, store: Store, pair: tuple[Person, Company]) -> None:
        person, company = pair
        days = [T0 + dt.timedelta(days=d) for d in range(4)]
        call = sample_entry([person.id], occurred_at=days[1])
        meeting = sample_entry(
            [person.id, company.id], channel="meeting", direction="outbound",
            occurred_at=days[2], subject="Gesprächsprotokoll Jahresgespräch",
            content="Teilnehmer: Herr Müller, Frau Schmidt", agreements="", next_steps="",
        )  # fmt: skip
        note = sample_entry(
            [company.id], channel="internal_note", direction="internal", occurred_at=days[3],
            subject="Zahlt oft spät", content="", follow_up=None,
        )  # fmt: skip
        same_time = sample_entry(
            [person.id], occurred_at=days[1], recorded_at=days[1] + dt.timedelta(hours=1),
            subject="Nachtrag", content="Telefonnummer der Buchhaltung notiert",
        )  # fmt: skip
        for e in (call, meeting, note, same_time):
            store.add_entry(revision_of(e))
        assert note.direction == "internal" and note.internal

        def ids(query: TimelineQuery) -> list[str]:
            return [e.id for e in store.timeline(query)]

        assert ids(timeline_query([person.id])) == [meeting.id, same_time.id, call.id]
        assert ids(timeline_query([company.id])) == [note.id, meeting.id]
        both = timeline_query([person.id, company.id])
        assert ids(both) == [note.id, meeting.id, same_time.id, call.id]
        assert ids(timeline_query([person.id, company.id], include_internal=False)) == [
            meeting.id, same_time.id, call.id,
        ]  # fmt: skip
        assert ids(timeline_query([person.id], channels="meeting")) == [meeting.id]
        assert ids(timeline_query([person.id], channels=["phone", "letter"])) == [
            same_time.id, call.id,
        ]  # fmt: skip
        assert ids(timeline_query([person.id], since=days[2])) == [meeting.id]
        assert ids(timeline_query([person.id], until=days[1].date())) == [same_time.id, call.id]
        assert ids(timeline_query([person.id], until=days[1])) == [same_time.id, call.id]
        assert ids(timeline_query([person.id], since=days[1], until=days[1])) == [
            same_time.id, call.id,
        ]  # fmt: skip
        assert ids(timeline_query([person.id], text="MUELLER teiln")) == [meeting.id]
        assert ids(timeline_query([person.id], text="Müller")) == [meeting.id, call.id]
        assert ids(timeline_query([person.id], text="kalkul")) == [same_time.id, call.id]
        assert ids(timeline_query([person.id], text="ulation")) == []
        assert ids(timeline_query(["unknown"])) == []

    @pytest.mark.parametrize(
        "text",
        ['"', "*", "Angebot OR Preis", "NEAR(a b)", "-x", "a:b", "\x00", "^", "😀", "x" * 5000,
         "AND", "(", "müll*", "{col}: x", "'; DROP TABLE correspondence; --"],
    )  # fmt: skip
    def test_timeline_text_is_safe_for_any_input(
        self, store: Store, pair: tuple[Person, Company], text: str
    ) -> None:
        person, _ = pair
        entry = store.add_entry(revision_of(sample_entry([person.id])))
        query = timeline_query([person.id], text=text)
        assert store.timeline(query) == select_entries([entry], query)
        assert store.get_entry(entry.id) == entry

    def test_timeline_agrees_with_select_entries(
        self, store: Store, pair: tuple[Person, Company]
    ) -> None:
        person, company = pair
        words = ["Angebot", "Müller", "Mueller", "Rückruf", "Preis", "Straße", "OR", "ß", "12"]
        stored: list[CorrespondenceEntry] = []
        for i in range(24):
            stored.append(
                store.add_entry(
                    revision_of(
                        sample_entry(
                            [[person.id], [company.id], [person.id, company.id]][i % 3],
                            channel=["phone", "email", "letter", "internal_note"][i % 4],
                            direction="internal" if i % 4 == 3 else "outbound",
                            occurred_at=T0 + dt.timedelta(hours=i % 7),
                            recorded_at=T0 + dt.timedelta(hours=i),
                            subject=" ".join(words[i % 9 : i % 9 + 2]),
                            content=" ".join(words[(i * 5) % 9 : (i * 5) % 9 + 3]),
                            agreements="",
                            next_steps="",
                        )
                    )
                )
            )
        texts = st.one_of(
            st.text(max_size=20), st.lists(st.sampled_from(words), max_size=3).map(" ".join)
        )
        moments = st.one_of(st.none(), st.integers(0, 8).map(lambda h: T0 + dt.timedelta(hours=h)))

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            contacts=st.sets(st.sampled_from([person.id, company.id, "x"]), min_size=1),
            channels=st.one_of(st.none(), st.sets(st.sampled_from(["phone", "email", "letter"]))),
            since=moments,
            until=moments,
            text=texts,
            internal=st.booleans(),
        )
        def check(
            contacts: set[str],
            channels: set[str] | None,
            since: dt.datetime | None,
            until: dt.datetime | None,
            text: str,
            internal: bool,
        ) -> None:
            query = timeline_query(
                contacts, channels=channels, since=since, until=until, text=text,
                include_internal=internal,
            )  # fmt: skip
            assert store.timeline(query) == select_entries(stored, query)

        check()

    def test_open_follow_ups(self, store: Store, pair: tuple[Person, Company]) -> None:
        person, company = pair
        other = store.add_contact(Person(last_name="Fremd", owner="ben"))
        due = [dt.date(2026, 1, d) for d in (7, 9, 12)]
        a = store.add_entry(revision_of(sample_entry(
            [person.id], follow_up=FollowUp(due=due[1], assignee="anna"))))  # fmt: skip
        b = store.add_entry(revision_of(sample_entry(
            [company.id], follow_up=FollowUp(due=due[0], assignee="ben"))))  # fmt: skip
        c = store.add_entry(revision_of(sample_entry(
            [other.id], follow_up=FollowUp(due=due[2], assignee="anna"))))  # fmt: skip
        store.add_entry(revision_of(sample_entry([person.id], follow_up=None)))
        assert store.open_follow_ups() == [b, a, c]
        assert store.open_follow_ups(due_by=due[1]) == [b, a]
        assert store.open_follow_ups(assignee="anna") == [a, c]
        assert store.open_follow_ups(scope=RowScope(owner="anna")) == [b, a]
        assert store.open_follow_ups(scope=RowScope(owner="ben")) == [c]
        assert a.follow_up is not None
        done = attrs.evolve(
            a, follow_up=attrs.evolve(a.follow_up, done_at=T0, done_by="anna"), revision=2
        )
        store.correct_entry(revision_of(done, action="complete_follow_up"))
        assert store.open_follow_ups() == [b, c]
        everything = [store.get_entry(e.id) for e in (a, b, c)]
        assert store.open_follow_ups() == select_follow_ups(everything)

    def test_entry_scope(self, store: Store, pair: tuple[Person, Company]) -> None:
        person, _ = pair
        stranger = store.add_contact(Person(last_name="Fremd", owner="ben"))
        shared = store.add_entry(revision_of(sample_entry([stranger.id, person.id])))
        private = store.add_entry(revision_of(sample_entry([stranger.id])))
        anna, ben = RowScope(owner="anna"), RowScope(owner="ben")
        assert store.get_entry(shared.id, scope=anna) == shared
        assert store.get_entry(private.id, scope=ben) == private
        with pytest.raises(NotFoundError):
            store.get_entry(private.id, scope=anna)

    def test_contacts_with_history_are_kept_until_their_entries_go(
        self, store: Store, pair: tuple[Person, Company]
    ) -> None:
        person, company = pair
        entry = store.add_entry(revision_of(sample_entry([person.id], source="email:1")))
        with pytest.raises(ConflictError):
            store.delete_contact(person.id)
        assert store.get_contact(person.id) == person
        store.delete_entry(entry.id)
        with pytest.raises(NotFoundError):
            store.get_entry(entry.id)
        with pytest.raises(NotFoundError):
            store.entry_revisions(entry.id)
        with pytest.raises(NotFoundError):
            store.delete_entry(entry.id)
        assert store.find_entry_by_source("email:1") is None
        assert store.timeline(timeline_query([person.id], text="angebot")) == []
        store.delete_contact(person.id)
        again = store.add_entry(revision_of(sample_entry([company.id], source="email:1")))
        assert store.find_entry_by_source("email:1") == again

    def test_entry_writes_roll_back(self, store: Store, pair: tuple[Person, Company]) -> None:
        person, company = pair
        kept = store.add_entry(revision_of(sample_entry([person.id], source="email:kept")))
        with pytest.raises(RuntimeError), store.transaction():
            store.add_entry(revision_of(sample_entry([company.id], source="email:new")))
            store.correct_entry(
                revision_of(attrs.evolve(kept, subject="geändert", revision=2), action="correct")
            )
            store.delete_entry(kept.id)
            raise RuntimeError("undo")
        assert store.get_entry(kept.id) == kept
        assert len(store.entry_revisions(kept.id)) == 1
        assert store.find_entry_by_source("email:new") is None
        assert store.timeline(timeline_query([person.id, company.id])) == [kept]
        assert store.timeline(timeline_query([person.id], text="geändert")) == []
        assert store.open_follow_ups() == [kept]

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        subject=st.text(max_size=60),
        content=st.text(max_size=300),
    )
    def test_any_text_survives_the_round_trip(
        self, store: Store, pair: tuple[Person, Company], subject: str, content: str
    ) -> None:
        person, _ = pair
        try:
            entry = sample_entry([person.id], subject=subject, content=content)
        except Exception as exc:  # the model refuses control characters etc. with its own error
            from crmkit.errors import ValidationError

            assert isinstance(exc, ValidationError)
            return
        store.add_entry(revision_of(entry))
        assert store.get_entry(entry.id) == entry
        query = timeline_query([person.id], text=content[:30])
        assert store.timeline(query) == select_entries([entry], query)
        store.delete_entry(entry.id)


__all__ = ["CorrespondenceContract", "revision_of", "sample_entry"]
