"""Converter helpers shared by the entity modules.

attrs converters only receive the value, so each field gets a small named
module-level function (mypy's attrs plugin rejects partials) that calls one of
the generic helpers below with its field name.  Every helper is idempotent
and cheap on already-canonical input, and raises
:class:`crmkit.ValidationError` naming the field for anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from crmkit import normalize
from crmkit.errors import ValidationError

MAX_SHORT = 200
MAX_LONG = 100_000


def type_error(field: str, expected: str, value: object) -> ValidationError:
    """A ``value.type`` error for *field*."""
    return ValidationError.single(
        field, "value.type", expected=expected, actual=type(value).__name__
    )


#: Results of :func:`crmkit.normalize.text` already computed: a bounded memo of
#: a pure function (cities, streets, names and labels repeat), cleared when
#: full.  Only accepted texts are kept; the length limit is checked per call.
_TEXTS: dict[str, str] = {}
_TEXTS_MAX: Final = 50_000


def text(field: str, value: object, *, max_length: int = MAX_SHORT) -> str:
    """One-line text: NFC, whitespace collapsed; ``None`` becomes ``""``.

    Exactly :func:`crmkit.normalize.text` (same result, same errors), memoised.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise type_error(field, "str", value)
    result = _TEXTS.get(value)
    if result is None:
        result = normalize.text(value, field=field)
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[value] = result
    if len(result) > max_length:
        raise ValidationError.single(field, "value.too_long", length=len(result), limit=max_length)
    return result


def optional_text(field: str, value: object, *, max_length: int = MAX_SHORT) -> str | None:
    """Like :func:`text`, but blank becomes ``None``."""
    result = text(field, value, max_length=max_length)
    return result or None


def multiline(field: str, value: object) -> str:
    """Multi-line text such as notes; ``None`` becomes ``""``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise type_error(field, "str", value)
    if not value:
        return ""  # the common case: no notes
    return normalize.multiline(value, field=field, max_length=MAX_LONG)


def tags(field: str, value: object) -> frozenset[str]:
    """A set of tags: each one-line text, blanks dropped."""
    if value is None:
        return frozenset()
    if type(value) is frozenset and not value:
        return value  # the default, unchanged
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise type_error(field, "set of str", value)
    out: set[str] = set()
    for i, item in enumerate(value):
        cleaned = text(f"{field}.{i}", item)
        if cleaned:
            out.add(cleaned)
    return frozenset(out)


def utc_datetime(field: str, value: object) -> dt.datetime | None:
    """A timezone-aware datetime in UTC; ISO 8601 strings are accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValidationError.single(
                field, "value.invalid", value=value, reason=str(exc)
            ) from None
    if not isinstance(value, dt.datetime):
        raise type_error(field, "datetime", value)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError.single(field, "datetime.naive")
    if value.tzinfo is dt.UTC:
        return value
    return value.astimezone(dt.UTC)


def date(field: str, value: object) -> dt.date | None:
    """A calendar date; ISO strings (``2026-11-23``) are accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise type_error(field, "date", value)
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValidationError.single(
                field, "value.invalid", value=value, reason=str(exc)
            ) from None
    if not isinstance(value, dt.date):
        raise type_error(field, "date", value)
    return value


def decimal(field: str, value: object) -> Decimal | None:
    """A decimal amount; ints, strings and Decimals are accepted, floats are not."""
    if value is None or value == "":
        return None
    if isinstance(value, (bool, float)):
        raise type_error(field, "Decimal, int or str", value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(" ", ""))
        except InvalidOperation:
            raise ValidationError.single(
                field, "value.invalid", value=value, reason="not a number"
            ) from None
    else:
        raise type_error(field, "Decimal, int or str", value)
    if not result.is_finite():
        raise ValidationError.single(field, "value.invalid", value=str(value), reason="not finite")
    return result


def non_negative_int(field: str, value: object) -> int:
    """A non-negative integer such as a version."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise type_error(field, "int", value)
    if value < 0:
        raise ValidationError.single(field, "value.invalid", value=value, reason="negative")
    return value


def boolean(field: str, value: object) -> bool:
    """A strict boolean."""
    if not isinstance(value, bool):
        raise type_error(field, "bool", value)
    return value


def identifier(field: str, value: object) -> str:
    """An id: a non-empty one-line string without spaces."""
    if not isinstance(value, str):
        raise type_error(field, "str", value)
    if not value or len(value) > 64 or not value.isprintable() or " " in value:
        raise ValidationError.single(field, "value.invalid", value=value, reason="not an id")
    return value


def sequence(field: str, value: object) -> list[Any]:
    """A list from a tuple, list or single item (``None`` is empty)."""
    if value is None:
        return []
    if type(value) is list or type(value) is tuple:
        return list(value)  # the common case, without the abstract-class checks below
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    if isinstance(value, (set, frozenset)):
        raise type_error(field, "list or tuple (ordered)", value)
    return list(value)
