"""A writer killed with SIGKILL in the middle of a batch leaves a consistent database.

A real child process appends batches of contacts, one ``add_contacts``
transaction each, and prints ``committed k`` after every commit.  The parent
kills it at different moments of a later batch and then checks the file:
SQLite's integrity check passes, the contact count is an exact multiple of
the batch size (no half batch), at least every reported batch is there, and
every contact, lookup row and number is intact.

In ``bulk`` mode the child writes inside :meth:`SQLiteStore.bulk_load`, which
drops the lookup indexes until the block ends; killed inside it, the file has
them dropped, and the next open must build them again exactly as they were.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crmkit import Person
from crmkit_sqlite import SQLiteStore

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

BATCH = 500
#: The child stops by itself after this many batches or seconds.
MAX_BATCHES = 400
MAX_SECONDS = 60

CHILD = textwrap.dedent(
    """
    import sys, time
    from crmkit import Company, Person
    from crmkit_sqlite import SQLiteStore

    path, batch, max_batches, max_seconds = sys.argv[1], *map(int, sys.argv[2:5])
    store = SQLiteStore(path)
    bulk = store.bulk_load()
    if sys.argv[5] == "bulk":
        bulk.__enter__()  # never left: the parent kills the child inside the block
    deadline = time.monotonic() + max_seconds
    k = 0
    while k < max_batches and time.monotonic() < deadline:
        contacts = [
            Person(first_name="Jürgen", last_name=f"Müller {k} {i}",
                   emails=[f"j{k}.{i}@bäckerei-groß.de"], phones=["+49 170 1234567"])
            if i % 5 else
            Company(name=f"Groß {k} {i} GmbH & Co. KG", phones=["+49 711 781937-0"])
            for i in range(batch)
        ]
        print(f"writing {k + 1}", flush=True)
        started = time.perf_counter()
        store.add_contacts(contacts)
        k += 1
        print(f"committed {k} {time.perf_counter() - started:.6f}", flush=True)
    store.close()
    print("done", flush=True)
    """
)


def _index_ddl(path: Path) -> list[tuple[str, str]]:
    raw = sqlite3.connect(path)
    try:
        return raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        ).fetchall()
    finally:
        raw.close()


def _run_and_kill(path: Path, kill_after: int, fraction: float, mode: str = "plain") -> int:
    """Start the writer and kill it during batch *kill_after* + 1; return the committed count.

    The kill comes *fraction* of the way through that batch's write, judged
    by how long the earlier batches took, so it lands inside the transaction
    on a fast machine and a slow one alike.
    """
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(path),
            str(BATCH),
            str(MAX_BATCHES),
            str(MAX_SECONDS),
            mode,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    committed = 0
    durations: list[float] = []
    errors = ""
    try:
        for line in child.stdout:
            word, count, *rest = line.split()
            if word == "committed":
                committed = int(count)
                durations.append(float(rest[0]))
            if word == "writing" and int(count) == kill_after + 1:
                time.sleep(fraction * sum(durations) / len(durations))
                os.kill(child.pid, signal.SIGKILL)
                break
            if word == "done":
                break
        child.wait(timeout=MAX_SECONDS)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        if child.stderr is not None:
            errors = child.stderr.read()
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL, f"the writer ended before it was killed: {errors}"
    return committed


@pytest.mark.parametrize("mode", ["plain", "bulk"])
@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.6, 0.9])
def test_sigkill_mid_batch_leaves_a_consistent_file(
    tmp_path: Path, fraction: float, mode: str
) -> None:
    fresh = tmp_path / "fresh.db"
    SQLiteStore(fresh).close()
    indexes = _index_ddl(fresh)
    path = tmp_path / "crm.db"
    committed = _run_and_kill(path, kill_after=3, fraction=fraction, mode=mode)
    assert committed == 3

    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        pending = raw.execute(
            "SELECT count(*) FROM crmkit_meta WHERE key = 'bulk_load_dropped_indexes'"
        ).fetchone()[0]
        assert pending == (mode == "bulk")
    finally:
        raw.close()
    # A bulk load killed inside its block left the lookup indexes dropped; the
    # next open builds them again, exactly as a fresh file has them.
    assert (_index_ddl(path) == indexes) == (mode == "plain")

    store = SQLiteStore(path)
    try:
        count = store.count_contacts()
        assert count % BATCH == 0
        assert committed * BATCH <= count <= (committed + 1) * BATCH
        loaded = list(store.iter_contacts())
        assert len(loaded) == count
        assert [c.number for c in loaded] == [f"C{n:05d}" for n in range(1, count + 1)]
        conn = store._conn
        assert conn.execute("SELECT count(*) FROM contact_phones").fetchone()[0] == count
        persons = sum(1 for c in loaded if c.kind == "person")
        assert conn.execute("SELECT count(*) FROM contact_emails").fetchone()[0] == persons
        # The file is usable: the next number follows the last committed one.
        assert store.add_contact(Person(last_name="Danach")).number == f"C{count + 1:05d}"
        # Look-ups through the (rebuilt) indexes find the contacts.
        last = loaded[-1]
        if last.phones:
            assert last.id in {c.id for c in store.find_by_phone(last.phones[0].e164)}
        assert conn.execute(
            "SELECT count(*) FROM crmkit_meta WHERE key = 'bulk_load_dropped_indexes'"
        ).fetchone() == (0,)
    finally:
        store.close()
    assert _index_ddl(path) == indexes
