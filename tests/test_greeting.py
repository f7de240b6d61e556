"""Salutation lines, table-tested against what German correspondence expects."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit import Company, Person, ValidationError
from crmkit.greeting import greeting


@pytest.mark.parametrize(
    ("person", "style", "lang", "expected"),
    [
        ({"salutation": "Frau", "title": "Dr.", "last_name": "Schmidt"}, "formal", "de",
         "Sehr geehrte Frau Dr. Schmidt,"),
        ({"salutation": "Herr", "title": "Prof. Dr.", "last_name": "von Weizsäcker"}, "formal",
         "de", "Sehr geehrter Herr Prof. Dr. von Weizsäcker,"),
        ({"salutation": "Herr", "last_name": "Von Weizsäcker"}, "formal", "de",
         "Sehr geehrter Herr von Weizsäcker,"),
        ({"salutation": "Herr", "first_name": "Max", "last_name": "Mustermann"}, "formal", "de",
         "Sehr geehrter Herr Mustermann,"),
        ({"first_name": "Alex", "last_name": "Muster"}, "formal", "de", "Guten Tag Alex Muster,"),
        ({"salutation": "divers", "first_name": "Alex", "last_name": "Muster"}, "formal", "de",
         "Guten Tag Alex Muster,"),
        ({"salutation": "Herr", "first_name": "Max", "last_name": "Mustermann"}, "informal",
         "de", "Hallo Max,"),
        ({"salutation": "Frau", "title": "Dr.", "last_name": "Schmidt"}, "informal", "de",
         "Hallo Dr. Schmidt,"),
        ({"salutation": "Frau", "title": "Dr.", "last_name": "Schmidt"}, "formal", "en",
         "Dear Dr. Schmidt,"),
        ({"salutation": "Frau", "last_name": "Schmidt"}, "formal", "en", "Dear Ms Schmidt,"),
        ({"salutation": "Mr", "last_name": "van der Berg"}, "formal", "en",
         "Dear Mr van der Berg,"),
        ({"first_name": "Alex", "last_name": "Muster"}, "formal", "en", "Dear Alex Muster,"),
        ({"first_name": "Max", "last_name": "Mustermann"}, "informal", "en", "Hello Max,"),
        ({"salutation": "Frau", "first_name": "Eva"}, "formal", "de", "Guten Tag Eva,"),
    ],
)  # fmt: skip
def test_greetings(person: dict[str, Any], style: Any, lang: str, expected: str) -> None:
    assert greeting(Person(**person), style=style, lang=lang) == expected


def test_company_without_person() -> None:
    assert greeting(Company(name="Muster GmbH")) == "Sehr geehrte Damen und Herren,"
    assert greeting(Company(name="Muster GmbH"), lang="en") == "Dear Sir or Madam,"


def test_bad_style_or_language() -> None:
    with pytest.raises(ValidationError):
        greeting(Person(last_name="X"), style="casual")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        greeting(Person(last_name="X"), lang="fr")


@given(
    salutation=st.one_of(st.none(), st.sampled_from(["Herr", "Frau", "divers"]), st.text()),
    title=st.one_of(st.none(), st.text()),
    first=st.text(),
    last=st.text(),
)
def test_any_person_gets_a_line_ending_in_a_comma(
    salutation: str | None, title: str | None, first: str, last: str
) -> None:
    try:
        person = Person(salutation=salutation, title=title, first_name=first, last_name=last)
    except ValidationError:
        return
    for style in ("formal", "informal"):
        for lang in ("de", "en"):
            line = greeting(person, style=style, lang=lang)
            assert line.endswith(",") and "  " not in line
