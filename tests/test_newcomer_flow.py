"""Issue 9's "done when", end to end on a real SQLite file and the real command line.

A German Excel export (cp1252, semicolons, umlauts, broken phone numbers) is
checked with a dry run, fixed, imported, exported to vCard and read back into
an empty store without losing anything a vCard carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

import crmkit
from crmkit.cli import main
from crmkit.serialize import to_dict

EXCEL_EXPORT = (
    "Kundennummer;Anrede;Titel;Vorname;Nachname;Firma;Position;Abteilung;E-Mail;Telefon;"
    "Mobil;Straße;PLZ;Ort;Beziehung;Tags\r\n"
    "K-1001;Herr;Dr.;Jürgen;Müller;Müller & Söhne GmbH;Geschäftsführer;Geschäftsleitung;"
    "j.mueller@mueller-soehne.de;0711 / 12 34 56;0170-1234567;Königstraße 12;70173;"
    "Stuttgart;Kunde;Branche-Handwerk\r\n"
    "K-1002;Frau;;Grete;Weiß;Müller & Söhne GmbH;Buchhaltung;Finanzen;"
    "g.weiss@mueller-soehne.de;(0711) 12 34 56-78;;Königstraße 12;70173;Stuttgart;"
    "Kunde;\r\n"
    "K-1003;Frau;;Özlem;Çelik;Bäckerei Groß KG;Inhaberin;;oezlem@baeckerei-gross.de;"
    "0049 89 67442;kaputt-123;Mühlenweg 97;80331;München;Interessent;Messe 2026\r\n"
    "K-1004;Herr;;Hans-Peter;Groß;Bäckerei Groß KG;;;hp.gross(at)baeckerei-gross.de;"
    "+49 89 674420;;Mühlenweg 97;80331;München;Interessent;\r\n"
).encode("cp1252")


def _vcard_view(crm: crmkit.CRM) -> dict[str, Any]:
    """What a vCard carries of each contact (by id), and the primary affiliations."""
    out: dict[str, Any] = {}
    for contact in crm.contacts.all():
        data = to_dict(contact)
        for key in ("version", "created_at", "updated_at", "owner", "lead", "customer_since",
                    "legal_basis", "archived_at", "archive_reason", "merged_into",
                    "restricted_at"):  # fmt: skip
            data.pop(key, None)
        for phone in data["phones"]:
            phone.pop("raw")
        links = crm.affiliations.of_person(contact) if contact.kind == "person" else []
        data["primary"] = (
            (links[0].company_id, links[0].position, links[0].department) if links else None
        )
        out[contact.id] = data
    return out


def test_a_newcomer_imports_fixes_and_round_trips_an_excel_export(tmp_path: Path) -> None:
    runner = CliRunner()
    csv_path = tmp_path / "Kontakte Export.csv"
    csv_path.write_bytes(EXCEL_EXPORT)
    db = tmp_path / "crm.db"

    # 1. Dry run: the broken mobile and e-mail are reported by row and column; nothing written.
    dry = runner.invoke(main, ["--db", str(db), "--lang", "de", "import", str(csv_path),
                               "--dry-run"])  # fmt: skip
    assert dry.exit_code == 1, dry.output
    assert "Probelauf" in dry.output
    assert "Zeile 4" in dry.output and "Mobil" in dry.output
    assert "Zeile 5" in dry.output and "E-Mail" in dry.output
    with crmkit.open(f"sqlite:///{db}") as crm:
        assert crm.contacts.count() == 0

    # 2. Fix the two cells, import for real.
    fixed = EXCEL_EXPORT.replace(b"kaputt-123", b"0171 7654321").replace(b"(at)", b"@")
    csv_path.write_bytes(fixed)
    real = runner.invoke(main, ["--db", str(db), "import", str(csv_path)])
    assert real.exit_code == 0, real.output
    with crmkit.open(f"sqlite:///{db}") as crm:
        assert crm.contacts.count() == 6  # two companies, four persons
        [juergen] = crm.search("Juergen Mueller")
        assert isinstance(juergen, crmkit.Person)
        assert (juergen.title, juergen.salutation) == ("Dr.", "Herr")
        assert [p.e164 for p in juergen.phones] == ["+49711123456", "+491701234567"]
        assert juergen.tags == {"ext:K-1001", "Branche-Handwerk"}
        [oezlem] = crm.search("Çelik")
        assert [p.label for p in oezlem.phones] == ["office", "mobile"]
        before = _vcard_view(crm)

    # 3. Re-running the fixed file adds nothing.
    again = runner.invoke(main, ["--db", str(db), "import", str(csv_path)])
    assert again.exit_code == 0, again.output
    with crmkit.open(f"sqlite:///{db}") as crm:
        assert crm.contacts.count() == 6

    # 4. Export to vCard and read it into an empty store: nothing lost.
    vcf = tmp_path / "kontakte.vcf"
    exported = runner.invoke(main, ["--db", str(db), "export", str(vcf)])
    assert exported.exit_code == 0, exported.output
    fresh = tmp_path / "fresh.db"
    back = runner.invoke(main, ["--db", str(fresh), "import", str(vcf)])
    assert back.exit_code == 0, back.output
    with crmkit.open(f"sqlite:///{fresh}") as crm:
        assert _vcard_view(crm) == before
