"""Identifier types, in one place.

Ids are opaque strings.  :func:`new_id` makes a random one (UUID4 hex); the
domain never derives an id from the clock.
"""

from __future__ import annotations

import uuid
from typing import NewType

ContactId = NewType("ContactId", str)
AffiliationId = NewType("AffiliationId", str)


def new_id() -> str:
    """A fresh random identifier (32 lower-case hex digits)."""
    return uuid.uuid4().hex


def new_contact_id() -> ContactId:
    """A fresh :data:`ContactId`."""
    return ContactId(new_id())


def new_affiliation_id() -> AffiliationId:
    """A fresh :data:`AffiliationId`."""
    return AffiliationId(new_id())


__all__ = ["AffiliationId", "ContactId", "new_affiliation_id", "new_contact_id", "new_id"]
