"""Tests of :mod:`crmkit.normalize`: tables of real-world inputs plus properties."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable
from typing import Any
from unittest import mock

import email_validator
import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmkit import messages, normalize
from crmkit.errors import Finding, ValidationError
from crmkit.normalize import (
    COUNTRY_CODES,
    LEGAL_FORMS,
    company_name,
    country,
    email,
    fold,
    koelner_phonetik,
    multiline,
    phone,
    phone_display,
    phone_is_assigned,
    postal_code,
    text,
)


def finding(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Finding:
    """The single finding of the ValidationError that ``func(*args, **kwargs)`` raises."""
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    (only,) = info.value.findings
    assert only.code in messages.codes(), only.code
    assert str(info.value)  # the message renders
    return only


def returns_str_or_validation_error(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call *func*; it must return a ``str`` or raise a known ValidationError, nothing else."""
    try:
        result = func(*args, **kwargs)
    except ValidationError as exc:
        assert exc.findings
        assert all(f.code in messages.codes() for f in exc.findings)
    else:
        assert isinstance(result, str | tuple)


# --------------------------------------------------------------------------- phone

GERMAN_NUMBERS = [
    ("0170 1234567", "+491701234567"),
    ("+49 (0)711 781937-30", "+4971178193730"),
    ("030/12345678", "+493012345678"),
    ("0049 30 1234567", "+49301234567"),
    ("+49 123 456-123", "+49123456123"),
    ("+49 123 456-0", "+491234560"),
    ("+49 (0) 30 1234567", "+49301234567"),
    ("+49(0)30 1234567", "+49301234567"),
    ("+49 0711 78193730", "+4971178193730"),
    ("(0)30 1234567", "+49301234567"),
    ("0 30 1234567", "+49301234567"),
    ("030 12 34 56 78", "+493012345678"),
    ("030-123 456 78", "+493012345678"),
    ("tel:+49-30-1234567", "+49301234567"),
    ("TEL:030 1234567", "+49301234567"),
    ("  0170 1234567\n", "+491701234567"),
    ("030\u00a01234567", "+49301234567"),
    ("030 \u2013 1234567", "+49301234567"),
    ("0711\u202f781937\u201130", "+4971178193730"),
    ("+49 30 ١٢٣٤٥٦٧", "+49301234567"),
    ("+491701234567", "+491701234567"),
]


@pytest.mark.parametrize(("raw", "expected"), GERMAN_NUMBERS)
def test_phone_german_inputs(raw: str, expected: str) -> None:
    assert phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+43 1 5134567", "DE", "+4315134567"),
        ("0043 1 5134567", "DE", "+4315134567"),
        ("+43 (0)1 5134567", "DE", "+4315134567"),
        ("01 5134567", "AT", "+4315134567"),
        ("0664 1234567", "AT", "+436641234567"),
        ("+41 44 668 18 00", "DE", "+41446681800"),
        ("+41 (0)44 668 18 00", "DE", "+41446681800"),
        ("044 668 18 00", "CH", "+41446681800"),
        ("044 668 18 00", "ch", "+41446681800"),
        ("+44 (0)20 7946 0958", "DE", "+442079460958"),
        # in Italy the 0 belongs to the number and must stay
        ("+39 (0)6 12345678", "DE", "+390612345678"),
        ("06 12345678", "IT", "+390612345678"),
    ],
)
def test_phone_other_countries(raw: str, region: str, expected: str) -> None:
    assert phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "code", "reason"),
    [
        ("abc", "phone.invalid", "contains letters"),
        ("0800 FLOWERS", "phone.invalid", "contains letters"),
        ("030 1234567 abc", "phone.invalid", "contains letters"),
        ("030 1234567 ext. 12", "phone.invalid", "contains letters"),
        ("030 1234567;ext=12", "phone.invalid", "contains letters"),
        ("---", "phone.invalid", "no phone number found"),
        ("+", "phone.invalid", "no phone number found"),
        ("123", "phone.local_only", None),
        ("1234567", "phone.local_only", None),
        ("1701234567", "phone.local_only", None),
        ("0170", "phone.impossible", "too short"),
        ("+49 1", "phone.impossible", "too short"),
        ("+49 (0) (0)30 1234567", "phone.impossible", "the area code must not start with 0"),
        ("+49 30 12345678901234567890", "phone.impossible", "too long"),
        ("+999 1234567", "phone.impossible", "unknown country code"),
    ],
)
def test_phone_rejected(raw: str, code: str, reason: str | None) -> None:
    found = finding(phone, raw)
    assert found.field == "phone"
    assert found.code == code
    if code != "value.required":
        assert found.params["value"] == raw
    if reason is not None:
        assert found.params["reason"] == reason


@pytest.mark.parametrize("raw", ["", "   ", "\u00a0\t\n", "tel:"])
def test_phone_blank_is_required(raw: str) -> None:
    assert finding(phone, raw).code == "value.required"


def test_phone_local_only_in_austria() -> None:
    assert finding(phone, "5134567", "AT").code == "phone.local_only"


def test_phone_without_trunk_prefix_elsewhere_is_accepted() -> None:
    # only DE, AT, CH, LI insist on the trunk 0; US numbers are written without it
    assert phone("(202) 555-0123", "US") == "+12025550123"


def test_phone_non_str() -> None:
    found = finding(phone, 1701234567, field="mobile")
    assert found.field == "mobile"
    assert found.code == "value.type"
    assert dict(found.params) == {"expected": "str", "actual": "int"}


def test_phone_too_long() -> None:
    found = finding(phone, "0" * 65)
    assert found.code == "value.too_long"
    assert dict(found.params) == {"length": 65, "limit": 64}


def test_phone_field_name_is_used() -> None:
    assert finding(phone, "abc", field="fax").field == "fax"


