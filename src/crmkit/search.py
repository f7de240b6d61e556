"""Search semantics shared by every store: what a query means and how results rank.

Stores only *find candidates* with their indexes; which candidates match and
in which order is decided here, so ``memory://``, ``sqlite://`` and
``postgresql://`` give the same answers.

A query text is read as one of:

``number``
    a contact number such as ``C00123`` (exact);
``email``
    a full e-mail address (case-insensitive, exact);
``domain``
    ``@muster.de`` or ``muster.de``: every contact with an address at that domain;
``phone``
    a phone number in any format (``0170 1234567``, ``+49 170 1234567`` …),
    matched exactly in E.164;
``text``
    names: every word must start a word of the contact's name, in any order,
    folded (``Müller`` = ``Mueller`` = ``MÜLLER``, ``Muste`` finds
    ``Mustermann``).  For companies the whole name counts, legal form included,
    so ``Muster`` and ``Muster GmbH`` both find ``Muster GmbH``.
``all``
    empty text: every contact that passes the filters.

Results rank in two tiers — contacts where every query word equals a whole
name word first, then prefix matches — and by contact number within a tier.
Filters: ``kind`` (``person``/``company``), ``relationships`` (any of them),
``tags`` (all of them), archived contacts only with ``include_archived``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Final, Literal

import attrs

from crmkit import normalize
from crmkit.errors import ValidationError
from crmkit.model import Company, Contact, Person, Relationship
from crmkit.model.values import relationship_set

Mode = Literal["number", "email", "domain", "phone", "text", "all"]

#: Longest query text looked at; the rest is ignored (a search is not an upload).
MAX_QUERY_LENGTH: Final = 500
#: Most words of a text query that are used.
MAX_WORDS: Final = 8
MAX_LIMIT: Final = 10_000

_NUMBER_RE: Final = re.compile(r"^[Cc]\d{5,12}$")
_DOMAIN_RE: Final = re.compile(r"^@?((?:[\w-]+\.)+[^\W\d_]{2,63})$", re.UNICODE)
_PHONE_CHARS_RE: Final = re.compile(r"^[+\d][\d\s()/.\-–]*$")


@attrs.frozen(kw_only=True)
class Query:
    """An analysed search: the mode, the value to look up and the filters."""

    mode: Mode
    #: number, e-mail, domain or E.164 for the exact modes; "" for text and all.
    value: str = ""
    #: folded words for ``text`` mode.
    words: tuple[str, ...] = ()
    kind: str | None = None
    relationships: frozenset[Relationship] = frozenset()
    tags: frozenset[str] = frozenset()
    include_archived: bool = False
    limit: int = 50


def analyze(
    text: object,
    *,
    kind: str | None = None,
    relationships: Iterable[str] | str | None = None,
    tags: Iterable[str] | str | None = None,
    include_archived: bool = False,
    limit: int = 50,
) -> Query:
    """Read a user's search text and filters into a :class:`Query`.

    Never fails on the text itself (any string is a valid search); wrong
    filter values raise :class:`crmkit.ValidationError`.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValidationError.single(
            "text", "value.type", expected="str", actual=type(text).__name__
        )
    if kind not in (None, "person", "company"):
        raise ValidationError.single("kind", "value.choice", value=kind, choices="person, company")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError.single(
            "limit", "value.invalid", value=limit, reason=f"expected 1 to {MAX_LIMIT}"
        )
    rels = relationship_set("relationships", relationships)
    tag_set = frozenset(
        normalize.text(_clean(t), field="tags")
        for t in ([tags] if isinstance(tags, str) else list(tags or ()))
        if isinstance(t, str)
    ) - {""}
    common = {
        "kind": kind,
        "relationships": rels,
        "tags": tag_set,
        "include_archived": bool(include_archived),
        "limit": limit,
    }
    cleaned = _clean(text)
    if not cleaned:
        return Query(mode="all", **common)  # type: ignore[arg-type]
    if _NUMBER_RE.match(cleaned):
        return Query(mode="number", value=cleaned.upper(), **common)  # type: ignore[arg-type]
    if "@" in cleaned and not cleaned.startswith("@"):
        try:
            address = normalize.email(cleaned)
        except ValidationError:
            pass
        else:
            return Query(mode="email", value=address.lower(), **common)  # type: ignore[arg-type]
    domain = _domain(cleaned)
    if domain is not None:
        return Query(mode="domain", value=domain, **common)  # type: ignore[arg-type]
    if _PHONE_CHARS_RE.match(cleaned) and sum(ch.isdigit() for ch in cleaned) >= 5:
        try:
            e164 = normalize.phone(cleaned)
        except ValidationError:
            pass
        else:
            return Query(mode="phone", value=e164, **common)  # type: ignore[arg-type]
    words = tuple(dict.fromkeys(normalize.fold(cleaned).split()))[:MAX_WORDS]
    if not words:
        return Query(mode="all", **common)  # type: ignore[arg-type]
    return Query(mode="text", words=words, **common)  # type: ignore[arg-type]


