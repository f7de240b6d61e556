"""The plugin module behind the ``crmkit`` entry point ``sqlite``."""

from __future__ import annotations

from collections.abc import Callable

import crmkit
from crmkit.store import StoreFactory
from crmkit_sqlite.store import open_sqlite_store


@crmkit.hookimpl
def crmkit_register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    """Register ``sqlite://`` (``sqlite:///crm.db``, ``sqlite:////abs/crm.db``, ``sqlite://``)."""
    register("sqlite", open_sqlite_store)