@pytest.mark.parametrize("region", ["XX", "", "de-DE", "001", None, 49])
def test_phone_bad_region(region: Any) -> None:
    found = finding(phone, "030 1234567", region)
    assert found.field == "region"
    assert found.code == "phone.region"
    assert found.params["value"] == region


def test_phone_possible_but_unassigned_is_returned() -> None:
    e164 = phone("+49 123 456-0")
    assert e164 == "+491234560"
    assert phone_is_assigned(e164) is False


@pytest.mark.parametrize(
    "e164", ["+491701234567", "+4971178193730", "+493012345678", "+4315134567", "+41446681800"]
)
def test_phone_is_assigned(e164: str) -> None:
    assert phone_is_assigned(e164) is True


@pytest.mark.parametrize("bad", ["", "abc", "0301234567", "+", "+999"])
def test_phone_is_assigned_for_non_numbers(bad: str) -> None:
    assert phone_is_assigned(bad) is False


@given(text=st.from_regex(r"\+[1-9][0-9]{3,14}", fullmatch=True) | st.text(max_size=20))
@settings(max_examples=300)
def test_phone_is_assigned_memo_answers_like_the_library(text: str) -> None:
    assert phone_is_assigned(text) is library_of(text)
    assert phone_is_assigned(text) is library_of(text)  # now from the memo
    # A full memo is cleared, not grown: the answer stays the same.
    with (
        mock.patch.object(normalize, "_ASSIGNED", {}),
        mock.patch.object(normalize, "_ASSIGNED_MAX", 1),
    ):
        assert phone_is_assigned(text) is library_of(text)
        assert phone_is_assigned(text + "0") is library_of(text + "0")
        assert list(normalize._ASSIGNED) == [text + "0"]


def library_of(text: str) -> bool:
    number = normalize._parse_e164(text)
    return number is not None and phonenumbers.is_valid_number(number)


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+491701234567", "+49 170 1234567"),
        ("+4971178193730", "+49 711 78193730"),
        ("+493012345678", "+49 30 12345678"),
        ("+41446681800", "+41 44 668 18 00"),
    ],
)
def test_phone_display(e164: str, shown: str) -> None:
    assert phone_display(e164) == shown


def test_phone_display_rejects_non_numbers() -> None:
    assert finding(phone_display, "abc").code == "phone.invalid"


phone_like = st.from_regex(r"\A(tel:)?[+0(]{0,3}[0-9 ()/.\-]{0,24}\Z")
regions = st.sampled_from(["DE", "AT", "CH", "US", "GB", "IT", "FR"])


@given(st.one_of(st.text(max_size=80), phone_like), regions)
@example("0170 1234567", "DE")
@example("+49 (0)711 781937-30", "DE")
@example("0", "DE")
@example("00", "DE")
@example("+0", "DE")
@example("(0)", "DE")
@example("tel:;phone-context=+49", "DE")
def test_phone_only_raises_validation_error(raw: str, region: str) -> None:
    returns_str_or_validation_error(phone, raw, region)


@given(st.one_of(phone_like, st.text(max_size=30)), regions)
@example("0170 1234567", "DE")
@example("+49 123 456-0", "DE")
@example("+39 (0)6 12345678", "DE")
@example("06 12345678", "IT")
def test_phone_is_idempotent(raw: str, region: str) -> None:
    try:
        first = phone(raw, region)
    except ValidationError:
        return
    assert first.startswith("+")
    assert first[1:].isdigit()
    assert phone(first) == first
    assert phone(first, region) == first
    assert phone_display(first).startswith("+")
    assert isinstance(phone_is_assigned(first), bool)


# The fast path for German numbers (normalize._phone_fast_de) must give exactly
# what phonenumbers gives: the same E.164 number and kind, and it only ever
# accepts; every other answer (and every error) is the library's.


def phone_outcome(text: str, region: str = "DE") -> tuple[Any, Any]:
    """``(fast path, library path)`` for *text*: each ``(e164, kind)``, an error, or None."""
    cleaned = normalize._clean_phone_text(text)
    fast = normalize._phone_fast_de(cleaned) if cleaned else None
    try:
        library: Any = normalize._phone_library(cleaned, text, region, "phone")
    except ValidationError as exc:
        (only,) = exc.findings
        library = (only.code, only.params.get("reason"))
    return fast, library


def assert_phone_fast_path_agrees(text: str) -> None:
    """Where the fast path answers, phonenumbers answers the same; so does :func:`phone_kind`."""
    fast, library = phone_outcome(text)
    if fast is not None:
        assert fast == library, text
    cleaned = normalize._clean_phone_text(text)
    if not cleaned or len(cleaned) > normalize.PHONE_MAX_LENGTH:
        return  # refused before either path is asked
    if library[0].startswith("+"):  # the library accepts it
        kind = normalize._KIND_NAMES.get(library[1], "unassigned")
        assert normalize.phone_kind(text) == (library[0], kind)
        # The cheaper ways to ask give the same number (and mobile or not).
        assert normalize.phone(text) == library[0]
        assert normalize.phone_is_mobile(text) == (library[0], kind == "mobile")
    else:
        assert finding(normalize.phone_kind, text).code == library[0]
        assert finding(normalize.phone, text).code == library[0]
        assert finding(normalize.phone_is_mobile, text).code == library[0]


PHONE_PREFIXES = ["0", "+49", "+49 ", "0049", "0049 ", "00 49 ", "+49 (0)", "+49(0)", "+49 0",
                  "0049 (0)", "(0", "0 ", "00", "000", "+", "+4", "+490", "+4900", "+0049", "49",
                  "049", "+43", "0043", "", "(+49)", "+ 49", "0 049", "+49 00"]  # fmt: skip
