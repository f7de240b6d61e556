"""A throwaway PostgreSQL cluster for tests and benchmarks.

``initdb`` into a temporary directory, a free port on 127.0.0.1, ``fsync=off``
(the data is thrown away; ``start(durable=True)`` keeps the server's safe
defaults, as a benchmark needs); :meth:`Cluster.stop` stops the server and deletes
the directory.  As root the server runs as the ``postgres`` user (``initdb``
refuses root).  The plugin's tests and ``python -m bench --stores postgresql``
use it; it needs the server binaries (Debian: ``apt-get install postgresql``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

__all__ = ["Cluster", "ClusterUnavailableError", "find_bin_dir", "with_schema"]


class ClusterUnavailableError(RuntimeError):
    """No throwaway cluster can be made here (no binaries, or root without a postgres user)."""


def find_bin_dir() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl``: ``CRMKIT_TEST_POSTGRES_BIN``, ``PATH``,
    or the newest ``/usr/lib/postgresql/<version>/bin``; ``None`` if there is none."""
    given = os.environ.get("CRMKIT_TEST_POSTGRES_BIN")
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
                raise ClusterUnavailableError(
                    "running as root and there is no postgres user to run the server"
                ) from None
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

    def start(self, *, durable: bool = False) -> str:
        """initdb and start; the URL of the test database.

        Without *durable* the server skips fsync and full-page writes (fast,
        for tests); with it, it runs with PostgreSQL's safe defaults.
        """
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "-A", "trust", "-E", "UTF8", "--no-locale", "-N",
        )  # fmt: skip
        for _attempt in range(3):
            self.port = _free_port()
            unsafe = () if durable else (
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            )  # fmt: skip
            options = " ".join(
                (
                    "-c listen_addresses=127.0.0.1",
                    f"-p {self.port}",
                    f"-c unix_socket_directories={self.root}",
                    *unsafe,
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


def with_schema(url: str, schema: str) -> str:
    """*url* with the ``schema`` option added (``?schema=…`` or ``&schema=…``)."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"
