"""The domain model: plain input is converted, bad input names the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import crmkit
from crmkit import (
    Address,
    Affiliation,
    Company,
    EmailAddress,
    LeadInfo,
    Person,
    PhoneNumber,
    Relationship,
    ValidationError,
    normalize,
    search,
)
from crmkit.model import _convert


def test_person_accepts_plain_input() -> None:
    p = Person(
        first_name="  Max ",
        last_name="Mustermann",
        emails=["Max.Mustermann@MUSTER.de"],
        phones=["0170 1234567", "+49 (0)711 781937-30"],
        relationships={"customer"},
        tags=["VIP", " VIP ", ""],
        customer_since="2020-02-01",
    )
    assert p.first_name == "Max"
    assert p.emails == (EmailAddress(address="Max.Mustermann@muster.de"),)
    assert p.primary_email == "Max.Mustermann@muster.de"
    assert [x.e164 for x in p.phones] == ["+491701234567", "+4971178193730"]
    assert [x.label for x in p.phones] == ["mobile", "office"]
    assert p.phones[0].raw == "0170 1234567"
    assert p.relationships == frozenset({Relationship.CUSTOMER})
    assert p.tags == frozenset({"VIP"})
    assert p.customer_since == dt.date(2020, 2, 1)
    assert p.number is None and p.version == 0 and len(p.id) == 32


def test_both_means_customer_and_supplier() -> None:
    c = Company(name="Muster AG", relationships="both")
    assert c.relationships == {Relationship.CUSTOMER, Relationship.SUPPLIER}
    assert Company(name="X AG", relationships=["Kunde"]).relationships == {Relationship.CUSTOMER}


@pytest.mark.parametrize(
    ("name", "base", "form"),
    [
        ("Muster GmbH & Co. KG", "Muster", "GmbH & Co. KG"),
        ("Muster Gesellschaft mbH", "Muster", "GmbH"),
        ("Sportverein Blau-Weiß e.V.", "Sportverein Blau-Weiß", "e.V."),
        ("Nordlicht Software", "Nordlicht Software", None),
    ],
)
def test_company_derives_base_name_and_legal_form(name: str, base: str, form: str | None) -> None:
    c = Company(name=name)
    assert (c.base_name, c.legal_form) == (base, form)
    renamed = attrs.evolve(c, name="Neu AG")
    assert (renamed.base_name, renamed.legal_form) == ("Neu", "AG")


def test_vat_id_is_checked() -> None:
    assert Company(name="Muster GmbH", vat_id="DE 136 695 976").vat_id == "DE136695976"
    with pytest.raises(ValidationError) as info:
        Company(name="Muster GmbH", vat_id="DE123")
    assert info.value.findings[0].field == "vat_id"
    assert info.value.findings[0].code == "vat_id.invalid"


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"last_name": "X", "emails": ["no-at-sign"]}, "emails.0.address", "email.invalid"),
        ({"last_name": "X", "phones": ["0170"]}, "phones.0.e164", None),
        ({"last_name": "X", "relationships": {"friend"}}, "relationships", "relationship.unknown"),
        ({"last_name": "X", "customer_since": "gestern"}, "customer_since", "value.invalid"),
        ({"last_name": "X", "created_at": dt.datetime(2026, 1, 1)}, "created_at", "datetime.naive"),
        ({"last_name": "X", "version": -1}, "version", "value.invalid"),
        ({"last_name": 42}, "last_name", "value.type"),
        ({"first_name": "", "last_name": "  "}, "last_name", "person.name_required"),
        ({"last_name": "X", "lead": {"status": "hot"}}, "lead.status", "value.choice"),
        ({"last_name": "X", "lead": {"budget": 1.5}}, "lead.budget", "value.type"),
        ({"last_name": "X\x00"}, "last_name", "value.control_characters"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str, code: str | None) -> None:
    with pytest.raises(ValidationError) as info:
        Person(**kwargs)
    finding = info.value.findings[0]
    assert finding.field == field
    if code is not None:
        assert finding.code == code
    assert finding.message("en") and finding.message("de")
    assert finding.message("en") != finding.message("de")


def test_company_without_name_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        Company()
    assert info.value.findings[0].code == "company.name_required"


def test_datetimes_are_stored_in_utc() -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    p = Person(last_name="X", created_at=dt.datetime(2026, 1, 1, 12, tzinfo=berlin))
    assert p.created_at == dt.datetime(2026, 1, 1, 11, tzinfo=dt.UTC)
    assert p.created_at is not None and p.created_at.tzinfo is dt.UTC


def test_unassigned_number_is_kept_with_a_warning() -> None:
    c = Company(name="Muster GmbH", phones=["+49 123 456-0"])
    assert c.phones[0].e164 == "+491234560"
    [finding] = c.findings()
    assert (finding.code, finding.severity, finding.field) == (
        "phone.unassigned",
        "warning",
        "phones.0",
    )
    assert Person(last_name="X", phones=["0170 1234567"]).findings() == []


def test_duplicate_values_are_dropped_in_order() -> None:
    p = Person(
        last_name="X",
        emails=["a@b.de", "A@B.DE", "c@d.de"],
        phones=["030 1234567", "+49 30 1234567"],
    )
    assert [e.address for e in p.emails] == ["a@b.de", "c@d.de"]
    assert len(p.phones) == 1


def test_address_and_lead() -> None:
    a = Address(street="Königstraße 1", postal_code="D-70173", city="Stuttgart", country="de")
    assert (a.postal_code, a.country) == ("70173", "DE")
    assert str(a) == "Königstraße 1, 70173 Stuttgart"
    with pytest.raises(ValidationError) as info:
        Address(postal_code="7017", city="Stuttgart")
    assert info.value.findings[0].field == "postal_code"
    lead = LeadInfo(source="Messe", budget="12 500", status="Qualified")
    assert (lead.budget, lead.status) == (Decimal("12500"), "qualified")


def test_affiliation_rules() -> None:
    p = Person(first_name="Max", last_name="Mustermann")
    c = Company(name="Muster GmbH")
    aff = crmkit.link(p, c, roles={"Decision Maker", "billing"}, since="2020-01-01")
    assert aff.roles == {"decision_maker", "billing"}
    assert aff.is_active(dt.date(2024, 5, 1)) and not aff.is_active(dt.date(2019, 1, 1))
    with pytest.raises(ValidationError):
        crmkit.link(c, p)
    with pytest.raises(ValidationError) as info:
        Affiliation(person_id=p.id, company_id=c.id, since="2021-01-01", until="2020-01-01")
    assert info.value.findings[0].code == "affiliation.period"


def test_evolve_revalidates() -> None:
    p = Person(last_name="X")
    with pytest.raises(ValidationError):
        attrs.evolve(p, emails=["nope"])


def test_phone_number_parse_and_display() -> None:
    n = PhoneNumber.parse("030/12345678")
    assert (n.e164, n.label, n.display) == ("+493012345678", "office", "+49 30 12345678")
    assert PhoneNumber.parse("0664 1234567", region="AT").e164 == "+436641234567"


_text = st.one_of(st.text(), st.sampled_from(["Müller", "ß", "\x00", " ", "GmbH", "+49 123"]))
_values = st.one_of(
    st.none(), _text, st.integers(), st.lists(_text, max_size=3), st.booleans(), st.floats()
)


@given(
    field=st.sampled_from(
        [
            "first_name",
            "last_name",
            "salutation",
            "title",
            "emails",
            "phones",
            "addresses",
            "relationships",
            "tags",
            "notes",
            "owner",
            "website",
            "customer_since",
            "lead",
            "number",
            "archived_at",
            "version",
            "id",
        ]
    ),
    value=_values,
)
@example(field="emails", value=["max@müller.de"])
@example(field="phones", value=["+49 (0)711 781937-30"])
def test_arbitrary_input_gives_entity_or_validation_error(field: str, value: object) -> None:
    try:
        p = Person(**{"last_name": "Muster", field: value})
    except ValidationError as exc:
        assert exc.findings
        assert all(f.field for f in exc.findings)
        str(exc)
        exc.message("de")
    else:
        assert attrs.evolve(p) == p  # converters are idempotent


@given(name=_values, vat=st.one_of(st.none(), _text))
def test_arbitrary_company_input(name: object, vat: object) -> None:
    try:
        c = Company(name=name, vat_id=vat)
    except ValidationError as exc:
        assert exc.findings
    else:
        assert attrs.evolve(c) == c
        assert c.base_name


def test_contact_numbers_have_one_spelling() -> None:
    assert Person(last_name="X", number="c000042").number == "C00042"
    assert Person(last_name="X", number="C1234567").number == "C1234567"
    for bad in ("C00000", "C12", "D00001", "C0000x"):
        with pytest.raises(ValidationError) as info:
            Person(last_name="X", number=bad)
        assert info.value.findings[0].field == "number"


# The memos in the model layer must not change any answer: a converter called
# again (from the memo) gives exactly what the uncached function gives.


def _text_outcome(func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        return [(f.field, f.code, f.params) for f in exc.findings]


@given(
    st.one_of(
        st.text(max_size=60),
        st.sampled_from(["Müller", " Max  Mustermann ", "Straße\u00a01", "x" * 45, "a\x00b"]),
    ),
    st.sampled_from([1, 5, 40, 200]),
)
@example("x" * 45, 40)
@example("  " + "x" * 40 + "  ", 40)
@example("Mu\u0308ller", 6)
def test_memoised_text_is_normalize_text(value: str, limit: int) -> None:
    expected = _text_outcome(normalize.text, value, field="city", max_length=limit)
    for _ in range(2):  # the first call may fill the memo, the second reads it
        assert _text_outcome(_convert.text, "city", value, max_length=limit) == expected
    # The same text under another field and limit: the memo keeps no field or limit.
    assert _text_outcome(_convert.text, "street", value, max_length=200) == _text_outcome(
        normalize.text, value, field="street", max_length=200
    )


@given(st.text(max_size=30), st.text(max_size=30))
@example("Jürgen", "Müller")
@example("Mu\u0308ller", "MÜLLER")
def test_memoised_name_words_are_the_folded_words(first: str, last: str) -> None:
    try:
        person = Person(first_name=first, last_name=last)
    except ValidationError:
        return
    expected = tuple(
        dict.fromkeys(normalize.fold(f"{person.first_name} {person.last_name}").split())
    )
    assert search.name_words(person) == expected
    assert search.name_words(person) == expected


def test_new_id_is_the_hex_of_a_random_uuid4() -> None:
    import uuid

    from crmkit.ids import new_id

    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000  # no repeats
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value  # 32 lower-case hex digits
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