PHONE_SEPARATORS = ["", "", "", " ", " ", "/", "-", ".", "(", ")", " / ", "--", "  "]
#: German numbers in the notations people write, right and wrong.
german_phone_texts = st.builds(
    lambda prefix, groups, seps: (
        prefix + "".join(g + s for g, s in zip(groups, seps + [""] * len(groups), strict=False))
    ),
    st.sampled_from(PHONE_PREFIXES),
    st.lists(st.text(alphabet=string.digits, min_size=1, max_size=6), min_size=1, max_size=5),
    st.lists(st.sampled_from(PHONE_SEPARATORS), max_size=5),
)


@given(german_phone_texts)
@settings(max_examples=3000)
@example("0170 1234567")
@example("+49 (0)711 781937-30")
@example("0049 30 1234567")
@example("+49 0711 78193730")
@example("(0711) 1158756-0")
@example("0711.123456")
@example("+49 170")
@example("0170")
@example("+49 123 456-0")
@example("+49 1234567890123456")
@example("0 49 30 1234567")
@example("+49 (0)0711 123456")
@example("+4900711123456")
@example("004900711123456")
@example("+0049 30 1234567")
@example("1234567")
@example("030 12")
def test_phone_fast_path_agrees_with_phonenumbers(text: str) -> None:
    assert_phone_fast_path_agrees(text)


@given(st.text(alphabet=string.digits + " +()/.-", min_size=1, max_size=30))
@settings(max_examples=2000)
def test_phone_fast_path_agrees_on_any_digits_and_separators(text: str) -> None:
    assert_phone_fast_path_agrees(text)


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("0170 1234567", True),
        ("+49 (0)711 781937-30", True),
        ("030/12345678", True),
        ("0049 30 1234567", True),
        ("(0211) 32189890", True),
        ("+49 0711 78193730", True),
        ("+49 123 456-0", True),  # possible, in no assigned range: "unassigned"
        ("0170", False),  # too short: the library's error
        ("1234567", False),  # no area code: local_only
        ("+43 1 51345678", False),  # another country
        ("0043 1 51345678", False),
        ("+49 (0)0711 123456", False),
        ("+0049 30 1234567", False),
        ("tel:+49-30-1234567", True),
        ("+49 30 ١٢٣٤٥٦٧", False),  # Arabic-Indic digits: the library reads them
        ("030 \u2013 1234567", True),  # the dash became "-" when cleaned
    ],
)
def test_phone_fast_path_table(text: str, taken: bool) -> None:
    fast, library = phone_outcome(text)
    assert (fast is not None) == taken
    if taken:
        assert fast == library
    assert_phone_fast_path_agrees(text)


@given(
    st.sampled_from(["0", "+49 ", "0049 ", "+49 (0)"]),
    st.integers(min_value=1, max_value=9),
    st.text(alphabet=string.digits, min_size=1, max_size=13),
)
@settings(max_examples=3000)
@example("0", 1, "701234567")  # mobile
@example("0", 1, "5212345678")  # mobile
@example("0", 1, "6412345")  # a pager range
@example("0", 3, "01234567")  # Berlin
def test_phone_is_mobile_agrees_with_the_number_type(prefix: str, first: int, rest: str) -> None:
    # Only numbers beginning with 1 are looked up; every other German number
    # must then be something other than mobile for phonenumbers, too.
    text = f"{prefix}{first}{rest}"
    try:
        e164, kind = normalize.phone_kind(text)
    except ValidationError as exc:
        assert finding(normalize.phone_is_mobile, text).code == exc.findings[0].code
        return
    assert normalize.phone_is_mobile(text) == (e164, kind == "mobile")
    if first != 1:
        assert kind != "mobile"


def test_phone_fast_path_is_only_for_germany() -> None:
    # Read as German the same text would be a (possible) German mobile number.
    assert phone("01 51 34 56 78", region="AT") == "+43151345678"
    assert phone("01 51 34 56 78") == "+49151345678"


# --------------------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("max.mustermann@example.com", "max.mustermann@example.com"),
        ("  max@example.com \n", "max@example.com"),
        ("\u00a0max@example.com\u00a0", "max@example.com"),
        ("Max.Mustermann@EXAMPLE.COM", "Max.Mustermann@example.com"),
        ("max@Example.De", "max@example.de"),
        # role names are lower-cased by email-validator
        ("Info@EXAMPLE.COM", "info@example.com"),
        # IDN: stored in Unicode form, whatever form came in
        ("info@müller.de", "info@müller.de"),
        ("info@MÜLLER.DE", "info@müller.de"),
        ("info@xn--mller-kva.de", "info@müller.de"),
        ("jürgen@müller.de", "jürgen@müller.de"),
        ("a+tag@sub.example.org", "a+tag@sub.example.org"),
    ],
)
def test_email_valid(raw: str, expected: str) -> None:
    assert email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "plainaddress",
        "a@b",
        "a@localhost",
        "@example.com",
        "max@",
        "max@@example.com",
        "max..mustermann@example.com",
        "max mustermann@example.com",
        "Max <max@example.com>",
        '"max"@example.com',
        "max@[127.0.0.1]",
        "max@example.com.",
        "max@example.invalid",
    ],
)
def test_email_invalid(raw: str) -> None:
    found = finding(email, raw)
    assert found.field == "email"
    assert found.code == "email.invalid"
    assert found.params["value"] == raw.strip()
    assert found.params["reason"]


@pytest.mark.parametrize("raw", ["", "  ", "\u00a0\n"])
def test_email_blank(raw: str) -> None:
    assert finding(email, raw).code == "value.required"


def test_email_non_str() -> None:
    found = finding(email, b"max@example.com", field="emails.0")
    assert found.field == "emails.0"
    assert found.code == "value.type"
    assert found.params["actual"] == "bytes"


