"""Realistic, reproducible German sample data (for ``crmkit demo``, docs and benchmarks).

Everything is derived from a seed with :class:`random.Random`; the same seed
always gives the same data.  Phone numbers use the fictional ranges of the
German examples (``+49 123 …`` is in no assigned range) mixed with real-format
mobile and city numbers written the many ways people write them.

>>> data = demo_dataset()
>>> len(data.companies) >= 20 and len(data.persons) >= 30
True
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any, Final

import attrs

from crmkit import normalize
from crmkit.model import Address, Affiliation, Company, LeadInfo, Person, link

FIRST_NAMES: Final = (
    ("Jürgen", "m"), ("Max", "m"), ("Hans-Peter", "m"), ("Stefan", "m"), ("Thomas", "m"),
    ("Michael", "m"), ("Andreas", "m"), ("Jörg", "m"), ("Björn", "m"), ("Lukas", "m"),
    ("Mehmet", "m"), ("Klaus", "m"), ("Uwe", "m"), ("Sören", "m"), ("Wolfgang", "m"),
    ("Erika", "f"), ("Anna", "f"), ("Sabine", "f"), ("Jülide", "f"), ("Käthe", "f"),
    ("Monika", "f"), ("Sophie", "f"), ("Marie", "f"), ("Ayşe", "f"), ("Birgit", "f"),
    ("Ursula", "f"), ("Lena", "f"), ("Franziska", "f"), ("Małgorzata", "f"), ("Renée", "f"),
)  # fmt: skip
LAST_NAMES: Final = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
    "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
    "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Köhler",
    "Groß", "Weiß", "Yılmaz", "Kowalski", "von Weizsäcker", "Özdemir", "Jäger", "Böhm",
)  # fmt: skip
STEMS: Final = (
    "Muster", "Bäckerei Groß", "Schäfer Logistik", "Rheinmetall Süd", "Alpenblick",
    "Nordlicht Software", "Elbtal Bau", "Fränkische Brauerei", "Schwarzwald Holz",
    "Hanse Consulting", "Ostsee Touristik", "Mainufer Immobilien", "Isar Medizintechnik",
    "Spreewald Feinkost", "Ruhrkohle Service", "Bodensee Solar", "Weserbergland Druck",
    "Neckar Maschinenbau", "Harz Energie", "Eifel Digital", "Sportverein Blau-Weiß",
    "Musikverein Harmonie", "Förderverein Grundschule Am Park", "Kleingartenverein Sonnenhang",
)  # fmt: skip
LEGAL_FORMS: Final = (
    "GmbH", "GmbH", "GmbH", "GmbH & Co. KG", "AG", "KG", "OHG", "GbR", "UG (haftungsbeschränkt)",
    "eG", "e.K.", "SE",
)  # fmt: skip
CITIES: Final = (
    ("Stuttgart", "70173", "711"), ("München", "80331", "89"), ("Berlin", "10115", "30"),
    ("Hamburg", "20095", "40"), ("Köln", "50667", "221"), ("Frankfurt am Main", "60311", "69"),
    ("Düsseldorf", "40213", "211"), ("Leipzig", "04109", "341"), ("Nürnberg", "90402", "911"),
    ("Dresden", "01067", "351"), ("Freiburg im Breisgau", "79098", "761"),
    ("Lübeck", "23552", "451"), ("Göttingen", "37073", "551"), ("Würzburg", "97070", "931"),
)  # fmt: skip
STREETS: Final = (
    "Hauptstraße", "Bahnhofstr.", "Schillerstraße", "Goethestr.", "Königstraße",
    "Lindenallee", "Am Marktplatz", "Mühlenweg", "Industriestraße", "Gartenstraße",
)  # fmt: skip
POSITIONS: Final[tuple[tuple[tuple[str, str], str, set[str]], ...]] = (
    (("Geschäftsführer", "Geschäftsführerin"), "Geschäftsleitung", {"decision_maker"}),
    (("Leiter Buchhaltung", "Leiterin Buchhaltung"), "Finanzen", {"billing"}),
    (("Buchhalter", "Buchhalterin"), "Finanzen", {"billing"}),
    (("IT-Leiter", "IT-Leiterin"), "IT", {"technical"}),
    (("Systemadministrator", "Systemadministratorin"), "IT", {"technical"}),
    (("Einkäufer", "Einkäuferin"), "Einkauf", set()),
    (("Vertriebsleiter", "Vertriebsleiterin"), "Vertrieb", {"decision_maker"}),
    (("Assistent der Geschäftsführung", "Assistentin der Geschäftsführung"),
     "Geschäftsleitung", set()),
    (("Vorsitzender", "Vorsitzende"), "Vorstand", {"decision_maker"}),
    (("Kassenwart", "Kassenwartin"), "Vorstand", {"billing"}),
)  # fmt: skip
RELATIONSHIPS: Final = (
    {"customer"}, {"customer"}, {"customer"}, {"supplier"}, {"customer", "supplier"},
    {"prospect"}, {"lead"}, {"partner"},
)  # fmt: skip
LEAD_SOURCES: Final = ("Messe", "Website", "Empfehlung", "Kaltakquise", "Newsletter")
FREE_MAIL: Final = ("gmail.com", "web.de", "gmx.de", "t-online.de")
#: Staff who own the demo's companies (the sales actor "anna" sees only hers).
DEMO_OWNERS: Final = ("anna", "ben", None)


def _ascii(text: str) -> str:
    """An e-mail/domain-safe spelling: ``"Jürgen-Peter"`` → ``"juergen-peter"``."""
    return "-".join(normalize.fold(text).split()) or "firma"


def _domain(stem: str) -> str:
    return _ascii(stem).replace(".", "") + ".de"


def _phone_text(rng: random.Random, area: str, local: str) -> str:
    """One German number written in one of the usual ways."""
    styles = (
        f"0{area} {local}",
        f"0{area}/{local}",
        f"+49 {area} {local}",
        f"+49 (0){area} {local[:-2]}-{local[-2:]}",
        f"0049 {area} {local}",
        f"(0{area}) {local}",
    )
    return rng.choice(styles)


def _mobile_text(rng: random.Random) -> str:
    prefix = rng.choice(("160", "170", "171", "172", "173", "174", "175"))
    local = f"{rng.randrange(10**6, 10**7)}"
    return rng.choice((f"0{prefix} {local}", f"+49 {prefix} {local}", f"0{prefix}-{local}"))


@attrs.frozen
class SampleData:
    """Unsaved entities: companies, persons, affiliations, and what was planted."""

    companies: tuple[Company, ...]
    persons: tuple[Person, ...]
    affiliations: tuple[Affiliation, ...]
    #: The duplicates and problems planted on purpose, in English and German.
    planted: tuple[tuple[str, str], ...]


def demo_dataset(seed: int = 2026) -> SampleData:
    """The ``crmkit demo`` data: 24 companies, ~50 persons, planted duplicates and problems."""
    rng = random.Random(seed)
    companies: list[Company] = []
    persons: list[Person] = []
    affiliations: list[Affiliation] = []
    for i, stem in enumerate(STEMS):
        company, staff, links = _company_with_staff(rng, i, stem)
        companies.append(company)
        persons.extend(staff)
        affiliations.extend(links)
    planted: list[tuple[str, str]] = []
    # Duplicates that users meet every day.
    muster = companies[0]
    companies.append(
        Company(
            name="Muster Gesellschaft mbH",
            emails=["info@muster.de"],
            phones=["+49 123 456-0"],
            relationships={"customer"},
            addresses=muster.addresses,
        )
    )
    planted.append((
        "duplicate: 'Muster GmbH' and 'Muster Gesellschaft mbH' (same e-mail)",
        "Dublette: „Muster GmbH“ und „Muster Gesellschaft mbH“ (gleiche E-Mail)",
    ))  # fmt: skip
    juergen = next((p for p in persons if p.first_name == "Jürgen"), persons[0])
    persons.append(
        Person(
            first_name=_ascii(juergen.first_name).replace("-", " ").title(),
            last_name=_ascii(juergen.last_name).replace("-", " ").title(),
            phones=["+49 170 9876543"],
            emails=[juergen.emails[0].address.upper()] if juergen.emails else [],
            relationships={"customer"},
        )
    )
    planted.append((
        f"duplicate: '{juergen.display_name}' written without umlauts",
        f"Dublette: „{juergen.display_name}“ ohne Umlaute geschrieben",
    ))  # fmt: skip
    # Quality problems.
    persons.append(
        Person(
            first_name="Kim",
            last_name="Neumann",
            relationships={"lead"},
            lead=LeadInfo(source="Messe", status="new"),
        )
    )
    planted.append((
        "problem: lead 'Kim Neumann' has no e-mail and no phone",
        "Problem: Lead „Kim Neumann“ hat weder E-Mail noch Telefon",
    ))  # fmt: skip
    persons.append(
        Person(last_name="Schmidt & Partner GmbH", emails=["kontakt@schmidt-partner.de"])
    )
    planted.append((
        "problem: a person named 'Schmidt & Partner GmbH' is probably a company",
        "Problem: eine Person namens „Schmidt & Partner GmbH“ ist wohl ein Unternehmen",
    ))  # fmt: skip
    companies.append(
        Company(
            name="Elbtal Bau Ost GmbH",
            relationships={"customer"},
            emails=["info@elbtal-bau-ost.de"],
        )
    )
    planted.append((
        "problem: customer 'Elbtal Bau Ost GmbH' has no contact person at all",
        "Problem: Kunde „Elbtal Bau Ost GmbH“ hat keinen Ansprechpartner",
    ))  # fmt: skip
    planted.append((
        "problem: numbers in the fictional +49 123 range are in no assigned range",
        "Problem: Nummern im fiktiven Bereich +49 123 sind nirgends vergeben",
    ))  # fmt: skip
    return SampleData(tuple(companies), tuple(persons), tuple(affiliations), tuple(planted))


def _company_with_staff(
    rng: random.Random, i: int, stem: str
) -> tuple[Company, list[Person], list[Affiliation]]:
    city, plz, area = CITIES[i % len(CITIES)]
    is_club = stem.startswith(("Sportverein", "Musikverein", "Förderverein", "Kleingarten"))
    form = "e.V." if is_club else LEGAL_FORMS[i % len(LEGAL_FORMS)]
    domain = _domain(stem)
    switchboard = f"{rng.randrange(100000, 999999)}"
    if i == 0:
        company_phone, area = "+49 123 456-0", "123"
        switchboard = "4560"
    else:
        company_phone = _phone_text(rng, area, switchboard[:-1] + "0")
    relationships = {"member"} if is_club else RELATIONSHIPS[i % len(RELATIONSHIPS)]
    company = Company(
        name=f"{stem} {form}",
        emails=[f"info@{domain}"],
        phones=[company_phone],
        addresses=[
            Address(
                street=f"{rng.choice(STREETS)} {rng.randrange(1, 120)}", postal_code=plz, city=city
            )
        ],
        website=f"https://www.{domain}",
        relationships=relationships,
        owner=DEMO_OWNERS[i % len(DEMO_OWNERS)],
        notes="Zahlt zuverlässig, Skonto vereinbart." if i % 4 == 0 else "",
        tags={rng.choice(("Branche-IT", "Branche-Handwerk", "Branche-Handel", "Newsletter"))},
        lead=LeadInfo(source=rng.choice(LEAD_SOURCES), status="contacted")
        if "lead" in relationships or "prospect" in relationships
        else None,
    )
    staff: list[Person] = []
    links: list[Affiliation] = []
    # Every 5th firm lacks a decision maker (a role-rule finding to look at).
    roles_wanted = (
        POSITIONS if i % 5 else tuple(p for p in POSITIONS if "decision_maker" not in p[2])
    )
    for j in range(rng.randrange(1, 4)):
        first, gender = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        titles, department, roles = roles_wanted[(i + j * 3) % len(roles_wanted)]
        position = titles[0] if gender == "m" else titles[1]
        phones = [_mobile_text(rng)] if rng.random() < 0.6 else []
        if i == 0 and j == 0:
            phones.append("+49 123 456-123")  # direct dial off the switchboard
        elif rng.random() < 0.5:
            phones.append(_phone_text(rng, area, switchboard[:-1] + str(10 + j)))
        email = f"{_ascii(first)}.{_ascii(last)}@{domain}".replace("-.", ".")
        person = Person(
            salutation="Herr" if gender == "m" else "Frau",
            title=rng.choice((None,) * 8 + ("Dr.", "Dr.", "Prof. Dr.")),
            first_name=first,
            last_name=last,
            emails=[email] if rng.random() < 0.9 else [],
            phones=phones,
            relationships=relationships,
        )
        staff.append(person)
        links.append(
            link(
                person,
                company,
                position=position,
                department=department,
                roles=roles,
                primary=j == 0,
            )
        )
    return company, staff, links


def bulk_rows(n: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """*n* raw contact rows as an import would read them (plain text fields).

    Two thirds persons, one third companies; persons share their company's
    domain; phone numbers come in every German style.  Used by the benchmarks.
    """
    rng = random.Random(seed)
    for k in range(n):
        city, plz, area = CITIES[k % len(CITIES)]
        if k % 3 == 0:
            stem = f"{rng.choice(STEMS)} {k // 3}"
            yield {
                "kind": "company",
                "name": f"{stem} {rng.choice(LEGAL_FORMS)}",
                "email": f"info@{_domain(stem)}",
                "phone": _phone_text(rng, area, f"{rng.randrange(10**5, 10**7)}0"),
                "street": f"{rng.choice(STREETS)} {rng.randrange(1, 200)}",
                "postal_code": plz,
                "city": city,
            }
        else:
            first, _gender = rng.choice(FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            company_stem = f"{rng.choice(STEMS)} {(k // 3)}"
            domain = rng.choice(FREE_MAIL) if rng.random() < 0.2 else _domain(company_stem)
            yield {
                "kind": "person",
                "first_name": first,
                "last_name": last,
                "email": f"{_ascii(first)}.{_ascii(last)}.{k}@{domain}",
                "phone": _mobile_text(rng)
                if rng.random() < 0.5
                else _phone_text(rng, area, f"{rng.randrange(10**5, 10**7)}"),
                "street": f"{rng.choice(STREETS)} {rng.randrange(1, 200)}",
                "postal_code": plz,
                "city": city,
            }


__all__ = ["SampleData", "bulk_rows", "demo_dataset"]
