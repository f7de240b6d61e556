"""The CSV import: German and English Excel files on both stores; bad bytes never crash."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import Company, Finding, Person, ValidationError
from crmkit.hookspecs import hookimpl
from crmkit.importing import (
    EXTERNAL_ID_TAG,
    FIELDS,
    HEADERS,
    CsvImportReport,
    CsvProblem,
    detect_field,
    import_csv,
)
from crmkit.model import Contact

Clock = Callable[[], dt.datetime]

GERMAN_HEADER = (
    "Anrede;Titel;Vorname;Nachname;Firma;E-Mail;Telefon;Mobil;Straße;PLZ;Ort;Land;"
    "Position;Abteilung;Beziehung;Schlagworte;Kundennummer;Notizen"
)
GERMAN_ROWS = (
    "Herr;Dr.;Jürgen;Müller;Müller & Söhne GmbH;j.mueller@mueller-soehne.de;"
    "030 1234567;0170 1234567;Hauptstraße 1;10115;Berlin;Deutschland;"
    "Geschäftsführer;Geschäftsleitung;Kunde;VIP, Newsletter;K-1001;"
    '"Ruft gern an; lieber vormittags"',
    "Frau;;Erika;Mustermann;MÜLLER & SÖHNE GMBH;erika@mueller-soehne.de;;;;;;;"
    "Einkäuferin;Einkauf;;;K-1002;",
    ";;;;Schulze Bürobedarf AG;info@schulze.de;089 123456;;Marienplatz 2;80331;München;;"
    ";;Lieferant;;K-1003;",
)


def german_csv(rows: Iterable[str] = GERMAN_ROWS, *, encoding: str = "cp1252") -> bytes:
    text = "\r\n".join([GERMAN_HEADER, *rows]) + "\r\n"
    return text.encode(encoding)


def _open(kind: str, tmp_path: Path, clock: Clock, plugins: Iterable[object] = ()) -> crmkit.CRM:
    url = "memory://" if kind == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    return crmkit.open(url, clock=clock, plugins=plugins, load_entry_points=kind == "sqlite")


@pytest.fixture(params=["memory", "sqlite"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def crm(store_kind: str, tmp_path: Path, clock: Clock) -> Iterator[crmkit.CRM]:
    with _open(store_kind, tmp_path, clock) as crm:
        yield crm


def _by_name(crm: crmkit.CRM) -> dict[str, Contact]:
    return {c.display_name: c for c in crm.contacts.all()}


# -- German Excel ------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_german_excel_file(crm: crmkit.CRM, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "kontakte.csv"
    path.write_bytes(german_csv(encoding=encoding))
    report = import_csv(crm, path)
    assert report.ok, report.lines()
    assert report.delimiter == ";"
    assert report.encoding == {"utf-8-sig": "utf-8 (BOM)"}.get(encoding, encoding)
    assert report.rows == 3
    assert report.new_contacts == len(report.created) == 4
    assert report.linked == 2
    contacts = _by_name(crm)
    assert set(contacts) == {
        "Dr. Jürgen Müller",
        "Erika Mustermann",
        "Müller & Söhne GmbH",
        "Schulze Bürobedarf AG",
    }
    juergen = contacts["Dr. Jürgen Müller"]
    assert isinstance(juergen, Person)
    assert juergen.salutation == "Herr"
    assert juergen.primary_email == "j.mueller@mueller-soehne.de"
    assert [p.label for p in juergen.phones] == ["office", "mobile"]
    assert juergen.tags == {"VIP", "Newsletter", EXTERNAL_ID_TAG + "K-1001"}
    assert juergen.notes == "Ruft gern an; lieber vormittags"
    firm = contacts["Müller & Söhne GmbH"]
    assert isinstance(firm, Company)
    assert str(firm.addresses[0]) == "Hauptstraße 1, 10115 Berlin"
    assert {r.value for r in firm.relationships} == {"customer"}
    people = {p.display_name: a for a, p in crm.affiliations.people(firm)}
    assert people["Dr. Jürgen Müller"].position == "Geschäftsführer"
    assert people["Dr. Jürgen Müller"].department == "Geschäftsleitung"
    assert people["Erika Mustermann"].position == "Einkäuferin"
    supplier = contacts["Schulze Bürobedarf AG"]
    assert {r.value for r in supplier.relationships} == {"supplier"}
    assert supplier.addresses[0].city == "München"
    assert supplier.tags == {EXTERNAL_ID_TAG + "K-1003"}


def test_english_file_with_commas_and_any_line_ends(crm: crmkit.CRM) -> None:
    data = (
        b"First name,Last name,Company,Email,Phone,Job title,Department,Zip,City,Country\r"
        b'Anna,Schmidt,"Schmidt, Lange & Partner",anna@slp.de,+49 40 123456,CEO,,20095,'
        b"Hamburg,Germany\n"
        b'Tom,Lange,"Schmidt, Lange & Partner",tom@slp.de,,"Head of\nSales",Sales,,,\r\n'
    )
    report = import_csv(crm, io.BytesIO(data))
    assert report.ok, report.lines()
    assert (report.delimiter, report.encoding) == (",", "utf-8")
    assert report.new_contacts == 3
    assert report.linked == 2
    firm = crm.search("Schmidt Lange", kind="company")[0]
    assert isinstance(firm, Company)
    assert firm.name == "Schmidt, Lange & Partner"
    assert firm.addresses[0].postal_code == "20095"
    positions = sorted(a.position or "" for a in crm.affiliations.of_company(firm))
    assert positions == ["CEO", "Head of Sales"]


def test_tab_delimited_file(crm: crmkit.CRM) -> None:
    data = "Vorname\tNachname\tOrt\nGünther\tJauch\tPotsdam\n".encode()
    report = import_csv(crm, io.BytesIO(data))
    assert report.delimiter == "\t"
    assert [c.display_name for c in crm.contacts.all()] == ["Günther Jauch"]


def test_unseekable_stream(crm: crmkit.CRM) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    report = import_csv(crm, io.BufferedReader(Pipe(german_csv())))
    assert report.encoding == "cp1252"
    assert report.new_contacts == 4


# -- headers and mapping ---------------------------------------------------------------------
HEADER_TABLE = [(header, field) for field, headers in HEADERS.items() for header in headers] + [
    ("  e-mail ", "email"),
    ("STRASSE", "street"),
    ("Strasse", "street"),
    ("straße", "street"),
    ("Tel", "phone"),
    ("postal  code", "postal_code"),
    ("Schlagwoerter", "tags"),
    ("Job-Title", "position"),
    ("Farbe", None),
    ("", None),
]


@pytest.mark.parametrize(("header", "field"), HEADER_TABLE)
def test_header_detection(header: str, field: str | None) -> None:
    assert detect_field(header) == field


def test_every_field_has_headers() -> None:
    assert set(HEADERS) == set(FIELDS)


def test_mapping_override_and_unknown_columns(crm: crmkit.CRM) -> None:
    data = (
        "Name;Ansprechpartner;Kürzel;Farbe;Lieblingsessen\n"
        "Muster GmbH;Mustermann;MU;blau;Pizza\n"
        "Beispiel AG;;BE;grün;\n"
    ).encode()
    mapping = {"Name": "company", "ansprechpartner": "last_name", "Kürzel": "ignore"}
    report = import_csv(crm, io.BytesIO(data), mapping)
    assert report.unknown_columns == ("Farbe", "Lieblingsessen")
    assert dict(report.columns) == {"Name": "company", "Ansprechpartner": "last_name"}
    assert report.lines()[1] == "columns ignored (unknown): Farbe, Lieblingsessen"
    assert report.lines("de")[1] == "Spalten ignoriert (unbekannt): Farbe, Lieblingsessen"
    assert sorted(_by_name(crm)) == ["Beispiel AG", "Muster GmbH", "Mustermann"]
    assert report.linked == 1


def test_bad_arguments_raise(crm: crmkit.CRM, tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        import_csv(crm, io.BytesIO(b""), on_duplicate="ask")
    with pytest.raises(ValidationError):
        import_csv(crm, io.BytesIO(b""), batch_size=0)
    with pytest.raises(ValidationError):
        import_csv(crm, io.BytesIO(b""), {"Name": "nickname"})
    with pytest.raises(ValidationError):
        import_csv(crm, tmp_path / "missing.csv")


# -- dry run, bad rows -------------------------------------------------------------------------
def test_dry_run_writes_nothing(crm: crmkit.CRM) -> None:
    crm.contacts.add(Person(first_name="Vorher", last_name="Da"))
    audit = len(crm.audit.history())
    report = import_csv(crm, io.BytesIO(german_csv()), dry_run=True)
    assert report.dry_run
    assert report.created == ()
    assert (report.new_contacts, report.linked) == (4, 2)
    assert crm.contacts.count() == 1
    assert len(crm.audit.history()) == audit
    assert report.summary().startswith("dry run, nothing written: 3 rows read")
    assert report.summary("de").startswith("Probelauf, nichts gespeichert")


def test_bad_rows_are_reported_good_rows_imported(crm: crmkit.CRM) -> None:
    rows = [
        *GERMAN_ROWS,
        ";;Hans;Wurst;;keine-mail;;;;;;;;;;;K-2001;",
        ";;Grete;Test;;;12;;;;;;;;;;K-2002;",
        ";;;;;;;;;;;;;;;Stammkunde;K-2003;",
        ";;Otto;Normal;;;;;;;;Atlantis;;;;;K-2004;",
        ";;Ida;Ungut;;;;;;;;;;;Freund;;K-2005;",
    ]
    report = import_csv(crm, io.BytesIO(german_csv(rows)))
    assert report.new_contacts == 4
    assert crm.contacts.count() == 4
    where = [(p.row, p.column, p.code) for p in report.problems]
    assert where == [
        (5, "E-Mail", "email.invalid"),
        (6, "Telefon", "phone.local_only"),
        (7, "", "csv.row_without_name"),
        (8, "Land", "country.invalid"),
        (9, "Beziehung", "relationship.unknown"),
    ]
    assert report.problems[0].value == "keine-mail"
    german = report.problems[0].message("de")
    assert german.startswith("Zeile 5, Spalte 'E-Mail': 'keine-mail' ist keine gültige E-Mail")
    assert report.problems[2].message("de") == (
        "Zeile 7: die Zeile hat weder Vor- oder Nachnamen noch Firma; nicht importiert"
    )
    assert "row 6, column 'Telefon'" in str(report)
    assert not report.ok


def test_extra_cells_and_blank_rows(crm: crmkit.CRM) -> None:
    data = b"Vorname;Nachname\n\nAnna;Alt\n;;\nBen;Bau;zu viel\nCarl;Corn;;\n"
    report = import_csv(crm, io.BytesIO(data))
    assert [(p.row, p.code) for p in report.problems] == [(5, "csv.extra_cells")]
    assert sorted(_by_name(crm)) == ["Anna Alt", "Carl Corn"]
    assert report.rows == 3  # blank rows are not counted


def test_plugin_findings_are_row_problems(store_kind: str, tmp_path: Path, clock: Clock) -> None:
    class NoTestNames:
        @hookimpl
        def crmkit_validate_contact(self, contact: Contact) -> list[Finding]:
            if "Test" in contact.display_name:
                return [Finding(field="last_name", code="value.invalid", params={"reason": "x"})]
            return []

    with _open(store_kind, tmp_path, clock, plugins=[NoTestNames()]) as crm:
        data = b"Vorname;Nachname\nAnna;Test\nBen;Gut\n"
        report = import_csv(crm, io.BytesIO(data))
        assert [(p.row, p.column) for p in report.problems] == [(2, "Nachname")]
        assert [c.display_name for c in crm.contacts.all()] == ["Ben Gut"]


def test_report_rendering_is_escaped() -> None:
    report = CsvImportReport(
        rows=1,
        problems=(
            CsvProblem(row=2, column="<b>", value="<script>", code="email.invalid",
                       params={"reason": "x"}),
        ),
        unknown_columns=("<i>",),
        duplicates=((3, "C00001"),),
    )  # fmt: skip
    html = report._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;i&gt;" in html
    assert "row 3: already there as C00001" in str(report)


# -- companies and links -------------------------------------------------------------------------
def test_company_person_and_link_from_one_row(crm: crmkit.CRM) -> None:
    data = (
        b"Firma;Vorname;Nachname;Position;Abteilung\n"
        b"Muster GmbH;Max;Mustermann;Vertrieb;Innendienst\n"
        b"Muster GmbH\n"
        b"Nur Firma AG;;;;\n"
    )
    report = import_csv(crm, io.BytesIO(data), batch_size=1)
    assert report.new_contacts == 3
    assert report.linked == 1
    assert report.skipped == (3,)
    muster = crm.search("Muster GmbH", kind="company")[0]
    [(aff, person)] = crm.affiliations.people(muster)
    assert person.display_name == "Max Mustermann"
    assert (aff.position, aff.department) == ("Vertrieb", "Innendienst")
    only = crm.search("Nur Firma", kind="company")[0]
    assert crm.affiliations.people(only) == []


def test_existing_company_is_reused(crm: crmkit.CRM) -> None:
    firm = crm.contacts.add(Company(name="Muster GmbH"))
    data = b"Firma;Nachname\nmuster gmbh;Eins\nMUSTER  GMBH;Zwei\n"
    report = import_csv(crm, io.BytesIO(data))
    assert report.new_contacts == 2
    assert sorted(p.display_name for _, p in crm.affiliations.people(firm)) == ["Eins", "Zwei"]


# -- re-runs and duplicates ---------------------------------------------------------------------
def test_rerun_with_external_ids_creates_nothing(crm: crmkit.CRM) -> None:
    first = import_csv(crm, io.BytesIO(german_csv()))
    count = crm.contacts.count()
    second = import_csv(crm, io.BytesIO(german_csv()))
    assert crm.contacts.count() == count
    assert second.created == ()
    assert second.skipped == (2, 3, 4)
    numbers = dict(second.duplicates)
    assert numbers[2] == _by_name(crm)["Dr. Jürgen Müller"].number
    assert set(numbers.values()) <= set(first.created)
    assert "already there as" in second.lines()[1]
    assert "bereits vorhanden als" in second.lines("de")[1]


def test_repeated_external_id_within_the_file(crm: crmkit.CRM) -> None:
    data = b"Kundennummer;Nachname\n7;Erst\n7;Zweit\n"
    report = import_csv(crm, io.BytesIO(data))
    assert [c.display_name for c in crm.contacts.all()] == ["Erst"]
    assert report.duplicates == ((3, report.created[0]),)
    dry = import_csv(crm, io.BytesIO(b"Kundennummer;Nachname\n8;A\n8;B\n"), dry_run=True)
    assert dry.duplicates == ((3, ""),)
    assert "repeats an earlier row" in str(dry)


def test_rerun_without_external_ids(crm: crmkit.CRM) -> None:
    data = (
        "Vorname;Nachname;Firma;E-Mail;Telefon\n"
        "Jürgen;Müller;Müller GmbH;j.mueller@mueller.de;0170 1234567\n"
        "Erika;Mustermann;;erika@example.de;\n"
    ).encode("cp1252")
    first = import_csv(crm, io.BytesIO(data))
    assert first.new_contacts == 3
    again = import_csv(crm, io.BytesIO(data), on_duplicate="skip")
    assert again.new_contacts == 0
    assert crm.contacts.count() == 3
    assert again.skipped == (2, 3)
    assert {row for row, _ in again.duplicates} == {2, 3}
    assert import_csv(crm, io.BytesIO(data)).new_contacts == 0  # "skip" is the default
    flagged = import_csv(crm, io.BytesIO(data), dry_run=True, on_duplicate="flag")
    assert flagged.new_contacts == 2  # flag imports the persons, the company is reused
    assert {row for row, _ in flagged.duplicates} == {2, 3}


def test_on_duplicate_merge_folds_new_data_into_the_stored_contact(crm: crmkit.CRM) -> None:
    first = (
        "Vorname;Nachname;Firma;E-Mail;Telefon\nJürgen;Müller;Müller GmbH;j.mueller@mueller.de;\n"
    ).encode("cp1252")
    import_csv(crm, io.BytesIO(first))
    [stored] = crm.search("Jürgen Müller", kind="person")
    later = (
        "Vorname;Nachname;Firma;E-Mail;Telefon;Position\n"
        "Jürgen;Müller;Müller GmbH;j.mueller@mueller.de;0170 1234567;Einkauf\n"
    ).encode("cp1252")
    dry = import_csv(crm, io.BytesIO(later), dry_run=True, on_duplicate="merge")
    assert dry.merged == () and crm.contacts.get(stored.id).phones == ()
    report = import_csv(crm, io.BytesIO(later), on_duplicate="merge")
    assert report.ok, str(report)
    assert report.merged == ((2, stored.number),)
    assert f"merged into {stored.number}" in str(report)
    assert "zusammengeführt" in "\n".join(report.lines("de"))
    survivor = crm.contacts.get(stored.id)
    assert [p.e164 for p in survivor.phones] == ["+491701234567"]  # nothing lost
    assert [c.display_name for c in crm.search("Müller", kind="person")] == ["Jürgen Müller"]
    [merge] = crm.merges(survivor)
    crm.unmerge(merge)  # and it can be undone
    assert crm.contacts.get(stored.id).phones == ()


def test_batches_store_every_row(crm: crmkit.CRM) -> None:
    lines = ["Kundennummer;Firma;Nachname"]
    lines += [f"{i};Firma {i % 3};Person {i}" for i in range(25)]
    report = import_csv(crm, io.BytesIO("\n".join(lines).encode()), batch_size=4)
    assert report.ok
    assert crm.contacts.count() == 28
    assert report.linked == 25
    assert len(set(report.created)) == 28


# -- size and arbitrary bytes --------------------------------------------------------------------
def test_large_file_streams_with_bounded_memory(tmp_path: Path, clock: Clock) -> None:
    note = "Lorem ipsum dolor sit amet, consectetur adipisici elit; " * 16
    path = tmp_path / "gross.csv"
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write("Kundennummer;Nachname;E-Mail;Notizen\r\n")
        for i in range(20_000):
            out.write(f'K{i};Nachname{i};person{i}@example.de;"{note}"\r\n')
    size = path.stat().st_size
    assert size > 15_000_000
    with crmkit.open("memory://", clock=clock, load_entry_points=False) as crm:
        crm.contacts.count()
        tracemalloc.start()
        try:
            report = import_csv(crm, path, dry_run=True)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert report.rows == 20_000
        assert report.new_contacts == 20_000
        assert report.ok
        assert peak < size / 2, (peak, size)


def _raw_csv() -> st.SearchStrategy[bytes]:
    cells = st.sampled_from(
        ["Vorname", "Nachname", "Firma", "E-Mail", "Müller", "x@y.de", "0170 1", '"', ";", ","]
    )
    rows = st.lists(cells, max_size=6).map(lambda r: ";".join(r))
    text = st.lists(rows, max_size=6).map(lambda rs: "\r\n".join(rs))
    encodings = st.sampled_from(["utf-8", "cp1252", "utf-8-sig", "utf-16"])
    structured = st.tuples(text, encodings).map(lambda t: t[0].encode(t[1], "replace"))
    return st.one_of(st.binary(max_size=300), structured)


@given(data=_raw_csv())
@example(data=b"")
@example(data=codecs.BOM_UTF8)
@example(data=b"\x00\x00;\x00")
@example(data=b'Nachname\n"' + b"x" * 200_000)
@example(data=b"Nachname\r\x81\x8d\x8f\x90\x9d\r")
@example(data=b"Firma;Nachname\n;;\n\xff\xfe")
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
def test_any_bytes_give_a_report(data: bytes) -> None:
    with crmkit.open("memory://", load_entry_points=False) as crm:
        crm.contacts.add(Person(last_name="Schon Da"))
        report = import_csv(crm, io.BytesIO(data), dry_run=True)
        assert isinstance(report, CsvImportReport)
        assert crm.contacts.count() == 1
        for lang in ("en", "de"):
            assert all(isinstance(line, str) for line in report.lines(lang))
        real = import_csv(crm, io.BytesIO(data))
        assert crm.contacts.count() == 1 + real.new_contacts == 1 + len(real.created)


def test_progress_bar_on_request_and_silent_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "viele.csv"
    lines = ["Vorname;Nachname"] + [f"Anna{i};Schmidt{i}" for i in range(1200)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    crm = crmkit.open("memory://")
    report = crm.import_csv(path, dry_run=True)  # not a terminal: no bar
    assert report.rows == 1200
    assert capsys.readouterr().err == ""
    crm.import_csv(path, dry_run=True, progress=True)
    err = capsys.readouterr().err
    assert "viele.csv" in err and "100%" in err and "1,200" in err
    crm.import_csv(path, dry_run=True, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("order", ["name first", "name last"])
def test_a_plain_last_name_column_wins_over_name(crm: crmkit.CRM, order: str) -> None:
    # "Name" is the last name in German exports; beside a column that says
    # "Last name" it is read no longer, and the report says so (EN and DE).
    columns = ["Name", "First name", "Last name"]
    rows = [["Muster GmbH", "Anna", "Groß"], ["", "Jürgen", "Weiß"]]
    if order == "name last":
        columns = columns[1:] + columns[:1]
        rows = [r[1:] + r[:1] for r in rows]
    data = "\n".join(";".join(r) for r in [columns, *rows]).encode()
    report = import_csv(crm, io.BytesIO(data))
    assert dict(report.columns) == {"First name": "first_name", "Last name": "last_name"}
    assert sorted(_by_name(crm)) == ["Anna Groß", "Jürgen Weiß"]
    (problem,) = report.problems
    if order == "name first":
        assert (problem.column, problem.code) == ("Name", "csv.column_yields")
        assert "'Last name'" in problem.message()
        assert "„Last name“" in problem.message("de")
    else:  # read in order: "Last name" first, "Name" is a second column for it
        assert (problem.column, problem.code) == ("Name", "csv.column_twice")


def test_a_mapped_name_column_is_not_weak(crm: crmkit.CRM) -> None:
    data = "Name;Nachname\nGroß;Weiß\n".encode()
    report = import_csv(crm, io.BytesIO(data), {"Name": "last_name"})
    assert dict(report.columns) == {"Name": "last_name"}
    assert [p.code for p in report.problems] == ["csv.column_twice"]
    assert sorted(_by_name(crm)) == ["Groß"]