def test_email_too_long() -> None:
    found = finding(email, "a" * 250 + "@x.de")
    assert found.code == "value.too_long"
    assert found.params["limit"] == 254


def test_email_undeliverable(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(address: str, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise email_validator.EmailUndeliverableError("The domain name x.de does not exist.")

    monkeypatch.setattr(email_validator, "validate_email", fake)
    found = finding(email, "max@x.de", check_deliverability=True)
    assert found.code == "email.undeliverable"
    assert found.params["reason"] == "The domain name x.de does not exist."
    assert seen["check_deliverability"] is True


def test_email_does_not_check_dns_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    real = email_validator.validate_email

    def spy(address: str, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(address, **kwargs)

    monkeypatch.setattr(email_validator, "validate_email", spy)
    # A Unicode domain: plain ASCII addresses never reach the library (the fast path).
    assert email("max@müller.de") == "max@müller.de"
    assert seen["check_deliverability"] is False


@pytest.mark.parametrize("error", [UnicodeError("bad"), IndexError(0), ValueError("odd")])
def test_email_library_surprises_become_invalid(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def broken(address: str, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(email_validator, "validate_email", broken)
    assert finding(email, "max@müller.de").code == "email.invalid"


@given(st.text(max_size=80))
@example("info@müller.de")
@example("jürgen@MÜLLER.DE")
@example("a@xn--")
@example("a@xn--zz.de")
@example("a@\u0300.de")
@example("\u0300@x.de")
@example("a@ß.de")
@example("a@x.de\u200d")
def test_email_only_raises_validation_error(raw: str) -> None:
    returns_str_or_validation_error(email, raw)


@given(st.one_of(st.emails(), st.text(max_size=40)))
@example("Info@EXAMPLE.COM")
@example("info@MÜLLER.DE")
@example("info@xn--mller-kva.de")
@example("a@faß.de")
def test_email_is_idempotent(raw: str) -> None:
    try:
        first = email(raw)
    except ValidationError:
        return
    assert email(first) == first
    assert first.rpartition("@")[2] == first.rpartition("@")[2].lower()


# The fast path for plain ASCII addresses (normalize._email_fast) must give
# exactly what email-validator gives: the same accepted/rejected outcome and the
# same normalised value.  It only ever accepts; everything else is the library's.


def email_outcomes(raw: str) -> tuple[Any, Any]:
    """``(email(raw), the library path's result)``: each a str or ``(code, params)``."""

    def outcome(func: Callable[[], str]) -> Any:
        try:
            return func()
        except ValidationError as exc:
            (only,) = exc.findings
            return (only.code, only.params)

    def library() -> str:
        value = raw.strip()
        if not value:
            raise ValidationError.single("email", "value.required")
        if len(value) > normalize.EMAIL_MAX_LENGTH:
            raise ValidationError.single(
                "email", "value.too_long", length=len(value), limit=normalize.EMAIL_MAX_LENGTH
            )
        return normalize._email_library(value, False, "email")

    return outcome(lambda: email(raw)), outcome(library)


def assert_fast_path_agrees(raw: str) -> None:
    """The fast path, where it answers, agrees with email-validator; so does :func:`email`."""
    fast = normalize._email_fast(raw.strip())
    got, expected = email_outcomes(raw)
    assert got == expected
    if fast is not None:
        assert fast == expected


#: Characters that make e-mail validation interesting: every ASCII character
#: (atext, specials, quotes, brackets, control characters), dots and hyphens
#: again for weight, look-alikes of the at-sign and the dot, combining marks,
#: umlauts, ß, zero-width joiners, non-ASCII spaces, and a surrogate.
EMAIL_ALPHABET = (
    string.printable
    + "\x00\x7f..--@@"
    + "\uff20\ufe6b\u3002\uff0e\uff61\u2024"
    + "\u0300\u0308\u0338äöüÄÖÜßẞéı"
    + "\u200b\u200c\u200d\u00a0\u2028\u00ad"
    + "\ud800"
)
ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
HOST_CHARS = string.ascii_letters + string.digits + "-"

#: Local parts: mostly dot-atoms of atext (so that many addresses pass), sometimes
#: stray dots, role names in any case, the length limit, or anything at all.
atoms = st.text(alphabet=ATEXT, min_size=1, max_size=12)
local_parts = st.one_of(
    st.lists(atoms, min_size=1, max_size=4).map(".".join),
    st.lists(atoms, min_size=1, max_size=4).map(".".join),
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.sampled_from(
        ["info", "Info", "INFO", "Postmaster", "abuse", "www", "max.mustermann", "x" * 64, "x" * 65]
    ),
    st.text(alphabet=EMAIL_ALPHABET, max_size=20),
)
#: Domain labels: host names, Punycode and R-LDH prefixes, long labels, anything.
labels = st.one_of(
    st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True),
    st.text(alphabet=HOST_CHARS, min_size=0, max_size=12),
    st.sampled_from(["xn--mller-kva", "XN--MLLER-KVA", "ab--cd", "a-", "-a", "x" * 63, "x" * 64]),
    st.text(alphabet=EMAIL_ALPHABET, max_size=6),
)
#: Last labels: real and special-use top-level domains, digits, mixed case.
tlds = st.one_of(
    st.sampled_from(
        [
            "de",
            "DE",
            "com",
            "org",
            "co.uk",
            "test",
            "local",
            "localhost",
            "invalid",
            "onion",
            "arpa",
            "in-addr.arpa",
            "123",
            "d3",
            "3d",
            "x",
            "",
        ]
    ),
    labels,
)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.one_of(st.lists(labels, min_size=1, max_size=4), st.lists(labels, max_size=1)),
    tlds,
)
#: Mostly bare ``local@domain``; sometimes with white space, brackets, quotes,
#: a display name, no or two at-signs, or a combining mark around it.
plain_addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
dressed_addresses = st.builds(
    lambda pre, local, at, domain, post: f"{pre}{local}{at}{domain}{post}",
    st.sampled_from(["", " ", "\t", "\u00a0", "<", '"', "Max <", "\u0308"]),
    local_parts,
    st.sampled_from(["@", "@@", "\uff20", "", "\ufe6b", "@\u0338"]),
    domains,
    st.sampled_from(["", " ", "\n", ">", ".", "\u200d", "\u0308"]),
)
addresses = st.one_of(plain_addresses, plain_addresses, plain_addresses, dressed_addresses)


@given(addresses)
@settings(max_examples=2000)
@example("max.mustermann@example.com")
@example("Info@EXAMPLE.COM")
@example("info@xn--mller-kva.de")
@example("a@b.c--d.de")
@example("a@ab--cd.de")
@example("a@example.test")
@example("a@sub.localhost")
@example("a@x.local")
@example("a@example.123")
@example("a@example.d3")
@example("x" * 64 + "@example.com")
@example("x" * 65 + "@example.com")
@example("a@" + "x" * 63 + ".de")
@example("a@" + "x" * 64 + ".de")
@example("a@" + ".".join(["x" * 50] * 4) + ".de")
@example("a.@example.com")
@example(".a@example.com")
@example("a@-example.com")
@example("a@example-.com")
@example("a@example.com\u0308")
@example("a\u0338@example.com")
def test_email_fast_path_agrees_with_email_validator(raw: str) -> None:
    assert_fast_path_agrees(raw)


@given(st.one_of(st.emails(), st.text(alphabet=EMAIL_ALPHABET, max_size=60)))
@settings(max_examples=1000)
def test_email_fast_path_agrees_on_any_text(raw: str) -> None:
    assert_fast_path_agrees(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # taken by the fast path
        ("max.mustermann@example.com", "max.mustermann@example.com"),
        ("Max.Mustermann@EXAMPLE.COM", "Max.Mustermann@example.com"),
        ("info@muster.de", "info@muster.de"),
        ("Info@Muster.DE", "info@muster.de"),
        ("WEBMASTER@x.de", "webmaster@x.de"),
        ("infos@x.de", "infos@x.de"),
        ("a+tag/=?^_`{|}~!#$%&'*-@sub.example.org", "a+tag/=?^_`{|}~!#$%&'*-@sub.example.org"),
        ("a@b-c.d-e.de", "a@b-c.d-e.de"),
        ("a@1.2.de", "a@1.2.de"),
        ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
        # left to the library, same answers as before
        ("jürgen@müller.de", "jürgen@müller.de"),
        ("info@xn--mller-kva.de", "info@müller.de"),
        ("a@example.test", ("email.invalid", None)),
        ("a@mail.local", ("email.invalid", None)),
        ("a@example.123", ("email.invalid", None)),
        ("a@ab--cd.de", ("email.invalid", None)),
        ("a..b@example.com", ("email.invalid", None)),
        ('"a b"@example.com', ("email.invalid", None)),
        ("Max <max@example.com>", ("email.invalid", None)),
        ("a@" + "x" * 64 + ".de", ("email.invalid", None)),
        ("x" * 65 + "@example.com", "x" * 65 + "@example.com"),
        ("a@b", ("email.invalid", None)),
    ],
)
def test_email_fast_path_table(raw: str, expected: str | tuple[str, None]) -> None:
    got, library = email_outcomes(raw)
    assert got == library
    if isinstance(expected, str):
        assert got == expected
    else:
        assert isinstance(got, tuple)
        assert got[0] == expected[0]


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Müller", "Müller"),
        ("  Max   Mustermann  ", "Max Mustermann"),
        ("Max\tMustermann", "Max Mustermann"),
        ("Max\nMustermann\r\n", "Max Mustermann"),
        ("Max\u00a0Mustermann", "Max Mustermann"),
        ("Max\u2028Mustermann", "Max Mustermann"),
        ("Mu\u0308ller", "Müller"),  # decomposed → NFC
        ("", ""),
        (" \t\n ", ""),
    ],
)
def test_text(raw: str, expected: str) -> None:
    assert text(raw) == expected


