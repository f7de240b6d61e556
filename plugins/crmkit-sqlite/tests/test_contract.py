"""The SQLite store passes the core's store contract suite unchanged."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from crmkit.store import Store
from crmkit.testing import StoreContract
from crmkit_sqlite import SQLiteStore


class TestSQLiteFileStore(StoreContract):
    """Every contract test on a fresh database file."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[[], Store]:
        counter = itertools.count()
        return lambda: SQLiteStore(tmp_path / f"crm{next(counter)}.db")


class TestSQLiteMemoryStore(StoreContract):
    """Every contract test on an in-memory database (``sqlite://``)."""

    @pytest.fixture
    def store_factory(self) -> Callable[[], Store]:
        return SQLiteStore
