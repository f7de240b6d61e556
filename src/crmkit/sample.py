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
from collections.abc import Iterable, Iterator
from typing import Any, Final, TypeVar

import attrs

from crmkit import normalize
from crmkit.model import (
    Address,
    Affiliation,
    Company,
    Contact,
    LeadInfo,
    LegalBasis,
    Person,
    link,
)

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


@attrs.frozen(kw_only=True)
class SampleEntry:
    """One correspondence entry of the demo as plain data, its days counted from today.

    ``day`` is the day the contact took place (``-1`` = yesterday) and
    ``time`` its local wall-clock time (``"09:40"``); ``follow_up_day`` the
    due day of the follow-up, if any (negative: already overdue).  The demo
    turns them into times with the CRM's clock, so the sample stays pure.
    """

    contact_ids: tuple[str, ...]
    channel: str
    direction: str | None = None
    day: int
    time: str
    subject: str = ""
    content: str = ""
    agreements: str = ""
    next_steps: str = ""
    follow_up_day: int | None = None
    assignee: str | None = None
    follow_up_done: bool = False


@attrs.frozen
class SampleData:
    """Unsaved entities: companies, persons, affiliations, and what was planted."""

    companies: tuple[Company, ...]
    persons: tuple[Person, ...]
    affiliations: tuple[Affiliation, ...]
    #: The duplicates and problems planted on purpose, in English and German.
    planted: tuple[tuple[str, str], ...]
    #: Correspondence with some of the contacts (calls, a meeting, notes …).
    entries: tuple[SampleEntry, ...] = ()
    #: Addresses the demo records a hard bounce for.
    bounces: tuple[str, ...] = ()
    #: Rule code → display names of the contacts it must fire on (and on no other),
    #: for the rules whose cases were planted on purpose.
    expected: dict[str, frozenset[str]] = attrs.field(factory=dict)


def demo_dataset(seed: int = 2026) -> SampleData:
    """The ``crmkit demo`` data: 24 companies, ~50 persons, planted duplicates and problems.

    Also seven correspondence entries (:class:`SampleEntry`: calls, a meeting
    protocol, an e-mail, a letter, an internal note and a club note; open,
    overdue and done follow-ups), their days relative to the day the demo runs.
    """
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
    companies.append(
        Company(
            name="Herr Peter Schmitz",
            relationships={"supplier"},
            emails=["peter@schmitz-fliesen.de"],
            phones=["0221 4567890"],
            addresses=[Address(street="Domstraße 3", postal_code="50668", city="Köln")],
        )
    )
    planted.append((
        "problem: a company named 'Herr Peter Schmitz' is probably a person",
        "Problem: ein Unternehmen namens „Herr Peter Schmitz“ ist wohl eine Person",
    ))  # fmt: skip
    persons.append(Person(first_name="Test", last_name="Test", emails=["test@example.org"]))
    planted.append((
        "problem: 'Test Test' is test data, and has no relationship",
        "Problem: „Test Test“ sind Testdaten, ohne Beziehungsart",
    ))  # fmt: skip
    krueger = Person(first_name="Paul", last_name="Krüger", emails=["p.krueger@muster.de"],
                     relationships={"customer"})  # fmt: skip
    vogt = Person(first_name="Lena", last_name="Vogt", emails=["l.vogt@muster.de"],
                  relationships={"customer"})  # fmt: skip
    persons.extend((krueger, vogt))
    affiliations.append(link(vogt, muster))
    planted.append((
        "problem: 'Paul Krüger' has a muster.de address but is not linked to Muster GmbH; "
        "'Lena Vogt' is linked without position or role",
        "Problem: „Paul Krüger“ hat eine muster.de-Adresse, ist Muster GmbH aber nicht "
        "zugeordnet; „Lena Vogt“ ist ohne Position und Rolle zugeordnet",
    ))  # fmt: skip
    bounced = next(p for p in persons if p.emails and p.id not in {krueger.id, vogt.id})
    planted.append((
        f"problem: mail to {bounced.emails[0].address} bounced (hard)",
        f"Problem: E-Mail an {bounced.emails[0].address} kam zurück (unzustellbar)",
    ))  # fmt: skip
    # The legal basis follows the relationship; Kim Neumann's is left to clarify.
    companies = [_with_basis(c) for c in companies]
    persons = [p if p.display_name == "Kim Neumann" else _with_basis(p) for p in persons]
    planted.append((
        "problem: no documented legal basis for 'Kim Neumann', 'Schmidt & Partner GmbH' "
        "and 'Test Test'",
        "Problem: keine dokumentierte Rechtsgrundlage für „Kim Neumann“, „Schmidt & Partner "
        "GmbH“ und „Test Test“",
    ))  # fmt: skip
    entries = _correspondence(companies, persons, affiliations)
    return SampleData(
        tuple(companies),
        tuple(persons),
        tuple(affiliations),
        tuple(planted),
        entries,
        (bounced.emails[0].address,),
        _expected(companies, persons, affiliations, bounced),
    )