@pytest.mark.parametrize("raw", ["a\x00b", "\x07", "Max\x1bMustermann", "a\x7fb", "a\x1cb"])
def test_text_rejects_control_characters(raw: str) -> None:
    found = finding(text, raw, field="last_name")
    assert found.field == "last_name"
    assert found.code == "value.control_characters"


def test_text_rejects_lone_surrogates() -> None:
    assert finding(text, "a\ud800b").code == "value.invalid"


def test_text_max_length_counts_normalised_text() -> None:
    assert text("  ab  ", max_length=2) == "ab"
    found = finding(text, "abc", max_length=2)
    assert found.code == "value.too_long"
    assert dict(found.params) == {"length": 3, "limit": 2}


def test_text_non_str() -> None:
    assert finding(text, None).code == "value.type"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("line 1\r\nline 2", "line 1\nline 2"),
        ("line 1\rline 2", "line 1\nline 2"),
        ("line 1\vline 2", "line 1\nline 2"),  # Word's manual line break
        ("line 1   \nline 2\t", "line 1\nline 2"),
        ("\n\n  \nline 1\n\n\nline 2\n \n", "line 1\n\n\nline 2"),
        ("  indented\n\ttabbed", "  indented\n\ttabbed"),
        ("Mu\u0308ller", "Müller"),
        ("", ""),
        (" \n\r\n\t", ""),
    ],
)
def test_multiline(raw: str, expected: str) -> None:
    assert multiline(raw) == expected


@pytest.mark.parametrize("raw", ["a\x00b", "a\x1b[31mred", "\x08"])
def test_multiline_rejects_control_characters(raw: str) -> None:
    found = finding(multiline, raw)
    assert found.field == "notes"
    assert found.code == "value.control_characters"


