"""Reading stored JSON rows back into entities: one place that knows what damage looks like."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from crmkit.errors import ConflictError, NotFoundError, StoreError, ValidationError
from crmkit.serialize import from_dict, to_dict
from crmkit.store import check_version

T = TypeVar("T")


def load_row(cls: type[T], path: str, what: str, data: str) -> T:
    """The *cls* entity in the JSON text *data*; damage is a ``store.corrupt`` error.

    *what* names the row in the message (``"bounce 1f3…"``), *path* the file.
    """
    try:
        return from_dict(cls, json.loads(data))
    except (ValueError, TypeError, ValidationError) as exc:
        raise StoreError(code="store.corrupt", path=path, detail=f"{what}: {exc}") from exc


@attrs.frozen
class VersionedTable(Generic[T]):
    """A table of versioned entities (an ``id``, a ``version``, the JSON in ``data``).

    *columns* are the indexed columns kept beside the JSON, *values* computes
    them from an entity.  Adding gives version 1; an update must carry the
    stored version (:func:`crmkit.store.check_version`).
    """

    table: str
    kind: str
    cls: type[T]
    columns: tuple[str, ...]
    values: Callable[[T], tuple[Any, ...]]

    def _row(self, entity: Any) -> tuple[Any, ...]:
        data = json.dumps(to_dict(entity), ensure_ascii=False, separators=(",", ":"))
        return (*self.values(entity), entity.version, data)

    def add(self, conn: sqlite3.Connection, entity: T) -> T:
        """Insert *entity* with version 1; a repeated id is a conflict."""
        key = getattr(entity, "id")  # noqa: B009
        if conn.execute(f"SELECT 1 FROM {self.table} WHERE id = ?", (key,)).fetchone():
            raise ConflictError(code="exists", kind=self.kind, key=key)
        stored = attrs.evolve(entity, version=1)  # type: ignore[misc]
        names = ", ".join((*self.columns, "version", "data"))
        marks = ", ".join("?" * (len(self.columns) + 3))
        conn.execute(
            f"INSERT INTO {self.table} (id, {names}) VALUES ({marks})", (key, *self._row(stored))
        )
        return stored

    def get(self, conn: sqlite3.Connection, path: str, key: str) -> T:
        """The entity with this id; :class:`crmkit.NotFoundError` if there is none."""
        row = None
        if isinstance(key, str):
            row = conn.execute(f"SELECT data FROM {self.table} WHERE id = ?", (key,)).fetchone()
        if row is None:
            raise NotFoundError(kind=self.kind, key=key)
        return load_row(self.cls, path, f"{self.kind} {key}", row[0])

    def update(self, conn: sqlite3.Connection, path: str, entity: T) -> T:
        """Replace the stored entity, checking its version."""
        key = getattr(entity, "id")  # noqa: B009
        current = self.get(conn, path, key)
        check_version(self.kind, key, getattr(entity, "version"), getattr(current, "version"))  # noqa: B009
        stored = attrs.evolve(entity, version=getattr(current, "version") + 1)  # type: ignore[misc]  # noqa: B009
        sets = ", ".join(f"{c} = ?" for c in (*self.columns, "version", "data"))
        conn.execute(f"UPDATE {self.table} SET {sets} WHERE id = ?", (*self._row(stored), key))
        return stored


__all__ = ["VersionedTable", "load_row"]
