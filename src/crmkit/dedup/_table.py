"""The columnar form of the contacts that duplicate detection works on.

:class:`ContactTable` holds one row per contact: the canonical values the
model stores (folded names, lower-case e-mail addresses, E.164 numbers,
normalised streets) as integer codes into value pools, in numpy arrays.
Everything after this module works on integer record numbers and these
arrays; no Python object is made per pair.

Folding and phonetics are computed once per *distinct* value (names follow
Zipf's law, so a million contacts hold a few ten thousand distinct names).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from crmkit import normalize
from crmkit.model import Company, Contact, Person

IntArray = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

PERSON: Final = 0
COMPANY: Final = 1
KIND_NAMES: Final = ("person", "company")

#: How many e-mail addresses and phone numbers per contact take part.
SLOTS: Final = 3

#: Mail providers whose domain says nothing about the employer.
FREE_MAIL_DOMAINS: Final = frozenset({
    "gmail.com", "googlemail.com", "web.de", "gmx.de", "gmx.net", "gmx.at", "gmx.ch",
    "t-online.de", "yahoo.de", "yahoo.com", "hotmail.com", "hotmail.de", "outlook.com",
    "outlook.de", "live.de", "icloud.com", "me.com", "freenet.de", "aol.com", "aol.de",
    "posteo.de", "mailbox.org", "arcor.de", "1und1.de", "online.de", "protonmail.com",
    "proton.me", "email.de", "kabelmail.de", "vodafone.de",
})  # fmt: skip

#: Local parts of shared (role) addresses: a person found there is not
#: identified by it.
ROLE_LOCAL_PARTS: Final = frozenset({
    "info", "kontakt", "contact", "office", "buero", "büro", "mail", "post", "service",
    "zentrale", "verwaltung", "hallo", "hello", "team", "vertrieb", "sales", "support",
    "empfang", "sekretariat", "anfrage", "anfragen", "bestellung", "buchhaltung",
    "rechnung", "rechnungen", "personal", "hr", "jobs", "karriere", "noreply", "no-reply",
    "webmaster", "admin", "geschaeftsstelle", "vorstand", "presse", "marketing", "einkauf",
})  # fmt: skip

_STREET_SUFFIX: Final = re.compile(r"(?<=[a-z])\s*(?:str|strasse)\b")
_STREET_WORDS: Final = (
    (re.compile(r"\bpl\b"), "platz"),
    (re.compile(r"\bst\b"), "sankt"),
)
_HOUSE_NUMBER: Final = re.compile(r"^(.*?)\s*(\d+(?:\s*[a-z])?(?:\s+\d+[a-z]?)?)?$")
_URL_HOST: Final = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([^/:?#]+)", re.I)

#: Tokens of company names too common to find anything.
COMPANY_STOP_WORDS: Final = frozenset({
    "und", "der", "die", "das", "des", "fuer", "von", "am", "im", "an", "in", "zu", "zum", "zur",
    "co", "cie", "gruppe", "group", "the", "and", "of",
})  # fmt: skip


_GERMAN: Final = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ß": "ss", "ẞ": "ss"}
)
_NOT_ALNUM: Final = re.compile(r"[^a-z0-9]+")
_NOT_DIGIT: Final = re.compile(r"[^0-9]+")


def fold(text: str) -> str:
    """:func:`crmkit.normalize.fold`, faster for the usual German text.

    Text that is ASCII once the umlauts and ß are spelled out takes a
    shortcut (lower case, every run of other characters one space); all
    other text goes through :func:`crmkit.normalize.fold`.  The result is
    the same either way.
    """
    plain = text.translate(_GERMAN)
    if plain.isascii():
        return _NOT_ALNUM.sub(" ", plain.lower()).strip()
    return normalize.fold(text)


def street_key(street: str) -> tuple[str, str]:
    """The matching key of a street line: (street name, house number).

    ``"Hauptstraße 5a"``, ``"Hauptstr. 5 a"`` and ``"Haupt-Straße 5A"`` all
    give ``("hauptstrasse", "5a")``.

    >>> street_key("Bahnhofstr. 12")
    ('bahnhofstrasse', '12')
    """
    folded = fold(street)
    folded = _STREET_SUFFIX.sub("strasse", folded)
    for pattern, word in _STREET_WORDS:
        folded = pattern.sub(word, folded)
    match = _HOUSE_NUMBER.match(folded)
    if match is None:  # pragma: no cover - the pattern matches every string
        return folded.replace(" ", ""), ""
    name, number = match.group(1), match.group(2) or ""
    return name.replace(" ", ""), number.replace(" ", "")


def web_domain(url: str) -> str:
    """The host of a web address without ``www.``, lower-case (``""`` if none)."""
    match = _URL_HOST.match(url.strip())
    return match.group(1).lower().rstrip(".") if match else ""


class _Pool:
    """Distinct strings and their integer codes (``-1`` is "missing")."""

    __slots__ = ("index", "values")

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        if not value:
            return -1
        found = self.index.get(value)
        if found is None:
            found = len(self.values)
            self.index[value] = found
            self.values.append(value)
        return found

    def array(self) -> npt.NDArray[np.object_]:
        out = np.empty(len(self.values), dtype=object)
        out[:] = self.values
        return out


def _memo(fn: Callable[[str], str]) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def call(value: str) -> str:
        found = cache.get(value)
        if found is None:
            found = fn(value)
            cache[value] = found
        return found

    return call


class ContactTable:
    """Contacts in columns, ready for :func:`crmkit.dedup.find_duplicates`.

    Build one with :meth:`from_contacts` (any iterable of
    :class:`~crmkit.Person` / :class:`~crmkit.Company`) or, for data that is
    already canonical and too large to hold as entities, with
    :meth:`from_columns`.  Rows keep the input order; ``ids[i]`` names row *i*.
    """

    def __init__(
        self,
        *,
        ids: Sequence[str],
        kinds: Sequence[str],
        first_names: Sequence[str],
        last_names: Sequence[str],
        names: Sequence[str],
        base_names: Sequence[str],
        legal_forms: Sequence[str],
        emails: Sequence[Sequence[str]],
        phones: Sequence[Sequence[str]],
        phone_labels: Sequence[Sequence[str]] | None,
        streets: Sequence[str],
        postal_codes: Sequence[str],
        cities: Sequence[str],
        vat_ids: Sequence[str],
        websites: Sequence[str],
        employers: Mapping[str, Collection[str]] | None,
    ) -> None:
        n = len(ids)
        columns = (kinds, first_names, last_names, names, base_names, legal_forms, emails)
        more = (phones, streets, postal_codes, cities, vat_ids, websites)
        if any(len(c) != n for c in (*columns, *more)):
            raise ValueError("every column needs one value per id")
        if phone_labels is not None and len(phone_labels) != n:
            raise ValueError("every column needs one value per id")
        if len(set(ids)) != n:
            raise ValueError("ids must be unique")
        self.ids: tuple[str, ...] = tuple(ids)
        self.size = n
        self.first_names = first_names
        self.last_names = last_names
        self.names = names
        self.emails = emails
        self.phones = phones
        self.streets = streets
        self.postal_codes = postal_codes
        self.cities = cities
        self.vat_ids = vat_ids
        self.websites = websites
        self._build(kinds, base_names, legal_forms, phone_labels, employers)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_contacts(
        cls,
        contacts: Iterable[Contact],
        *,
        employers: Mapping[str, Collection[str]] | None = None,
    ) -> ContactTable:
        """A table of *contacts* (persons and companies, in any order).

        *employers* optionally maps a person id to the ids of the companies
        the person works for (the affiliations); two persons with the same
        name at different companies are then weaker evidence of a duplicate.
        """
        ids: list[str] = []
        kinds: list[str] = []
        first: list[str] = []
        last: list[str] = []
        names: list[str] = []
        bases: list[str] = []
        forms: list[str] = []
        emails: list[tuple[str, ...]] = []
        phones: list[tuple[str, ...]] = []
        labels: list[tuple[str, ...]] = []
        streets: list[str] = []
        codes: list[str] = []
        cities: list[str] = []
        vats: list[str] = []
        sites: list[str] = []
        for c in contacts:
            if not isinstance(c, Person | Company):
                raise TypeError(f"expected a Person or a Company, got {type(c).__name__}")
            ids.append(c.id)
            kinds.append(c.kind)
            if isinstance(c, Person):
                first.append(c.first_name)
                last.append(c.last_name)
                names.append("")
                bases.append("")
                forms.append("")
                vats.append("")
            else:
                first.append("")
                last.append("")
                names.append(c.name)
                bases.append(c.base_name)
                forms.append(c.legal_form or "")
                vats.append(c.vat_id or "")
            emails.append(tuple(e.address for e in c.emails))
            phones.append(tuple(p.e164 for p in c.phones))
            labels.append(tuple(p.label for p in c.phones))
            address = c.addresses[0] if c.addresses else None
            streets.append(address.street if address else "")
            codes.append(address.postal_code if address else "")
            cities.append(address.city if address else "")
            sites.append(c.website or "")
        return cls(
            ids=ids, kinds=kinds, first_names=first, last_names=last, names=names,
            base_names=bases, legal_forms=forms, emails=emails, phones=phones,
            phone_labels=labels, streets=streets, postal_codes=codes, cities=cities,
            vat_ids=vats, websites=sites, employers=employers,
        )  # fmt: skip

    @classmethod
    def from_columns(
        cls,
        *,
        ids: Sequence[str],
        kinds: Sequence[str],
        first_names: Sequence[str],
        last_names: Sequence[str],
        names: Sequence[str],
        emails: Sequence[Sequence[str]],
        phones: Sequence[Sequence[str]],
        streets: Sequence[str],
        postal_codes: Sequence[str],
        cities: Sequence[str],
        vat_ids: Sequence[str] | None = None,
        websites: Sequence[str] | None = None,
        base_names: Sequence[str] | None = None,
        legal_forms: Sequence[str] | None = None,
        phone_labels: Sequence[Sequence[str]] | None = None,
        employers: Mapping[str, Collection[str]] | None = None,
    ) -> ContactTable:
        """A table from columns of values that are **already canonical**.

        Use it for data too large to hold as entities: e-mail addresses as
        :func:`crmkit.normalize.email` returns them, phone numbers in E.164,
        postal codes as :func:`crmkit.normalize.postal_code` returns them;
        ``""`` for a missing value.  ``kinds`` holds ``"person"`` or
        ``"company"``; persons use ``first_names``/``last_names``, companies
        ``names`` (``base_names``/``legal_forms`` are derived with
        :func:`crmkit.normalize.company_name` when not given).  Nothing is
        validated beyond the shape: garbage in gives poor matches, not errors.
        """
        n = len(ids)
        if base_names is None or legal_forms is None:
            split = _memo_split()
            pairs = [split(name) if name else ("", "") for name in names]
            base_names = [b for b, _ in pairs]
            legal_forms = [f for _, f in pairs]
        empty = [""] * n
        return cls(
            ids=ids, kinds=kinds, first_names=first_names, last_names=last_names, names=names,
            base_names=base_names, legal_forms=legal_forms, emails=emails, phones=phones,
            phone_labels=phone_labels, streets=streets, postal_codes=postal_codes, cities=cities,
            vat_ids=vat_ids if vat_ids is not None else empty,
            websites=websites if websites is not None else empty, employers=employers,
        )  # fmt: skip

    # ------------------------------------------------------------------ features

    def _build(
        self,
        kinds: Sequence[str],
        base_names: Sequence[str],
        legal_forms: Sequence[str],
        phone_labels: Sequence[Sequence[str]] | None,
        employers: Mapping[str, Collection[str]] | None,
    ) -> None:
        n = self.size
        fold_ = _memo(fold)
        phonetic = _memo(normalize.koelner_phonetik)
        street_of = _memo_street()
        kind_code = {"person": PERSON, "company": COMPANY}
        try:
            self.kind = np.fromiter((kind_code[k] for k in kinds), dtype=np.int8, count=n)
        except KeyError as exc:
            raise ValueError(f"unknown contact kind {exc.args[0]!r}") from None

        # Names of persons share one pool, so first and last names compare
        # across (swapped names).
        names = _Pool()
        self.first = np.fromiter((names.code(fold_(v)) for v in self.first_names), np.int32, n)
        self.last = np.fromiter((names.code(fold_(v)) for v in self.last_names), np.int32, n)
        self.name_pool = names.array()
        persons = self.kind == PERSON
        self.persons = int(persons.sum())
        size = len(names.values)
        self.name_count = np.bincount(self.first[persons & (self.first >= 0)], minlength=size)
        self.name_count += np.bincount(self.last[persons & (self.last >= 0)], minlength=size)
        self.name_phonetic = [phonetic(v) for v in names.values]

        companies = _Pool()
        self.base = np.fromiter((companies.code(fold_(v)) for v in base_names), np.int32, n)
        self.base_pool = companies.array()
        forms = _Pool()
        self.form = np.fromiter((forms.code(v) for v in legal_forms), np.int32, n)
        self.form_pool = forms.array()

        # E-mail addresses: compared without case.
        mails = _Pool()
        domains = _Pool()
        self.email = np.full((n, SLOTS), -1, dtype=np.int32)
        email_rows = self.email
        for i, row in enumerate(self.emails):
            for s, address in enumerate(row[:SLOTS]):
                email_rows[i, s] = mails.code(address.lower())
        self.email_pool = mails.array()
        mail_domains = [v.rpartition("@")[2] for v in mails.values]
        self.email_is_role = np.fromiter(
            (v.rpartition("@")[0] in ROLE_LOCAL_PARTS for v in mails.values),
            bool,
            len(mails.values),
        )
        self.email_domain = np.fromiter(
            (-1 if d in FREE_MAIL_DOMAINS else domains.code(d) for d in mail_domains),
            np.int32,
            len(mail_domains),
        )
        self.email_count = _counts(self.email, len(mails.values))
        hosts = _Pool()
        self.email_host = np.fromiter(
            (hosts.code(d) for d in mail_domains), np.int32, len(mail_domains)
        )
        digits = _Pool()
        self.email_digits = np.fromiter(
            (digits.code(_NOT_DIGIT.sub("", v.rpartition("@")[0]) or "-") for v in mails.values),
            np.int32,
            len(mails.values),
        )

        phones = _Pool()
        self.phone = np.full((n, SLOTS), -1, dtype=np.int32)
        phone_rows = self.phone
        switchboard: set[int] = set()
        for i, row in enumerate(self.phones):
            for s, number in enumerate(row[:SLOTS]):
                code = phones.code(number)
                phone_rows[i, s] = code
                labels = phone_labels[i] if phone_labels is not None else ()
                if s < len(labels) and labels[s] == "switchboard":
                    switchboard.add(code)
        self.phone_pool = phones.array()
        # A person's number that is also a company's number is a switchboard.
        company_rows = self.phone[self.kind == COMPANY]
        switchboard.update(int(c) for c in np.unique(company_rows[company_rows >= 0]))
        self.phone_is_shared = np.zeros(len(phones.values), dtype=bool)
        if switchboard:
            self.phone_is_shared[np.fromiter(switchboard, np.int64, len(switchboard))] = True
        self.phone_count = _counts(self.phone, len(phones.values))

        # Addresses: postal code plus normalised street and house number.
        codes = _Pool()
        street_names = _Pool()
        addresses = _Pool()
        self.postal = np.fromiter((codes.code(v) for v in self.postal_codes), np.int32, n)
        keys = [street_of(v) if v else ("", "") for v in self.streets]
        self.street = np.fromiter((street_names.code(k[0]) for k in keys), np.int32, n)
        self.address = np.fromiter(
            (
                addresses.code(f"{pc}|{k[0]}|{k[1]}") if pc and k[0] else -1
                for pc, k in zip(self.postal_codes, keys, strict=True)
            ),
            np.int32,
            n,
        )
        self.address_count = _counts(self.address[:, None], len(addresses.values))
        self.address_pool = addresses.array()

        vats = _Pool()
        self.vat = np.fromiter(
            (vats.code(v.replace(" ", "").upper()) for v in self.vat_ids), np.int32, n
        )

        # A company's domains: its website and its e-mail domains (not free mail).
        self.site = np.fromiter(
            (domains.code(web_domain(v)) if v else -1 for v in self.websites), np.int32, n
        )
        self.domain_pool = domains.array()

        employer_pool = _Pool()
        self.employer = np.full((n, 2), -1, dtype=np.int32)
        self.employer_ids: list[tuple[str, ...]] = [()] * n
        if employers:
            for i, rid in enumerate(self.ids):
                works_for = tuple(sorted(employers.get(rid, ())))
                self.employer_ids[i] = works_for
                for s, company in enumerate(works_for[:2]):
                    self.employer[i, s] = employer_pool.code(company)

    # ------------------------------------------------------------------ helpers

    def primary_domain(self) -> I32:
        """Per row: the code of the first non-free-mail e-mail domain (``-1`` if none)."""
        out = np.full(self.size, -1, dtype=np.int32)
        for s in range(SLOTS - 1, -1, -1):
            col = self.email[:, s]
            have = col >= 0
            dom = np.full(self.size, -1, dtype=np.int32)
            dom[have] = self.email_domain[col[have]]
            out = np.where(dom >= 0, dom, out)
        return out

    def row_values(self, i: int) -> tuple[str, ...]:
        """The matching fields of row *i* as text (the basis of decision keys)."""
        emails = ",".join(sorted(e.lower() for e in self.emails[i]))
        phones = ",".join(sorted(self.phones[i]))
        return (
            "person" if self.kind[i] == PERSON else "company",
            self.first_names[i],
            self.last_names[i],
            self.names[i],
            emails,
            phones,
            self.streets[i],
            self.postal_codes[i],
            self.cities[i],
            self.vat_ids[i],
            self.websites[i],
        )

    def fingerprint(self, i: int) -> str:
        """A hash of row *i*'s matching fields (changes when one of them changes)."""
        return fingerprint_values(self.row_values(i))

    def describe(self, i: int) -> str:
        """A short display name of row *i*."""
        if self.kind[i] == PERSON:
            return " ".join(p for p in (self.first_names[i], self.last_names[i]) if p)
        return self.names[i]


