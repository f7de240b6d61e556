"""Bounces: mail that came back, and what was done about it.

A *hard* bounce (the mailbox does not exist) makes the address
undeliverable on every contact that has it; a *soft* bounce (mailbox full,
server busy) is only recorded.  Both stay on the worklist until someone
marks them processed.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import attrs

from crmkit import normalize
from crmkit.errors import ValidationError
from crmkit.ids import new_id
from crmkit.model import _convert

BOUNCE_KINDS: Final[tuple[str, ...]] = ("hard", "soft")


def _id(value: object) -> str:
    return _convert.identifier("id", value)


def _address(value: object) -> str:
    if not isinstance(value, str):
        raise _convert.type_error("address", "str", value)
    return normalize.email(value, field="address")


def _kind(value: object) -> str:
    if not isinstance(value, str) or value.strip().lower() not in BOUNCE_KINDS:
        raise ValidationError.single(
            "kind", "value.choice", value=value, choices=", ".join(BOUNCE_KINDS)
        )
    return value.strip().lower()


def _at(value: object) -> dt.datetime:
    result = _convert.utc_datetime("at", value)
    if result is None:
        raise ValidationError.single("at", "value.required")
    return result


def _processed_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("processed_at", value)


def _processed_by(value: object) -> str | None:
    return _convert.optional_text("processed_by", value)


def _detail(value: object) -> str:
    return _convert.text("detail", value, max_length=1000)


def _version(value: object) -> int:
    return _convert.non_negative_int("version", value)


def _contact_ids(value: object) -> tuple[str, ...]:
    return tuple(
        _convert.identifier(f"contact_ids.{i}", v)
        for i, v in enumerate(_convert.sequence("contact_ids", value))
    )


@attrs.frozen(kw_only=True)
class Bounce:
    """One returned mail: the address, hard or soft, when, and whether it was handled.

    ``contact_ids`` are the contacts that had the address when the bounce
    was recorded.
    """

    id: str = attrs.field(factory=new_id, converter=_id)
    address: str = attrs.field(converter=_address)
    kind: str = attrs.field(default="hard", converter=_kind)
    at: dt.datetime = attrs.field(converter=_at)
    detail: str = attrs.field(default="", converter=_detail)
    contact_ids: tuple[str, ...] = attrs.field(default=(), converter=_contact_ids)
    processed_at: dt.datetime | None = attrs.field(default=None, converter=_processed_at)
    processed_by: str | None = attrs.field(default=None, converter=_processed_by)
    version: int = attrs.field(default=0, converter=_version)

    @property
    def processed(self) -> bool:
        """True once someone marked it processed."""
        return self.processed_at is not None


__all__ = ["BOUNCE_KINDS", "Bounce"]
