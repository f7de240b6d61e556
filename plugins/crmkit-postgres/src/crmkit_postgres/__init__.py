"""The PostgreSQL store for crmkit: ``crmkit.open("postgresql://user@host/db?schema=crm")``.

Installing this distribution registers the URL schemes ``postgresql`` and
``postgres`` through the ``crmkit`` entry point; :class:`PostgresStore` can
also be used directly::

    from crmkit_postgres import PostgresStore
    store = PostgresStore("postgresql://crm@db.example.org/crm", schema="crmkit")
"""

from crmkit_postgres.schema import MIGRATIONS, SCHEMA_VERSION, check_schema_name
from crmkit_postgres.store import PostgresStore, open_postgres_store, parse_url

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "PostgresStore",
    "check_schema_name",
    "open_postgres_store",
    "parse_url",
]
