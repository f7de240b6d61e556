"""Export as CSV, JSON and vCard, and reading JSON and vCards back, on real stores."""

from __future__ import annotations

import csv
import doctest
import io
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import crmkit
from crmkit import exporting, importing, jsonio, vcard
from crmkit.cli import main
from crmkit.crm import CRM
from crmkit.serialize import to_dict

STORES = ["memory", "sqlite"]


def _open(kind: str, tmp_path: Path, name: str = "target") -> CRM:
    if kind == "memory":
        return crmkit.open("memory://")
    return crmkit.open(f"sqlite:///{tmp_path / name}.db")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `crmkit demo` data, with a merge, a correction, a hold, a request and a decision."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(main, ["--db", str(path), "demo"])
    assert result.exit_code == 0, result.output
    with crmkit.open(f"sqlite:///{path}") as crm:
        people = [c for c in crm.contacts.all() if c.kind == "person"]
        crm.merge(people[0], people[1])
        crm.mark_distinct(people[2], people[3])
        entry = crm.correspondence.log(
            people[4], channel="phone", direction="inbound", occurred_at="2026-11-30T10:00:00Z",
            subject="Rückruf", content="Angebot besprochen",
        )  # fmt: skip
        crm.correspondence.correct(entry, reason="Tippfehler", content="Angebot besprochen.")
        crm.privacy.place_hold(people[5], "Betriebsprüfung 2026")
        crm.privacy.record_request("access", contact=people[6], requester="per Brief")
        archived = people[7]
        crm.contacts.archive(archived, reason="ausgeschieden")
    return path


@pytest.fixture
def demo(demo_db: Path) -> Iterator[CRM]:
    with crmkit.open(f"sqlite:///{demo_db}") as crm:
        yield crm


# -- JSON ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", STORES)
def test_json_round_trip_gives_the_same_data(demo: CRM, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    written = demo.export(path, "json")
    json.loads(path.read_text(encoding="utf-8"))  # one valid JSON document
    target = _open(kind, tmp_path)
    report = target.import_json(path)
    assert report.total == written
    for record_type in ("contact", "affiliation", "entry_revision", "consent_event", "bounce",
                        "legal_hold", "privacy_request", "merge", "dedup_decision"):  # fmt: skip
        assert report.counts[record_type] > 0, record_type
    assert list(jsonio.dump_all(target)) == list(jsonio.dump_all(demo))
    # The history reads back as it was, revisions included.
    entry = next(e for e in demo.correspondence.timeline(demo.contacts.all().__next__()) or [])
    assert target.correspondence.revisions(entry.id) == demo.correspondence.revisions(entry.id)
    # The store numbers on where the export left off.
    newest = target.contacts.add(crmkit.Person(last_name="Neu"))
    assert newest.number == f"C{demo.contacts.count(include_archived=True) + 1:05d}"


def test_json_import_is_all_or_nothing(demo: CRM, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    demo.export(path, "json")
    lines = path.read_text(encoding="utf-8").splitlines()
    # Break one affiliation well after the contacts: nothing at all may be stored.
    at = next(i for i, line in enumerate(lines) if '"type":"affiliation"' in line) + 3
    record = json.loads(lines[at].removesuffix(","))
    record["data"]["person_id"] = "0" * 32
    lines[at] = json.dumps(record) + ","
    path.write_text("\n".join(lines), encoding="utf-8")
    target = _open("sqlite", tmp_path)
    with pytest.raises(crmkit.CrmkitError, match=f"line {at + 1}"):
        target.import_json(path)
    assert target.contacts.count(include_archived=True) == 0
    assert target.correspondence.open_follow_ups() == []


def test_json_import_into_a_store_that_has_the_contacts_changes_nothing(
    demo: CRM, tmp_path: Path
) -> None:
    path = tmp_path / "export.json"
    demo.export(path, "json")
    target = _open("memory", tmp_path)
    target.import_json(path)
    before = list(jsonio.dump_all(target))
    with pytest.raises(crmkit.CrmkitError, match="exists"):
        target.import_json(path)
    assert list(jsonio.dump_all(target)) == before


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "not a readable crmkit export"),
        ("{}", "JSON array"),
        ("[\n", "Expecting value"),
        ('[\n{"crmkit":"export","format":99}\n]', "newer"),
        ('[\n{"crmkit":"export","format":1},\n{"type":"contact"}\n]', "line 3"),
        ('[\n{"crmkit":"export","format":1},\n{"type":"pet","data":{}}\n]', "unknown record"),
        (
            '[\n{"crmkit":"export","format":1},\n{"type":"contact","data":{"kind":"person"}}\n]',
            "line 3",
        ),
        ('[\n{"crmkit":"export","format":1},\n{"type":"contact","data":', "line 3"),
        (
            '[{"crmkit":"export","format":1}, {"type":"contact","data":{"kind":"company",'
            '"name":""}}]',
            "record 2.name: a company needs a name",
        ),
    ],
)
def test_a_bad_json_export_is_refused_clearly(text: str, where: str, tmp_path: Path) -> None:
    target = crmkit.open("memory://")
    with pytest.raises(crmkit.CrmkitError, match=where):
        target.import_json(io.StringIO(text))
    assert target.contacts.count(include_archived=True) == 0


