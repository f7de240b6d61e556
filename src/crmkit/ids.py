"""Identifier types, in one place.

Ids are opaque strings.  :func:`new_id` makes a random one (UUID4 hex); the
domain never derives an id from the clock.
"""

from __future__ import annotations

import secrets
from typing import NewType

ContactId = NewType("ContactId", str)
AffiliationId = NewType("AffiliationId", str)


def new_id() -> str:
    """A fresh random identifier (32 lower-case hex digits).

    Exactly ``uuid.uuid4().hex`` — 16 random bytes with the version (4) and
    variant bits set — without building a :class:`uuid.UUID` (a third of the
    time; every new contact and entry takes one).
    """
    raw = bytearray(secrets.token_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def new_contact_id() -> ContactId:
    """A fresh :data:`ContactId`."""
    return ContactId(new_id())


def new_affiliation_id() -> AffiliationId:
    """A fresh :data:`AffiliationId`."""
    return AffiliationId(new_id())


__all__ = ["AffiliationId", "ContactId", "new_affiliation_id", "new_contact_id", "new_id"]