def test_multiline_max_length() -> None:
    assert finding(multiline, "ab\ncd", max_length=4).code == "value.too_long"


@given(st.text())
@example("Mu\u0308ller \u00a0 Jürgen")
@example("a \u0301")
@example("\u1100\u1161 \u11a8")
def test_text_is_idempotent(raw: str) -> None:
    try:
        once = text(raw)
    except ValidationError as exc:
        assert exc.findings[0].code in {"value.control_characters", "value.invalid"}
        return
    assert text(once) == once
    assert once == once.strip()
    assert "  " not in once


@given(st.text())
@example("\r\n a  \r\n\r\n b\r\n\n")
@example("a\r\r\nb")
def test_multiline_is_idempotent(raw: str) -> None:
    try:
        once = multiline(raw)
    except ValidationError:
        return
    assert multiline(once) == once
    assert "\r" not in once


# --------------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Müller", "mueller"),
        ("Mueller", "mueller"),
        ("MÜLLER", "mueller"),
        ("Mu\u0308ller", "mueller"),
        ("Muller", "muller"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("STRAẞE", "strasse"),
        ("  Jürgen-Peter ", "juergen peter"),
        ("Öztürk", "oeztuerk"),
        ("Ärzte", "aerzte"),
        ("José García", "jose garcia"),
        ("François", "francois"),
        ("Søren Kierkegaard", "soren kierkegaard"),
        ("Łukasz Wałęsa", "lukasz walesa"),
        ("Æbelø", "aebelo"),
        ("Cœur", "coeur"),
        ("Þór", "thor"),
        ("İstanbul", "istanbul"),
        ("ﬁsch", "fisch"),
        ("Dr. med. Hans-Jürgen O'Neill", "dr med hans juergen o neill"),
        ("Firma 4711 GmbH & Co. KG", "firma 4711 gmbh co kg"),
        ("\t\n", ""),
        ("", ""),
        ("---", ""),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@given(st.text())
@example("Müller")
@example("Mu\u0308ller")
@example("ǅ")
@example("\u1100\u1161")
@example("ŉ")
@example("Ⅻ")
@example("ΐ")
def test_fold_is_idempotent_and_clean(raw: str) -> None:
    once = fold(raw)
    assert fold(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert all(ch == " " or ch.isalnum() or ch.isalpha() or ch.isdigit() for ch in once)


german = st.text(alphabet=string.ascii_letters + "äöüÄÖÜß -'.")


@given(st.text() | german | st.text(alphabet=string.printable))
@example("Müller-Lüdenscheidt")
@example("O'Brien & Söhne GmbH")
@example("K\u212a")  # KELVIN SIGN: casefolds to ASCII "k"
def test_fold_ascii_path_is_the_full_path(raw: str) -> None:
    # fold() finishes ASCII text (after case folding and the umlauts) with a
    # regular expression; the Unicode steps must give the same.
    start = unicodedata.normalize("NFC", raw).casefold().translate(normalize._UMLAUTS)
    assert fold(raw) == normalize._fold_unicode(start)


@given(st.text() | st.text(alphabet=string.digits + " +()/.-\t\n\xa0\u2009\u3000abc"))
@example("030\u00a012345")
@example("\x1c\x1d\x1e\x1f\x85")  # separators str.isspace() counts as space
def test_phone_text_cleaning_matches_the_character_rules(raw: str) -> None:
    spaced = "".join(" " if ch.isspace() else ch for ch in raw)
    assert normalize._WHITESPACE_RE.sub(" ", raw) == spaced
    assert normalize._has_letters(raw) == any(ch.isalpha() for ch in raw)


@given(german)
@example("Straße")
def test_fold_ignores_case(raw: str) -> None:
    assert fold(raw) == fold(raw.upper()) == fold(raw.lower())


# --------------------------------------------------------------------------- company names

LEGAL_FORM_VARIANTS: dict[str, list[str]] = {
    "GmbH & Co. KGaA": ["GmbH & Co. KGaA", "GmbH & Co KG aA", "GmbH & Co. KG a.A."],
    "GmbH & Co. KG": [
        "GmbH & Co. KG",
        "GmbH & Co KG",
        "GmbH&Co.KG",
        "GmbH und Co. KG",
        "GmbH u. Co. KG",
        "GmbH + Co. KG",
        "GmbH & Cie. KG",
        "gmbh & co. kg",
        "G.m.b.H. & Co. K.G.",
        "GmbH & Co., KG",
        "Gesellschaft mit beschränkter Haftung & Co. Kommanditgesellschaft",
    ],
    "UG (haftungsbeschränkt) & Co. KG": [
        "UG (haftungsbeschränkt) & Co. KG",
        "UG (haftungsbeschraenkt) & Co KG",
        "UG & Co. KG",
    ],
    "AG & Co. KGaA": ["AG & Co. KGaA"],
    "AG & Co. KG": ["AG & Co. KG", "AG & Co KG"],
    "SE & Co. KGaA": ["SE & Co. KGaA"],
    "SE & Co. KG": ["SE & Co. KG"],
    "gGmbH": ["gGmbH", "g.GmbH", "gemeinnützige GmbH", "gemeinnuetzige GmbH"],
    "GmbH": [
        "GmbH",
        "GMBH",
        "gmbh",
        "G.m.b.H.",
        "Ges.m.b.H.",
        "GesmbH",
        "Ges. mbH",
        "Gesellschaft mbH",
        "Gesellschaft m.b.H.",
        "Gesellschaft mit beschränkter Haftung",
        "Gesellschaft mit beschraenkter Haftung",
    ],
    "mbH": ["mbH", "m.b.H.", "mit beschränkter Haftung"],
    "gUG (haftungsbeschränkt)": [
        "gUG",
        "gUG (haftungsbeschränkt)",
        "gemeinnützige UG (haftungsbeschränkt)",
    ],
    "UG (haftungsbeschränkt)": [
        "UG (haftungsbeschränkt)",
        "UG (haftungsbeschraenkt)",
        "UG (Haftungsbeschränkt)",
        "UG haftungsbeschränkt",
        "UG (haftungsbeschr.)",
        "UG",
        "Unternehmergesellschaft (haftungsbeschränkt)",
    ],
    "KGaA": ["KGaA", "KG aA", "KG a.A.", "Kommanditgesellschaft auf Aktien"],
    "KG": ["KG", "K.G.", "kg", "Kommanditgesellschaft"],
    "AG": ["AG", "A.G.", "ag", "Aktiengesellschaft"],
    "SE": ["SE", "S.E."],
    "OHG": ["OHG", "oHG", "o.H.G.", "offene Handelsgesellschaft"],
    "GbR": ["GbR", "GBR", "G.b.R.", "Gesellschaft bürgerlichen Rechts"],
    "e.V.": ["e.V.", "eV", "e. V.", "E.V.", "eingetragener Verein"],
    "eG": ["eG", "e.G.", "EG", "eingetragene Genossenschaft"],
    "e.K.": [
        "e.K.",
        "e. K.",
        "eK",
        "e.Kfm.",
        "e.Kfr.",
        "eingetragener Kaufmann",
        "eingetragene Kauffrau",
    ],
    "PartG mbB": [
        "PartG mbB",
        "PartG m.b.B.",
        "Partnerschaftsgesellschaft mbB",
        "Partnerschaftsgesellschaft mit beschränkter Berufshaftung",
    ],
    "PartG": ["PartG", "Partnerschaftsgesellschaft"],
    "Ltd": ["Ltd", "Ltd.", "LTD", "Limited"],
    "Inc": ["Inc", "Inc.", "INC.", "Incorporated"],
    "LLC": ["LLC", "L.L.C.", "llc"],
    "S.à r.l.": ["S.à r.l.", "Sarl", "SARL", "S.a r.l.", "S.à.r.l."],
    "S.A.": ["S.A.", "SA", "S.A"],
    "B.V.": ["B.V.", "BV", "B. V."],
}

FORM_CASES = [
    (form, variant) for form, variants in LEGAL_FORM_VARIANTS.items() for variant in variants
]


def test_legal_form_table_covers_every_form() -> None:
    assert set(LEGAL_FORM_VARIANTS) == set(LEGAL_FORMS)
    assert all(form in LEGAL_FORM_VARIANTS[form] for form in LEGAL_FORMS)


@pytest.mark.parametrize(("form", "variant"), FORM_CASES)
def test_company_name_legal_forms(form: str, variant: str) -> None:
    assert company_name(f"Muster {variant}") == ("Muster", form)
    assert company_name(f"Müller & Söhne, {variant}") == ("Müller & Söhne", form)
    assert company_name(f"  Alpha   Beta\t{variant}  ") == ("Alpha Beta", form)


@pytest.mark.parametrize(("form", "variant"), FORM_CASES)
def test_company_name_form_alone_is_not_split(form: str, variant: str) -> None:
    assert company_name(variant) == (text(variant), None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Muster GmbH & Co. KG", ("Muster", "GmbH & Co. KG")),
        ("Muster Gesellschaft mbH", ("Muster", "GmbH")),
        ("Muster Verwaltungsgesellschaft mbH", ("Muster Verwaltungsgesellschaft", "mbH")),
        ("Muster AG", ("Muster", "AG")),
        ("AG Muster", ("AG Muster", None)),
        ("Muster, Inc.", ("Muster", "Inc")),
        ("Muster GmbH.", ("Muster", "GmbH")),
        ("Muster gGmbH", ("Muster", "gGmbH")),
        ("Muster & Co. KG", ("Muster & Co.", "KG")),
        ("Muster Ltd. & Co. KG", ("Muster Ltd. & Co.", "KG")),
        ("Muster AG GmbH", ("Muster AG", "GmbH")),
        ("Muster GmbH i.L.", ("Muster GmbH i.L.", None)),
        ("Muster-AG", ("Muster-AG", None)),
        ("Agentur Muster", ("Agentur Muster", None)),
        ("Casa Muster", ("Casa Muster", None)),
        ("Muster Agentur", ("Muster Agentur", None)),
        ("Mu\u0308ller  GmbH", ("Müller", "GmbH")),
        ("GmbH", ("GmbH", None)),
        ("GmbH & Co. KG", ("GmbH & Co. KG", None)),
        (", GmbH", (", GmbH", None)),
    ],
)
def test_company_name(raw: str, expected: tuple[str, str | None]) -> None:
    assert company_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "   "])