_C = TypeVar("_C", Company, Person)


def _with_basis(contact: _C) -> _C:
    """*contact* with the legal basis its relationships suggest (none without any)."""
    names = {r.value for r in contact.relationships}
    if not names:
        return contact
    if names <= {"lead", "prospect"}:
        basis = LegalBasis(basis="legitimate_interest", purpose="Akquise")
    else:
        basis = LegalBasis(basis="contract", purpose="Geschäftsbeziehung")
    return attrs.evolve(contact, legal_basis=basis)


def _expected(
    companies: list[Company],
    persons: list[Person],
    affiliations: list[Affiliation],
    bounced: Person,
) -> dict[str, frozenset[str]]:
    """Where each planted rule must fire, read off the generated data (not off the rules)."""
    roles: dict[str, set[str]] = {c.id: set() for c in companies}
    staff: dict[str, int] = {c.id: 0 for c in companies}
    linked: dict[str, set[str]] = {p.id: set() for p in persons}
    for a in affiliations:
        roles[a.company_id] |= a.roles
        staff[a.company_id] += 1
        linked[a.person_id].add(a.company_id)
    customers = {c.id for c in companies if any(r.value == "customer" for r in c.relationships)}
    domains: dict[str, set[str]] = {}
    for c in companies:
        for e in c.emails:
            domains.setdefault(e.domain, set()).add(c.id)

    def names(contacts: Iterable[Contact]) -> frozenset[str]:
        return frozenset(c.display_name for c in contacts)

    return {
        "company.no_decision_maker": names(
            c for c in companies if "decision_maker" not in roles[c.id]
        ),
        "customer.no_billing_contact": names(
            c for c in companies if c.id in customers and "billing" not in roles[c.id]
        ),
        "company.no_contact_person": names(c for c in companies if not staff[c.id]),
        "person.looks_like_company": frozenset({"Schmidt & Partner GmbH"}),
        "company.looks_like_person": frozenset({"Herr Peter Schmitz"}),
        "contact.name_implausible": frozenset({"Test Test"}),
        "contact.no_relationship": frozenset({"Schmidt & Partner GmbH", "Test Test"}),
        "person.company_domain_unlinked": names(
            p
            for p in persons
            if any(
                domains.get(e.domain, set()) - linked[p.id] == domains.get(e.domain, set())
                and e.domain in domains
                for e in p.emails
            )
        ),
        "affiliation.no_role": frozenset({"Lena Vogt"}),
        "contact.email_undeliverable": frozenset({bounced.display_name}),
        "contact.no_email": names(c for c in (*companies, *persons) if not c.emails),
        "person.not_linked": names(p for p in persons if not linked[p.id]),
        "contact.no_legal_basis": names(c for c in (*companies, *persons) if c.legal_basis is None),
    }


def _primary_person(
    company: Company, persons: list[Person], affiliations: list[Affiliation]
) -> Person:
    first = next(a for a in affiliations if a.company_id == company.id and a.primary)
    return next(p for p in persons if p.id == first.person_id)


