"""Validation of single values that are not plain normalisation, and of whole entities.

The converters of the model call these functions; they raise
:class:`crmkit.ValidationError` naming the field.  :func:`findings` collects
the non-fatal warnings about an entity (``phone.unassigned`` …).
"""

from __future__ import annotations

import re
from typing import Final

from stdnum import vatin
from stdnum.exceptions import ValidationError as StdnumError

from crmkit.errors import Finding, ValidationError

_NUMBER_RE: Final = re.compile(r"^C\d{5,12}$")


def format_contact_number(n: int) -> str:
    """The contact number for sequence value *n*: ``C00001`` (at least 5 digits)."""
    return f"C{n:05d}"


def contact_number(text: str, *, field: str = "number") -> str:
    """A contact number in its one canonical spelling: ``C`` and at least five digits.

    Leading zeros beyond five digits are dropped, so that every number has
    one spelling and number order (shorter first, then by text) is numeric.

    >>> contact_number("c00042"), contact_number("C000042")
    ('C00042', 'C00042')
    """
    value = text.strip().upper()
    if not _NUMBER_RE.match(value) or int(value[1:]) == 0:
        raise ValidationError.single(
            field, "value.invalid", value=text, reason="expected C followed by 5 or more digits"
        )
    return format_contact_number(int(value[1:]))


def vat_id(text: str, *, field: str = "vat_id") -> str:
    """A VAT identification number, checked with python-stdnum (``DE123456788``).

    Spaces, dots and dashes are removed; the country prefix is required.

    >>> vat_id("de 136 695 976")
    'DE136695976'
    """
    compact = re.sub(r"[\s.\-/]", "", text).upper()
    try:
        return str(vatin.validate(compact))
    except StdnumError as exc:
        raise ValidationError.single(field, "vat_id.invalid", value=text, reason=str(exc)) from None
    except Exception as exc:  # stdnum may raise odd errors on odd input
        raise ValidationError.single(
            field, "vat_id.invalid", value=text, reason=type(exc).__name__
        ) from None


def findings(entity: object) -> list[Finding]:
    """Non-fatal findings about an entity's own values (empty for a clean one)."""
    method = getattr(entity, "findings", None)
    return list(method()) if callable(method) else []


__all__ = ["contact_number", "findings", "format_contact_number", "vat_id"]
