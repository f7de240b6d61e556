"""Contract tests for summaries and bounces; part of :class:`crmkit.testing.StoreContract`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.auth import RowScope
from crmkit.bounce import Bounce
from crmkit.errors import ConflictError, NotFoundError
from crmkit.model import Affiliation, Company, Contact, LeadInfo, Person, link
from crmkit.store import Store
from crmkit.summary import (
    SummaryFilter,
    matches,
    month_seed,
    sample_key,
    summarize,
)
from crmkit.testing.correspondence_contract import revision_of, sample_entry

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
_DAY = dt.timedelta(days=1)


class CockpitContract:
    """Behaviour of the worklist queries of every store (needs the ``store`` fixture)."""

    @pytest.fixture
    def crowd(self, store: Store) -> dict[str, Any]:
        """A small but varied population: leads, customers, companies with and without roles."""
        c: dict[str, Contact] = {}

        def add(key: str, contact: Contact) -> None:
            c[key] = store.add_contact(contact)

        add("muster", Company(name="Muster GmbH", relationships={"customer"}, owner="anna",
                              emails=["info@muster.de"], created_at=T0 - 400 * _DAY))  # fmt: skip
        add("leer", Company(name="Leer AG", relationships={"customer"}, owner="ben",
                            created_at=T0 - 10 * _DAY, updated_at=T0 - 10 * _DAY))  # fmt: skip
        add("verein", Company(name="Sportverein Musterstadt e.V.", relationships={"member"},
                              created_at=T0 - 30 * _DAY))  # fmt: skip
        add("max", Person(first_name="Max", last_name="Mustermann", title="Dr.",
                          emails=["max@muster.de"], relationships={"customer"},
                          created_at=T0 - 500 * _DAY, updated_at=T0 - 400 * _DAY))  # fmt: skip
        add("erika", Person(first_name="Erika", last_name="Gäbler", owner="anna",
                            relationships={"lead"}, lead=LeadInfo(
                                source="Messe", status="new", since=T0.date() - 120 * _DAY),
                            created_at=T0 - 5 * _DAY, updated_at=T0 - 5 * _DAY))  # fmt: skip
        add("jan", Person(last_name="Öztürk", relationships={"lead"},
                          lead=LeadInfo(status="qualified"), emails=["jan@web.de"],
                          created_at=T0 - 200 * _DAY, updated_at=T0 - 200 * _DAY))  # fmt: skip
        add("lost", Person(first_name="Lea", last_name="Verloren", relationships={"lead"},
                           lead=LeadInfo(status="lost", since=T0.date() - 300 * _DAY),
                           archived_at=T0 - _DAY, restricted_at=T0 - _DAY))  # fmt: skip
        add("solo", Person(first_name="Sol", last_name="Ohnefirma", legal_basis="contract"))
        store.add_affiliation(link(c["max"], c["muster"], roles={"decision_maker", "billing"}))
        store.add_affiliation(link(c["erika"], c["muster"], roles={"technical"}))
        store.add_affiliation(link(c["jan"], c["verein"]))
        store.add_entry(revision_of(sample_entry([c["max"].id], occurred_at=T0 - 30 * _DAY)))
        store.add_entry(revision_of(sample_entry([c["muster"].id], occurred_at=T0 - 200 * _DAY)))
        return c

    def _expected(
        self, store: Store, where: SummaryFilter, scope: RowScope | None = None
    ) -> list[str]:
        out: list[Contact] = []
        visible = {c.id for c in store.iter_contacts(scope=scope)}
        for contact in store.iter_contacts():
            if contact.id not in visible:
                continue
            affs: list[Affiliation] = (
                store.affiliations_of_company(contact.id)
                if isinstance(contact, Company)
                else store.affiliations_of_person(contact.id)
            )
            from crmkit.correspondence import timeline_query

            entries = store.timeline(timeline_query([contact.id]))
            last = max((e.occurred_at for e in entries), default=None)
            if where.active_on is not None:
                affs = [a for a in affs if a.is_active(where.active_on)]
            if matches(contact, where, roles=frozenset(r for a in affs for r in a.roles),
                       affiliated=bool(affs), last_contact=last):  # fmt: skip
                out.append(contact)
        if where.sample_seed is not None:
            seed = where.sample_seed
            out.sort(key=lambda c: sample_key(c.number or "", seed))
        return [c.id for c in out]

    def _ids(self, store: Store, where: SummaryFilter, **kw: Any) -> list[str]:
        return [s.id for s in store.summaries(where, **kw)]

    def test_summaries_answer_the_worklist_questions(
        self, store: Store, crowd: dict[str, Contact]
    ) -> None:
        c = crowd

        def ids(**kw: Any) -> list[str]:
            return self._ids(store, SummaryFilter(**kw))

        everyone = [c[k].id for k in ("muster", "leer", "verein", "max", "erika", "jan", "solo")]
        assert ids() == everyone
        assert c["lost"].id in ids(include_archived=True)
        assert ids(has_email=False) == [c[k].id for k in ("leer", "verein", "erika", "solo")]
        assert ids(linked=False) == [c["solo"].id]
        assert ids(linked=True) == [c[k].id for k in ("max", "erika", "jan")]
        assert ids(has_people=False) == [c["leer"].id]
        assert ids(missing_role="decision_maker") == [c["leer"].id, c["verein"].id]
        assert ids(missing_role="billing", relationships={"customer"}) == [c["leer"].id]
        assert ids(lead_statuses={"new", "qualified"}) == [c["erika"].id, c["jan"].id]
        before = T0.date() - 90 * _DAY
        assert ids(lead_statuses={"new", "qualified"}, lead_since_before=before) == [
            c["erika"].id, c["jan"].id,
        ]  # fmt: skip
        assert ids(lead_since_before=T0.date() - 150 * _DAY) == [c["jan"].id]
        assert ids(relationships={"customer"}, silent_since=T0 - 100 * _DAY,
                   created_before=T0 - 100 * _DAY) == [c["muster"].id]  # fmt: skip
        # Muster GmbH was never stamped with updated_at: unknown counts as long ago.
        assert ids(changed_before=T0 - 100 * _DAY, relationships={"lead", "customer"}) == [
            c["muster"].id, c["max"].id, c["jan"].id,
        ]  # fmt: skip
        assert ids(owner="anna") == [c["muster"].id, c["erika"].id]
        assert self._ids(store, SummaryFilter(), scope=RowScope(owner="ben")) == [c["leer"].id]
        assert self._ids(store, SummaryFilter(), limit=2) == everyone[:2]

    def test_summaries_describe_the_contact(self, store: Store, crowd: dict[str, Contact]) -> None:
        got = {s.id: s for s in store.summaries(SummaryFilter(include_archived=True))}
        for contact in crowd.values():
            affiliated = bool(
                store.affiliations_of_person(contact.id)
                if isinstance(contact, Person)
                else store.affiliations_of_company(contact.id)
            )
            assert got[contact.id] == summarize(
                store.get_contact(contact.id), affiliated=affiliated
            )
        assert got[crowd["max"].id].name == "Dr. Max Mustermann"
        assert got[crowd["jan"].id].lead_since == crowd["jan"].created_at.date()  # type: ignore[union-attr]

    def test_sample_order_is_reproducible(self, store: Store, crowd: dict[str, Contact]) -> None:
        where = SummaryFilter(sample_seed=month_seed(dt.date(2026, 11, 23)))
        first = self._ids(store, where, limit=3)
        assert first == self._ids(store, where, limit=3) == self._expected(store, where)[:3]
        other = self._ids(store, attrs.evolve(where, sample_seed=202612))
        assert sorted(other) == sorted(self._ids(store, SummaryFilter()))

    def test_summaries_agree_with_matches(self, store: Store, crowd: dict[str, Contact]) -> None:
        moments = st.one_of(st.none(), st.integers(-600, 10).map(lambda d: T0 + d * _DAY))
        days = st.one_of(st.none(), st.integers(-600, 10).map(lambda d: T0.date() + d * _DAY))
        filters = st.builds(
            SummaryFilter,
            kind=st.sampled_from([None, "person", "company"]),
            relationships=st.frozensets(st.sampled_from(["customer", "lead", "member"])),
            has_email=st.sampled_from([None, True, False]),
            linked=st.sampled_from([None, True, False]),
            has_people=st.sampled_from([None, True, False]),
            missing_role=st.sampled_from([None, "decision_maker", "billing", "technical"]),
            lead_statuses=st.frozensets(st.sampled_from(["new", "qualified", "lost"])),
            lead_since_before=days,
            created_before=moments,
            changed_before=moments,
            silent_since=moments,
            owner=st.sampled_from([None, "anna", "ben"]),
            include_archived=st.booleans(),
            sample_seed=st.sampled_from([None, 202611, 7]),
            active_on=st.sampled_from([None, T0.date(), T0.date() - 400 * _DAY]),
            restricted=st.sampled_from([None, True, False]),
            has_legal_basis=st.sampled_from([None, True, False]),
        )

        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
        @given(where=filters, scoped=st.booleans())
        def check(where: SummaryFilter, scoped: bool) -> None:
            scope = RowScope(owner="anna") if scoped else None
            assert self._ids(store, where, scope=scope) == self._expected(store, where, scope)

        check()

    def test_bounces(self, store: Store) -> None:
        hard = Bounce(address="Max@Muster.DE", kind="hard", at=T0, detail="550 5.1.1 unknown")
        soft = Bounce(address="info@muster.de", kind="soft", at=T0 - _DAY)
        stored = store.add_bounce(hard)
        assert stored == attrs.evolve(hard, version=1)
        store.add_bounce(soft)
        with pytest.raises(ConflictError):
            store.add_bounce(hard)
        assert list(store.iter_bounces()) == [attrs.evolve(soft, version=1), stored]
        assert list(store.iter_bounces(address="MAX@muster.de")) == [stored]
        done = store.update_bounce(attrs.evolve(stored, processed_at=T0, processed_by="anna"))
        assert done.version == 2 and store.get_bounce(hard.id) == done
        with pytest.raises(ConflictError):
            store.update_bounce(attrs.evolve(stored, detail="stale"))
        assert [b.id for b in store.iter_bounces(processed=False)] == [soft.id]
        assert [b.id for b in store.iter_bounces(processed=True)] == [hard.id]
        with pytest.raises(NotFoundError):
            store.get_bounce("missing")
        with pytest.raises(RuntimeError), store.transaction():
            store.add_bounce(Bounce(address="x@y.de", at=T0))
            store.update_bounce(attrs.evolve(done, detail="geändert"))
            raise RuntimeError("undo")
        assert len(list(store.iter_bounces())) == 2
        assert store.get_bounce(hard.id) == done

    def test_merge_records(self, store: Store) -> None:
        from crmkit.merge import MergeRecord, plan_merge

        a = store.add_contact(Company(name="Muster GmbH"))
        b = store.add_contact(Company(name="Muster Gesellschaft mbH", phones=["+49 30 1234560"]))
        plan = plan_merge(a, [b], now=T0)
        record = MergeRecord(
            at=T0, actor_id="anna", survivor_id=a.id, survivor_before=a,  # type: ignore[arg-type]
            survivor_after=plan.survivor, merged_before=(b,),  # type: ignore[arg-type]
            sources=plan.sources,
        )  # fmt: skip
        store.add_merge(record)
        with pytest.raises(ConflictError):
            store.add_merge(record)
        assert store.get_merge(record.id) == record
        assert store.merges_of(a.id) == [record] and store.merges_of(b.id) == []
        undone = attrs.evolve(record, undone_at=T0 + _DAY, undone_by="ben")
        with pytest.raises(RuntimeError), store.transaction():
            store.update_merge(undone)
            raise RuntimeError("undo")
        assert store.get_merge(record.id) == record
        store.update_merge(undone)
        assert store.merges_of(a.id) == [undone]
        with pytest.raises(NotFoundError):
            store.get_merge("missing")
        with pytest.raises(NotFoundError):
            store.update_merge(attrs.evolve(record, id="missing"))

    def test_dedup_decisions(self, store: Store) -> None:
        from crmkit.merge import DedupDecision

        first = DedupDecision(key="k1", left_id="a", right_id="b", at=T0, actor_id="anna")
        second = DedupDecision(key="k2", left_id="c", right_id="d", at=T0, actor_id="ben")
        store.add_dedup_decision(first)
        with pytest.raises(ConflictError):
            store.add_dedup_decision(first)
        with pytest.raises(RuntimeError), store.transaction():
            store.add_dedup_decision(second)
            raise RuntimeError("undo")
        assert store.dedup_decisions() == [first]
        store.add_dedup_decision(second)
        assert store.dedup_decisions() == [first, second]

    def test_consent_ledger(self, store: Store) -> None:
        from crmkit.consent import ConsentEvent

        max_ = store.add_contact(Person(last_name="Mustermann"))
        other = store.add_contact(Person(last_name="Beispiel"))

        def event(kind: str, day: int, purpose: str = "newsletter") -> ConsentEvent:
            proof = {"channel": "web_form", "source": "form"} if kind == "granted" else {}
            return ConsentEvent(contact_id=max_.id, purpose=purpose, kind=kind,
                                at=T0 + day * _DAY, **proof)  # fmt: skip

        later, earlier, same = event("granted", 5), event("requested", 1), event("reminded", 5)
        for e in (later, earlier, same, event("requested", 2, "events")):
            store.append_consent_event(e)
        assert store.consent_events(max_.id, purpose="newsletter") == [earlier, later, same]
        assert len(store.consent_events(max_.id)) == 4
        assert store.consent_events(other.id) == []
        with pytest.raises(ConflictError):
            store.append_consent_event(later)
        with pytest.raises(NotFoundError):
            store.append_consent_event(attrs.evolve(event("declined", 3), contact_id="nobody"))
        with pytest.raises(RuntimeError), store.transaction():
            store.append_consent_event(event("withdrawn", 9))
            raise RuntimeError("undo")
        assert len(store.consent_events(max_.id)) == 4
        with pytest.raises(ConflictError):
            store.delete_contact(max_.id)


__all__ = ["CockpitContract"]
