"""Graph contact JSON ↔ neutral values: a round trip for any text, private fields never."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from crmkit_m365.mapping import MAX_EMAILS, to_graph, to_values

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=30,
)
_values = st.fixed_dictionaries(
    {
        "given_name": st.one_of(st.none(), _text),
        "surname": st.one_of(st.none(), _text),
        "job_title": st.one_of(st.none(), _text),
        "emails": st.lists(_text, max_size=5).map(tuple),
        "business_phones": st.lists(_text, max_size=2).map(tuple),
        "business_address": st.one_of(st.none(), st.tuples(_text, _text, _text, _text)),
        "categories": st.lists(_text, max_size=3, unique=True).map(lambda c: tuple(sorted(c))),
    }
)


@given(_values)
def test_neutral_values_survive_a_trip_through_graph_json(values: dict[str, Any]) -> None:
    body = to_graph(values)
    back = to_values(body)
    expected = dict(values)
    expected["emails"] = tuple(values["emails"])[:MAX_EMAILS]
    assert {k: back[k] for k in expected} == expected
    assert "displayName" in body


def test_private_outlook_fields_are_never_read() -> None:
    contact = {
        "id": "x",
        "surname": "Weiß",
        "personalNotes": "privat",
        "birthday": "1970-01-01",
        "homeAddress": {"city": "Ulm"},
        "homePhones": ["+49 731 1"],
        "spouseName": "E.",
    }
    assert to_values(contact) == {"surname": "Weiß"}
