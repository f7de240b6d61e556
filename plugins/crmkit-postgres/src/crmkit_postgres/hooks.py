"""The plugin module behind the ``crmkit`` entry point ``postgres``."""

from __future__ import annotations

from collections.abc import Callable

import crmkit
from crmkit.store import StoreFactory
from crmkit_postgres.store import SCHEMES, open_postgres_store


@crmkit.hookimpl
def crmkit_register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    """Register ``postgresql://`` and ``postgres://`` (``postgresql://user@host/db?schema=crm``)."""
    for scheme in SCHEMES:
        register(scheme, open_postgres_store)