def fingerprint_values(values: Sequence[str]) -> str:
    """The SHA-256 hex digest of *values* (joined unambiguously)."""
    digest = hashlib.sha256()
    for v in values:
        data = v.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(4, "big"))
        digest.update(data)
    return digest.hexdigest()


def _counts(codes: npt.NDArray[np.int32], size: int) -> IntArray:
    """How many rows hold each code (a code twice in one row counts once)."""
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(codes.shape[0]), codes.shape[1])
    flat = codes.ravel()
    keep = flat >= 0
    pairs = np.unique(rows[keep].astype(np.int64) * size + flat[keep])
    return np.bincount(pairs % size, minlength=size).astype(np.int64)


def _memo_street() -> Callable[[str], tuple[str, str]]:
    cache: dict[str, tuple[str, str]] = {}

    def call(value: str) -> tuple[str, str]:
        found = cache.get(value)
        if found is None:
            found = street_key(value)
            cache[value] = found
        return found

    return call


def _memo_split() -> Callable[[str], tuple[str, str]]:
    cache: dict[str, tuple[str, str]] = {}

    def call(value: str) -> tuple[str, str]:
        found = cache.get(value)
        if found is None:
            base, form = normalize.company_name(value)
            found = (base, form or "")
            cache[value] = found
        return found

    return call
