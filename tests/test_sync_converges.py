"""Random edits on both sides, deletions, lost tokens and refused writes: the sync converges.

A hypothesis state machine drives the memory store and the in-memory remote
book; after two quiet rounds both sides agree on every synced field of every
linked contact, no item is there twice, and nothing was imported twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

import crmkit
from crmkit.sync import contact_values
from crmkit.testing.remote_book import MemoryBook

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
FIELDS = ("given_name", "surname", "title", "emails", "mobile_phone")
names = st.sampled_from(["Müller", "Weiß", "Groß", "Öztürk", "Schmidt"])
titles = st.sampled_from([None, "Dr.", "Prof."])


class SyncMachine(RuleBasedStateMachine):
    @initialize(n=st.integers(min_value=1, max_value=4))
    def start(self, n: int) -> None:
        self.crm = crmkit.open("memory://", load_entry_points=False, clock=lambda: NOW)
        self.book = MemoryBook()
        self.imported = 0
        for i in range(n):
            self.crm.contacts.add(crmkit.Person(first_name="Anna", last_name=f"Kundin{i}",
                                                emails=[f"kundin{i}@beispiel.de"]))  # fmt: skip

    def teardown(self) -> None:
        self.crm.close()

    def _linked(self) -> list[Any]:
        return [k for k in self.crm.sync.links() if k.remote_id and k.remote_id in self.book.items]

    @rule()
    def sync(self) -> None:
        self.crm.sync.round(self.book)

    @rule(i=st.integers(min_value=0, max_value=9), surname=names, title=titles)
    def edit_in_crm(self, i: int, surname: str, title: str | None) -> None:
        people = list(self.crm.contacts.all())
        person: Any = people[i % len(people)]
        self.crm.contacts.update(attrs.evolve(person, last_name=surname, title=title))

    @rule(i=st.integers(min_value=0, max_value=9), surname=names, title=titles)
    def edit_in_outlook(self, i: int, surname: str, title: str | None) -> None:
        linked = self._linked()
        if linked:
            rid = linked[i % len(linked)].remote_id
            self.book.external_edit(rid, surname=surname, title=title)

    @rule(i=st.integers(min_value=0, max_value=9))
    def delete_in_outlook(self, i: int) -> None:
        linked = self._linked()
        if len(linked) > 1:
            self.book.external_delete(linked[i % len(linked)].remote_id)

    @rule(surname=names)
    def create_in_outlook(self, surname: str) -> None:
        self.imported += 1
        self.book.external_create(given_name="Neu", surname=surname,
                                  emails=(f"neu{self.imported}@beispiel.de",))  # fmt: skip

    @rule()
    def tokens_expire(self) -> None:
        self.book.expire_tokens()

    @rule()
    def next_write_refused(self) -> None:
        self.book.conflicts_to_inject = 1

    @rule()
    def settle(self) -> None:
        self.book.conflicts_to_inject = 0
        self.crm.sync.round(self.book)
        last = self.crm.sync.round(self.book)
        assert last.errors == 0 and last.conflicts == 0
        assert (last.created_remote, last.updated_remote, last.created_crm) == (0, 0, 0)
        numbers = [self.book.numbers.get(rid) for rid in self.book.items]
        assert len(numbers) == len(set(numbers)), "an item is there twice"
        assert None not in numbers
        for link in self.crm.sync.links(status="ok"):
            contact = self.crm.contacts.get(link.contact_id)
            crm_side = contact_values(contact)
            remote = self.book.values(link.remote_id or "")
            for field in FIELDS:
                assert crm_side.get(field) == remote.get(field), (field, contact.number)


TestSyncConverges = SyncMachine.TestCase
TestSyncConverges.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
