"""The PostgreSQL store passes the core's store contract suite unchanged, on a real server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crmkit.store import Store
from crmkit.testing import StoreContract
from crmkit_postgres import PostgresStore


class TestPostgresStore(StoreContract):
    """Every contract test on a fresh schema of the test server."""

    @pytest.fixture
    def store_factory(self, make_store: Callable[..., PostgresStore]) -> Callable[[], Store]:
        return make_store
