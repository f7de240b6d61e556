"""Many connections at once: stale writes, contact numbers, lost connections, a full pool.

Real threads and real processes on one schema of the test server.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import Any

import attrs
import psycopg
import pytest
from psycopg import sql

from crmkit import Company, Contact, Person
from crmkit.errors import ConflictError, StoreError
from crmkit.model import link
from crmkit_postgres import PostgresStore
from crmkit_postgres.testing import with_schema


def test_second_writer_of_a_contact_gets_a_conflict_and_nothing_is_lost(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    """Two stores (two pools, two connections): the second UPDATE waits for the first
    transaction's row lock, then finds the version changed."""
    first = make_store()
    second = PostgresStore(postgres_url, schema=first.schema)
    try:
        person = first.add_contact(Person(first_name="Max", last_name="Mustermann"))
        updated = threading.Event()
        outcome: list[str] = []

        def late_writer() -> None:
            updated.wait(10)
            try:
                second.update_contact(attrs.evolve(person, notes="zwei"))
                outcome.append("ok")
            except ConflictError as exc:
                outcome.append(exc.code)

        thread = threading.Thread(target=late_writer)
        thread.start()
        with first.transaction():
            first.update_contact(attrs.evolve(person, notes="eins"))
            updated.set()
            assert _wait_for_lock_waiter(postgres_url)  # the late writer waits for the row lock
            assert thread.is_alive()
        thread.join(10)
        assert outcome == ["conflict"]
        stored = second.get_contact(person.id)
        assert (stored.notes, stored.version) == ("eins", 2)
        # With the fresh version the second writer succeeds.
        assert second.update_contact(attrs.evolve(stored, notes="zwei")).version == 3
    finally:
        second.close()