def test_a_pretty_printed_export_still_reads(demo: CRM, tmp_path: Path) -> None:
    buffer = io.StringIO()
    demo.export(buffer, "json", query="Muster")
    pretty = json.dumps(json.loads(buffer.getvalue()), indent=2, ensure_ascii=False)
    target = crmkit.open("memory://")
    report = target.import_json(io.StringIO(pretty))
    assert report.counts["contact"] == len(demo.search("Muster", include_archived=True))
    assert {c.id for c in target.contacts.all()} == {c.id for c in demo.search("Muster")}


@given(st.text(max_size=300))
def test_any_text_as_json_export_gives_a_crmkit_error_or_imports(text: str) -> None:
    target = crmkit.open("memory://")
    try:
        target.import_json(io.StringIO(text))
    except crmkit.CrmkitError:
        assert target.contacts.count(include_archived=True) == 0


# -- CSV -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", STORES)
def test_csv_export_imports_again_into_an_empty_store(demo: CRM, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "kontakte.csv"
    count = demo.export(path, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8-SIG for German Excel
    assert raw.splitlines()[0].decode("utf-8-sig").startswith("Kundennummer;Anrede;Titel;")
    assert count == demo.contacts.count()
    target = _open(kind, tmp_path)
    report = target.import_csv(path)
    assert report.ok, str(report)

    def people(crm: CRM) -> set[tuple[Any, ...]]:
        out = set()
        for contact in crm.contacts.all():
            if isinstance(contact, crmkit.Person):
                links = crm.affiliations.of_person(contact)
                company = crm.contacts.get(links[0].company_id) if links else None
                out.add((contact.first_name, contact.last_name, contact.salutation,
                         tuple(e.address for e in contact.emails[:1]),
                         getattr(company, "name", None),
                         links[0].position if links else None))  # fmt: skip
        return out

    assert people(target) == people(demo)
    companies = {c.name for c in demo.contacts.all() if isinstance(c, crmkit.Company)}
    assert {c.name for c in target.contacts.all() if isinstance(c, crmkit.Company)} == companies
    # A second import of the same file adds nothing (Kundennummer is the external id).
    again = target.import_csv(path)
    assert again.ok
    assert target.contacts.count() == len(people(demo)) + len(companies)


def test_csv_cells_never_run_as_formulas(tmp_path: Path) -> None:
    crm = crmkit.open("memory://")
    crm.contacts.add(
        crmkit.Company(name='=HYPERLINK("http://evil")', notes="@SUM(A1)", tags={"-x", "+y"})
    )
    path = tmp_path / "out.csv"
    crm.export(path, "csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'@SUM(A1)" in cells
    # ... and reading the file back gives the values, not the apostrophes.
    target = crmkit.open("memory://")
    assert target.import_csv(path).ok
    [company] = target.contacts.all()
    assert isinstance(company, crmkit.Company)
    assert company.name == '=HYPERLINK("http://evil")'


@given(st.text(max_size=40))
def test_safe_cell_defuses_and_unguard_restores(text: str) -> None:
    cell = exporting.safe_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert importing.unguard(cell) == text


def test_csv_delimiter_and_encoding_are_configurable(demo: CRM, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    exporting.export_csv(demo, path, delimiter=",", encoding="cp1252")
    text = path.read_bytes().decode("cp1252")
    assert text.startswith("Kundennummer,Anrede,")
    assert "Müller" in text or "ü" in text
    with pytest.raises(crmkit.ValidationError, match="delimiter"):
        exporting.export_csv(demo, tmp_path / "x.csv", delimiter='"')
    with pytest.raises(crmkit.ValidationError, match="encoding"):
        exporting.export_csv(demo, tmp_path / "x.csv", encoding="klingon")


def test_unknown_format_is_refused(demo: CRM, tmp_path: Path) -> None:
    with pytest.raises(crmkit.ValidationError, match="format"):
        demo.export(tmp_path / "x.xml", "xml")
    assert not (tmp_path / "x.xml").exists()


def test_export_needs_the_export_right(demo_db: Path, tmp_path: Path) -> None:
    crm = crmkit.open(f"sqlite:///{demo_db}", actor="eva")
    with pytest.raises(crmkit.PermissionDenied):
        crm.export(tmp_path / "x.csv")
    crm.close()


# -- vCard -----------------------------------------------------------------------------------
def _comparable(contact: crmkit.Contact) -> dict[str, Any]:
    data = to_dict(contact)
    for key in ("version", "created_at", "updated_at", "owner", "lead", "customer_since",
                "legal_basis", "archived_at", "archive_reason", "merged_into",
                "restricted_at"):  # fmt: skip
        data.pop(key, None)
    for phone in data.get("phones", []):
        phone.pop("raw")
    for email in data.get("emails", []):
        email.pop("bounced_at", None)
    return data


def _primary_links(crm: CRM) -> set[tuple[Any, ...]]:
    out = set()
    for contact in crm.contacts.all():
        links = crm.affiliations.of_person(contact) if contact.kind == "person" else []
        if links:
            a = links[0]
            out.add((a.person_id, a.company_id, a.position, a.department, a.roles))
    return out


@pytest.mark.parametrize("kind", STORES)
def test_vcard_round_trip_keeps_the_contact_data(demo: CRM, kind: str, tmp_path: Path) -> None:
    path = tmp_path / "kontakte.vcf"
    written = demo.export(path, "vcard")
    text = path.read_text(encoding="utf-8")
    assert text.count("BEGIN:VCARD") == written == demo.contacts.count()
    assert "VERSION:4.0" in text and "KIND:org" in text
    target = _open(kind, tmp_path)
    report = target.import_vcard(path)
    assert report.problems == () and report.created == written
    assert {c.id: _comparable(c) for c in target.contacts.all()} == {
        c.id: _comparable(c) for c in demo.contacts.all()
    }
    assert _primary_links(target) == _primary_links(demo)
    again = target.import_vcard(path)
    assert (again.created, again.skipped) == (0, written)


def test_uids_are_stable_across_exports(demo: CRM) -> None:
    first, second = io.StringIO(), io.StringIO()
    demo.export(first, "vcard")
    demo.export(second, "vcard")
    uids = [line for line in first.getvalue().splitlines() if line.startswith("UID:")]
    assert uids == [line for line in second.getvalue().splitlines() if line.startswith("UID:")]
    assert len(set(uids)) == len(uids)


OUTLOOK_30 = """BEGIN:VCARD\r
VERSION:3.0\r
N:Müller;Jürgen;;Herr Dr.;\r
FN:Dr. Jürgen Müller\r
ORG:Beispiel AG;Einkauf\r
TITLE:Leiter Einkauf\r
TEL;TYPE=WORK,VOICE:+49 (0)711 123456\r
TEL;TYPE=CELL:0170 1234567\r
EMAIL;TYPE=INTERNET,WORK:j.mueller@beispiel.de\r
ADR;TYPE=WORK:;;Königstraße 1;Stuttgart;;70173;Deutschland\r
CATEGORIES:Messe 2026,VIP\r
UID:outlook-4711\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
N:Schmidt;Anna;;;\r
FN:Anna Schmidt\r
ORG:Beispiel AG\r
EMAIL;TYPE=HOME:anna@example.org\r
UID:outlook-4712\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
N:;;;;\r
FN:Kaputt\r
EMAIL:not an address\r
END:VCARD\r
"""


def test_reads_a_vcard_30_file_as_outlook_writes_it() -> None:
    crm = crmkit.open("memory://")
    report = crm.import_vcard(io.StringIO(OUTLOOK_30))
    assert (report.created, report.linked) == (3, 2)  # two persons and the new company
    [problem] = report.problems
    assert problem.card == 3
    assert "e-mail" in problem.message("en").lower()
    assert "Karte 3" in problem.message("de")
    [company] = crm.search("Beispiel AG", kind="company")
    juergen = crm.search("Jürgen Müller", kind="person")[0]
    assert isinstance(juergen, crmkit.Person)
    assert (juergen.salutation, juergen.title) == ("Herr", "Dr.")
    assert [p.e164 for p in juergen.phones] == ["+49711123456", "+491701234567"]
    assert [p.label for p in juergen.phones] == ["office", "mobile"]
    assert juergen.tags == {"Messe 2026", "VIP"}
    assert juergen.addresses[0].city == "Stuttgart"
    [link] = crm.affiliations.of_person(juergen)
    assert (link.company_id, link.position, link.department) == (
        company.id, "Leiter Einkauf", "Einkauf"
    )  # fmt: skip
    # The same file again adds nothing: foreign UIDs give stable ids.
    again = crm.import_vcard(io.StringIO(OUTLOOK_30))
    assert (again.created, again.skipped) == (0, 2)
    assert str(again).startswith("0 contacts created")


def test_a_person_is_linked_to_a_stored_company_by_name() -> None:
    crm = crmkit.open("memory://")
    stored = crm.contacts.add(crmkit.Company(name="Beispiel AG"))
    crm.import_vcard(io.StringIO(OUTLOOK_30))
    assert len(crm.search("Beispiel", kind="company")) == 1
    assert {a.company_id for a in crm.affiliations.of_company(stored)} == {stored.id}
    assert len(crm.affiliations.of_company(stored)) == 2


@given(st.text(max_size=300))
def test_any_text_as_vcard_gives_a_report_or_a_crmkit_error(text: str) -> None:
    crm = crmkit.open("memory://")
    try:
        report = crm.import_vcard(io.StringIO("BEGIN:VCARD\nVERSION:4.0\n" + text))
    except crmkit.CrmkitError:
        return
    assert report.created == crm.contacts.count()


# -- the command line --------------------------------------------------------------------------
def test_cli_exports_and_imports_every_format(demo_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("out.csv", "out.json", "out.vcf"):
        result = runner.invoke(main, ["--db", str(demo_db), "export", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "records written" in result.output
    for name in ("out.csv", "out.json", "out.vcf"):
        db = tmp_path / f"{name}.db"
        result = runner.invoke(main, ["--db", str(db), "import", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        with crmkit.open(f"sqlite:///{db}") as crm:
            assert crm.contacts.count() > 50
    result = runner.invoke(
        main, ["--db", str(demo_db), "--lang", "de", "export", "-", "--query", "@muster.de"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Kundennummer;")  # nothing else on stdout
    assert len(result.output.splitlines()) == 1 + len(
        crmkit.open(f"sqlite:///{demo_db}").search("@muster.de")
    )


@pytest.mark.parametrize("module", [exporting, importing, vcard], ids=lambda m: m.__name__)
def test_docstring_examples(module: types.ModuleType) -> None:
    assert doctest.testmod(module).failed == 0


# -- xlsx ------------------------------------------------------------------------------------
def _workbook(path: Path, rows: list[list[Any]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)


@pytest.mark.parametrize("kind", STORES)
def test_imports_an_xlsx_workbook_like_a_csv_file(kind: str, tmp_path: Path) -> None:
    import datetime as dt

    path = tmp_path / "kontakte.xlsx"
    _workbook(path, [
        ["Firma", "Anrede", "Vorname", "Nachname", "E-Mail", "Telefon", "PLZ", "Ort", "Kunde seit"],
        ["Bäckerei Groß GmbH", "Frau", "Jördis", "Weiß", "j.weiss@baeckerei-gross.de",
         "+49 89 674420", 80331, "München", dt.datetime(2020, 5, 1)],
        ["Muster GmbH", "Herr", "Max", "Mustermann", "kaputt@", None, None, None, None],
        [None, None, "Erika", "Musterfrau", None, "0170 1234567", "01067", "Dresden", None],
    ])  # fmt: skip
    crm = _open(kind, tmp_path)
    dry = crm.import_csv(path, dry_run=True)
    assert dry.encoding == "xlsx" and dry.rows == 3
    assert [p.row for p in dry.problems] == [3]
    assert "E-Mail" in dry.problems[0].message("de")
    assert crm.contacts.count() == 0
    report = crm.import_csv(path)
    assert report.new_contacts == 3  # company + person in row 2, Erika in row 4
    joerdis = crm.search("Weiß", kind="person")[0]
    assert isinstance(joerdis, crmkit.Person)
    assert joerdis.phones[0].e164 == "+4989674420"
    [link] = crm.affiliations.of_person(joerdis)
    assert crm.contacts.get(link.company_id).display_name == "Bäckerei Groß GmbH"
    erika = crm.search("Musterfrau")[0]
    assert erika.addresses[0].postal_code == "01067"
    # The same workbook again adds nothing.
    assert crm.import_csv(path).new_contacts == 0


def test_a_broken_workbook_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "kaputt.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    crm = crmkit.open("memory://")
    report = crm.import_csv(path)
    assert not report.ok
    assert "cannot be read" in report.problems[0].message("en")


def test_cli_imports_an_xlsx_file(tmp_path: Path) -> None:
    path = tmp_path / "k.xlsx"
    _workbook(path, [["Vorname", "Nachname"], ["Anna", "Schmidt"]])
    db = tmp_path / "x.db"
    result = CliRunner().invoke(main, ["--db", str(db), "import", str(path)])
    assert result.exit_code == 0, result.output
    with crmkit.open(f"sqlite:///{db}") as crm:
        assert [c.display_name for c in crm.contacts.all()] == ["Anna Schmidt"]
