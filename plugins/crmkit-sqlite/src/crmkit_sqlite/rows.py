"""Reading stored JSON rows back into entities: one place that knows what damage looks like."""

from __future__ import annotations

import json
from typing import TypeVar

from crmkit.errors import StoreError, ValidationError
from crmkit.serialize import from_dict

T = TypeVar("T")


def load_row(cls: type[T], path: str, what: str, data: str) -> T:
    """The *cls* entity in the JSON text *data*; damage is a ``store.corrupt`` error.

    *what* names the row in the message (``"bounce 1f3…"``), *path* the file.
    """
    try:
        return from_dict(cls, json.loads(data))
    except (ValueError, TypeError, ValidationError) as exc:
        raise StoreError(code="store.corrupt", path=path, detail=f"{what}: {exc}") from exc


__all__ = ["load_row"]
