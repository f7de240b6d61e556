"""crmkit in pandas: ``to_pandas`` on every result, ``from_pandas`` and ``crm.import_pandas``."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import Company, CrmkitError, Person, ValidationError
from crmkit.dedup import find_duplicates
from crmkit.frames import (
    AFFILIATION_COLUMNS,
    CONTACT_COLUMNS,
    ENTRY_COLUMNS,
    FINDING_COLUMNS,
    PAIR_COLUMNS,
    PHONE_MATCH_COLUMNS,
    PROBLEM_COLUMNS,
    WORK_ITEM_COLUMNS,
    ContactList,
    ParsedContacts,
    rows,
)
from crmkit.importing import HEADERS
from crmkit.worklist import Worklist

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def crm() -> Iterator[crmkit.CRM]:
    with crmkit.open("memory://", clock=lambda: NOW, load_entry_points=False) as crm:
        yield crm


@pytest.fixture
def filled(crm: crmkit.CRM) -> crmkit.CRM:
    acme = crm.contacts.add(
        Company(
            name="Muster GmbH",
            relationships={"customer"},
            emails=["info@muster.de"],
            phones=["+49 711 123456-0"],
            tags={"Branche-IT", "Stuttgart"},
            addresses=[{"street": "Königstraße 1", "postal_code": "70173", "city": "Stuttgart"}],
        )
    )
    max_ = crm.contacts.add(
        Person(
            first_name="Max",
            last_name="Mustermann",
            emails=["max.mustermann@muster.de"],
            phones=["0170 1234567"],
        )
    )
    crm.contacts.add(
        Person(first_name="Max", last_name="Mustermann", emails=["max.mustermann@muster.de"])
    )
    crm.affiliations.link(max_, acme, position="Geschäftsführer", roles={"decision_maker"})
    crm.correspondence.log(
        max_,
        "phone",
        occurred_at=NOW - dt.timedelta(days=3),
        direction="inbound",
        subject="Rückruf erbeten",
        follow_up=TODAY - dt.timedelta(days=1),
    )
    return crm


# --------------------------------------------------------------------------- to_pandas


def test_contacts_frame_has_one_readable_row_per_contact(filled: crmkit.CRM) -> None:
    frame = filled.contacts.to_pandas()
    assert list(frame.columns) == list(CONTACT_COLUMNS)
    assert list(frame["number"]) == ["C00001", "C00002", "C00003"]
    company = frame.iloc[0]
    assert company["kind"] == "company"
    assert company["name"] == "Muster GmbH"
    assert company["email"] == "info@muster.de"
    assert company["phone"] == "+497111234560"
    assert company["city"] == "Stuttgart"
    assert company["postal_code"] == "70173"
    assert company["relationships"] == "customer"
    assert company["tags"] == "Branche-IT, Stuttgart"
    person = frame.iloc[1]
    assert (person["first_name"], person["last_name"]) == ("Max", "Mustermann")
    assert person["name"] == "Max Mustermann"
    assert person["city"] == ""


def test_search_results_are_a_list_with_a_table(filled: crmkit.CRM) -> None:
    found = filled.search("Mustermann")
    assert isinstance(found, ContactList)
    assert found == [filled.contacts.get("C00002"), filled.contacts.get("C00003")]
    assert isinstance(found[:1], ContactList)
    assert found[0].number == "C00002"
    frame = found.to_pandas()
    assert list(frame["number"]) == ["C00002", "C00003"]
    assert crmkit.to_pandas(found).equals(frame)
    html = found._repr_html_()
    assert html.count("<tr>") == 3
    assert "max.mustermann@muster.de" in html
    assert "2 contacts" in html


def test_html_of_search_results_escapes_user_data(crm: crmkit.CRM) -> None:
    crm.contacts.add(Company(name="<script>alert(1)</script> & Co", tags={"<b>"}))
    html = crm.search("")._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "&lt;b&gt;" in html


def test_check_report_frame_in_both_languages(filled: crmkit.CRM) -> None:
    report = filled.check()
    frame = report.to_pandas()
    assert list(frame.columns) == list(FINDING_COLUMNS)
    assert len(frame) == len(report) > 0
    assert set(frame["contact_number"]) <= {"C00001", "C00002", "C00003"}
    german = crmkit.to_pandas(report, lang="de")
    assert list(german["code"]) == list(frame["code"])
    assert list(german["message"]) == [f.message("de") for f in report]
    plain = crmkit.to_pandas(list(report))
    assert list(plain["message"]) == [f.message() for f in report]
    assert set(plain["contact_number"]) == {""}


def test_duplicate_report_frame_explains_each_pair(filled: crmkit.CRM) -> None:
    report = filled.find_duplicates()
    frame = report.to_pandas()
    assert list(frame.columns) == list(PAIR_COLUMNS)
    assert len(frame) == len(report.pairs) == 1
    pair = frame.iloc[0]
    assert pair["verdict"] == "match"
    twins = {filled.contacts.get("C00002").id, filled.contacts.get("C00003").id}
    assert {pair["left_id"], pair["right_id"]} == twins
    assert pair["left"] == pair["right"] == "Max Mustermann"
    assert "email" in pair["agreeing"]
    assert pair["explanation"].startswith("email: exact")
    assert report.rows("de")[0]["verdict"] == "match"
    candidate = Person(
        first_name="Max", last_name="Mustermann", emails=["max.mustermann@muster.de"]
    )
    single = crmkit.to_pandas(filled.find_duplicates(candidate))
    assert list(single.columns) == list(PAIR_COLUMNS)
    assert len(single) == 2
    assert "<table>" in report.pairs[0]._repr_html_()


def test_worklist_and_timeline_frames(filled: crmkit.CRM) -> None:
    work = filled.worklist(TODAY)
    frame = crmkit.to_pandas(work)
    assert list(frame.columns) == list(WORK_ITEM_COLUMNS)
    assert "follow_up.overdue" in set(frame["kind"])
    assert frame.equals(work.to_pandas())
    timeline = filled.correspondence.timeline("C00002")
    entries = timeline.to_pandas()
    assert list(entries.columns) == list(ENTRY_COLUMNS)
    row = entries.iloc[0]
    assert row["subject"] == "Rückruf erbeten"
    assert row["follow_up_due"] == TODAY - dt.timedelta(days=1)
    assert bool(row["follow_up_open"]) is True
    assert row["occurred_at"] == NOW - dt.timedelta(days=3)


def test_empty_results_keep_their_columns() -> None:
    assert list(Worklist([], TODAY).to_pandas().columns) == list(WORK_ITEM_COLUMNS)
    assert list(crmkit.to_pandas(ContactList()).columns) == []
    assert crmkit.to_pandas([]).empty


def test_single_objects_mixed_kinds_and_caller_id(filled: crmkit.CRM) -> None:
    acme = filled.contacts.get("C00001")
    one = crmkit.to_pandas(acme)
    assert list(one["name"]) == ["Muster GmbH"]
    links = crmkit.to_pandas(filled.affiliations.of_company(acme))
    assert list(links.columns) == list(AFFILIATION_COLUMNS)
    assert list(links["roles"]) == ["decision_maker"]
    matches = crmkit.to_pandas(filled.lookup_phone("0711 123456-99"))
    assert list(matches.columns) == list(PHONE_MATCH_COLUMNS)
    assert list(matches["match"]) == ["switchboard"]
    mixed = crmkit.to_pandas([acme, *filled.check()])
    assert list(mixed.columns)[: len(CONTACT_COLUMNS)] == list(CONTACT_COLUMNS)
    assert "severity" in mixed.columns
    assert len(rows(filled.contacts.all())) == 3


@pytest.mark.parametrize("bad", ["text", {"a": 1}, 42, [object()]])
def test_unknown_objects_are_a_validation_error(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        crmkit.to_pandas(bad)
    assert info.value.findings[0].code == "value.type"


def test_missing_pandas_says_what_to_install(
    filled: crmkit.CRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    for call in (
        lambda: filled.worklist(TODAY).to_pandas(),
        lambda: filled.check().to_pandas(),
        lambda: filled.search("").to_pandas(),
        lambda: crmkit.from_pandas(object()),
        lambda: filled.import_pandas(object()),
    ):
        with pytest.raises(CrmkitError) as info:
            call()
        assert info.value.code == "extra_missing"
        assert "pip install 'crmkit[pandas]'" in str(info.value)
        assert "braucht das optionale Extra 'pandas'" in info.value.message("de")


def test_importing_crmkit_imports_neither_pandas_nor_matplotlib() -> None:
    code = (
        "import sys, crmkit, crmkit.frames, crmkit.plots; "
        "print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- from_pandas

MESSY = pd.DataFrame(
    {
        "Firma": ["Müller & Söhne GmbH", "Müller & Söhne GmbH", None, "Beispiel AG"],
        "Anrede": ["Herr", "Frau", "Frau", None],
        "Vorname": ["Jürgen", "Käthe", "Erika", None],
        "Nachname": ["Müller", "Groß", "Mustermann", float("nan")],
        "E-Mail": ["j.mueller@mueller-soehne.de", "kaethe@@mueller", "erika@example.de", None],
        "Telefon": ["0711 / 123 45-67", "0711 123", None, "+49 30 1234567"],
        "PLZ": ["70173", "70173", "01067", 10115.0],
        "Ort": ["Stuttgart", "Stuttgart", "Dresden", "Berlin"],
        "Position": ["Geschäftsführer", "Einkauf", None, None],
        "Lieblingsfarbe": ["blau", "rot", "grün", "gelb"],
    }
)


def test_from_pandas_parses_like_the_csv_importer() -> None:
    parsed = crmkit.from_pandas(MESSY)
    assert isinstance(parsed, ParsedContacts)
    assert [c.display_name for c in parsed.companies] == ["Müller & Söhne GmbH", "Beispiel AG"]
    assert [c.display_name for c in parsed.persons] == ["Jürgen Müller", "Erika Mustermann"]
    assert all(c.number is None and c.version == 0 for c in parsed)
    (aff,) = parsed.affiliations
    assert aff.person_id == parsed.persons[0].id
    assert aff.company_id == parsed.companies[0].id
    assert aff.position == "Geschäftsführer"
    assert parsed.companies[1].addresses[0].postal_code == "10115"
    assert parsed.persons[1].addresses[0].postal_code == "01067"
    report = parsed.report
    assert report.unknown_columns == ("Lieblingsfarbe",)
    assert [(p.row, p.column, p.code) for p in report.problems] == [(3, "E-Mail", "email.invalid")]
    problems = crmkit.to_pandas(report, lang="de")
    assert list(problems.columns) == list(PROBLEM_COLUMNS)
    assert list(problems["value"]) == ["kaethe@@mueller"]
    assert problems["message"][0].startswith("Zeile 3")
    frame = parsed.to_pandas()
    assert list(frame["name"]) == [
        "Müller & Söhne GmbH",
        "Jürgen Müller",
        "Erika Mustermann",
        "Beispiel AG",
    ]
    assert "Müller &amp; Söhne GmbH" in parsed._repr_html_()


def test_import_pandas_does_what_import_csv_does(tmp_path: Path) -> None:
    path = tmp_path / "kontakte.csv"
    MESSY.to_csv(path, sep=";", index=False, encoding="cp1252")
    with (
        crmkit.open("memory://", clock=lambda: NOW, load_entry_points=False) as a,
        crmkit.open("memory://", clock=lambda: NOW, load_entry_points=False) as b,
    ):
        from_csv = a.import_csv(path)
        from_frame = b.import_pandas(pd.read_csv(path, sep=";", dtype=str, encoding="cp1252"))
        assert from_csv.encoding == "cp1252"
        assert from_frame.encoding == from_frame.delimiter == ""
        for name in ("new_contacts", "linked", "skipped", "duplicates", "unknown_columns", "rows"):
            assert getattr(from_frame, name) == getattr(from_csv, name), name
        assert [p.message("de") for p in from_frame.problems] == [
            p.message("de") for p in from_csv.problems
        ]
        assert [c.display_name for c in a.contacts.all()] == [
            c.display_name for c in b.contacts.all()
        ]
        again = b.import_pandas(pd.read_csv(path, sep=";", dtype=str, encoding="cp1252"))
        assert again.new_contacts == 0


def test_import_pandas_dry_run_and_mapping(crm: crmkit.CRM) -> None:
    frame = pd.DataFrame({"Kd-Nr": ["K1", "K2"], "Name": ["Muster GmbH", "Beispiel AG"]})
    report = crm.import_pandas(frame, {"Name": "company", "Kd-Nr": "external_id"}, dry_run=True)
    assert report.dry_run and report.new_contacts == 2 and report.ok
    assert crm.contacts.count() == 0
    crm.import_pandas(frame, {"Name": "company", "Kd-Nr": "external_id"})
    assert sorted(c.tags for c in crm.contacts.all()) == [{"ext:K1"}, {"ext:K2"}]
    with pytest.raises(ValidationError):
        crm.import_pandas(frame, {"Name": "farbe"})


def test_from_pandas_rejects_what_is_not_a_frame() -> None:
    with pytest.raises(ValidationError) as info:
        crmkit.from_pandas([{"Firma": "Muster GmbH"}])
    assert info.value.findings[0].field == "frame"


def test_from_pandas_without_known_columns_reports_it() -> None:
    parsed = crmkit.from_pandas(pd.DataFrame({"a": [1], "b": [2]}))
    assert len(parsed) == 0
    assert [p.code for p in parsed.report.problems] == ["csv.no_known_columns"]
    empty = crmkit.from_pandas(pd.DataFrame())
    assert [p.code for p in empty.report.problems] == ["csv.no_known_columns"]


def test_duplicates_within_the_frame_are_kept_for_find_duplicates() -> None:
    frame = pd.DataFrame(
        {
            "Vorname": ["Max", "Max"],
            "Nachname": ["Mustermann", "Mustermann"],
            "E-Mail": ["max@muster.de", "max@muster.de"],
        }
    )
    parsed = crmkit.from_pandas(frame)
    assert len(parsed.persons) == 2
    assert parsed.report.duplicates == ()
    assert len(find_duplicates(list(parsed)).matches) == 1


HEADER_NAMES = [h for names in HEADERS.values() for h in names[:2]]
CELLS = st.one_of(
    st.text(max_size=40),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(["0711 123456", "+49 (0)711 123-0", "a@b.de", "70173", "Straße 1", "ä;ö"]),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    headers = draw(
        st.lists(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=15)), max_size=6)
    )
    n = draw(st.integers(min_value=0, max_value=4))
    data = [[draw(CELLS) for _ in headers] for _ in range(n)]
    return pd.DataFrame(data, columns=pd.Index(headers, dtype=object))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
@example(frame=pd.DataFrame({"Firma": ["\x00"], "Vorname": ["x" * 10_000]}))
@example(frame=pd.DataFrame({"Nachname": [math.inf], "PLZ": [-0.0]}))
@example(frame=pd.DataFrame({"Firma": ["A"], "Unternehmen": ["B"]}))
def test_from_pandas_never_raises_on_any_cells(frame: pd.DataFrame) -> None:
    parsed = crmkit.from_pandas(frame)
    assert len(parsed) <= 2 * len(frame)
    assert parsed.report.rows <= len(frame)
    names = {c.id for c in parsed}
    for aff in parsed.affiliations:
        assert {aff.person_id, aff.company_id} <= names
    for problem in parsed.report.problems:
        assert problem.message("de")


# --------------------------------------------------------------------------- HTML


def test_a_contact_shows_as_an_escaped_card(filled: crmkit.CRM) -> None:
    acme = filled.contacts.get("C00001")
    html = acme._repr_html_()
    assert html.startswith("<table><caption><b>C00001 Muster GmbH</b></caption>")
    assert "Königstraße 1, 70173 Stuttgart" in html
    assert "+497111234560 (office)" in html
    assert "Branche-IT, Stuttgart" in html
    assert "website" not in html  # empty fields are left out
    evil = Person(last_name="<img src=x onerror=alert(1)>", notes="a & b")._repr_html_()
    assert "<img" not in evil
    assert "&lt;img src=x onerror=alert(1)&gt;" in evil
    assert "a &amp; b" in evil


def test_caller_id_and_leads_render_too(filled: crmkit.CRM) -> None:
    (match,) = filled.lookup_phone("0711 123456-99")
    assert match._repr_html_().startswith("<p>+4971112345699: switchboard</p><table>")
    filled.leads.create(Company(name="Neu & Co GmbH"), source="Messe")
    leads = filled.leads.all()
    assert isinstance(leads, ContactList)
    assert "Neu &amp; Co GmbH" in leads._repr_html_()
    assert list(leads.to_pandas()["lead_source"]) == ["Messe"]


def test_long_tables_show_the_first_rows_and_count_the_rest() -> None:
    contacts = ContactList(Person(last_name=f"Muster {i}") for i in range(503))
    html = contacts._repr_html_()
    assert html.count("<tr>") == 501  # the header and 500 rows
    assert html.endswith("<p>… 3 more</p>")
    assert len(contacts.to_pandas()) == 503


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frame=frames(),
    mapping=st.dictionaries(
        st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=10)),
        st.one_of(st.sampled_from(["company", "last_name", "email", "ignore"]), st.text()),
        max_size=3,
    ),
)
@example(frame=pd.DataFrame({"x": ["Muster GmbH"]}), mapping={"x": "company"})
def test_import_pandas_dry_run_reports_or_rejects_the_mapping(
    frame: pd.DataFrame, mapping: dict[str, str]
) -> None:
    with crmkit.open("memory://", load_entry_points=False) as crm:
        try:
            report = crm.import_pandas(frame, mapping, dry_run=True)
        except ValidationError as exc:
            assert exc.findings[0].field.startswith("mapping.")
            assert exc.findings[0].code == "value.choice"
            return
        assert report.dry_run and crm.contacts.count() == 0
        assert report.new_contacts <= 2 * len(frame)
