"""Properties of duplicate detection that hold for any input."""

from __future__ import annotations

import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit import Address, Company, Person
from crmkit.dedup import DedupConfig, check_candidate, find_duplicates
from crmkit.errors import ValidationError
from crmkit.model import Contact

FIRST = ["Jürgen", "Juergen", "Jurgen", "Max", "Erika", "Anna", "Müller", "Hans-Peter", "Sören"]
LAST = ["Müller", "Mueller", "Muller", "Mustermann", "Schmidt", "Schmitt", "Weiß", "Weiss"]
EMAILS = ["info@muster.de", "max@muster.de", "j.mueller@muster.de", "J.Mueller@muster.de",
          "max.mustermann7@gmx.de", "max.mustermann8@gmx.de", "kontakt@muster.de"]  # fmt: skip
PHONES = ["0170 1234567", "+49 170 1234567", "0711 1234560", "0711 1234512", "030 9876543"]
COMPANIES = ["Muster GmbH", "Muster Gesellschaft mbH", "Muster GmbH & Co. KG", "Muster AG",
             "Elbtal Bau GmbH", "Elbtal Bauunternehmen", "Schmidt & Partner"]  # fmt: skip
STREETS = ["Hauptstraße 5", "Hauptstr. 5", "Lindenallee 3", ""]

names = st.one_of(st.sampled_from(FIRST + LAST), st.text(max_size=12))
emails = st.lists(st.sampled_from(EMAILS), max_size=2)
phones = st.lists(st.sampled_from(PHONES), max_size=2)
addresses = st.lists(
    st.builds(
        Address,
        street=st.sampled_from(STREETS),
        postal_code=st.sampled_from(["70173", "01067", ""]),
    ),
    max_size=1,
)


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    """A valid Person or Company from German-ish values (invalid ones are redrawn)."""
    for _ in range(20):
        try:
            if draw(st.booleans()):
                return Person(
                    first_name=draw(names), last_name=draw(names), emails=draw(emails),
                    phones=draw(phones), addresses=draw(addresses),
                )  # fmt: skip
            return Company(
                name=draw(st.one_of(st.sampled_from(COMPANIES), st.text(max_size=20))),
                emails=draw(emails), phones=draw(phones), addresses=draw(addresses),
                website=draw(st.sampled_from([None, "https://www.muster.de", "muster.de"])),
            )  # fmt: skip
        except ValidationError:
            continue
    return Person(last_name="Fallback")


LOW = DedupConfig(review_threshold=1e-6, match_threshold=0.95)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(contacts(), max_size=12))
def test_any_contacts_give_a_report(people: list[Contact]) -> None:
    report = find_duplicates(people, LOW)
    ids = {c.id for c in people}
    for pair in report.pairs:
        assert pair.left_id != pair.right_id, "a record is not its own duplicate"
        assert {pair.left_id, pair.right_id} <= ids
        assert pair.verdict in ("match", "review")
        total = pair.explanation.prior + sum(f.weight for f in pair.explanation.fields)
        assert math.isclose(total, pair.score, rel_tol=0, abs_tol=1e-9)
    for cluster in report.clusters:
        assert len(cluster) >= 2 and set(cluster) <= ids


@settings(max_examples=60, deadline=None)
@given(contacts(), contacts())
def test_scores_are_symmetric(a: Contact, b: Contact) -> None:
    ab = check_candidate(a, [b], LOW)
    ba = check_candidate(b, [a], LOW)
    assert [p.score for p in ab] == [p.score for p in ba]
    forward = find_duplicates([a, b], LOW).pairs
    backward = find_duplicates([b, a], LOW).pairs
    assert [(p.ids, p.score) for p in forward] == [(p.ids, p.score) for p in backward]


@settings(max_examples=40, deadline=None)
@given(st.lists(contacts(), min_size=2, max_size=10), st.randoms(use_true_random=False))
def test_permuting_the_input_changes_nothing(people: list[Contact], rnd: random.Random) -> None:
    shuffled = list(people)
    rnd.shuffle(shuffled)
    first = find_duplicates(people, LOW)
    second = find_duplicates(shuffled, LOW)
    assert {(p.ids, p.score, p.verdict) for p in first.pairs} == {
        (p.ids, p.score, p.verdict) for p in second.pairs
    }
    assert set(first.clusters) == set(second.clusters)


@settings(max_examples=30, deadline=None)
@given(contacts())
def test_a_contact_alone_has_no_duplicates(contact: Contact) -> None:
    assert len(find_duplicates([contact], LOW).pairs) == 0
    assert check_candidate(contact, [contact], LOW) == ()
