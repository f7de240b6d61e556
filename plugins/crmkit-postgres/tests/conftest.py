"""A real PostgreSQL server for the tests, and a fresh schema per store.

``CRMKIT_TEST_POSTGRES_URL`` (``postgresql://user@127.0.0.1:5432/db``) names
a server to use; otherwise the session starts a throwaway cluster with the
server binaries it finds (``pg_ctl`` on ``PATH``, ``CRMKIT_TEST_POSTGRES_BIN``,
or ``/usr/lib/postgresql/<version>/bin``): ``initdb`` into a temporary
directory, a free port on 127.0.0.1, ``fsync=off``; it is stopped and deleted
at the end.  As root the server runs as the ``postgres`` user (``initdb``
refuses root).  Without binaries the tests are skipped with the command to
install them — and fail when ``CI`` is set.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from crmkit_postgres import PostgresStore
from crmkit_postgres.testing import Cluster, ClusterUnavailableError, find_bin_dir

URL_VARIABLE = "CRMKIT_TEST_POSTGRES_URL"
INSTALL_HINT = "install the server with `apt-get install postgresql` or set " + URL_VARIABLE


def _unavailable(reason: str) -> None:
    message = f"no PostgreSQL server for the crmkit-postgres tests: {reason}; {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a running PostgreSQL server (``CRMKIT_TEST_POSTGRES_URL`` or a throwaway one)."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return
    bindir = find_bin_dir()
    if bindir is None or not (bindir / "initdb").exists():
        _unavailable("no initdb/pg_ctl found")
        return
    try:
        cluster = Cluster(bindir)
    except ClusterUnavailableError as exc:
        _unavailable(str(exc))
        return
    try:
        yield cluster.start()
    finally:
        cluster.stop()


_schemas = itertools.count()


@pytest.fixture
def new_schema(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Make fresh schema names for this test; the schemas are dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"t{next(_schemas)}_{uuid.uuid4().hex[:8]}"
        made.append(name)
        return name

    yield make
    if made:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            for name in made:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )


@pytest.fixture
def make_store(
    postgres_url: str, new_schema: Callable[[], str]
) -> Iterator[Callable[..., PostgresStore]]:
    """Open stores on fresh schemas (keyword arguments go to :class:`PostgresStore`)."""
    opened: list[PostgresStore] = []

    def make(**kwargs: Any) -> PostgresStore:
        kwargs.setdefault("schema", new_schema())
        kwargs.setdefault("pool_max_size", 4)
        conninfo = kwargs.pop("conninfo", postgres_url)
        store = PostgresStore(conninfo, **kwargs)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Of the adopted core modules keep only the ``sqlite`` cases (now on PostgreSQL);
    the core's own run has the others."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        module = getattr(item, "module", None)
        if module is None or not hasattr(module, "__crmkit_pg_adopted__"):
            keep.append(item)
            continue
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        (keep if "sqlite" in params else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