def _wait_for_lock_waiter(postgres_url: str) -> bool:
    """True once some server process waits for a lock (polled for up to 20 s)."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for _ in range(400):
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0]:
                return True
            threading.Event().wait(0.05)
    return False


def test_threads_racing_on_one_contact_conflict_once(
    make_store: Callable[..., PostgresStore],
) -> None:
    store = make_store(pool_max_size=8)
    person = store.add_contact(Person(first_name="Max", last_name="Mustermann"))
    barrier = threading.Barrier(6)
    results: list[str] = []

    def worker(note: str) -> None:
        barrier.wait()
        try:
            store.update_contact(attrs.evolve(person, notes=note))
            results.append("ok")
        except ConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=worker, args=(f"Notiz {i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["conflict"] * 5 + ["ok"]
    assert store.get_contact(person.id).version == 2


def test_contact_numbers_stay_unique_under_concurrent_threads(
    make_store: Callable[..., PostgresStore],
) -> None:
    store = make_store(pool_max_size=8)
    barrier = threading.Barrier(8)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            for j in range(15):
                if j % 5 == 4:  # a batch that fails gives its numbers back
                    good = Company(name=f"Firma {i}-{j}")
                    with pytest.raises(ConflictError):
                        store.add_contacts([good, good])
                numbers.append(store.add_contact(Company(name=f"Firma {i}-{j}")).number or "")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(numbers) == len(set(numbers)) == 120
    assert store.count_contacts() == 120
    assert sorted(numbers) == [f"C{n:05d}" for n in range(1, 121)]


_PROCESS = textwrap.dedent(
    """
    import sys
    from crmkit import Person
    from crmkit_postgres import PostgresStore

    store = PostgresStore(sys.argv[1], schema=sys.argv[2], pool_max_size=2)
    for i in range(int(sys.argv[3])):
        contact = store.add_contact(Person(first_name="Proz", last_name=f"Ess{i}"))
        print(contact.number, flush=True)
    store.close()
    """
)


def test_contact_numbers_stay_unique_across_processes(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    store = make_store()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, postgres_url, store.schema, "20"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    numbers: list[str] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        numbers += out.split()
    assert len(numbers) == len(set(numbers)) == 80
    assert sorted(c.number or "" for c in store.iter_contacts()) == sorted(numbers)


def _terminate(postgres_url: str, application: str, *, state: str | None = None) -> int:
    """Kill the server processes of *application* (``pg_terminate_backend``); how many."""
    query = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = %s AND pid <> pg_backend_pid()"
    )
    params: tuple[str, ...] = (application,)
    if state is not None:
        query += " AND state = %s"
        params += (state,)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        row = admin.execute(query, params).fetchone()
    return int(row[0]) if row else 0


def _app_url(postgres_url: str, application: str) -> str:
    sep = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{sep}application_name={application}"


def test_connection_lost_mid_transaction_rolls_back_and_the_next_call_works(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    app = "crmkit_kill_tx"
    store = make_store(conninfo=_app_url(postgres_url, app))
    kept = store.add_contact(Company(name="Bleibt GmbH"))
    with pytest.raises(StoreError) as info, store.transaction():
        store.add_contact(Person(first_name="Geht", last_name="Verloren"))
        store.update_contact(attrs.evolve(kept, notes="verloren"))
        assert _terminate(postgres_url, app, state="idle in transaction") == 1
        store.add_contact(Person(first_name="Zu", last_name="Spät"))
    assert info.value.code == "store.connection_lost"
    assert "zurückgerollt" in info.value.message("de")
    # Rolled back: nothing of the transaction is there, and the store works on.
    assert store.count_contacts() == 1
    assert store.get_contact(kept.id) == kept
    assert store.add_contact(Person(first_name="Neu", last_name="Danach")).number == "C00002"


def test_idle_pooled_connections_killed_by_the_server_are_replaced(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    app = "crmkit_kill_idle"
    store = make_store(conninfo=_app_url(postgres_url, app), pool_min_size=2)
    store.add_contact(Company(name="Vorher GmbH"))
    assert _terminate(postgres_url, app) >= 1
    assert store.count_contacts() == 1
    assert store.add_contact(Company(name="Nachher GmbH")).number == "C00002"


def test_commit_on_a_lost_connection_is_a_store_error(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    app = "crmkit_kill_commit"
    store = make_store(conninfo=_app_url(postgres_url, app))
    with pytest.raises(StoreError) as info, store.transaction():
        store.add_contact(Person(first_name="Geht", last_name="Verloren"))
        _terminate(postgres_url, app, state="idle in transaction")
    assert info.value.code == "store.connection_lost"
    assert store.count_contacts() == 0


def test_a_full_pool_makes_a_busy_error_not_a_hang(
    make_store: Callable[..., PostgresStore],
) -> None:
    store = make_store(pool_min_size=1, pool_max_size=1, pool_timeout=0.5)
    inside = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with store.transaction():
            store.add_contact(Company(name="Hält GmbH"))
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        with pytest.raises(StoreError) as info:
            store.count_contacts()
        assert info.value.code == "store.busy"
    finally:
        done.set()
        thread.join(10)
    assert store.count_contacts() == 1


def test_a_dropped_table_is_a_store_error(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    store = make_store()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP TABLE {}.audit").format(sql.Identifier(store.schema)))
    with pytest.raises(StoreError) as info:
        list(store.iter_audit())
    assert info.value.code == "store"
    assert "audit" in str(info.value)
    assert store.count_contacts() == 0


def test_the_same_new_id_from_two_connections_is_a_conflict(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    """Both writers pass the "is the id free?" check; the unique index stops the second,
    and its native error arrives as ``ConflictError`` (``exists``)."""
    first = make_store()
    second = PostgresStore(postgres_url, schema=first.schema)
    try:
        person = first.add_contact(Person(first_name="Max", last_name="Mustermann"))
        firm = first.add_contact(Company(name="Muster GmbH"))
        affiliation = link(person, firm, position="Vertrieb")
        outcome: list[str] = []

        def late_writer() -> None:
            try:
                second.add_affiliation(attrs.evolve(affiliation, position="Einkauf"))
                outcome.append("ok")
            except ConflictError as exc:
                outcome.append(exc.code)

        with first.transaction():
            first.add_affiliation(affiliation)
            thread = threading.Thread(target=late_writer)
            thread.start()
            assert _wait_for_lock_waiter(postgres_url)  # waits on the uncommitted key
        thread.join(10)
        assert outcome == ["exists"]
        assert second.get_affiliation(affiliation.id).position == "Vertrieb"
    finally:
        second.close()


def test_a_deadlock_is_a_conflict_and_rolls_back_only_its_victim(
    make_store: Callable[..., PostgresStore],
) -> None:
    store = make_store(pool_max_size=4)
    one = store.add_contact(Company(name="Eins GmbH"))
    two = store.add_contact(Company(name="Zwei GmbH"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def writer(name: str, first: Contact, second: Contact) -> None:
        try:
            with store.transaction():
                store.update_contact(attrs.evolve(first, notes=name))
                barrier.wait(10)
                store.update_contact(attrs.evolve(second, notes=name))
            outcomes[name] = "ok"
        except ConflictError as exc:
            outcomes[name] = exc.code

    threads = [
        threading.Thread(target=writer, args=("a", one, two)),
        threading.Thread(target=writer, args=("b", two, one)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes.values()) == ["ok", "store.concurrent"]
    [winner] = [name for name, result in outcomes.items() if result == "ok"]
    # The winner's two changes are stored, nothing of the victim's.
    assert {store.get_contact(c.id).notes for c in (one, two)} == {winner}
    assert {store.get_contact(c.id).version for c in (one, two)} == {2}


_STALE_WRITER = textwrap.dedent(
    """
    import sys
    import attrs
    from crmkit.errors import ConflictError
    from crmkit_postgres import PostgresStore

    store = PostgresStore(sys.argv[1], schema=sys.argv[2], pool_max_size=1)
    contact = store.get_contact(sys.argv[3])
    print("read", contact.version, flush=True)
    sys.stdin.readline()  # go
    try:
        store.update_contact(attrs.evolve(contact, notes="Prozess"))
        print("ok", flush=True)
    except ConflictError as exc:
        print(exc.code, flush=True)
    store.close()
    """
)


def test_stale_writers_in_other_processes_get_conflicts(
    make_store: Callable[..., PostgresStore], postgres_url: str
) -> None:
    """Processes read version 1; this one commits version 2 while they wait on the row
    lock; each of them then gets ``ConflictError`` and the committed change stays."""
    store = make_store()
    person = store.add_contact(Person(first_name="Max", last_name="Mustermann"))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _STALE_WRITER, postgres_url, store.schema, person.id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().split() == ["read", "1"]
    with store.transaction():
        store.update_contact(attrs.evolve(person, notes="Elternprozess"))
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        assert _wait_for_lock_waiter(postgres_url)
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        outcomes.append(out.strip())
    assert outcomes == ["conflict"] * 3
    stored = store.get_contact(person.id)
    assert (stored.notes, stored.version) == ("Elternprozess", 2)


def _race(merger: Any, editor: Any, survivor: Person, other: Person, new: str) -> dict[str, str]:
    """Merge *other* into *survivor* in one facade while the other adds *new* to *other*."""
    from crmkit.model import EmailAddress

    barrier = threading.Barrier(2)
    result: dict[str, str] = {}

    def merge() -> None:
        barrier.wait()
        try:
            merger.merge(survivor.id, other.id)
            result["merge"] = "ok"
        except ConflictError:
            result["merge"] = "conflict"

    def edit() -> None:
        barrier.wait()
        emails = [*other.emails, EmailAddress(address=new)]
        try:
            editor.contacts.update(attrs.evolve(other, emails=emails))
            result["edit"] = "ok"
        except ConflictError:
            result["edit"] = "conflict"

    threads = [threading.Thread(target=merge), threading.Thread(target=edit)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return result


def test_a_merge_racing_with_an_update_ends_in_one_consistent_state(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    """Two facades on one schema: one merges B into A while the other adds an e-mail
    address to B.  Whatever the interleaving (twelve rounds usually show all three
    outcomes: merge refused, edit refused, edit then merge), one side may get
    ``ConflictError``, never both, and nothing the winners committed is lost."""
    import crmkit

    url = with_schema(postgres_url, new_schema())
    merger, editor = crmkit.open(url), crmkit.open(url)
    try:
        for i in range(12):
            a = merger.contacts.add(Person(first_name="Jürgen", last_name=f"Müller{i}",
                                           emails=[f"a{i}@muster.de"]))  # fmt: skip
            b = merger.contacts.add(Person(first_name="Juergen", last_name=f"Mueller{i}",
                                           emails=[f"b{i}@muster.de"]))  # fmt: skip
            new = f"neu{i}@muster.de"
            result = _race(merger, editor, a, b, new)
            assert (result["merge"], result["edit"]) != ("conflict", "conflict")
            stored_a = merger.store.get_contact(a.id)
            stored_b = merger.store.get_contact(b.id)
            a_mails = {e.address for e in stored_a.emails}
            b_mails = {e.address for e in stored_b.emails}
            if result["merge"] == "ok":
                assert stored_b.merged_into == a.id and stored_b.archived_at is not None
                assert {f"a{i}@muster.de", f"b{i}@muster.de"} <= a_mails
                assert len(merger.merges(a.id)) == 1
                # The edit either came first (and the survivor has it) or was refused.
                assert (new in a_mails) == (result["edit"] == "ok")
            else:
                assert stored_b.merged_into is None and stored_b.archived_at is None
                assert new in b_mails and new not in a_mails
                assert merger.merges(a.id) == []
                assert stored_a.version == 1
    finally:
        merger.close()
        editor.close()
