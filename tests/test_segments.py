"""Segments through the facade: saved by name, members, counts, consent and custom predicates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import crmkit
from crmkit import Segment
from crmkit.memory import MemoryStore
from crmkit.segments import SegmentContext, store_part
from crmkit.store import segment_ids

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)


class Vip:
    """A plugin with one custom predicate."""

    @crmkit.hookimpl
    def crmkit_register_segment_predicates(self, register: Any) -> None:
        register("vip_domain", lambda contact, context: any(
            e.domain == "muster.de" for e in contact.emails))  # fmt: skip


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> crmkit.CRM:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    return crmkit.open(url, clock=lambda: NOW, plugins=[Vip()])


def _people(crm: crmkit.CRM) -> dict[str, crmkit.Contact]:
    add = crm.contacts.add
    return {
        "muster": add(crmkit.Company(name="Muster GmbH", relationships={"customer"},
                                     emails=["info@muster.de"], tags={"VIP"})),
        "max": add(crmkit.Person(first_name="Max", last_name="Mustermann",
                                 relationships={"customer"}, emails=["max@muster.de"])),
        "erika": add(crmkit.Person(first_name="Erika", last_name="Gäbler",
                                   relationships={"customer"}, emails=["erika@web.de"])),
        "jan": add(crmkit.Person(last_name="Öztürk", relationships={"lead"})),
    }  # fmt: skip


def test_save_get_list_delete(crm: crmkit.CRM) -> None:
    customers = Segment(relationships={"customer"}, has_email=True)
    crm.segments.save("Kunden mit E-Mail", customers)
    crm.segments.save("Leads", Segment(relationships={"lead"}))
    assert crm.segments.list() == ["Kunden mit E-Mail", "Leads"]
    assert crm.segments.get("Kunden mit E-Mail") == customers
    crm.segments.delete("Leads")
    assert crm.segments.list() == ["Kunden mit E-Mail"]
    with pytest.raises(crmkit.NotFoundError):
        crm.segments.get("Leads")
    with pytest.raises(crmkit.ValidationError) as info:
        crm.segments.save("  ", customers)
    assert info.value.findings[0].field == "name"
    assert [r.action for r in crm.audit.by_actor("local-admin") if r.resource == "segment"] == [
        "create", "create", "delete",
    ]  # fmt: skip


def test_members_count_and_frames(crm: crmkit.CRM) -> None:
    c = _people(crm)
    crm.segments.save("Kunden", Segment(relationships={"customer"}))
    assert [m.id for m in crm.segments.members("Kunden")] == [
        c["muster"].id, c["max"].id, c["erika"].id,
    ]  # fmt: skip
    assert crm.segments.count(Segment(kind="person") & ~Segment(relationships={"lead"})) == 2
    assert len(crm.segments.contacts("Kunden")) == 3
    frame = crm.segments.to_pandas("Kunden")
    assert list(frame["number"]) == ["C00001", "C00002", "C00003"]


def test_consent_and_custom_predicates_run_over_the_candidates(crm: crmkit.CRM) -> None:
    c = _people(crm)
    crm.consents.record(c["max"], "newsletter", "granted", channel="web_form", source="form")
    crm.consents.record(c["erika"], "newsletter", "granted", channel="web_form", source="form")
    crm.consents.object(c["erika"])
    granted = Segment(relationships={"customer"}, consent="newsletter")
    assert crm.segments.ids(granted) == [c["max"].id]
    objected = Segment(consent="newsletter", consent_status="objected")
    assert crm.segments.ids(objected) == [c["erika"].id]
    assert crm.segments.ids(Segment(consent="newsletter", consent_status="none")) == [
        c["muster"].id, c["jan"].id,
    ]  # fmt: skip
    vip = Segment(predicates=("vip_domain",))
    assert crm.segments.ids(vip) == [c["muster"].id, c["max"].id]
    assert crm.segments.ids(vip & ~granted) == [c["muster"].id]
    with pytest.raises(crmkit.ValidationError) as info:
        crm.segments.ids(Segment(predicates=("unknown",)))
    assert info.value.findings[0].field == "predicates"


def test_a_store_without_the_capability_falls_back_to_a_scan() -> None:
    class OldStore(MemoryStore):
        capabilities = frozenset({"concurrent"})

    store = OldStore()
    crm = crmkit.CRM(store, pm=crmkit.make_plugin_manager(load_entry_points=False),
                     clock=lambda: NOW, actor=crmkit.auth.LOCAL_ADMIN,
                     authorizer=crmkit.auth.default_policy())  # fmt: skip
    c = _people(crm)
    assert segment_ids(store, Segment(tags_any={"VIP"})) == [c["muster"].id]
    assert crm.segments.count(Segment(relationships={"customer"})) == 3
    with pytest.raises(crmkit.StoreError) as info:
        crm.segments.save("x", Segment())
    assert "records" in info.value.message("en")


def test_store_part_is_a_superset() -> None:
    seg = Segment(kind="person", consent="newsletter", none_of=(Segment(predicates=("a",)),
                  Segment(tags_any={"x"})), any_of=(Segment(predicates=("b",)),))  # fmt: skip
    part = store_part(seg)
    assert part.pushable()
    assert part == Segment(kind="person", none_of=(Segment(tags_any={"x"}),))


def test_matches_reads_ranges_as_utc_days() -> None:
    p = crmkit.Person(last_name="X", created_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC))
    assert Segment(created_from="2026-03-01", created_to="2026-03-01").matches(p)
    assert not Segment(created_from="2026-03-02").matches(p)
    assert not Segment(last_contact_to="2026-03-01").matches(p, SegmentContext())


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = st.sampled_from(["kind", "relationships", "tags_any", "city", "postal_code_prefix",
                         "created_from", "has_email", "consent", "consent_status", "predicates",
                         "any_of", "none_of", "country", "lead_statuses", "bogus"])  # fmt: skip


@given(data=st.dictionaries(_KEYS, _JSON, max_size=4))
@example(data={"kind": "firma"})
@example(data={"created_from": "2026-13-01"})
@example(data={"any_of": [{"city": "München"}, {"country": "Österreich"}]})
def test_any_dict_gives_a_segment_or_a_validation_error(data: dict[str, Any]) -> None:
    try:
        segment = Segment.from_dict(data)
    except crmkit.ValidationError as exc:
        assert exc.findings and all(f.field for f in exc.findings)
        return
    assert Segment.from_dict(segment.to_dict()) == segment
    assert Segment.from_json(json.dumps(segment.to_dict())) == segment


@given(text=st.text(max_size=30))
@example(text="{")
@example(text="[1]")
def test_any_json_text_gives_a_segment_or_a_validation_error(text: str) -> None:
    try:
        Segment.from_json(text)
    except crmkit.ValidationError:
        pass