def test_company_name_blank(raw: str) -> None:
    assert finding(company_name, raw).code == "value.required"


def test_company_name_control_characters() -> None:
    assert finding(company_name, "Muster\x00 GmbH").code == "value.control_characters"


legal_form_variants = st.sampled_from([variant for _, variant in FORM_CASES])
company_names = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda base, sep, form: f"{base}{sep}{form}",
        st.text(max_size=20),
        st.sampled_from([" ", ", ", ",", "  ", " , "]),
        legal_form_variants,
    ),
    st.builds(
        lambda parts: " ".join(parts),
        st.lists(
            st.one_of(legal_form_variants, st.sampled_from(["Muster", "&", "Co.", ","])), max_size=5
        ),
    ),
)


@given(company_names)
@example("Muster GmbH & Co. KG")
@example("Muster GmbH & Co., KG")
@example("Muster Gesellschaft, mbH")
@example("Muster gemeinnützige, GmbH")
@example("Muster Kommanditgesellschaft auf, Aktien")
def test_company_name_resplit_is_stable(raw: str) -> None:
    try:
        base, form = company_name(raw)
    except ValidationError as exc:
        assert exc.findings[0].code in {
            "value.required",
            "value.control_characters",
            "value.invalid",
        }
        return
    assert base
    assert text(base) == base
    if form is None:
        assert base == text(raw)
        assert company_name(base) == (base, None)
    else:
        assert form in LEGAL_FORMS
        assert not base.endswith((",", " "))
        assert company_name(f"{base} {form}") == (base, form)
        assert company_name(f"{base}, {form}") == (base, form)