def _clean(text: str) -> str:
    text = text[:MAX_QUERY_LENGTH]
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _domain(text: str) -> str | None:
    match = _DOMAIN_RE.match(text)
    if match is None:
        return None
    try:
        return normalize.email("x@" + match.group(1)).rpartition("@")[2].lower()
    except ValidationError:
        return None


#: Words of names already folded: a bounded memo of a pure function (names
#: repeat), cleared when full.
_NAME_WORDS: dict[str, tuple[str, ...]] = {}
_NAME_WORDS_MAX: Final = 50_000


def name_words(contact: Contact) -> tuple[str, ...]:
    """The folded words a text search matches against."""
    if isinstance(contact, Person):
        source = f"{contact.first_name} {contact.last_name}"
    elif isinstance(contact, Company):
        source = contact.name
    else:  # pragma: no cover - only two kinds exist
        source = ""
    words = _NAME_WORDS.get(source)
    if words is None:
        words = tuple(dict.fromkeys(normalize.fold(source).split()))
        if len(_NAME_WORDS) >= _NAME_WORDS_MAX:
            _NAME_WORDS.clear()
        _NAME_WORDS[source] = words
    return words


def email_keys(contact: Contact) -> tuple[str, ...]:
    """Lower-cased e-mail addresses of the contact."""
    return tuple(e.address.lower() for e in contact.emails)


def domain_keys(contact: Contact) -> tuple[str, ...]:
    """Lower-cased e-mail domains of the contact."""
    return tuple(dict.fromkeys(e.domain.lower() for e in contact.emails))


def switchboard_stem(e164: str) -> str | None:
    """The stem of a switchboard number (``+491234560`` → ``+49123456``), or ``None``.

    A number ending in ``0`` is treated as a switchboard whose direct-dial
    numbers extend the stem (``+49123456123``).
    """
    if e164.endswith("0") and len(e164) >= 8:
        return e164[:-1]
    return None


def passes_filters(contact: Contact, query: Query) -> bool:
    """True when *contact* passes the kind, relationship, tag and archive filters."""
    if not query.include_archived and contact.archived_at is not None:
        return False
    if query.kind is not None and contact.kind != query.kind:
        return False
    if query.relationships and not (query.relationships & contact.relationships):
        return False
    return query.tags <= contact.tags


def tier(contact: Contact, query: Query) -> int | None:
    """The rank tier of *contact* for *query* (0 best), or ``None`` if it does not match."""
    if not passes_filters(contact, query):
        return None
    if query.mode == "all":
        return 0
    if query.mode == "number":
        return 0 if contact.number == query.value else None
    if query.mode == "email":
        return 0 if query.value in email_keys(contact) else None
    if query.mode == "domain":
        return 0 if query.value in domain_keys(contact) else None
    if query.mode == "phone":
        return 0 if any(p.e164 == query.value for p in contact.phones) else None
    return word_tier(name_words(contact), query.words)


