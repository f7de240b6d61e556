"""The SQLite store for crmkit: ``crmkit.open("sqlite:///crm.db")``.

Installing this distribution registers the URL scheme ``sqlite`` through the
``crmkit`` entry point; :class:`SQLiteStore` can also be used directly::

    from crmkit_sqlite import SQLiteStore
    store = SQLiteStore("crm.db")
"""

from crmkit_sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from crmkit_sqlite.store import SQLiteStore, open_sqlite_store, parse_url

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore", "open_sqlite_store", "parse_url"]