def _correspondence(
    companies: list[Company], persons: list[Person], affiliations: list[Affiliation]
) -> tuple[SampleEntry, ...]:
    """A week or two of history: mostly Muster GmbH, plus a bakery and a sports club."""
    muster = companies[0]
    boehm = _primary_person(muster, persons, affiliations)
    frau = f"{boehm.salutation} {boehm.last_name}"
    bakery = next(c for c in companies if c.name.startswith("Bäckerei Groß"))
    baker = _primary_person(bakery, persons, affiliations)
    club = next(c for c in companies if c.name.startswith("Sportverein"))
    return (
        SampleEntry(
            contact_ids=(boehm.id,),
            channel="phone",
            direction="outbound",
            day=-12,
            time="14:10",
            subject="Terminabsprache Jahresgespräch",
            content=f"{frau} wegen des Jahresgesprächs angerufen.",
            agreements="Jahresgespräch in vier Tagen, 10 Uhr, bei Muster GmbH.",
            follow_up_day=-9,
            assignee="anna",
            follow_up_done=True,
        ),
        SampleEntry(
            contact_ids=(muster.id, boehm.id),
            channel="meeting",
            direction="outbound",
            day=-8,
            time="10:00",
            subject="Gesprächsprotokoll Jahresgespräch 2027",
            content=(
                f"Teilnehmer: {frau} (Buchhaltung), Anna (Vertrieb).\n"
                "Themen: Liefermengen 2026, Zahlungsziele, Rahmenvertrag 2027."
            ),
            agreements="Rahmenvertrag 2027 zu den bisherigen Konditionen; 30 Tage netto.",
            next_steps="Angebot für den Rahmenvertrag an die Geschäftsführung schicken.",
            follow_up_day=-3,
            assignee="anna",
        ),
        SampleEntry(
            contact_ids=(muster.id,),
            channel="letter",
            direction="outbound",
            day=-6,
            time="09:00",
            subject="Preisanpassung zum 1. Januar",
            content="Schreiben zur Preisanpassung (+3,5 %) per Post an die Buchhaltung.",
        ),
        SampleEntry(
            contact_ids=(muster.id,),
            channel="internal_note",
            day=-4,
            time="16:20",
            subject="Bonität geprüft",
            content="Auskunft eingeholt: unauffällig. Rahmenvertrag bis 50.000 € freigegeben.",
        ),
        SampleEntry(
            contact_ids=(baker.id,),
            channel="email",
            direction="inbound",
            day=-2,
            time="11:05",
            subject="Anfrage Präsentkörbe",
            content="Bittet um ein Angebot für 40 Präsentkörbe zur Weihnachtsfeier.",
            next_steps="Angebot mit Staffelpreisen schicken.",
            follow_up_day=1,
            assignee="ben",
        ),
        SampleEntry(
            contact_ids=(boehm.id,),
            channel="phone",
            direction="inbound",
            day=-1,
            time="09:40",
            subject="Telefonnotiz: Skonto Rechnung R-2026-117",
            content=(
                f"{frau} ruft an: Skonto bei R-2026-117 nicht abgezogen (84,20 €). "
                "Entscheidung zum Rahmenvertrag fällt am Donnerstag."
            ),
            agreements="Gutschrift über 84,20 € bis Freitag; Skonto künftig auf der Rechnung.",
            next_steps=f"Gutschrift per E-Mail an {frau}; danach wegen Rahmenvertrag nachfassen.",
            follow_up_day=2,
            assignee="anna",
        ),
        SampleEntry(
            contact_ids=(club.id,),
            channel="association_note",
            day=-3,
            time="19:30",
            subject="Versammlung: Beitragserhöhung beschlossen",
            content="Beitragserhöhung auf 96 € im Jahr beschlossen (34 Ja, 5 Nein, 2 Enth.).",
            agreements="Der neue Beitrag gilt ab 1. Januar.",
            next_steps="Beitragsbescheide an alle Mitglieder versenden.",
            follow_up_day=14,
            assignee="ben",
        ),
    )


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
    # The first person decides, the second gets the invoices, the third looks
    # after IT -- except in every 5th firm, which has no decision maker (a
    # role-rule finding to look at).  Firms with fewer people lack the rest.
    club = company.legal_form == "e.V."
    roles_wanted = _staff_positions(club=club, with_decision_maker=bool(i % 5))
    for j in range(rng.randrange(1, 4)):
        first, gender = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        titles, department, roles = roles_wanted[j]
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


def _staff_positions(
    *, club: bool, with_decision_maker: bool
) -> tuple[tuple[tuple[str, str], str, set[str]], ...]:
    """The positions of a firm's first, second and third person, in that order."""
    by_title = {p[0][0]: p for p in POSITIONS}
    head = by_title["Vorsitzender" if club else "Geschäftsführer"]
    money = by_title["Kassenwart" if club else "Leiter Buchhaltung"]
    buyer = by_title["Einkäufer"]
    it = by_title["IT-Leiter"]
    if with_decision_maker:
        return (head, money, it)
    return (money, buyer, it)


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


__all__ = ["SampleData", "SampleEntry", "bulk_rows", "demo_dataset"]
