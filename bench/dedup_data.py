"""Seeded German contact data with known duplicates (ground truth for ``bench.dedup``).

About 78 % persons, 22 % companies.  Names are Zipf-distributed (many
people share a name: "same name, different person" is the common case),
colleagues share their company's ``info@`` address, switchboard number and
office address, households share an address and a landline.  About 30 % of
the entities get one or two duplicates with typos, umlaut spellings
(``Müller`` → ``Mueller``/``Muller``), swapped first and last names, missing
fields, another phone number (mobile instead of office), a move,
``Straße`` → ``Str.``, a married name; companies with legal-form variants
(``GmbH`` → ``Gesellschaft mbH``, none at all), renames and ``kontakt@``
instead of ``info@``.

Phone numbers are written in the usual German styles (``phone_raw``); the
``phone`` column holds the E.164 form the model would store (a test checks
that :func:`crmkit.normalize.phone` agrees).  ``entity`` is the ground truth:
rows with the same entity are duplicates.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any, Final

from crmkit.normalize import company_name, fold

FIRST_M: Final = (
    "Thomas", "Michael", "Andreas", "Stefan", "Peter", "Christian", "Klaus", "Wolfgang",
    "Jürgen", "Frank", "Markus", "Bernd", "Uwe", "Jörg", "Matthias", "Alexander", "Martin",
    "Sven", "Ralf", "Dirk", "Hans", "Werner", "Günter", "Karl", "Dieter", "Manfred", "Tobias",
    "Sebastian", "Daniel", "Florian", "Jan", "Lukas", "Felix", "Jonas", "Björn", "Sören",
    "Mehmet", "Ahmet", "Piotr", "Hans-Peter", "Karl-Heinz", "Maximilian", "Niklas", "Tim",
    "Oliver", "Holger", "Rüdiger", "Götz", "Lars", "Kai", "Heiko", "Timo", "Volker", "Helmut",
)  # fmt: skip
FIRST_F: Final = (
    "Sabine", "Susanne", "Petra", "Claudia", "Andrea", "Stefanie", "Nicole", "Monika",
    "Birgit", "Ursula", "Anna", "Julia", "Katharina", "Sandra", "Christina", "Martina",
    "Renate", "Karin", "Gabriele", "Heike", "Anja", "Jülide", "Käthe", "Jürgina", "Lena",
    "Laura", "Sophie", "Marie", "Hannah", "Lea", "Ayşe", "Małgorzata", "Renée", "Doris",
    "Brigitte", "Ingrid", "Jutta", "Silke", "Tanja", "Yvonne", "Franziska", "Johanna",
    "Annegret", "Dörte", "Bärbel", "Elke", "Sonja", "Miriam", "Nadine", "Kerstin",
)  # fmt: skip
LAST_COMMON: Final = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze",
    "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs",
    "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel",
    "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck",
    "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm",
    "Winter", "Kraus", "Martin", "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto",
    "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber", "Graf", "Yılmaz",
    "Kaya", "Öztürk", "Kowalski", "Nowak", "Dietrich", "Ziegler", "Kühn", "Pohl", "Engel",
)  # fmt: skip
_PRE: Final = (
    "Ober", "Unter", "Neu", "Alt", "Groß", "Klein", "Schön", "Stein", "Wald", "Berg", "Hof",
    "Brunn", "Fisch", "Linden", "Sonnen", "Eich", "Bach", "Kirch", "Mühl", "Holz", "Wies",
    "Feld", "Rosen", "Stern", "Lichten", "Hirsch", "Adler", "Falken", "Birken", "Buchen",
    "Tann", "Eisen", "Gold", "Silber", "Kupfer", "Wein", "Korn", "Hasel", "Espen", "Dorn",
    "Grün", "Weiß", "Roth", "Schwarz", "Blum", "Frei", "Lieb", "Brück", "Burg", "Thal",
    "Heid", "Hecken", "Moos", "Ried", "Rhein", "Donau", "Main", "Elb", "Oder", "Isar",
)  # fmt: skip
_SUF: Final = (
    "mann", "er", "meier", "huber", "bauer", "berger", "feld", "hofer", "ner", "inger",
    "hardt", "rich", "ke", "ler", "ling", "stein", "bach", "wald", "müller", "schmidt",
    "brock", "hagen", "kamp", "horst", "busch",
)  # fmt: skip
TRADES: Final = (
    "Bau", "Logistik", "Software", "Consulting", "Immobilien", "Elektro", "Sanitär",
    "Dachdeckerei", "Maschinenbau", "Medizintechnik", "Feinkost", "Druck", "Solar",
    "Energie", "Digital", "Holzbau", "Metallbau", "Spedition", "Autohaus", "Steuerberatung",
    "Versicherungsmakler", "Gartenbau", "Malerbetrieb", "Reisen", "Handel", "Systems",
    "Kunststofftechnik", "Textil", "Verlag", "Pflegedienst", "Bäckerei", "Brauerei",
)  # fmt: skip
PLACES: Final = (
    "Elbtal", "Alpenblick", "Nordlicht", "Hanse", "Ostsee", "Mainufer", "Isartal", "Spreewald",
    "Ruhr", "Bodensee", "Weserbergland", "Neckar", "Harz", "Eifel", "Schwarzwald", "Allgäu",
    "Rheingau", "Taunus", "Odenwald", "Erzgebirge", "Vogtland", "Sauerland", "Münsterland",
    "Lausitz", "Uckermark", "Altmark", "Franken", "Pfalz", "Saar", "Mosel", "Havel", "Fichtel",
)  # fmt: skip
FORMS: Final = (
    "GmbH", "GmbH", "GmbH", "GmbH", "GmbH & Co. KG", "GmbH & Co. KG", "AG", "KG", "OHG",
    "GbR", "UG (haftungsbeschränkt)", "e.K.", "e.V.", "eG", "",
)  # fmt: skip
FORM_VARIANTS: Final[dict[str, tuple[str, ...]]] = {
    "GmbH": ("Gesellschaft mbH", "G.m.b.H.", "Gesellschaft mit beschränkter Haftung", ""),
    "GmbH & Co. KG": ("GmbH u. Co KG", "GmbH + Co. KG", "GmbH & Co KG", ""),
    "AG": ("Aktiengesellschaft", "A.G.", ""),
    "KG": ("K.G.", "Kommanditgesellschaft", ""),
    "OHG": ("oHG", ""),
    "GbR": ("G.b.R.", ""),
    "UG (haftungsbeschränkt)": ("UG (haftungsbeschraenkt)", "UG", ""),
    "e.K.": ("e. K.", ""),
    "e.V.": ("e. V.", "eingetragener Verein", ""),
    "eG": ("e.G.", ""),
    "": ("GmbH",),
}
STREETS: Final = (
    "Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Gartenstraße",
    "Lindenstraße", "Dorfstraße", "Kirchstraße", "Schulstraße", "Bergstraße", "Waldstraße",
    "Ringstraße", "Mühlenweg", "Am Marktplatz", "Lindenallee", "Industriestraße",
    "Friedrichstraße", "Poststraße", "Wiesenweg", "Birkenweg", "Rosenstraße", "Feldstraße",
    "Kastanienallee", "Jahnstraße", "Mozartstraße", "Beethovenstraße", "Uhlandstraße",
    "Lessingstraße", "Parkstraße", "Talstraße", "Blumenstraße", "Königstraße",
)  # fmt: skip
FREE_MAIL: Final = ("gmail.com", "web.de", "gmx.de", "t-online.de", "gmx.net", "yahoo.de")
AREA: Final = ("30", "40", "89", "221", "69", "711", "211", "341", "911", "351", "761", "451",
               "551", "931", "621", "721", "201", "231", "511", "421", "371", "361")  # fmt: skip
MOBILE: Final = ("151", "152", "157", "160", "162", "163", "170", "171", "172", "173", "174",
                 "175", "176", "177", "178", "179")  # fmt: skip
COLUMNS: Final = (
    "id", "entity", "kind", "first_name", "last_name", "name", "email", "phone", "phone_raw",
    "street", "postal_code", "city", "vat_id", "website",
)  # fmt: skip
_KEYS: Final = "qwertzuiopüasdfghjklöäyxcvbnm"


def _zipf(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (k + 1) ** s for k in range(n)]


def _slug(text: str) -> str:
    return "-".join(fold(text).split())


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        synthetic = sorted({p + s for p in _PRE for s in _SUF})
        synthetic += sorted({p + q.lower() + s for p in _PRE for q in _PRE[:30] for s in _SUF})
        rng.shuffle(synthetic)
        # About 0.8 % Müller, the 95 common names a quarter of all people,
        # the rest spread over some 45,000 rarer names.
        self.last_names = list(LAST_COMMON) + synthetic
        common = [0.008 / (k + 1) ** 0.5 for k in range(len(LAST_COMMON))]
        scale = 0.25 / sum(common)
        tail = _zipf(len(synthetic), 0.6)
        tail_scale = 0.75 / sum(tail)
        self.last_weights = [w * scale for w in common] + [w * tail_scale for w in tail]
        firsts = [(f, "m") for f in FIRST_M] + [(f, "f") for f in FIRST_F]
        rng.shuffle(firsts)
        self.first_names = [f for f, _g in firsts]
        self.first_weights = _zipf(len(self.first_names), 0.6)
        self.first_cum = list(itertools.accumulate(self.first_weights))
        self.last_cum = list(itertools.accumulate(self.last_weights))
        self.postcodes = sorted({f"{rng.randrange(1067, 99999):05d}" for _ in range(9000)})
        self.cities = {pc: rng.choice(PLACES) + rng.choice(("stadt", "dorf", "heim", "hausen",
                       "berg", "feld", "au", "ingen")) for pc in self.postcodes}  # fmt: skip
        self.used_domains: set[str] = set()
        self.used_phones: set[str] = set()

    # ------------------------------------------------------------- values
    def first(self) -> str:
        return self.rng.choices(self.first_names, cum_weights=self.first_cum)[0]

    def last(self) -> str:
        return self.rng.choices(self.last_names, cum_weights=self.last_cum)[0]

    def address(self) -> tuple[str, str, str]:
        pc = self.rng.choice(self.postcodes)
        street = f"{self.rng.choice(STREETS)} {self.rng.randrange(1, 180)}"
        if self.rng.random() < 0.05:
            street += self.rng.choice("abc")
        return street, pc, self.cities[pc]

    def number(self, prefix: str, digits: int) -> str:
        while True:
            e164 = "+49" + prefix + "".join(self.rng.choice("0123456789") for _ in range(digits))
            e164 = e164[:3] + e164[3:].replace("+", "")
            if e164 not in self.used_phones and e164[3 + len(prefix)] != "0":
                self.used_phones.add(e164)
                return e164

    def mobile(self) -> str:
        return self.number(self.rng.choice(MOBILE), 7)

    def landline(self) -> str:
        return self.number(self.rng.choice(AREA), 7)

    def company_base(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return f"{self.last()} {rng.choice(TRADES)}"
        if r < 0.55:
            return f"{rng.choice(PLACES)} {rng.choice(TRADES)}"
        if r < 0.75:
            return f"{rng.choice(TRADES)} {self.last()}"
        if r < 0.88:
            return f"{self.last()} & {self.last()}"
        letters = "".join(rng.choice("ABCDEFGHKLMNPRSTW") for _ in range(rng.randrange(2, 4)))
        return f"{letters} {rng.choice(TRADES)}"

    def domain(self, base: str) -> str:
        stem = _slug(base).replace("-&-", "-") or "firma"
        domain = f"{stem}.de"
        k = 2
        while domain in self.used_domains:
            domain = f"{stem}{k}.de"
            k += 1
        self.used_domains.add(domain)
        return domain

    # ------------------------------------------------------------- corruption
    def typo(self, text: str) -> str:
        rng = self.rng
        if len(text) < 3:
            return text
        i = rng.randrange(1, len(text))
        op = rng.random()
        if op < 0.3:
            return text[:i] + rng.choice(_KEYS) + text[i + 1 :]
        if op < 0.55:
            return text[:i] + text[i + 1 :]
        if op < 0.8:
            return text[:i] + rng.choice(_KEYS) + text[i:]
        if i < len(text) - 1:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        return text + rng.choice(_KEYS)

    def umlauts(self, text: str) -> str:
        if not any(c in text for c in "äöüÄÖÜß"):
            return text
        if self.rng.random() < 0.7:
            table = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
        else:
            table = {"ä": "a", "ö": "o", "ü": "u", "Ä": "A", "Ö": "O", "Ü": "U", "ß": "s"}
        return "".join(table.get(c, c) for c in text)

    def street_variant(self, street: str) -> str:
        if "straße" in street and self.rng.random() < 0.5:
            return street.replace("straße", self.rng.choice(("str.", "str", "strasse", " Str.")))
        return street


def _phone_raw(rng: random.Random, e164: str) -> str:
    """The number as someone might type it."""
    national = "0" + e164[3:]
    cut = 4 if national[1] == "1" else rng.choice((3, 4))
    area, local = national[:cut], national[cut:]
    return rng.choice((
        f"{area} {local}", f"{area}/{local}", f"+49 {area[1:]} {local}",
        f"+49 (0){area[1:]} {local}", f"0049 {area[1:]} {local}", f"({area}) {local}",
        f"{area}-{local}",
    ))  # fmt: skip


def generate(n: int, seed: int = 7) -> dict[str, list[Any]]:
    """*n* rows (columns as lists, see ``COLUMNS``) with ground truth in ``entity``."""
    g = _Gen(seed)
    rng = g.rng
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    companies: list[dict[str, Any]] = []
    entity = 0

    def emit(row: dict[str, Any]) -> None:
        cols["id"].append(f"R{len(cols['id']):07d}")
        for c in COLUMNS[1:]:
            cols[c].append(row.get(c, ""))

    def with_dups(row: dict[str, Any], corrupt: Any) -> None:
        emit(row)
        r = rng.random()
        copies = 0 if r >= 0.3 else (2 if r < 0.045 else 1)
        for _ in range(copies):
            emit(corrupt(dict(row)))

    while len(cols["id"]) < n:
        entity += 1
        if rng.random() < 0.18 or not companies:
            base = g.company_base()
            form = rng.choice(FORMS)
            domain = g.domain(base)
            street, pc, city = g.address()
            phone = g.landline()
            phone = phone[:-1] + "0"
            company = {
                "entity": entity, "kind": "company", "name": f"{base} {form}".strip(),
                "base": base, "form": form, "domain": domain,
                "email": f"info@{domain}" if rng.random() < 0.85 else "",
                "phone": phone if rng.random() < 0.85 else "",
                "street": street if rng.random() < 0.9 else "",
                "postal_code": pc, "city": city,
                "vat_id": f"DE{rng.randrange(10**8, 10**9)}" if rng.random() < 0.25 else "",
                "website": f"https://www.{domain}" if rng.random() < 0.6 else "",
                "switchboard": phone,
            }  # fmt: skip
            companies.append(company)
            firm = {k: v for k, v in company.items() if k in COLUMNS}
            with_dups(firm, lambda r, c=company: _corrupt_company(g, r, c))
            continue
        first = g.first()
        last = g.last()
        row: dict[str, Any] = {"entity": entity, "kind": "person", "first_name": first,
                               "last_name": last}  # fmt: skip
        employer = rng.choice(companies[-5000:]) if rng.random() < 0.55 else None
        if employer is not None:
            e = rng.random()
            f_, l_ = _slug(first).replace("-", ""), _slug(last).replace("-", "")
            if e < 0.08:
                row["email"] = f"info@{employer['domain']}"
            elif e < 0.55:
                row["email"] = f"{f_}.{l_}@{employer['domain']}"
            elif e < 0.8:
                row["email"] = f"{f_[0]}.{l_}@{employer['domain']}"
            p = rng.random()
            if p < 0.4:
                row["phone"] = employer["switchboard"][:-1] + str(rng.randrange(10, 999))
            elif p < 0.5:
                row["phone"] = employer["switchboard"]
            elif p < 0.8:
                row["phone"] = g.mobile()
            if rng.random() < 0.5:
                row["street"], row["postal_code"] = employer["street"], employer["postal_code"]
                row["city"] = employer["city"]
            elif rng.random() < 0.5:
                row["street"], row["postal_code"], row["city"] = g.address()
        else:
            if rng.random() < 0.7:
                f_, l_ = _slug(first).replace("-", ""), _slug(last).replace("-", "")
                row["email"] = f"{f_}.{l_}{rng.randrange(1, 99)}@{rng.choice(FREE_MAIL)}"
            p = rng.random()
            if p < 0.5:
                row["phone"] = g.mobile()
            elif p < 0.75:
                row["phone"] = g.landline()
            if rng.random() < 0.75:
                row["street"], row["postal_code"], row["city"] = g.address()
        with_dups(row, lambda r: _corrupt_person(g, r))
        # A household: another person at the same address and landline.
        if employer is None and row.get("street") and rng.random() < 0.08:
            entity += 1
            other: dict[str, Any] = {
                "entity": entity, "kind": "person", "first_name": g.first(),
                "last_name": last if rng.random() < 0.7 else g.last(),
                "street": row["street"], "postal_code": row["postal_code"], "city": row["city"],
                "phone": row.get("phone", "")
                if rng.random() < 0.5 and not row.get("phone", "").startswith("+491")
                else "",
            }  # fmt: skip
            with_dups(other, lambda r: _corrupt_person(g, r))
    for c in COLUMNS:
        del cols[c][n:]
    cols["phone_raw"] = [_phone_raw(rng, p) if p else "" for p in cols["phone"]]
    return cols


def _corrupt_person(g: _Gen, row: dict[str, Any]) -> dict[str, Any]:
    rng = g.rng
    if rng.random() < 0.5:
        row["first_name"] = g.umlauts(row["first_name"])
        row["last_name"] = g.umlauts(row["last_name"])
    if rng.random() < 0.12:
        row["first_name"] = g.typo(row["first_name"])
    if rng.random() < 0.12:
        row["last_name"] = g.typo(row["last_name"])
    if rng.random() < 0.04:
        row["last_name"] = g.last()  # married name
    if rng.random() < 0.04:
        row["first_name"], row["last_name"] = row["last_name"], row["first_name"]
    if rng.random() < 0.03:
        row["first_name"] = ""
    e = rng.random()
    if e < 0.2:
        row["email"] = ""
    elif e < 0.3 and row.get("email"):
        f_, l_ = _slug(row["first_name"]).replace("-", ""), _slug(row["last_name"]).replace("-", "")
        row["email"] = f"{f_ or 'x'}.{l_}{rng.randrange(100, 999)}@{rng.choice(FREE_MAIL)}"
    elif e < 0.4 and row.get("email"):
        local, _, domain = row["email"].partition("@")
        row["email"] = local.capitalize() + "@" + domain
    p = rng.random()
    if p < 0.25:
        row["phone"] = ""
    elif p < 0.37:
        row["phone"] = g.mobile()  # the mobile instead of the office number
    a = rng.random()
    if a < 0.2:
        row["street"] = row["postal_code"] = row["city"] = ""
    elif a < 0.26:
        row["street"], row["postal_code"], row["city"] = g.address()  # moved
    elif row.get("street"):
        row["street"] = g.street_variant(row["street"])
    return row


def _corrupt_company(g: _Gen, row: dict[str, Any], company: dict[str, Any]) -> dict[str, Any]:
    rng = g.rng
    base, form = company["base"], company["form"]
    if rng.random() < 0.5:
        form = rng.choice(FORM_VARIANTS.get(form, ("",)))
    if rng.random() < 0.4:
        base = g.umlauts(base)
    if rng.random() < 0.1:
        base = g.typo(base)
    if rng.random() < 0.05:
        base = g.company_base()  # renamed
    row["name"] = f"{base} {form}".strip()
    e = rng.random()
    if e < 0.25:
        row["email"] = ""
    elif e < 0.4:
        row["email"] = f"kontakt@{company['domain']}"
    p = rng.random()
    if p < 0.3:
        row["phone"] = ""
    elif p < 0.45:
        row["phone"] = g.landline()
    a = rng.random()
    if a < 0.25:
        row["street"] = row["postal_code"] = row["city"] = ""
    elif a < 0.3:
        row["street"], row["postal_code"], row["city"] = g.address()
    elif row.get("street"):
        row["street"] = g.street_variant(row["street"])
    if rng.random() < 0.4:
        row["website"] = ""
    if rng.random() < 0.5:
        row["vat_id"] = ""
    return row


def true_pair_count(entity: Sequence[int]) -> int:
    """How many pairs of rows share an entity."""
    counts: dict[int, int] = {}
    for e in entity:
        counts[e] = counts.get(e, 0) + 1
    return sum(k * (k - 1) // 2 for k in counts.values())


def split_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Base names and legal forms of company names (memoised)."""
    cache: dict[str, tuple[str, str]] = {}
    bases: list[str] = []
    forms: list[str] = []
    for name in names:
        if not name:
            bases.append("")
            forms.append("")
            continue
        found = cache.get(name)
        if found is None:
            b, f = company_name(name)
            found = cache[name] = (b, f or "")
        bases.append(found[0])
        forms.append(found[1])
    return bases, forms
