"""Normalisation of the values a CRM stores: phone numbers, e-mail, names, addresses.

Every function here is *pure*: it looks only at its arguments, does no I/O
(except :func:`email` with ``check_deliverability=True``, which asks DNS on
purpose), reads no clock and keeps no mutable state.  Each one either returns
the canonical form of its input or raises :class:`~crmkit.errors.ValidationError`
with one finding whose ``code`` is a key of :mod:`crmkit.messages`; for any
``str`` input nothing else escapes.

The canonical forms are:

* phone numbers: E.164 (``+491701234567``), see :func:`phone`;
* e-mail addresses: as normalised by *email-validator*, domain in lower-case
  Unicode form (``info@müller.de``), see :func:`email`;
* names and one-line text: NFC with whitespace collapsed, see :func:`text`;
* notes: NFC with ``\\n`` line ends, see :func:`multiline`;
* search keys: :func:`fold` (``"Müller"`` → ``"mueller"``) and the Cologne
  phonetic code :func:`koelner_phonetik` (``"Meier"`` → ``"67"``);
* company names split into base name and legal form, see :func:`company_name`;
* countries as ISO 3166 alpha-2 codes and postal codes, see :func:`country`
  and :func:`postal_code`.

>>> phone("0170 1234567")
'+491701234567'
>>> fold("Jürgen-Peter Müller")
'juergen peter mueller'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

import email_validator
import phonenumbers

from crmkit.errors import ValidationError

__all__ = [
    "COUNTRY_CODES",
    "LEGAL_FORMS",
    "company_name",
    "country",
    "email",
    "fold",
    "koelner_phonetik",
    "multiline",
    "phone",
    "phone_display",
    "phone_is_assigned",
    "phone_is_mobile",
    "phone_kind",
    "postal_code",
    "text",
]

# --------------------------------------------------------------------------- helpers


def _require_str(value: object, field: str) -> str:
    """*value* itself if it is a ``str``; else a ``value.type`` error."""
    if not isinstance(value, str):
        raise ValidationError.single(
            field, "value.type", expected="str", actual=type(value).__name__
        )
    return value


def _check_length(value: str, field: str, limit: int | None) -> None:
    if limit is not None and len(value) > limit:
        raise ValidationError.single(field, "value.too_long", length=len(value), limit=limit)


#: Control characters that count as white space (or line breaks) rather than junk.
_WHITESPACE_CONTROLS: Final = frozenset("\t\n\v\f\r\x85")


#: Any control character (Cc) or surrogate (Cs): the fast pre-check of
#: :func:`_check_characters`, which looks closer only when this matches.
_SUSPECT_RE: Final = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _check_characters(value: str, field: str, allowed_controls: frozenset[str]) -> None:
    """Reject control characters (Unicode ``Cc``) outside *allowed_controls*
    and unpaired surrogates (``Cs``), which no storage encoding accepts."""
    if _SUSPECT_RE.search(value) is None:
        return
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in allowed_controls:
            raise ValidationError.single(field, "value.control_characters")
        if category == "Cs":
            raise ValidationError.single(
                field, "value.invalid", value=value, reason="unpaired surrogate code point"
            )


# --------------------------------------------------------------------------- phone

#: Longest phone text accepted before parsing (after stripping).
PHONE_MAX_LENGTH: Final = 64

#: Regions whose numbers, dialled nationally, always start with the trunk
#: prefix 0.  A number written there without ``+``, ``00`` or a leading 0 lacks
#: its area code (``1234567``), however phonenumbers would read it.
_TRUNK_ZERO_REGIONS: Final = frozenset({"DE", "AT", "CH", "LI"})

_DASHES: Final = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")

_POSSIBLE_REASONS: Final[dict[int, str]] = {
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid length",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
}

_PARSE_REASONS: Final[dict[int, tuple[str, str]]] = {
    phonenumbers.NumberParseException.NOT_A_NUMBER: ("phone.invalid", "no phone number found"),
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
        "phone.impossible",
        "unknown country code",
    ),
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: ("phone.impossible", "too short"),
    phonenumbers.NumberParseException.TOO_SHORT_NSN: ("phone.impossible", "too short"),
    phonenumbers.NumberParseException.TOO_LONG: ("phone.impossible", "too long"),
}


def _region(region: object) -> str:
    if isinstance(region, str):
        code = region.strip().upper()
        if code in phonenumbers.SUPPORTED_REGIONS:
            return code
    raise ValidationError.single("region", "phone.region", value=region)


#: One white-space character: ``\s`` of a ``str`` pattern is exactly ``str.isspace``.
_WHITESPACE_RE: Final = re.compile(r"\s")
_ASCII_LETTER_RE: Final = re.compile(r"[A-Za-z]")


def _has_letters(text: str) -> bool:
    """True if any character of *text* is a letter (``str.isalpha``)."""
    if text.isascii():
        return _ASCII_LETTER_RE.search(text) is not None
    return any(ch.isalpha() for ch in text)


def _clean_phone_text(value: str) -> str:
    """White space of every kind to plain spaces, dashes to ``-``, no ``tel:``."""
    cleaned = _WHITESPACE_RE.sub(" ", value).translate(_DASHES).strip()
    if cleaned[:4].lower() == "tel:":
        cleaned = cleaned[4:].strip()
    return cleaned


def _phone(text: str, region: str, field: str) -> tuple[str, int]:
    """The phone number in *text* in E.164 form, read as dialled in *region*.

    Accepts the usual ways of writing numbers: national (``030/12345678``),
    international with ``+`` or ``00`` (``0049 30 1234567``), German direct-dial
    suffixes (``781937-30``), the ``(0)`` of the trunk prefix inside an
    international number (``+49 (0)711 …``; phonenumbers drops it for every
    country that has a trunk prefix 0 and keeps it for Italy, where it is part
    of the number), ``tel:`` URIs, any kind of white space and dash.

    Numbers that are *possible* but lie in no assigned range are returned;
    ask :func:`phone_is_assigned` about them.

    The usual German notations (region ``DE``) are read without
    ``phonenumbers.parse`` (:func:`_phone_fast_de`), with the same result;
    everything else goes through it.

    Raises :class:`~crmkit.errors.ValidationError` with code

    * ``value.type`` / ``value.required`` / ``value.too_long`` (more than 64
      characters) for a non-string, a blank or an overlong *text*;
    * ``phone.region`` (field ``region``) when *region* is no known region;
    * ``phone.invalid`` when *text* holds no phone number, contains letters
      (vanity numbers such as ``0800 FLOWERS`` are not accepted, so that
      trailing words never turn into digits) or has an extension (E.164 cannot
      hold one: write the full direct-dial number);
    * ``phone.local_only`` when the area code is missing (``1234567`` in DE);
    * ``phone.impossible`` (with a ``reason`` such as ``"too short"``) when the
      number cannot exist at all (``0170``).

    Returns the E.164 string and phonenumbers' number type.
    """
    value, cleaned, code = _phone_text(text, region, field)
    if code == "DE":
        fast = _phone_fast_de(cleaned)
        if fast is not None:
            return fast
    return _phone_library(cleaned, value, code, field)


def _phone_text(text: str, region: str, field: str) -> tuple[str, str, str]:
    """The checks before a number is read: ``(text, cleaned text, region code)``."""
    value = _require_str(text, field)
    code = _region(region)
    cleaned = _clean_phone_text(value)
    if not cleaned:
        raise ValidationError.single(field, "value.required")
    _check_length(cleaned, field, PHONE_MAX_LENGTH)
    if _has_letters(cleaned):
        raise ValidationError.single(field, "phone.invalid", value=value, reason="contains letters")
    return value, cleaned, code


def _phone_library(cleaned: str, value: str, code: str, field: str) -> tuple[str, int]:
    """:func:`_phone` through ``phonenumbers.parse`` for the *cleaned* text of *value*."""
    try:
        number = phonenumbers.parse(cleaned, code, keep_raw_input=True)
    except phonenumbers.NumberParseException as exc:
        err_code, reason = _PARSE_REASONS.get(
            exc.error_type, ("phone.invalid", "no phone number found")
        )
        raise ValidationError.single(field, err_code, value=value, reason=reason) from None
    except Exception:  # phonenumbers should not, but must never leak other errors
        raise ValidationError.single(
            field, "phone.invalid", value=value, reason="no phone number found"
        ) from None
    if number.extension:
        raise ValidationError.single(
            field, "phone.invalid", value=value, reason="extensions cannot be stored"
        )
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise ValidationError.single(field, "phone.local_only", value=value)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        reason = _POSSIBLE_REASONS.get(possible, "invalid length")
        raise ValidationError.single(field, "phone.impossible", value=value, reason=reason)
    if (
        code in _TRUNK_ZERO_REGIONS
        and number.country_code_source == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY
        and not phonenumbers.normalize_digits_only(cleaned).startswith("0")
    ):
        raise ValidationError.single(field, "phone.local_only", value=value)
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:  # not valid: in no assigned range
        _reject_kept_trunk_prefix(number, value, field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind


#: A number written with digits and the usual separators only, perhaps after a ``+``.
_PLAIN_PHONE_RE: Final = re.compile(r"\+?[0-9 ()/.-]+")
_NOT_DIGITS_RE: Final = re.compile(r"[^0-9]+")
_GERMANY: Final = 49


def _phone_fast_de(cleaned: str) -> tuple[str, int] | None:
    """:func:`_phone` for the usual German notations without ``phonenumbers.parse``, or ``None``.

    Only *accepts*, and only what it is sure of: a *cleaned* text of ASCII
    digits, spaces and ``()/.-`` that starts with ``0`` and a digit 1–9
    (national), or with ``+49`` or ``0049``, perhaps followed by the trunk
    ``0`` (``+49 (0)711 …``), and whose national number then starts with 1–9
    and has a possible length for Germany.  For such a text
    ``phonenumbers.parse(cleaned, "DE")`` finds exactly that national number:
    the separators are punctuation it drops, no extension can be written with
    them, the leading ``0`` is the national prefix (no German number starts
    with ``0``, so it is always stripped when what remains has a possible
    length), ``00`` is the international prefix and 49 the country code.  The
    kind and the E.164 form then come from phonenumbers itself, as in the
    slow path.  Anything else (other countries, ``00`` + other codes,
    impossible lengths …) returns ``None`` and :func:`_phone_library` decides,
    errors included.  The tests compare the two on generated input.
    """
    number = _german_number(cleaned)
    if number is None:
        return None
    kind = phonenumbers.number_type(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind


def _german_number(cleaned: str) -> phonenumbers.PhoneNumber | None:
    """The possible German number :func:`_phone_fast_de` reads in *cleaned*, or ``None``."""
    if _PLAIN_PHONE_RE.fullmatch(cleaned) is None:
        return None
    digits = _NOT_DIGITS_RE.sub("", cleaned)
    if cleaned[0] == "+":
        if not digits.startswith("49"):
            return None
        national = digits[2:]
    elif digits.startswith("0049"):
        national = digits[4:]
    elif digits[:1] == "0" and digits[1:2] != "0":
        national = digits
    else:
        return None
    if national[:1] == "0":
        national = national[1:]
    if not national or national[0] == "0":
        return None
    number = phonenumbers.PhoneNumber(country_code=_GERMANY, national_number=int(national))
    if (
        phonenumbers.is_possible_number_with_reason(number)
        != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        return None
    return number


def phone(text: str, region: str = "DE", *, field: str = "phone") -> str:
    """The phone number in *text* in E.164 form, read as dialled in *region*.

    See :func:`phone_kind` for the rules and errors; this returns only the
    E.164 string.

    >>> phone("+49 (0)711 781937-30")
    '+4971178193730'
    >>> phone("01 51 34 56 78", region="AT")
    '+43151345678'
    """
    value, cleaned, code = _phone_text(text, region, field)
    if code == "DE":
        # The kind is not asked for: no need for phonenumbers' number type.
        number = _german_number(cleaned)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return _phone_library(cleaned, value, code, field)[0]


def phone_is_mobile(text: str, region: str = "DE", *, field: str = "phone") -> tuple[str, bool]:
    """The E.164 form of the number in *text* and whether it is a mobile number.

    The same as ``(e164, kind == "mobile")`` of :func:`phone_kind`, with the
    same errors, and cheaper for the usual German notations: every German
    mobile range begins with 1 (015…, 016…, 017…), so for any other German
    number phonenumbers' number type is not needed.  The tests compare the
    two on generated numbers.

    >>> phone_is_mobile("0170 1234567")
    ('+491701234567', True)
    >>> phone_is_mobile("030 1234567")
    ('+49301234567', False)
    """
    value, cleaned, code = _phone_text(text, region, field)
    if code == "DE":
        number = _german_number(cleaned)
        if number is not None:
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            mobile = e164.startswith("+491") and (
                phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
            )
            return e164, mobile
    e164, kind = _phone_library(cleaned, value, code, field)
    return e164, kind == phonenumbers.PhoneNumberType.MOBILE


#: Names :func:`phone_kind` gives to phonenumbers' number types.
_KIND_NAMES: Final[dict[int, str]] = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed_line",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium_rate",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared_cost",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "uan",
    phonenumbers.PhoneNumberType.VOICEMAIL: "voicemail",
    phonenumbers.PhoneNumberType.UNKNOWN: "unassigned",
}


def phone_kind(text: str, region: str = "DE", *, field: str = "phone") -> tuple[str, str]:
    """The E.164 form of the number in *text* and what kind of line it is.

    The kind is ``"mobile"``, ``"fixed_line"``, ``"voip"``, ``"toll_free"`` …
    or ``"unassigned"`` for a possible number in no assigned range.  Parses
    once, so it costs the same as :func:`phone`.

    >>> phone_kind("0170 1234567")
    ('+491701234567', 'mobile')
    >>> phone_kind("+49 123 456-0")
    ('+491234560', 'unassigned')
    """
    e164, kind = _phone(text, region, field)
    return e164, _KIND_NAMES.get(kind, "unassigned")


def _reject_kept_trunk_prefix(number: phonenumbers.PhoneNumber, value: str, field: str) -> None:
    """Reject an invalid number whose national part still starts with the trunk 0.

    phonenumbers keeps the trunk prefix when dropping it would leave too few
    digits (``0170`` becomes ``+490170``).  In countries with the trunk prefix
    0 no assigned number starts with it, so such a number cannot exist.
    """
    main_region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(main_region)
    if metadata is None or metadata.national_prefix != "0":
        return
    national = phonenumbers.national_significant_number(number)
    if not national.startswith("0"):
        return
    rest = national[1:]
    general = metadata.general_desc
    shortest = min(general.possible_length) if general and general.possible_length else 1
    reason = "too short" if len(rest) < shortest else "the area code must not start with 0"
    raise ValidationError.single(field, "phone.impossible", value=value, reason=reason)


def _parse_e164(e164: str) -> phonenumbers.PhoneNumber | None:
    if not isinstance(e164, str):
        return None
    try:
        return phonenumbers.parse(_clean_phone_text(e164), None)
    except Exception:  # NumberParseException, or anything odd from the library
        return None


def phone_is_assigned(e164: str) -> bool:
    """Whether the number lies in a range assigned to some network.

    ``False`` for numbers :func:`phone` returns although phonenumbers knows
    no such range (the basis of the ``phone.unassigned`` warning), and for
    text that is no international number at all.

    >>> phone_is_assigned("+491701234567")
    True
    >>> phone_is_assigned("+491234560")
    False
    """
    if not isinstance(e164, str):
        return False
    known = _ASSIGNED.get(e164)
    if known is None:
        number = _parse_e164(e164)
        known = number is not None and phonenumbers.is_valid_number(number)
        if len(_ASSIGNED) >= _ASSIGNED_MAX:
            _ASSIGNED.clear()
        _ASSIGNED[e164] = known
    return known


#: Answers of :func:`phone_is_assigned` already given: a bounded memo of a pure
#: function (every stored contact's numbers are checked on each validation),
#: cleared when full.
_ASSIGNED: dict[str, bool] = {}
_ASSIGNED_MAX: Final = 50_000


def phone_display(e164: str) -> str:
    """The number in international format for display, grouped as is usual there.

    Raises ``phone.invalid`` when *e164* is no international number.

    >>> phone_display("+491701234567")
    '+49 170 1234567'
    """
    number = _parse_e164(e164)
    if number is None:
        raise ValidationError.single(
            "phone", "phone.invalid", value=e164, reason="not an international number"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --------------------------------------------------------------------------- e-mail

#: Longest e-mail address accepted (RFC 5321 path limit minus the brackets).
EMAIL_MAX_LENGTH: Final = 254


def email(text: str, *, check_deliverability: bool = False, field: str = "email") -> str:
    """The normalised e-mail address in *text*.

    Uses *email-validator*.  The result is its ``normalized`` form: surrounding
    white space removed, the domain in lower case and in **Unicode** form
    (``Info@XN--MLLER-KVA.DE`` and ``info@MÜLLER.de`` both give
    ``info@müller.de``; the ASCII/Punycode form is for sending, not for
    storing).  The local part keeps its case, except that email-validator
    lower-cases well-known role names (``Info@`` → ``info@``).  Display names
    (``Max <max@example.com>``), quoted local parts and IP-address domains are
    rejected.

    With *check_deliverability* the domain is looked up in DNS (the only I/O
    in this module) and ``email.undeliverable`` raised when it takes no mail.

    The common case — a plain ASCII address such as ``max.mustermann@example.com``
    with no Punycode and no special-use domain — is decided without the
    library (:func:`_email_fast`), with exactly the result email-validator
    gives; everything else goes through it.

    Raises ``value.type``, ``value.required``, ``value.too_long`` (more than
    254 characters) or ``email.invalid`` (with the validator's ``reason``).

    >>> email("  Max.Mustermann@EXAMPLE.COM ")
    'Max.Mustermann@example.com'
    >>> email("info@MÜLLER.de")
    'info@müller.de'
    """
    value = _require_str(text, field).strip()
    if not value:
        raise ValidationError.single(field, "value.required")
    _check_length(value, field, EMAIL_MAX_LENGTH)
    if not check_deliverability:
        fast = _email_fast(value)
        if fast is not None:
            return fast
    return _email_library(value, check_deliverability, field)


#: A plain ASCII address: a dot-atom local part (RFC 5322 ``atext``) and a host
#: name of letter/digit/hyphen labels with at least one dot, ending in a letter.
_PLAIN_EMAIL_RE: Final = re.compile(
    r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z])"
)
#: email-validator's limits (RFC 5321 local part, RFC 1035 name and label).
_LOCAL_PART_MAX: Final = 64
_DOMAIN_MAX: Final = 253
_LABEL_MAX: Final = 63


def _email_fast(value: str) -> str | None:
    """The normalised form of a plain ASCII address, or ``None`` to ask the library.

    Only *accepts*: whatever it is not sure of (non-ASCII, quotes, display
    names, ``--`` in the domain — Punycode and RFC 5890 R-LDH labels —,
    over-long parts, special-use domains) returns ``None``, and
    :func:`_email_library` decides.  For an address it accepts,
    email-validator (without DNS) makes these same checks and gives the same
    ``local@domain``: the domain lower-cased (the UTS 46 mapping of an ASCII
    host name is lower-casing) and an RFC 2142 role name (``Info``) too.  The
    tests compare the two on generated input.
    """
    match = _PLAIN_EMAIL_RE.fullmatch(value)
    if match is None:
        return None
    local, domain = match.group(1), match.group(2)
    if len(local) > _LOCAL_PART_MAX or len(domain) > _DOMAIN_MAX or "--" in domain:
        return None
    if local.lower() in email_validator.rfc_constants.CASE_INSENSITIVE_MAILBOX_NAMES:
        local = local.lower()
    domain = domain.lower()
    if any(len(label) > _LABEL_MAX for label in domain.split(".")):
        return None
    for special in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        if domain == special or domain.endswith("." + special):
            return None
    return f"{local}@{domain}"


def _email_library(value: str, check_deliverability: bool, field: str) -> str:
    """:func:`email` through email-validator, for a stripped, non-blank *value*."""
    try:
        result = email_validator.validate_email(value, check_deliverability=check_deliverability)
    except email_validator.EmailUndeliverableError as exc:
        raise ValidationError.single(
            field, "email.undeliverable", value=value, reason=str(exc)
        ) from None
    except email_validator.EmailNotValidError as exc:
        raise ValidationError.single(field, "email.invalid", value=value, reason=str(exc)) from None
    except Exception as exc:  # odd Unicode can trip the library (UnicodeError, IndexError …)
        raise ValidationError.single(
            field, "email.invalid", value=value, reason=f"unreadable address ({type(exc).__name__})"
        ) from None
    local, _, domain = str(result.normalized).rpartition("@")
    return f"{local}@{domain.lower()}"


# --------------------------------------------------------------------------- text


def text(value: str, *, field: str = "text", max_length: int | None = None) -> str:
    """One line of text, as for names: NFC, white space collapsed, stripped.

    Every run of white space (spaces, tabs, line breaks, non-breaking spaces
    …) becomes one space.  Blank input gives ``""``.  Control characters such
    as NUL raise ``value.control_characters``; text longer than *max_length*
    after normalisation raises ``value.too_long``.  ``text(text(x)) == text(x)``.

    >>> text("  Jürgen\\u00a0 Müller\\n")
    'Jürgen Müller'
    """
    raw = _require_str(value, field)
    _check_characters(raw, field, _WHITESPACE_CONTROLS)
    result = " ".join(unicodedata.normalize("NFC", raw).split())
    _check_length(result, field, max_length)
    return result


_one_line = text  # for functions whose parameter is called ``text``

_LINE_BREAKS: Final = re.compile("\r\n|[\r\v\f\x85\u2028\u2029]")


def multiline(value: str, *, field: str = "notes", max_length: int | None = None) -> str:
    """Text of several lines, as for notes: NFC, ``\\n`` line ends, tidy edges.

    ``\\r\\n``, ``\\r`` and the other Unicode line breaks become ``\\n``;
    trailing white space of each line and blank lines at the start and end are
    removed; indentation, tabs and blank lines in between are kept.  Other
    control characters raise ``value.control_characters``.  Blank input gives
    ``""``.  ``multiline(multiline(x)) == multiline(x)``.

    >>> multiline("\\r\\nFirst line  \\r\\n\\r\\n  second\\r\\n\\r\\n")
    'First line\\n\\n  second'
    """
    raw = _require_str(value, field)
    _check_characters(raw, field, _WHITESPACE_CONTROLS)
    lines = _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", raw)).split("\n")
    stripped = [line.rstrip() for line in lines]
    while stripped and not stripped[0]:
        stripped.pop(0)
    while stripped and not stripped[-1]:
        stripped.pop()
    result = "\n".join(stripped)
    _check_length(result, field, max_length)
    return result


# --------------------------------------------------------------------------- folding

_UMLAUTS: Final = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})

#: Latin letters without a canonical decomposition, and their base letters.
_LATIN_EXTRA: Final = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "ŀ": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ß": "ss",
    }
)


def _strip_marks(value: str) -> str:
    return "".join(ch for ch in value if not unicodedata.category(ch).startswith("M"))


def fold(text: str) -> str:
    """The folding key of *text* for search and matching.

    Steps: NFC; case folding (so ``ß`` and ``ẞ`` become ``ss``); the German
    umlauts ``ä ö ü`` become ``ae oe ue``; compatibility decomposition (NFKD)
    with every combining mark removed (``é`` → ``e``, ``ç`` → ``c``,
    ``ﬁ`` → ``fi``, ``①`` → ``1``); Latin letters without a decomposition are
    spelled out (``æ`` → ``ae``, ``œ`` → ``oe``, ``ø`` → ``o``, ``ł`` → ``l``,
    ``þ`` → ``th``); every character that is not a letter or a digit becomes
    a space; white space is collapsed and stripped.

    So ``Müller``, ``Mueller``, ``MÜLLER`` and ``Mu\\u0308ller`` (decomposed)
    all give ``mueller``, whereas ``Muller`` stays ``muller``.  Never raises
    for a ``str``; ``fold(fold(x)) == fold(x)``.

    >>> fold("  Jürgen-Peter ")
    'juergen peter'
    >>> fold("Straße")
    'strasse'
    """
    folded = unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)
    if folded.isascii():
        # Nothing left to decompose, strip or spell out (the usual case for
        # German names once the umlauts are spelled): the same result sooner.
        return " ".join(_NOT_ASCII_ALNUM_RE.sub(" ", folded).split())
    return _fold_unicode(folded)


#: Anything but a lower-case ASCII letter or digit (after case folding).
_NOT_ASCII_ALNUM_RE: Final = re.compile(r"[^a-z0-9]+")


def _fold_unicode(folded: str) -> str:
    """The rest of :func:`fold` after NFC, case folding and the umlauts."""
    folded = unicodedata.normalize("NFKD", folded).casefold()
    folded = _strip_marks(unicodedata.normalize("NFKD", folded)).translate(_LATIN_EXTRA)
    kept = "".join(ch if unicodedata.category(ch)[0] in "LN" else " " for ch in folded)
    return " ".join(kept.split())


# --------------------------------------------------------------------------- Kölner Phonetik

_VOWELS: Final = frozenset("AEIJOUY")
_C_HARD_INITIAL: Final = frozenset("AHKLOQRUX")
_C_HARD: Final = frozenset("AHKOQUX")
_DT_SOFT: Final = frozenset("CSZ")
_AFTER_S: Final = frozenset("SZ")
_X_AFTER: Final = frozenset("CKQ")
_SIMPLE_CODES: Final[dict[str, str]] = {
    "B": "1",
    "F": "3",
    "V": "3",
    "W": "3",
    "G": "4",
    "K": "4",
    "Q": "4",
    "L": "5",
    "M": "6",
    "N": "6",
    "R": "7",
    "S": "8",
    "Z": "8",
}


def _koelner_letters(value: str) -> str:
    """The letters A–Z of *value*: umlauts and accents lose their marks, ß is S."""
    plain = _strip_marks(unicodedata.normalize("NFKD", value)).casefold()
    plain = plain.translate(_LATIN_EXTRA).upper()
    return "".join(ch for ch in plain if "A" <= ch <= "Z")


def _koelner_code(letters: str, i: int) -> str:
    ch = letters[i]
    prev = letters[i - 1] if i > 0 else ""
    after = letters[i + 1] if i + 1 < len(letters) else ""
    if ch in _VOWELS:
        return "0"
    if ch == "H":
        return ""
    if ch == "P":
        return "3" if after == "H" else "1"
    if ch in ("D", "T"):
        return "8" if after in _DT_SOFT else "2"
    if ch == "C":
        if i == 0:
            return "4" if after in _C_HARD_INITIAL else "8"
        if prev in _AFTER_S:
            return "8"
        return "4" if after in _C_HARD else "8"
    if ch == "X":
        return "8" if prev in _X_AFTER else "48"
    return _SIMPLE_CODES[ch]


def koelner_phonetik(text: str) -> str:
    """The Kölner Phonetik (Cologne phonetics, Postel 1969) code of *text*.

    Implements the rules as given in the German Wikipedia article: each letter
    gets a digit depending on its neighbours, runs of equal digits are merged,
    then every ``0`` except a leading one is dropped.  Umlauts and accented
    letters count as their base vowel or consonant (``ä`` → ``a``, ``é`` →
    ``e``), ``ß`` as ``s``.  Everything that is not a letter is ignored and
    separates nothing: the input is one stream of letters, so a name of
    several words gets one code (``"Müller-Lüdenscheidt"`` → ``"65752682"``),
    and only the very first letter counts as initial.  Never raises for a
    ``str``; ``""`` when *text* has no letters.

    >>> koelner_phonetik("Wikipedia")
    '3412'
    >>> koelner_phonetik("Meyer") == koelner_phonetik("Maier") == "67"
    True
    """
    letters = _koelner_letters(text)
    digits = "".join(_koelner_code(letters, i) for i in range(len(letters)))
    merged: list[str] = []
    for digit in digits:
        if not merged or merged[-1] != digit:
            merged.append(digit)
    if not merged:
        return ""
    return merged[0] + "".join(d for d in merged[1:] if d != "0")


# --------------------------------------------------------------------------- company names

_J = r"[\s,]*"  # joins the parts of a legal form; as lax as the separator before it
_UMLAUT_A = "(?:ä|ae|a)"
_UMLAUT_U = "(?:ü|ue|u)"
_MBH = rf"(?:m\.?\s*b\.?\s*H\.?|mit\s+beschr{_UMLAUT_A}nkter\s+Haftung)"
_GMBH = rf"(?:(?:G\.?|Ges\.?|Gesellschaft){_J}{_MBH})"
_HAFTUNGSBESCHRAENKT = rf"(?:\(?\s*haftungsbeschr(?:{_UMLAUT_A}nkt|\.)\s*\)?)"
_UG = rf"(?:(?:UG|Unternehmergesellschaft)(?:{_J}{_HAFTUNGSBESCHRAENKT})?)"
_GEMEINNUETZIG = rf"(?:g\.?|gemeinn{_UMLAUT_U}tzige)"
_KG = r"(?:K\.?\s*G\.?|Kommanditgesellschaft)"
_KGAA = rf"(?:{_KG}{_J}(?:a\.?\s*A\.?|auf\s+Aktien))"
_AG = r"(?:A\.?\s*G\.?|Aktiengesellschaft)"
_SE = r"(?:S\.?\s*E\.?|Societas\s+Europaea)"
_CO = rf"(?:{_J}(?:&|\+|und|u\.){_J}(?:Co|Cie)\.?{_J})"
_PARTG = r"(?:PartG|Partnerschaftsgesellschaft)"
_MBB = rf"(?:m\.?\s*b\.?\s*B\.?|mit\s+beschr{_UMLAUT_A}nkter\s+Berufshaftung)"

#: Canonical legal form → pattern of its spellings (case is ignored).
_LEGAL_FORM_PATTERNS: Final[dict[str, str]] = {
    "GmbH & Co. KGaA": rf"{_GMBH}{_CO}{_KGAA}",
    "GmbH & Co. KG": rf"{_GMBH}{_CO}{_KG}",
    "UG (haftungsbeschränkt) & Co. KG": rf"{_UG}{_CO}{_KG}",
    "AG & Co. KGaA": rf"{_AG}{_CO}{_KGAA}",
    "AG & Co. KG": rf"{_AG}{_CO}{_KG}",
    "SE & Co. KGaA": rf"{_SE}{_CO}{_KGAA}",
    "SE & Co. KG": rf"{_SE}{_CO}{_KG}",
    "gGmbH": rf"{_GEMEINNUETZIG}{_J}{_GMBH}",
    "GmbH": _GMBH,
    "mbH": _MBH,
    "gUG (haftungsbeschränkt)": rf"{_GEMEINNUETZIG}{_J}{_UG}",
    "UG (haftungsbeschränkt)": _UG,
    "KGaA": _KGAA,
    "KG": _KG,
    "AG": _AG,
    "SE": _SE,
    "OHG": r"(?:o\.?\s*H\.?\s*G\.?|offene\s+Handelsgesellschaft)",
    "GbR": rf"(?:G\.?\s*b\.?\s*R\.?|Gesellschaft\s+b{_UMLAUT_U}rgerlichen\s+Rechts)",
    "e.V.": r"(?:e\.?\s*V\.?|eingetragener\s+Verein)",
    "eG": r"(?:e\.?\s*G\.?|eingetragene\s+Genossenschaft)",
    "e.K.": r"(?:e\.?\s*K(?:fm|fr|fn)?\.?|eingetragene[rn]?\s+Kauf(?:mann|frau))",
    "PartG mbB": rf"(?:{_PARTG}{_J}{_MBB})",
    "PartG": _PARTG,
    "Ltd": r"(?:Ltd\.?|Limited)",
    "Inc": r"(?:Inc\.?|Incorporated)",
    "LLC": r"(?:L\.?\s*L\.?\s*C\.?)",
    "S.à r.l.": r"(?:S\.?\s*(?:à|a)\.?\s*r\.?\s*l\.?)",
    "S.A.": r"(?:S\.?\s*A\.?)",
    "B.V.": r"(?:B\.?\s*V\.?)",
}

#: The legal forms :func:`company_name` recognises, in their canonical spelling.
LEGAL_FORMS: Final[tuple[str, ...]] = tuple(_LEGAL_FORM_PATTERNS)

_LEGAL_FORM_GROUPS: Final[dict[str, str]] = {
    f"f{i}": form for i, form in enumerate(_LEGAL_FORM_PATTERNS)
}
_LEGAL_FORM_RE: Final = re.compile(
    r"(?:^|[\s,]+)(?:"
    + "|".join(f"(?P<f{i}>{pattern})" for i, pattern in enumerate(_LEGAL_FORM_PATTERNS.values()))
    + r")\.?\s*$",
    re.IGNORECASE,
)


def company_name(text: str, *, field: str = "name") -> tuple[str, str | None]:
    """Split a company name into its base name and its legal form.

    The name is first normalised with :func:`text`.  A legal form is
    recognised only at the end of the name, in any of its usual spellings
    (case ignored, with or without dots and spaces, spelled out or abbreviated:
    ``Gesellschaft mbH``, ``G.m.b.H.``, ``GmbH & Co KG``, ``e. V.``,
    ``UG (haftungsbeschraenkt)`` …), and returned in its canonical spelling,
    one of :data:`LEGAL_FORMS`.  The longest form wins (``GmbH & Co. KG``, not
    ``KG``); commas and white space before it are dropped.  A form that would
    leave no base name is not split off (``"GmbH"`` → ``("GmbH", None)``).

    Splitting again is stable: for a result ``(base, form)`` with a form,
    ``company_name(f"{base} {form}") == (base, form)``.

    Raises ``value.required`` for a blank name and the errors of :func:`text`.

    >>> company_name("Muster GmbH & Co. KG")
    ('Muster', 'GmbH & Co. KG')
    >>> company_name("Muster, Inc.")
    ('Muster', 'Inc')
    >>> company_name("AG Muster")
    ('AG Muster', None)
    """
    name = _one_line(text, field=field)
    if not name:
        raise ValidationError.single(field, "value.required")
    match = _LEGAL_FORM_RE.search(name)
    if match is None or match.lastgroup is None:
        return name, None
    base = name[: match.start()].rstrip(" ,")
    if not base:
        return name, None
    return base, _LEGAL_FORM_GROUPS[match.lastgroup]


# --------------------------------------------------------------------------- countries

#: ISO 3166-1 alpha-2 codes (plus XK for Kosovo) accepted by :func:`country`.
COUNTRY_CODES: Final[frozenset[str]] = frozenset(
    (phonenumbers.SUPPORTED_REGIONS - {"AC", "TA"}) | {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}
)

#: Folded names, alpha-3 codes and old car codes → alpha-2 code.
_COUNTRY_ALIASES: Final[dict[str, str]] = {
    # Germany
    "d": "DE",
    "deu": "DE",
    "deutschland": "DE",
    "bundesrepublik deutschland": "DE",
    "brd": "DE",
    "germany": "DE",
    # Austria
    "a": "AT",
    "aut": "AT",
    "oesterreich": "AT",
    "osterreich": "AT",
    "austria": "AT",
    # Switzerland and Liechtenstein
    "che": "CH",
    "schweiz": "CH",
    "switzerland": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "fl": "LI",
    "lie": "LI",
    "liechtenstein": "LI",
    # neighbours and frequent partners
    "lux": "LU",
    "luxemburg": "LU",
    "luxembourg": "LU",
    "fra": "FR",
    "frankreich": "FR",
    "france": "FR",
    "ita": "IT",
    "italien": "IT",
    "italy": "IT",
    "italia": "IT",
    "nld": "NL",
    "niederlande": "NL",
    "netherlands": "NL",
    "holland": "NL",
    "bel": "BE",
    "belgien": "BE",
    "belgium": "BE",
    "dnk": "DK",
    "daenemark": "DK",
    "denmark": "DK",
    "pol": "PL",
    "polen": "PL",
    "poland": "PL",
    "cze": "CZ",
    "tschechien": "CZ",
    "czechia": "CZ",
    "czech republic": "CZ",
    "esp": "ES",
    "spanien": "ES",
    "spain": "ES",
    "gbr": "GB",
    "uk": "GB",
    "grossbritannien": "GB",
    "vereinigtes koenigreich": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "usa": "US",
    "vereinigte staaten": "US",
    "vereinigte staaten von amerika": "US",
    "united states": "US",
    "united states of america": "US",
}


def country(text: str, *, field: str = "country") -> str:
    """The ISO 3166-1 alpha-2 code (upper case) of the country in *text*.

    Accepts the code in any case and with white space (``" de "``), common
    German and English names of the DACH countries and of frequent partners
    (``Deutschland``, ``Germany``, ``Österreich``, ``Austria``, ``Schweiz``,
    ``Switzerland`` …), a few alpha-3 codes (``DEU``, ``AUT``, ``CHE``) and
    the old car codes found in German address data (``D`` → ``DE``, ``A`` →
    ``AT``, ``CH``, ``FL`` → ``LI``).  Codes are checked against
    :data:`COUNTRY_CODES`.

    Raises ``value.type``, ``value.required`` or ``country.invalid``.

    >>> country(" Deutschland ")
    'DE'
    >>> country("ch")
    'CH'
    """
    value = _require_str(text, field).strip()
    if not value:
        raise ValidationError.single(field, "value.required")
    upper = value.upper()
    if upper in COUNTRY_CODES:
        return upper
    alias = _COUNTRY_ALIASES.get(fold(value))
    if alias is not None:
        return alias
    raise ValidationError.single(field, "country.invalid", value=value)


# --------------------------------------------------------------------------- postal codes

#: Country → (pattern of the code with an optional old prefix, digits).
_POSTAL_FORMATS: Final[dict[str, re.Pattern[str]]] = {
    "DE": re.compile(r"(?:(?:D|DE)\s*-?\s*)?([0-9]{5})", re.IGNORECASE),
    "AT": re.compile(r"(?:(?:A|AT)\s*-?\s*)?([0-9]{4})", re.IGNORECASE),
    "CH": re.compile(r"(?:CH\s*-?\s*)?([0-9]{4})", re.IGNORECASE),
    "LI": re.compile(r"(?:(?:FL|LI)\s*-?\s*)?([0-9]{4})", re.IGNORECASE),
}
_POSTAL_OTHER: Final = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]*[A-Z0-9])?")
POSTAL_CODE_MAX_LENGTH: Final = 12


def postal_code(text: str, country: str = "DE", *, field: str = "postal_code") -> str:
    """The postal code in *text*, checked against the format of *country*.

    * DE: exactly five digits; the old prefixes ``D-70173``, ``D 70173`` and
      ``DE-70173`` are dropped (→ ``70173``);
    * AT, CH, LI: exactly four digits (prefixes ``A-``, ``CH-``, ``FL-`` dropped);
    * any other country: white space collapsed, upper-cased, only letters,
      digits, spaces and hyphens, at most 12 characters (``sw1a 1aa`` →
      ``SW1A 1AA``).

    *country* goes through :func:`country` (so ``"Deutschland"`` works too);
    a bad one raises ``country.invalid`` on the field ``country``.  Raises
    ``value.type``, ``value.required`` or ``postal_code.invalid``.

    >>> postal_code("D-70173")
    '70173'
    >>> postal_code("1010", "AT")
    '1010'
    """
    value = _require_str(text, field)
    code = _country_param(country)
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValidationError.single(field, "value.required")
    pattern = _POSTAL_FORMATS.get(code)
    if pattern is not None:
        match = pattern.fullmatch(cleaned)
        if match is not None:
            return match.group(1)
    else:
        upper = cleaned.upper()
        if len(upper) <= POSTAL_CODE_MAX_LENGTH and _POSTAL_OTHER.fullmatch(upper):
            return upper
    raise ValidationError.single(field, "postal_code.invalid", value=value, country=code)


def _country_param(value: Any) -> str:
    return country(value, field="country")
