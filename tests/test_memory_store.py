"""The memory store passes the contract suite every backend must pass."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crmkit.memory import MemoryStore
from crmkit.store import Store
from crmkit.testing import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store_factory(self) -> Callable[[], Store]:
        return MemoryStore