def word_tier(words: Sequence[str], query_words: Iterable[str]) -> int | None:
    """The text tier of a name with folded *words* (see :func:`name_words`) for *query_words*.

    0 if every query word equals a whole name word, 1 if every one at least
    starts a name word, else ``None``.  Filters are not looked at; a store may
    use this to rank from stored name words before loading a contact.
    """
    exact = True
    for word in query_words:
        if word in words:
            continue
        if any(w.startswith(word) for w in words):
            exact = False
            continue
        return None
    return 0 if exact else 1


def number_key(contact: Contact) -> tuple[int, str]:
    """Sort key for contact numbers (``C00002`` before ``C00010`` before ``C100000``)."""
    number = contact.number or ""
    return (len(number), number)


def select(candidates: Iterable[Contact], query: Query) -> list[Contact]:
    """The ranked, limited result from a superset of candidates."""
    ranked: list[tuple[int, tuple[int, str], Contact]] = []
    seen: set[str] = set()
    for contact in candidates:
        if contact.id in seen:
            continue
        seen.add(contact.id)
        t = tier(contact, query)
        if t is not None:
            ranked.append((t, number_key(contact), contact))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [c for _, _, c in ranked[: query.limit]]


@attrs.frozen(kw_only=True)
class PhoneMatch:
    """One caller-id result: the contact and how it matched.

    ``match`` is ``"exact"`` (the number is the contact's) or ``"switchboard"``
    (a direct-dial number extending the company's switchboard number).
    """

    contact: Contact
    match: Literal["exact", "switchboard"]
    number: str

    def _repr_html_(self) -> str:
        return f"<p>{escape(self.number)}: {escape(self.match)}</p>" + self.contact._repr_html_()


def phone_matches(
    number: str, exact: Sequence[Contact], switchboards: Sequence[Contact]
) -> list[PhoneMatch]:
    """Combine a store's exact hits and switchboard companies into the lookup result.

    Exact matches come first (persons before companies, then by number).
    Switchboard companies are added only when no person has the exact number;
    the longest matching stem wins.
    """
    exact_sorted = sorted(
        (c for c in exact if c.archived_at is None),
        key=lambda c: (not isinstance(c, Person), number_key(c)),
    )
    out = [PhoneMatch(contact=c, match="exact", number=number) for c in exact_sorted]
    if any(isinstance(c, Person) for c in exact_sorted):
        return out
    best: list[tuple[int, Contact]] = []
    exact_ids = {c.id for c in exact_sorted}
    for company in switchboards:
        if company.id in exact_ids or company.archived_at is not None:
            continue
        if not isinstance(company, Company):
            continue
        stems = [s for p in company.phones if (s := switchboard_stem(p.e164))]
        length = max(
            (len(s) for s in stems if number.startswith(s) and number != s + "0"), default=0
        )
        if length:
            best.append((length, company))
    if best:
        top = max(length for length, _ in best)
        chosen = sorted((c for length, c in best if length == top), key=number_key)
        out.extend(PhoneMatch(contact=c, match="switchboard", number=number) for c in chosen)
    return out


def stem_prefixes(e164: str) -> list[str]:
    """Every prefix of *e164* that could be a switchboard stem (longest first)."""
    return [e164[:n] for n in range(len(e164) - 1, 6, -1)]


__all__ = [
    "MAX_LIMIT",
    "MAX_QUERY_LENGTH",
    "Mode",
    "PhoneMatch",
    "Query",
    "analyze",
    "domain_keys",
    "email_keys",
    "name_words",
    "number_key",
    "passes_filters",
    "phone_matches",
    "select",
    "stem_prefixes",
    "switchboard_stem",
    "tier",
    "word_tier",
]
