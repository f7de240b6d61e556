"""Contract tests for the optional sync-link methods; part of :class:`crmkit.testing.StoreContract`.

A store that declares the capability ``sync_links`` must pass every test
here; a store without it passes them by refusing clearly
(:func:`crmkit.store.sync_link_store` raises :class:`crmkit.StoreError`).
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from crmkit.errors import ConflictError, NotFoundError, StoreError
from crmkit.model import Person
from crmkit.privacy import Tombstone
from crmkit.store import Store, SyncLinkStore, sync_link_store
from crmkit.sync import SyncLink

_T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def sample_link(contact_id: str, **overrides: object) -> SyncLink:
    """A synced link of *contact_id* to a Microsoft 365 mailbox, with German data."""
    values: dict[str, object] = {
        "contact_id": contact_id,
        "provider": "m365",
        "mailbox": "anna@müller-gmbh.de",
        "folder": "AAMkFolder=",
        "remote_id": f"AAMk-{contact_id}",
        "change_key": "EQAAABYAAA",
        "snapshot": {"surname": "Weiß", "emails": ("jürgen@weiss.de",), "title": None},
        "snapshot_hash": "abc",
        "crm_version": 2,
        "remote_modified": _T0,
        "last_synced": _T0,
        "status": "ok",
    }
    values.update(overrides)
    return SyncLink(**values)  # type: ignore[arg-type]


class SyncLinkContract:
    """Sync links and state: stored, found, replaced, rolled back, erased."""

    def _links(self, store: Store) -> SyncLinkStore | None:
        if "sync_links" not in store.capabilities:
            with pytest.raises(StoreError):
                sync_link_store(store)
            return None
        return sync_link_store(store)

    def _person(self, store: Store) -> Person:
        stored = store.add_contact(Person(last_name="Weiß", first_name="Jürgen"))
        assert isinstance(stored, Person)
        return stored

    def test_sync_link_round_trip(self, store: Store) -> None:
        links = self._links(store)
        if links is None:
            return
        person = self._person(store)
        assert links.get_sync_link(person.id, "m365", "anna@müller-gmbh.de") is None
        link = sample_link(person.id)
        links.put_sync_link(link)
        assert links.get_sync_link(person.id, "m365", "anna@müller-gmbh.de") == link
        assert links.find_sync_link("m365", "anna@müller-gmbh.de", link.remote_id or "") == link
        assert links.find_sync_link("m365", "other@x.de", link.remote_id or "") is None
        changed = attrs.evolve(link, change_key="NEW", status="conflict", conflicts=("surname",))
        links.put_sync_link(changed)
        assert links.sync_links() == [changed]
        assert links.sync_links(status="conflict") == [changed]
        assert links.sync_links(status="ok") == []
        assert links.sync_links(provider="m365", contact_id=person.id) == [changed]
        gone = attrs.evolve(changed, remote_id=None, status="unlinked")
        links.put_sync_link(gone)
        assert links.find_sync_link("m365", "anna@müller-gmbh.de", link.remote_id or "") is None
        links.delete_sync_link(person.id, "m365", "anna@müller-gmbh.de")
        links.delete_sync_link(person.id, "m365", "anna@müller-gmbh.de")  # no error
        assert links.sync_links() == []

    def test_sync_link_needs_the_contact_and_a_free_remote_id(self, store: Store) -> None:
        links = self._links(store)
        if links is None:
            return
        with pytest.raises(NotFoundError):
            links.put_sync_link(sample_link("no-such-contact"))
        a, b = self._person(store), self._person(store)
        links.put_sync_link(sample_link(a.id, remote_id="R1"))
        with pytest.raises(ConflictError):
            links.put_sync_link(sample_link(b.id, remote_id="R1"))
        links.put_sync_link(sample_link(b.id, remote_id="R1", mailbox="other@x.de"))
        assert [x.contact_id for x in links.sync_links(mailbox="other@x.de")] == [b.id]

    def test_sync_links_and_state_roll_back(self, store: Store) -> None:
        links = self._links(store)
        if links is None:
            return
        person = self._person(store)
        links.put_sync_link(sample_link(person.id))
        links.put_sync_state("m365", "anna@x.de", "delta/F1", "https://graph/delta?$deltatoken=1")
        with pytest.raises(RuntimeError), store.transaction():
            links.put_sync_link(sample_link(person.id, status="error", last_error="boom"))
            links.put_sync_state("m365", "anna@x.de", "delta/F1", "https://graph/delta?t=2")
            links.delete_sync_link(person.id, "m365", "anna@müller-gmbh.de")
            raise RuntimeError("rollback")
        assert links.get_sync_link(person.id, "m365", "anna@müller-gmbh.de") == sample_link(
            person.id
        )
        assert (
            links.get_sync_state("m365", "anna@x.de", "delta/F1")
            == "https://graph/delta?$deltatoken=1"
        )
        links.put_sync_state("m365", "anna@x.de", "delta/F1", None)
        assert links.get_sync_state("m365", "anna@x.de", "delta/F1") is None

    def test_erasure_keeps_only_the_remote_id_of_a_link(self, store: Store) -> None:
        links = self._links(store)
        if links is None:
            return
        person = self._person(store)
        links.put_sync_link(sample_link(person.id))
        tombstone = Tombstone(
            contact_id=person.id, number=person.number or "", erased_on=_T0.date(),
            reason="Art. 17",
        )  # fmt: skip
        store.erase_contact(person.id, tombstone)
        (left,) = links.sync_links(contact_id=person.id)
        assert left.status == "erased" and left.snapshot == {} and left.snapshot_hash == ""
        assert left.remote_id == f"AAMk-{person.id}"
        links.delete_sync_link(person.id, "m365", "anna@müller-gmbh.de")
        assert links.sync_links() == []


__all__ = ["SyncLinkContract", "sample_link"]
