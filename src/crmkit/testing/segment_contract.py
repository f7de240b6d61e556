"""Contract tests for segments; part of :class:`crmkit.testing.StoreContract`.

Each store must return exactly the contacts the pure reference
:meth:`crmkit.segments.Segment.matches` accepts.  A store without the
``segments`` capability is checked through the generic fallback
(:func:`crmkit.store.segment_ids`), so an older backend still passes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.auth import RowScope
from crmkit.correspondence import timeline_query
from crmkit.errors import NotFoundError, ValidationError
from crmkit.model import Address, Company, Contact, LeadInfo, Person, link
from crmkit.segments import Segment, SegmentContext
from crmkit.store import RecordStore, Store, segment_ids
from crmkit.testing.correspondence_contract import revision_of, sample_entry

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
_DAY = dt.timedelta(days=1)
_TAGS = ("VIP", "Newsletter", "Branche-IT", "Straße")
_DAYS = tuple(T0.date() - n * _DAY for n in (0, 1, 10, 30, 100, 200, 400))


def _segments() -> st.SearchStrategy[Segment]:
    tags = st.frozensets(st.sampled_from(_TAGS), max_size=2)
    days = st.none() | st.sampled_from(_DAYS)
    leaf = st.builds(
        Segment,
        kind=st.none() | st.sampled_from(["person", "company"]),
        relationships=st.frozensets(st.sampled_from(["customer", "lead", "member"]), max_size=2),
        tags_all=tags,
        tags_any=tags,
        tags_none=tags,
        lead_sources=st.frozensets(st.sampled_from(["Messe", "Website"]), max_size=1),
        lead_statuses=st.frozensets(st.sampled_from(["new", "won", "lost"]), max_size=2),
        owner=st.none() | st.sampled_from(["anna", "ben"]),
        city=st.none() | st.sampled_from(["Stuttgart", "München"]),
        postal_code_prefix=st.none() | st.sampled_from(["7", "70", "80331"]),
        country=st.none() | st.sampled_from(["DE", "AT"]),
        created_from=days,
        created_to=days,
        changed_from=days,
        changed_to=days,
        last_contact_from=days,
        last_contact_to=days,
        has_email=st.none() | st.booleans(),
        has_phone=st.none() | st.booleans(),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            st.builds(lambda a: ~a, inner),
        ),
        max_leaves=4,
    )


class SegmentContract:
    """Segments evaluated by every store (needs the ``store`` fixture)."""

    @pytest.fixture
    def audience(self, store: Store) -> dict[str, Contact]:
        """Contacts with tags, addresses, phones, leads, stamps and correspondence."""
        c: dict[str, Contact] = {}

        def add(key: str, contact: Contact) -> None:
            c[key] = store.add_contact(contact)

        stuttgart = Address(street="Königstraße 1", postal_code="70173", city="Stuttgart")
        muenchen = Address(street="Marienplatz 8", postal_code="80331", city="München")
        wien = Address(street="Ring 1", postal_code="1010", city="Wien", country="AT")
        add("muster", Company(name="Muster GmbH", relationships={"customer"}, owner="anna",
                              emails=["info@muster.de"], phones=["+49 711 123450"],
                              tags={"VIP", "Branche-IT"}, addresses=[stuttgart],
                              created_at=T0 - 400 * _DAY))  # fmt: skip
        add("verein", Company(name="Sportverein Musterstadt e.V.", relationships={"member"},
                              addresses=[muenchen, wien], tags={"Straße"},
                              created_at=T0 - 30 * _DAY, updated_at=T0 - 10 * _DAY))  # fmt: skip
        add("max", Person(first_name="Max", last_name="Mustermann", owner="ben",
                          emails=["max@muster.de"], relationships={"customer", "lead"},
                          lead=LeadInfo(source="Messe", status="won"), tags={"Newsletter"},
                          addresses=[stuttgart], created_at=T0 - 200 * _DAY,
                          updated_at=T0 - _DAY))  # fmt: skip
        add("erika", Person(first_name="Erika", last_name="Gäbler", relationships={"lead"},
                            lead=LeadInfo(source="Website", status="new"), phones=["0170 1234567"],
                            created_at=T0 - 100 * _DAY, updated_at=T0))  # fmt: skip
        add("lost", Person(first_name="Lea", last_name="Verloren", relationships={"lead"},
                           lead=LeadInfo(status="lost"), tags={"VIP", "Newsletter"},
                           archived_at=T0 - _DAY))  # fmt: skip
        add("solo", Person(first_name="Sol", last_name="Ohnefirma"))
        store.add_affiliation(link(c["max"], c["muster"]))
        store.add_entry(revision_of(sample_entry([c["max"].id], occurred_at=T0 - 30 * _DAY)))
        store.add_entry(revision_of(sample_entry([c["muster"].id], occurred_at=T0 - 200 * _DAY)))
        store.add_entry(revision_of(sample_entry([c["muster"].id], occurred_at=T0 - _DAY)))
        return c

    def _reference(
        self,
        store: Store,
        segment: Segment,
        *,
        include_archived: bool = False,
        scope: RowScope | None = None,
    ) -> list[str]:
        out: list[str] = []
        for contact in store.iter_contacts(include_archived=include_archived, scope=scope):
            entries = store.timeline(timeline_query([contact.id]))
            last = max((e.occurred_at for e in entries), default=None)
            if segment.matches(contact, SegmentContext(last_contact=last)):
                out.append(contact.id)
        return out

    def test_segments_select_the_expected_contacts(
        self, store: Store, audience: dict[str, Contact]
    ) -> None:
        c = audience

        def ids(**kw: Any) -> list[str]:
            return segment_ids(store, Segment(**kw))

        assert ids() == [c[k].id for k in ("muster", "verein", "max", "erika", "solo")]
        assert ids(tags_any={"VIP"}) == [c["muster"].id]
        assert c["lost"].id in segment_ids(store, Segment(tags_any={"VIP"}), include_archived=True)
        assert ids(tags_all={"VIP", "Branche-IT"}, kind="company") == [c["muster"].id]
        assert ids(tags_none={"VIP", "Straße"}) == [c[k].id for k in ("max", "erika", "solo")]
        assert ids(lead_sources={"Messe"}) == [c["max"].id]
        assert ids(lead_statuses={"new"}) == [c["erika"].id]
        assert ids(city="München") == [c["verein"].id]
        assert ids(postal_code_prefix="70") == [c["muster"].id, c["max"].id]
        assert ids(country="AT") == [c["verein"].id]
        assert ids(has_phone=True) == [c["muster"].id, c["erika"].id]
        assert ids(has_email=False, kind="person") == [c["erika"].id, c["solo"].id]
        assert ids(last_contact_from=T0.date() - 40 * _DAY) == [c["muster"].id, c["max"].id]
        assert ids(last_contact_to=T0.date() - 2 * _DAY) == [c["max"].id]
        assert ids(created_from=T0.date() - 100 * _DAY, created_to=T0.date()) == [
            c["verein"].id, c["erika"].id,
        ]  # fmt: skip
        assert ids(changed_to=T0.date() - 5 * _DAY) == [c["verein"].id]
        assert ids(owner="ben") == [c["max"].id]
        either = Segment(relationships={"member"}) | Segment(lead_statuses={"new"})
        assert segment_ids(store, either) == [c["verein"].id, c["erika"].id]
        assert segment_ids(store, ~either & Segment(kind="person")) == [c["max"].id, c["solo"].id]
        scope = RowScope(owner="anna")  # her company, and Max who works there
        assert segment_ids(store, Segment(), scope=scope) == [c["muster"].id, c["max"].id]

    def test_negated_conditions_keep_contacts_without_the_field(
        self, store: Store, audience: dict[str, Contact]
    ) -> None:
        """``~condition`` holds for a contact that lacks the field (no owner, no lead …)."""
        c = audience
        unowned = [c[k].id for k in ("verein", "erika", "solo")]
        assert segment_ids(store, ~Segment(owner="anna")) == [
            c[k].id for k in ("verein", "max", "erika", "solo")
        ]
        assert segment_ids(store, ~Segment(owner="anna") & ~Segment(owner="ben")) == unowned
        for segment in (
            ~Segment(lead_sources={"Messe"}),
            ~Segment(lead_statuses={"new"}),
            ~Segment(city="Stuttgart"),
            ~Segment(postal_code_prefix="8"),
            ~Segment(country="AT"),
            ~Segment(created_from=T0.date() - 150 * _DAY),
            ~Segment(changed_to=T0.date() - 5 * _DAY),
            ~Segment(last_contact_from=T0.date() - 40 * _DAY),
            ~Segment(last_contact_to=T0.date() - 2 * _DAY),
            ~Segment(tags_any={"VIP"}, owner="anna"),
        ):
            for archived in (False, True):
                assert segment_ids(store, segment, include_archived=archived) == self._reference(
                    store, segment, include_archived=archived
                ), segment.to_json()

    def test_segments_with_python_conditions_are_refused(self, store: Store) -> None:
        with pytest.raises(ValidationError):
            segment_ids(store, Segment(consent="newsletter"))
        with pytest.raises(ValidationError):
            segment_ids(store, Segment(any_of=(Segment(predicates=("x",)),)))

    def test_segments_agree_with_the_reference(
        self, store: Store, audience: dict[str, Contact]
    ) -> None:
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(segment=_segments(), include_archived=st.booleans(), scoped=st.booleans())
        def check(segment: Segment, include_archived: bool, scoped: bool) -> None:
            scope = RowScope(owner="anna") if scoped else None
            kw: dict[str, Any] = {"include_archived": include_archived, "scope": scope}
            assert segment_ids(store, segment, **kw) == self._reference(store, segment, **kw)
            assert Segment.from_json(segment.to_json()) == segment

        check()

    def test_records_keep_json_by_kind_and_key(self, store: Store) -> None:
        if not isinstance(store, RecordStore):
            pytest.skip("the store keeps no records (no 'records' capability)")
        data = {"name": "Großkunden Süd", "n": 3, "items": [{"a": None, "b": True}]}
        store.put_record("segment", "süd", data)
        store.put_record("segment", "nord", {"name": "Nord"})
        store.put_record("campaign", "süd", {"other": "kind"})
        assert store.get_record("segment", "süd") == data
        assert [k for k, _ in store.iter_records("segment")] == ["nord", "süd"]
        store.put_record("segment", "nord", {"name": "Nord 2"})
        assert store.get_record("segment", "nord") == {"name": "Nord 2"}
        with pytest.raises(RuntimeError), store.transaction():
            store.put_record("segment", "ost", {"name": "Ost"})
            store.delete_record("segment", "süd")
            raise RuntimeError("roll back")
        assert [k for k, _ in store.iter_records("segment")] == ["nord", "süd"]
        store.delete_record("segment", "süd")
        with pytest.raises(NotFoundError):
            store.get_record("segment", "süd")
        with pytest.raises(NotFoundError):
            store.delete_record("segment", "süd")
        assert store.iter_records("campaign") == [("süd", {"other": "kind"})]