# --------------------------------------------------------------------------- country


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        (" de ", "DE"),
        ("Deutschland", "DE"),
        ("DEUTSCHLAND", "DE"),
        ("Germany", "DE"),
        ("Bundesrepublik Deutschland", "DE"),
        ("D", "DE"),
        ("DEU", "DE"),
        ("Österreich", "AT"),
        ("Oesterreich", "AT"),
        ("Austria", "AT"),
        ("A", "AT"),
        ("AT", "AT"),
        ("Schweiz", "CH"),
        ("Switzerland", "CH"),
        ("CH", "CH"),
        ("FL", "LI"),
        ("Frankreich", "FR"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("USA", "US"),
        ("nl", "NL"),
        ("XK", "XK"),
        ("AQ", "AQ"),
    ],
)
def test_country(raw: str, expected: str) -> None:
    assert country(raw) == expected


@pytest.mark.parametrize("raw", ["XX", "Germania", "Deutsch land", "ZZ", "AC", "001", "E"])
def test_country_invalid(raw: str) -> None:
    found = finding(country, raw)
    assert found.field == "country"
    assert found.code == "country.invalid"
    assert found.params["value"] == raw.strip()


def test_country_blank_and_type() -> None:
    assert finding(country, " ").code == "value.required"
    assert finding(country, 49).code == "value.type"


def test_country_codes() -> None:
    assert len(COUNTRY_CODES) == 250  # the 249 ISO 3166-1 codes plus XK
    assert {"DE", "AT", "CH", "LI", "LU"} <= COUNTRY_CODES
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)


@given(st.text(max_size=30))
@example("Österreich")
def test_country_only_raises_validation_error(raw: str) -> None:
    returns_str_or_validation_error(country, raw)
    try:
        code = country(raw)
    except ValidationError:
        return
    assert code in COUNTRY_CODES
    assert country(code) == code


# --------------------------------------------------------------------------- postal codes


@pytest.mark.parametrize(
    ("raw", "land", "expected"),
    [
        ("70173", "DE", "70173"),
        (" 70173 ", "DE", "70173"),
        ("01067", "DE", "01067"),
        ("D-70173", "DE", "70173"),
        ("D 70173", "DE", "70173"),
        ("d-70173", "DE", "70173"),
        ("DE-70173", "DE", "70173"),
        ("D70173", "DE", "70173"),
        ("70173", "Deutschland", "70173"),
        ("1010", "AT", "1010"),
        ("A-1010", "AT", "1010"),
        ("8001", "CH", "8001"),
        ("CH-8001", "CH", "8001"),
        ("9490", "LI", "9490"),
        ("sw1a  1aa", "GB", "SW1A 1AA"),
        ("1012 ab", "NL", "1012 AB"),
        ("75008", "FR", "75008"),
        ("00-950", "PL", "00-950"),
    ],
)
def test_postal_code(raw: str, land: str, expected: str) -> None:
    assert postal_code(raw, land) == expected


@pytest.mark.parametrize(
    ("raw", "land"),
    [
        ("7017", "DE"),
        ("701734", "DE"),
        ("7017a", "DE"),
        ("A-70173", "DE"),
        ("７０１７３", "DE"),
        ("10100", "AT"),
        ("D-1010", "AT"),
        ("800", "CH"),
        ("1234567890123", "GB"),
        ("SW1A/1AA", "GB"),
        ("-", "NL"),
    ],
)
def test_postal_code_invalid(raw: str, land: str) -> None:
    found = finding(postal_code, raw, land)
    assert found.field == "postal_code"
    assert found.code == "postal_code.invalid"
    assert found.params["value"] == raw
    assert found.params["country"] == land


def test_postal_code_bad_country() -> None:
    found = finding(postal_code, "70173", "Neverland")
    assert found.field == "country"
    assert found.code == "country.invalid"


def test_postal_code_blank_and_type() -> None:
    assert finding(postal_code, "  ").code == "value.required"
    assert finding(postal_code, 70173).code == "value.type"


@given(st.text(max_size=20), st.sampled_from(["DE", "AT", "CH", "LI", "GB", "NL", "US"]))
@example("D-70173", "DE")
def test_postal_code_only_raises_validation_error(raw: str, land: str) -> None:
    returns_str_or_validation_error(postal_code, raw, land)
    try:
        once = postal_code(raw, land)
    except ValidationError:
        return
    assert postal_code(once, land) == once


# --------------------------------------------------------------------------- never crash


@given(st.text())
@example("Müller-Lüdenscheidt")
@example("\x00")
def test_total_functions_never_raise(raw: str) -> None:
    assert isinstance(fold(raw), str)
    assert isinstance(koelner_phonetik(raw), str)


@given(st.text(max_size=60))
@example("Muster GmbH & Co. KG")
def test_validating_functions_raise_only_validation_errors(raw: str) -> None:
    for func in (text, multiline, company_name, country, postal_code, email, phone):
        returns_str_or_validation_error(func, raw)


def test_module_exports() -> None:
    for name in normalize.__all__:
        assert hasattr(normalize, name), name
    assert phonenumbers.SUPPORTED_REGIONS  # the library the module builds on is there
