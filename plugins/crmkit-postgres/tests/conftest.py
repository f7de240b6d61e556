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

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from crmkit_postgres import PostgresStore

URL_VARIABLE = "CRMKIT_TEST_POSTGRES_URL"
BIN_VARIABLE = "CRMKIT_TEST_POSTGRES_BIN"
INSTALL_HINT = "install the server with `apt-get install postgresql` or set " + URL_VARIABLE


def _bin_dir() -> Path | None:
    given = os.environ.get(BIN_VARIABLE)
    if given:
        return Path(given)
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parent.parent.name
        return tuple(int(p) for p in part.split(".") if p.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version)
    return Path(candidates[-1]).parent if candidates else None


def _unavailable(reason: str) -> None:
    message = f"no PostgreSQL server for the crmkit-postgres tests: {reason}; {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # As root the server runs as "postgres", which must reach the directory:
        # /tmp rather than a TMPDIR that may sit below root's home.
        base = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="crmkit-pg-", dir=base))
        self.data = self.root / "data"
        self.run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            import pwd

            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                _unavailable("running as root and there is no postgres user to run the server")
                raise
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self.run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        self.port = 0

    def _run(self, *args: str) -> None:
        subprocess.run(
            args,
            check=True,
            capture_output=True,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C", "PGTZ": "UTC"},
            **self.run_as,
        )

    def start(self) -> str:
        """initdb and start; the URL of the ``postgres`` database."""
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "-A", "trust", "-E", "UTF8", "--no-locale", "-N",
        )  # fmt: skip
        for _attempt in range(3):
            self.port = _free_port()
            options = " ".join(
                (
                    "-c listen_addresses=127.0.0.1",
                    f"-p {self.port}",
                    f"-c unix_socket_directories={self.root}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=300",
                )
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                    str(self.root / "server.log"), "-w", "-t", "60", "-o", options, "start",
                )  # fmt: skip
            except subprocess.CalledProcessError:
                continue
            return self._database(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        log = (self.root / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the test PostgreSQL server did not start:\n{log}")

    @staticmethod
    def _database(admin_url: str) -> str:
        """The URL of a test database with German (ICU) collation where the server has ICU.

        crmkit must not depend on the database's default collation (its text
        columns say ``COLLATE "C"``); a German one is what users have.
        """
        with psycopg.connect(admin_url, autocommit=True) as conn:
            try:
                conn.execute(
                    "CREATE DATABASE crmkit_test TEMPLATE template0 ENCODING 'UTF8'"
                    " LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C'"
                )
            except psycopg.Error:  # no ICU (or a server before 15): the default collation
                conn.execute("CREATE DATABASE crmkit_test TEMPLATE template0 ENCODING 'UTF8'")
        return admin_url.rsplit("/", 1)[0] + "/crmkit_test"

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and delete the directory."""
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a running PostgreSQL server (``CRMKIT_TEST_POSTGRES_URL`` or a throwaway one)."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return
    bindir = _bin_dir()
    if bindir is None or not (bindir / "initdb").exists():
        _unavailable("no initdb/pg_ctl found")
        return
    cluster = Cluster(bindir)
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
