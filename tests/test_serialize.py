"""Every entity round-trips through JSON-compatible dicts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Affiliation, Company, Contact, Person, ValidationError, link
from crmkit.serialize import from_dict, to_dict
from crmkit.testing import sample_company, sample_person


@pytest.mark.parametrize("entity", [sample_person(), sample_company()])
def test_contacts_round_trip_through_json(entity: Contact) -> None:
    data = json.loads(json.dumps(to_dict(entity)))
    assert data["kind"] == entity.kind
    assert from_dict(Contact, data) == entity
    assert from_dict(type(entity), data) == entity


def test_affiliation_round_trips_and_datetimes_are_iso_utc() -> None:
    aff = Affiliation(
        person_id="p1",
        company_id="c1",
        roles={"billing"},
        since="2024-01-01",
        created_at=dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    )
    data = to_dict(aff)
    assert data["created_at"] == "2026-01-01T11:00:00+00:00"
    assert data["since"] == "2024-01-01"
    assert from_dict(Affiliation, json.loads(json.dumps(data))) == aff


def test_derived_fields_are_not_written() -> None:
    data = to_dict(Company(name="Muster GmbH"))
    assert "legal_form" not in data and "base_name" not in data


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "person"},
        {"kind": "person", "last_name": "X", "unknown": 1},
        {"kind": "robot", "last_name": "X"},
        {"kind": "person", "last_name": "X", "emails": [{"address": "kaputt"}]},
        {"kind": "person", "last_name": "X", "created_at": "2026-01-01T10:00:00"},
        {"kind": "person", "last_name": "X", "version": "eins"},
        {"last_name": "X"},
    ],
)
def test_bad_data_is_a_validation_error(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        from_dict(Contact, data)


def test_kind_must_match_the_requested_class() -> None:
    with pytest.raises(ValidationError):
        from_dict(Company, to_dict(Person(last_name="X")))


def test_sets_are_written_sorted() -> None:
    data = to_dict(Person(last_name="X", tags={"b", "a", "c"}, relationships="both"))
    assert data["tags"] == ["a", "b", "c"]
    assert data["relationships"] == ["customer", "supplier"]


names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)


@given(first=names, last=names, tags=st.frozensets(names, max_size=4), company=names)
def test_round_trip_property(first: str, last: str, tags: frozenset[str], company: str) -> None:
    try:
        p = Person(first_name=first, last_name=last, tags=tags)
        c = Company(name=company)
    except ValidationError:
        return
    for entity in (p, c):
        assert from_dict(Contact, json.loads(json.dumps(to_dict(entity)))) == entity
    aff = link(p, c)
    assert from_dict(Affiliation, to_dict(aff)) == aff


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=10) | st.integers(), max_size=5))
def test_arbitrary_dicts_give_entity_or_validation_error(data: dict[str, object]) -> None:
    for cls in (Contact, Person, Company, Affiliation):
        try:
            from_dict(cls, data)
        except ValidationError:
            pass
