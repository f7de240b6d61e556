"""Duplicate detection: the hard German cases, explanations, clusters, decisions."""

from __future__ import annotations

import doctest
import math
import sys
import types

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import crmkit.dedup
import crmkit.dedup._engine
import crmkit.dedup._table
from crmkit import Address, Company, Person, normalize
from crmkit.dedup import (
    ContactTable,
    DedupConfig,
    DuplicatePair,
    DuplicateReport,
    blocking_keys,
    check_candidate,
    decision_key,
    find_duplicates,
    fingerprint,
    street_key,
)
from crmkit.dedup._table import fold as fast_fold
from crmkit.errors import CrmkitError, ValidationError


def _pair(report: DuplicateReport, a: str, b: str) -> DuplicatePair | None:
    for p in report.pairs:
        if p.ids == {a, b}:
            return p
    return None


def _verdict(a: Person | Company, b: Person | Company, **kw: object) -> str | None:
    report = find_duplicates([a, b], **kw)  # type: ignore[arg-type]
    pair = _pair(report, a.id, b.id)
    return pair.verdict if pair else None


# --------------------------------------------------------------------------- hard cases

CASES = [
    pytest.param(
        Company(name="Muster GmbH", emails=["info@muster.de"], phones=["+49 123 456-0"]),
        Company(name="Muster Gesellschaft mbH", emails=["info@muster.de"]),
        "match",
        id="legal-form-spelled-out",
    ),
    pytest.param(
        Company(name="Muster GmbH & Co. KG", phones=["0711 1234560"]),
        Company(name="Muster GmbH u. Co KG", phones=["+49 (0)711 1234560"]),
        "match",
        id="legal-form-variant-and-phone-formats",
    ),
    pytest.param(
        Company(name="Elbtal Bau GmbH", emails=["info@elbtal-bau.de"],
                addresses=[Address(street="Hauptstraße 5", postal_code="01067", city="Dresden")]),
        Company(name="Elbtal Bauunternehmen GmbH", emails=["info@elbtal-bau.de"],
                addresses=[Address(street="Hauptstr. 5", postal_code="01067", city="Dresden")]),
        "match",
        id="company-renamed",
    ),
    pytest.param(
        Company(name="Muster GmbH", emails=["info@muster.de"], phones=["0711 1234560"]),
        Company(name="Schmidt Logistik GmbH", emails=["info@schmidt-logistik.de"],
                phones=["0711 9876540"]),
        None,
        id="different-companies",
    ),
    pytest.param(
        Person(first_name="Jürgen", last_name="Müller", emails=["juergen.mueller@muster.de"]),
        Person(first_name="Juergen", last_name="Mueller", emails=["Juergen.Mueller@muster.de"]),
        "match",
        id="umlauts-spelled-out",
    ),
    pytest.param(
        Person(first_name="Jürgen", last_name="Müller", phones=["0170 1234567"]),
        Person(first_name="Jurgen", last_name="Muller", phones=["+49 170 1234567"]),
        "match",
        id="umlauts-dropped-same-mobile",
    ),
    pytest.param(
        Person(first_name="Max", last_name="Mustermann", phones=["0170 1234567"]),
        Person(first_name="Mustermann", last_name="Max", phones=["+491701234567"]),
        "match",
        id="first-and-last-swapped",
    ),
    pytest.param(
        Person(first_name="Max", last_name="Mustermann", emails=["max@muster.de"],
               phones=["0170 1234567"]),
        Person(first_name="Max", last_name="Mustermann", emails=["max@muster.de"],
               phones=["0711 1234512"]),
        "match",
        id="mobile-vs-office-number",
    ),
    pytest.param(
        Person(first_name="Max", last_name="Mustermann", emails=["info@muster.de"]),
        Person(first_name="Erika", last_name="Schmidt", emails=["info@muster.de"]),
        None,
        id="shared-info-address-alone",
    ),
    pytest.param(
        Person(first_name="Max", last_name="Mustermann", phones=["0711 1234560"]),
        Person(first_name="Erika", last_name="Mustermann", phones=["0711 1234560"]),
        None,
        id="shared-switchboard-alone",
    ),
    pytest.param(
        Person(first_name="Anna", last_name="Weber",
               addresses=[Address(street="Lindenallee 3", postal_code="70173")],
               phones=["0711 555555"]),
        Person(first_name="Jörg", last_name="Weber",
               addresses=[Address(street="Lindenallee 3", postal_code="70173")],
               phones=["0711 555555"]),
        "review",  # a household: worth a look, never merged automatically
        id="household-not-a-duplicate",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("left", "right", "expected"), CASES)
def test_hard_german_cases(
    left: Person | Company, right: Person | Company, expected: str | None
) -> None:
    assert _verdict(left, right) == expected


def test_the_switchboard_of_a_company_is_no_evidence_between_its_people() -> None:
    firm = Company(name="Muster GmbH", phones=["0711 1234560"])
    a = Person(first_name="Max", last_name="Mustermann", phones=["0711 1234560"])
    b = Person(first_name="Moritz", last_name="Mustermann", phones=["0711 1234560"])
    report = find_duplicates([firm, a, b])
    pair = _pair(report, a.id, b.id)
    assert pair is None or pair.verdict == "review"
    assert report.pairs == [] or all(p.kind == "person" for p in report.pairs)


def test_persons_and_companies_are_never_paired() -> None:
    firm = Company(name="Max Mustermann", emails=["max@muster.de"])
    person = Person(first_name="Max", last_name="Mustermann", emails=["max@muster.de"])
    assert len(find_duplicates([firm, person]).pairs) == 0


def test_same_name_at_the_same_company_is_stronger_than_at_different_ones() -> None:
    a = Person(first_name="Max", last_name="Mustermann")
    b = Person(first_name="Max", last_name="Mustermann")
    same = check_candidate(a, [b], DedupConfig(review_threshold=0.0001),
                           employers={a.id: ["c1"], b.id: ["c1"]})  # fmt: skip
    other = check_candidate(a, [b], DedupConfig(review_threshold=0.0001),
                            employers={a.id: ["c1"], b.id: ["c2"]})  # fmt: skip
    assert same[0].score > other[0].score
    assert {f.field: f.level for f in same[0].explanation.fields}["employer"] == "same"


# --------------------------------------------------------------------------- explanations


def _sample() -> list[Person | Company]:
    return [
        Person(first_name="Jürgen", last_name="Müller", emails=["j.mueller@muster.de"],
               phones=["0170 1234567"]),
        Person(first_name="Juergen", last_name="Mueller", emails=["j.mueller@muster.de"]),
        Person(first_name="Müller", last_name="Jürgen", phones=["0170 1234567"]),
        Person(first_name="Erika", last_name="Mustermann", emails=["info@muster.de"]),
        Person(first_name="Erika", last_name="Mustermann",
               addresses=[Address(street="Hauptstraße 1", postal_code="70173")]),
        Person(first_name="Erika", last_name="Musterfrau",
               addresses=[Address(street="Hauptstr. 1", postal_code="70173")]),
        Company(name="Muster GmbH", emails=["info@muster.de"], website="https://www.muster.de"),
        Company(name="Muster Gesellschaft mbH", website="muster.de"),
        Company(name="Muster AG", vat_id="DE136695976"),
    ]  # fmt: skip


def test_explanations_add_up_to_the_score() -> None:
    report = find_duplicates(_sample(), DedupConfig(review_threshold=0.001))
    assert len(report.pairs) >= 3
    for pair in report.pairs:
        total = pair.explanation.prior + sum(f.weight for f in pair.explanation.fields)
        assert math.isclose(total, pair.score, rel_tol=0, abs_tol=1e-9)
        assert math.isclose(pair.probability, 2**pair.score / (1 + 2**pair.score))
        assert pair.explanation.keys, "every pair says which key found it"
        assert set(pair.explanation.agreeing).isdisjoint(pair.explanation.disagreeing)


def test_explanation_names_fields_and_values() -> None:
    a, b = _sample()[:2]
    pair = find_duplicates([a, b]).pairs[0]
    fields = {f.field: f for f in pair.explanation.fields}
    assert fields["email"].level == "exact"
    assert fields["phone"].level == "missing"
    assert {fields["last_name"].left, fields["last_name"].right} == {"Müller", "Mueller"}
    assert "email" in pair.explanation.keys
    assert "email: exact" in pair.explanation.text("de")


def test_swapped_names_are_explained() -> None:
    people = _sample()
    pair = find_duplicates([people[0], people[2]]).pairs[0]
    assert pair.explanation.swapped_names
    assert pair.verdict == "match"


# --------------------------------------------------------------------------- clusters


def test_clusters_do_not_chain_through_one_link() -> None:
    a = Person(
        first_name="Max", last_name="Mustermann", emails=["max@a.de"], phones=["0170 1111111"]
    )
    b = Person(
        first_name="Max", last_name="Mustermann", emails=["max@a.de"], phones=["0170 2222222"]
    )
    c = Person(
        first_name="Max", last_name="Mustermann", emails=["max@c.de"], phones=["0170 2222222"]
    )
    d = Person(first_name="Max", last_name="Mustermann", emails=["max@c.de"],
               phones=["0170 3333333"])  # fmt: skip
    report = find_duplicates([a, b, c, d])
    matches = {p.ids for p in report.pairs if p.verdict == "match"}
    assert frozenset((b.id, c.id)) in matches  # the one link between the two groups
    assert {frozenset(c) for c in report.clusters} == {
        frozenset((a.id, b.id)),
        frozenset((c.id, d.id)),
    }


def test_a_record_joins_a_cluster_it_matches_well() -> None:
    a = Person(
        first_name="Max", last_name="Mustermann", emails=["max@a.de"], phones=["0170 1111111"]
    )
    b = Person(
        first_name="Max", last_name="Mustermann", emails=["max@a.de"], phones=["0170 1111111"]
    )
    c = Person(first_name="Max", last_name="Mustermann", emails=["max@a.de"])  # fmt: skip
    report = find_duplicates([a, b, c])
    assert report.clusters == (tuple(sorted((a.id, b.id, c.id))),)


# --------------------------------------------------------------------------- decisions


def test_decision_key_is_symmetric_and_follows_matching_fields() -> None:
    a, b = _sample()[:2]
    assert isinstance(b, Person)
    key = decision_key(a, b)
    assert key == decision_key(b, a)
    assert decision_key(attrs.evolve(a, notes="VIP", tags={"x"}), b) == key
    assert decision_key(attrs.evolve(a, version=7), b) == key
    assert decision_key(attrs.evolve(a, emails=["other@muster.de"]), b) != key
    assert decision_key(a, attrs.evolve(b, last_name="Meier")) != key
    assert fingerprint(a) != fingerprint(attrs.evolve(a, phones=["0170 7654321"]))


def test_excluded_pairs_are_skipped_until_a_record_changes() -> None:
    a, b = _sample()[:2]
    assert len(find_duplicates([a, b]).pairs) == 1
    decided = {decision_key(a, b)}
    assert len(find_duplicates([a, b], exclude=decided).pairs) == 0
    changed = attrs.evolve(b, phones=["0170 1234567"])
    assert len(find_duplicates([a, changed], exclude=decided).pairs) == 1


# --------------------------------------------------------------------------- single check


def test_check_candidate_finds_the_duplicate_among_candidates() -> None:
    people = _sample()
    new = Person(first_name="Jürgen", last_name="Müller", emails=["J.Mueller@muster.de"])
    found = check_candidate(new, people)
    assert found[0].left_id == new.id
    assert found[0].right_id in {people[0].id, people[1].id}
    assert found[0].verdict == "match"
    assert all(p.kind == "person" for p in found)
    assert check_candidate(new, []) == ()
    assert check_candidate(new, [new]) == ()


def test_blocking_keys_of_one_contact() -> None:
    person = Person(first_name="Jürgen", last_name="Müller", emails=["j.mueller@muster.de"],
                    phones=["0170 1234567"],
                    addresses=[Address(street="Hauptstraße 5", postal_code="70173")])  # fmt: skip
    keys = blocking_keys(person)
    kinds = {k.kind for k in keys}
    assert kinds == {"email", "phone", "name", "domain", "address"}
    lookups = {k.kind: k.lookup for k in keys}
    assert lookups["email"] == "j.mueller@muster.de"
    assert lookups["phone"] == "+491701234567"
    assert lookups["name"] == "Müller"
    company = Company(name="Muster Software GmbH", emails=["info@muster.de"])
    ckeys = {(k.kind, k.lookup) for k in blocking_keys(company)}
    assert ("company_name", "muster") in ckeys
    assert ("company_name", "Muster Software GmbH") in ckeys
    assert ("domain", "muster.de") in ckeys
    free = Person(first_name="Max", last_name="Muster", emails=["max@gmail.com"])
    assert "domain" not in {k.kind for k in blocking_keys(free)}


# --------------------------------------------------------------------------- caps


def test_oversized_blocks_are_capped_and_reported() -> None:
    firstnames = ["Anna", "Berta", "Clara", "Dora", "Emil", "Fritz", "Gustav", "Heinz"]
    lastnames = [
        "Weber",
        "Kaya",
        "Nowak",
        "Otto",
        "Lang",
        "Roth",
        "Vogt",
        "Ziegler",
        "Beck",
        "Jung",
    ]
    staff = [
        Person(first_name=firstnames[i % 8], last_name=lastnames[i % 10],
               emails=["info@muster.de"])
        for i in range(40)
    ]  # fmt: skip
    report = find_duplicates(staff)
    capped = [c for c in report.capped if c.kind == "email"]
    assert capped and capped[0].count == 40 and capped[0].value == "person|info@muster.de"
    assert "info@muster.de" in report.capped_messages("de")[0]
    assert all(p.verdict != "match" for p in report.pairs)
    assert len(find_duplicates(staff, DedupConfig(caps={"email": 50})).capped) == 0


# --------------------------------------------------------------------------- views


def test_html_view_escapes_and_highlights() -> None:
    a = Person(first_name="<script>alert(1)</script>", last_name="Müller", emails=["x@muster.de"])
    b = Person(first_name="<script>alert(1)</script>", last_name="Mueller",
               emails=["x@muster.de"])  # fmt: skip
    page = find_duplicates([a, b])._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "#d4f7d4" in page  # agreeing fields are highlighted


def test_plot_without_matplotlib_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    report = find_duplicates(_sample())
    with pytest.raises(CrmkitError) as info:
        report.plot()
    assert info.value.code == "dedup.plot_unavailable"
    assert "crmkit[plot]" in info.value.message("de")


def test_report_summary_and_histogram() -> None:
    report = find_duplicates(_sample())
    assert sum(report.histogram) == report.candidates
    assert len(report.bin_edges) == len(report.histogram) + 1
    assert "Kontakte" in report.summary("de")
    assert report.matches == tuple(p for p in report.pairs if p.verdict == "match")
    assert report.reviews == tuple(p for p in report.pairs if p.verdict == "review")


# --------------------------------------------------------------------------- inputs


def test_columns_and_entities_give_the_same_report() -> None:
    contacts = _sample()
    from_entities = find_duplicates(contacts)
    table = ContactTable.from_columns(
        ids=[c.id for c in contacts],
        kinds=[c.kind for c in contacts],
        first_names=[getattr(c, "first_name", "") for c in contacts],
        last_names=[getattr(c, "last_name", "") for c in contacts],
        names=[getattr(c, "name", "") for c in contacts],
        emails=[[e.address for e in c.emails] for c in contacts],
        phones=[[p.e164 for p in c.phones] for c in contacts],
        streets=[c.addresses[0].street if c.addresses else "" for c in contacts],
        postal_codes=[c.addresses[0].postal_code if c.addresses else "" for c in contacts],
        cities=[c.addresses[0].city if c.addresses else "" for c in contacts],
        vat_ids=[getattr(c, "vat_id", None) or "" for c in contacts],
        websites=[c.website or "" for c in contacts],
    )
    from_columns = find_duplicates(table)
    assert [(p.ids, p.score) for p in from_columns.pairs] == [
        (p.ids, p.score) for p in from_entities.pairs
    ]


def test_bad_input_is_refused() -> None:
    with pytest.raises(TypeError):
        find_duplicates(["not a contact"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        DedupConfig(match_threshold=0.4, review_threshold=0.5)
    with pytest.raises(ValidationError):
        DedupConfig(caps={"shoe_size": 3})
    with pytest.raises(ValidationError):
        DedupConfig(weights={"person": {"email": (1.0, 2.0)}})
    config = DedupConfig(weights={"person": {"phone": (0.0, 9.0, 1.0, -1.0)}})
    assert config.weights["person"]["phone"] == (0.0, 9.0, 1.0, -1.0)
    assert config.weights["person"]["email"][1] > 0


@pytest.mark.parametrize(
    ("street", "expected"),
    [
        ("Hauptstraße 5a", ("hauptstrasse", "5a")),
        ("Hauptstr. 5 a", ("hauptstrasse", "5a")),
        ("Haupt-Straße 5A", ("hauptstrasse", "5a")),
        ("Am Marktplatz 12", ("ammarktplatz", "12")),
        ("St.-Anna-Pl. 3", ("sanktannaplatz", "3")),
        ("Postfach", ("postfach", "")),
    ],
)
def test_street_keys(street: str, expected: tuple[str, str]) -> None:
    assert street_key(street) == expected


def test_estimation_keeps_defaults_on_small_data() -> None:
    report = find_duplicates(_sample(), DedupConfig(estimate=True))
    assert report.estimated is False
    assert report.weights["person"]["email"] == DedupConfig().weights["person"]["email"]


@given(st.text())
@example("Jürgen-Peter MÜLLER")
@example("Straße ẞ Œuvre ﬁ ①")
@example("Ärger über Öl")
def test_fast_fold_is_fold(text: str) -> None:
    assert fast_fold(text) == normalize.fold(text)


@pytest.mark.parametrize(
    "module", [crmkit.dedup, crmkit.dedup._engine, crmkit.dedup._table], ids=lambda m: m.__name__
)
def test_docstring_examples(module: types.ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
