"""The memory store passes the contract suite every backend must pass."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crmkit.memory import MemoryStore
from crmkit.store import Store
from crmkit.testing import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store_factory(self) -> Callable[[], Store]:
        return MemoryStore


def test_segment_indexes_follow_updates_rollbacks_and_deletes() -> None:
    import attrs

    from crmkit.model import Person
    from crmkit.segments import Segment

    store = MemoryStore()
    max_ = store.add_contact(Person(first_name="Max", last_name="M", tags={"VIP"},
                                    relationships={"customer"}))  # fmt: skip
    erika = store.add_contact(Person(first_name="Erika", last_name="G", tags={"VIP", "Presse"}))
    vip = Segment(tags_any={"VIP"})
    assert store.segment_ids(vip) == [max_.id, erika.id]
    assert store.segment_ids(Segment(tags_all={"VIP", "Presse"})) == [erika.id]
    assert store.segment_ids(vip & Segment(relationships={"customer"})) == [max_.id]
    max_ = store.update_contact(attrs.evolve(max_, tags={"Presse"}, relationships={"lead"}))
    assert store.segment_ids(vip) == [erika.id]
    assert store.segment_ids(Segment(tags_any={"Presse"})) == [max_.id, erika.id]
    assert store.segment_ids(Segment(relationships={"customer"})) == []
    with pytest.raises(RuntimeError), store.transaction():
        store.update_contact(attrs.evolve(max_, tags={"VIP"}))
        raise RuntimeError("roll back")
    assert store.segment_ids(vip) == [erika.id]
    store.delete_contact(erika.id)
    assert store.segment_ids(vip) == [] and store.segment_ids(Segment()) == [max_.id]
