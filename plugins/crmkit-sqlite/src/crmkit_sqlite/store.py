"""The SQLite store: one file (or an in-memory database), one connection, one lock.

Every entity is kept as the JSON of :func:`crmkit.serialize.to_dict`; the
columns beside it (number, kind, version, archived …) and the lookup tables
of :mod:`crmkit_sqlite.lookups` (e-mail addresses, domains, phones,
switchboard stems, an FTS5 index of name words) exist for ordering,
filtering and search.

Transactions are explicit: the outermost :meth:`SQLiteStore.transaction`
block runs ``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK``) and holds the
store's lock, so other threads wait until it ends; nested blocks join it.
Each write method additionally runs inside a savepoint, so a method that
fails (a duplicate id, a stale version …) changes nothing even when the
caller catches the error inside a larger transaction.

No ``sqlite3`` exception leaves a public method: :func:`translate_error`
turns each into a :class:`crmkit.CrmkitError` (``raise … from exc``).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, Final, ParamSpec, TypeVar
from urllib.parse import unquote

import attrs
import sqlite_utils

from crmkit import search as search_rules
from crmkit.audit import AuditRecord
from crmkit.auth import RowScope
from crmkit.bounce import Bounce
from crmkit.consent import ConsentEvent
from crmkit.correspondence import CorrespondenceEntry, EntryRevision, TimelineQuery
from crmkit.errors import (
    ConflictError,
    CrmkitError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.model import Affiliation, Contact
from crmkit.privacy import PrivacyRequest, Tombstone
from crmkit.retention import LegalHold
from crmkit.segments import Segment
from crmkit.serialize import from_dict, to_dict
from crmkit.store import (
    PreparedContact,
    check_contact_update,
    check_version,
    format_number,
    prepare_contact,
    sort_affiliations,
)
from crmkit.summary import ContactSummary, SummaryFilter
from crmkit.sync import SyncLink
from crmkit_sqlite import cockpit, entries, lookups, synclinks
from crmkit_sqlite import segments as segment_queries
from crmkit_sqlite.schema import (
    CONTACT_SEQUENCE,
    META_TABLE,
    RID_ORDER_KEY,
    SCHEMA_VERSION,
    migrate,
    read_schema_version,
)

#: The distribution named in "upgrade …" messages.
DISTRIBUTION: Final = "crmkit-sqlite"
#: The path that means "a private in-memory database".
MEMORY: Final = ":memory:"
#: Default time in milliseconds to wait for another process's write lock.
DEFAULT_BUSY_TIMEOUT_MS: Final = 5000
#: Rows per ``executemany`` in :meth:`SQLiteStore.add_contacts`.
WRITE_BATCH: Final = 2000
#: Rows fetched per round trip by :meth:`SQLiteStore.iter_contacts`.
READ_CHUNK: Final = 1000
#: Page cache per connection, in KiB (``PRAGMA cache_size``).
CACHE_KIB: Final = 64 * 1024
#: Contacts kept per store by the JSON text they were loaded from (a bounded
#: memo, cleared when full; see ``SQLiteStore._load_contact``).
LOADED_CONTACTS: Final = 4096
#: Up to this many search candidates are read at once; more are streamed.
SMALL_CANDIDATES: Final = 2000

_P = ParamSpec("_P")
_R = TypeVar("_R")
_JSON_SEPARATORS: Final = (",", ":")

_INSERT_CONTACT: Final = (
    "INSERT INTO contacts (rid, id, number, number_seq, kind, version, archived, owner, data,"
    " lead_status, restricted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Row visibility for a :class:`~crmkit.auth.RowScope`, on the outer ``contacts``
#: table: its own contacts, and persons affiliated with one of its own companies.
_VISIBLE: Final = (
    "(contacts.owner = ? OR (contacts.kind = 'person' AND EXISTS ("
    "SELECT 1 FROM affiliations a JOIN contacts co ON co.id = a.company_id "
    "WHERE a.person_id = contacts.id AND co.owner = ?)))"
)
#: An affiliation is visible when its person or its company is.
_AFFILIATION_VISIBLE: Final = (
    f"(EXISTS (SELECT 1 FROM contacts WHERE contacts.id = affiliations.person_id AND {_VISIBLE})"
    f" OR EXISTS (SELECT 1 FROM contacts WHERE contacts.id = affiliations.company_id"
    f" AND {_VISIBLE}))"
)


def _scope_sql(scope: RowScope | None) -> tuple[str, tuple[str, ...]]:
    """An ``AND …`` clause restricting ``contacts`` rows to *scope* (empty for None)."""
    if scope is None:
        return "", ()
    return f" AND {_VISIBLE}", (scope.owner, scope.owner)


def _affiliation_scope_sql(scope: RowScope | None) -> tuple[str, tuple[str, ...]]:
    """An ``AND …`` clause restricting ``affiliations`` rows to *scope*."""
    if scope is None:
        return "", ()
    return f" AND {_AFFILIATION_VISIBLE}", (scope.owner,) * 4


# -- URLs ---------------------------------------------------------------------
def parse_url(url: str) -> str:
    """The database path an ``sqlite://`` URL names, or ``":memory:"``.

    The forms follow SQLAlchemy: ``sqlite:///crm.db`` (relative to the current
    directory), ``sqlite:////srv/crm/crm.db`` (absolute), and ``sqlite://`` or
    ``sqlite:///:memory:`` (a private in-memory database).  The path is
    percent-decoded (``my%20crm.db``).  A host part, a query string, a
    fragment or an empty path raise :class:`crmkit.StoreError` with code
    ``store.bad_url``.
    """
    if not isinstance(url, str):
        raise StoreError(code="store.bad_url", url=url)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "sqlite":
        raise StoreError(code="store.bad_url", url=url)
    if rest == "":
        return MEMORY
    if not rest.startswith("/") or "?" in rest or "#" in rest:
        raise StoreError(code="store.bad_url", url=url)
    path = unquote(rest[1:])
    if not path or "\x00" in path:
        raise StoreError(code="store.bad_url", url=url)
    return path


# -- error translation ----------------------------------------------------------
_BUSY: Final = ("database is locked", "database table is locked", "database is busy")
_IO: Final = (
    "unable to open",
    "disk i/o error",
    "readonly database",
    "read-only",
    "disk is full",
    "database or disk is full",
    "no such file",
    "permission",
)
_NOT_A_DATABASE: Final = ("file is not a database", "file is encrypted or is not a database")


def translate_error(exc: sqlite3.Error, path: str) -> CrmkitError:
    """The crmkit error for a native SQLite error on the database at *path*.

    ``database is locked`` → ``store.busy``; cannot open / read-only / disk
    full → ``store.io``; "file is not a database" → ``store.not_crmkit``;
    other database errors (malformed pages, missing tables) →
    ``store.corrupt``; a ``UNIQUE`` violation → :class:`crmkit.ConflictError`
    (code ``exists``); other integrity violations and API misuse →
    :class:`crmkit.StoreError`.
    """
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if isinstance(exc, sqlite3.IntegrityError):
        if low.startswith("unique constraint failed"):
            key = text.partition(":")[2].strip() or text
            return ConflictError(code="exists", kind="record", key=key)
        return StoreError(code="store", detail=f"the database refused the change: {text}")
    if isinstance(exc, sqlite3.ProgrammingError) and "closed database" in low:
        return StoreError(code="store.closed")
    if "no such module" in low:
        return StoreError(
            code="store",
            detail=f"this SQLite library lacks a module crmkit-sqlite needs (FTS5): {text}",
        )
    if any(marker in low for marker in _BUSY):
        return StoreError(code="store.busy", path=path)
    if any(marker in low for marker in _NOT_A_DATABASE):
        return StoreError(code="store.not_crmkit", path=path, detail=text)
    if isinstance(exc, sqlite3.OperationalError) and any(marker in low for marker in _IO):
        return StoreError(code="store.io", path=path, detail=text)
    if isinstance(exc, (sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        return StoreError(code="store", detail=text)
    if isinstance(exc, sqlite3.DatabaseError):
        return StoreError(code="store.corrupt", path=path, detail=text)
    return StoreError(code="store", detail=text)


def _public(
    method: Callable[Concatenate[SQLiteStore, _P], _R],
) -> Callable[Concatenate[SQLiteStore, _P], _R]:
    """Refuse work on a closed store and translate every ``sqlite3`` error."""

    @functools.wraps(method)
    def wrapper(self: SQLiteStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        self._check_open()
        with self._translated():
            return method(self, *args, **kwargs)

    return wrapper


# -- rows ---------------------------------------------------------------------------
def _number_seq(number: str) -> int | None:
    digits = number[1:]
    return int(digits) if digits.isdigit() else None


def _stamped(contact: Contact, number: str) -> Contact:
    """*contact* with *number* and version 1, as ``attrs.evolve`` would give it.

    A bulk-load fast path: both values are already canonical (the number came
    from :func:`~crmkit.store.format_number` or through the contact's own
    converter), so the copy skips re-running every field converter — that
    would double the cost of :meth:`SQLiteStore.add_contacts`.
    """
    if contact.number == number and contact.version == 1:
        return contact
    clone = copy.copy(contact)
    object.__setattr__(clone, "number", number)
    object.__setattr__(clone, "version", 1)
    return clone


def _dumps(entity: object) -> str:
    return json.dumps(to_dict(entity), ensure_ascii=False, separators=_JSON_SEPARATORS)


def _fts_match(words: Iterable[str], *, prefix: bool) -> str:
    """An FTS5 query needing every word, each quoted: ``"muell"* AND "max"*``.

    Quoting makes every word a string, so no query text is ever read as FTS
    syntax (``AND``, ``NEAR``, ``*``, ``"`` …).
    """
    star = "*" if prefix else ""
    return " AND ".join(
        '"' + w.replace('"', '""').replace("\x00", " ") + '"' + star for w in dict.fromkeys(words)
    )


def _has_token(word: str) -> bool:
    """True if the FTS5 ``ascii`` tokenizer finds a token character in *word*."""
    return any((ch.isascii() and ch.isalnum()) or not ch.isascii() for ch in word)


@attrs.frozen
class _Current:
    """The columns of a stored row that the write checks need."""

    rid: int
    version: int
    kind: str
    number: str


class SQLiteStore:
    """A :class:`crmkit.store.Store` on an SQLite database file.

    :param path: the database file (created if missing), or ``":memory:"``
        for a private in-memory database.
    :param url: the URL to report as :attr:`url`; defaults to the
        ``sqlite://`` URL of *path*.
    :param busy_timeout: milliseconds to wait for another process's write
        lock before :class:`crmkit.StoreError` (``store.busy``).

    Opening creates or upgrades the schema (see :mod:`crmkit_sqlite.schema`)
    and refuses files that are not crmkit databases, are damaged, or were
    written by a newer release — each with a :class:`crmkit.StoreError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = MEMORY,
        *,
        url: str | None = None,
        busy_timeout: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        self.path = os.fspath(path)
        self.is_memory = self.path == MEMORY or self.path == ""
        if self.is_memory:
            self.path = MEMORY
        self.url = url or ("sqlite://" if self.is_memory else _url_for(self.path))
        base = {
            "concurrent",
            "fulltext",
            "bulk_prepared",
            "bulk_load",
            "segments",
            "records",
            "sync_links",
        }
        self.capabilities: frozenset[str] = frozenset(
            base if self.is_memory else base | {"persistent"}
        )
        self._lock = threading.RLock()
        self._depth = 0
        self._bulk_depth = 0
        self._loaded: dict[str, Contact] = {}
        #: The key of each contact in ``_loaded``: contact id → its JSON.
        self._loaded_keys: dict[str, str] = {}
        self._savepoints = itertools.count(1)
        self._closed = False
        self._conn = self._connect(busy_timeout)

    # -- opening ---------------------------------------------------------------
    def _connect(self, busy_timeout: int) -> sqlite3.Connection:
        if not isinstance(busy_timeout, int) or busy_timeout < 0:
            raise StoreError(code="store", detail=f"busy_timeout must be >= 0 ms: {busy_timeout!r}")
        if not self.is_memory:
            self._check_path()
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=busy_timeout / 1000,
            )
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        except (ValueError, OSError) as exc:  # e.g. a NUL character in the path
            raise StoreError(code="store.io", path=self.path, detail=str(exc)) from exc
        try:
            self._open(conn, busy_timeout)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise translate_error(exc, self.path) from exc
            raise
        return conn

    def _check_path(self) -> None:
        target = Path(self.path)
        try:
            is_dir, parent_ok = target.is_dir(), target.parent.is_dir()
        except (OSError, ValueError) as exc:
            raise StoreError(code="store.io", path=self.path, detail=str(exc)) from exc
        if is_dir:
            raise StoreError(code="store.io", path=self.path, detail="it is a directory")
        if not parent_ok:
            raise StoreError(
                code="store.io",
                path=self.path,
                detail=f"the directory {target.parent} does not exist",
            )

    def _open(self, conn: sqlite3.Connection, busy_timeout: int) -> None:
        # Connection settings first: they change nothing in the file.
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout:d}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        # 64 MiB of page cache (default 2 MiB): bulk loads touch random index
        # pages (ids, e-mail addresses); at a million contacts this saves a third.
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB:d}")
        version = self._inspect(conn)
        if not self.is_memory:
            conn.execute("PRAGMA journal_mode = WAL")
        if (
            version == SCHEMA_VERSION
            and lookups.stored_fingerprint(conn) == lookups.fingerprint()
            and not lookups.bulk_load_pending(conn)
        ):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have upgraded the file meanwhile.
            current = self._inspect(conn)
            if current > 0:
                # A bulk load that was killed (or is still running in another
                # process) left its lookup indexes dropped: build them again,
                # as that release made them, before any migration.
                lookups.restore_indexes(conn)
            try:
                migrate(conn, current)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise StoreError(
                    code="store.corrupt",
                    path=self.path,
                    detail=f"upgrading the schema from version {current} failed: {exc}",
                ) from exc
            if lookups.stored_fingerprint(conn) != lookups.fingerprint():
                lookups.rebuild(conn, self._load_contact)
                entries.rebuild_text(conn, self.path)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _inspect(self, conn: sqlite3.Connection) -> int:
        """The schema version of the open database (0 for an empty one); refuse others."""
        db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
        tables = [t for t in db.table_names() + db.view_names() if not t.startswith("sqlite_")]
        if META_TABLE not in tables:
            if tables:
                shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
                raise StoreError(
                    code="store.not_crmkit",
                    path=self.path,
                    detail=f"it has the tables {shown} but no {META_TABLE} table",
                )
            return 0
        try:
            found = read_schema_version(conn)
        except ValueError as exc:
            raise StoreError(code="store.corrupt", path=self.path, detail=str(exc)) from None
        assert found is not None
        if found > SCHEMA_VERSION:
            raise StoreError(
                code="store.schema_too_new",
                path=self.path,
                found=found,
                supported=SCHEMA_VERSION,
                distribution=DISTRIBUTION,
            )
        return found

    # -- plumbing ----------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(code="store.closed")

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc

    def _aborted(self) -> StoreError:
        return StoreError(code="store.io", path=self.path, detail="SQLite aborted the transaction")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside the block commit together or not at all.

        The outermost block runs ``BEGIN IMMEDIATE`` and holds the store's lock
        until it ends, so other threads wait; nested blocks join it.  An
        exception inside rolls back everything since the outermost block began
        and propagates.
        """
        self._check_open()
        with self._lock:
            self._check_open()
            outer = self._depth == 0
            if outer:
                with self._translated():
                    self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._rollback()
                raise
            self._depth -= 1
            if outer:
                if self._closed:  # closed inside the block: nothing was committed
                    raise StoreError(code="store.closed")
                if not self._conn.in_transaction:
                    raise self._aborted()
                try:
                    with self._translated():
                        self._conn.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise

    def _rollback(self) -> None:
        if self._closed or not self._conn.in_transaction:
            return
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the original error is the one to report

    @contextmanager
    def _write(self) -> Iterator[str]:
        """A transaction plus a savepoint: a failed write method changes nothing.

        Yields the savepoint name, so a method can roll back to it itself.
        """
        with self.transaction():
            if not self._conn.in_transaction:
                raise self._aborted()
            name = f"crmkit_sp{next(self._savepoints)}"
            self._conn.execute(f"SAVEPOINT {name}")
            try:
                yield name
            except BaseException:
                if self._conn.in_transaction:
                    try:
                        self._conn.execute(f"ROLLBACK TO {name}")
                        self._conn.execute(f"RELEASE {name}")
                    except sqlite3.Error:
                        pass  # the outer block rolls back anyway
                raise
            self._conn.execute(f"RELEASE {name}")

    def _load_contact(self, contact_id: str, data: str) -> Contact:
        # A stored row's JSON carries its number and version, and contacts are
        # immutable: the same text always gives an equal contact, so recently
        # loaded ones are handed out again (the duplicate check and the
        # worklist read the same candidates over and over).
        # Writes through this store forget the contact they change or erase
        # (:meth:`_forget_loaded`), so its old data is not kept in memory.
        loaded = self._loaded.get(data)
        if loaded is not None:
            return loaded
        try:
            contact = from_dict(Contact, json.loads(data))
        except (ValueError, TypeError, ValidationError) as exc:
            raise StoreError(
                code="store.corrupt", path=self.path, detail=f"contact {contact_id}: {exc}"
            ) from exc
        if len(self._loaded) >= LOADED_CONTACTS:
            self._loaded.clear()
            self._loaded_keys.clear()
        older = self._loaded_keys.get(contact.id)
        if older is not None:  # changed since (by another connection): one version kept
            self._loaded.pop(older, None)
        self._loaded[data] = contact
        self._loaded_keys[contact.id] = data
        return contact

    def _forget_loaded(self, contact_id: object) -> None:
        """Drop *contact_id* from the loaded contacts (before it is changed or erased)."""
        if isinstance(contact_id, str):
            data = self._loaded_keys.pop(contact_id, None)
            if data is not None:
                self._loaded.pop(data, None)

    def _load_affiliation(self, affiliation_id: str, data: str) -> Affiliation:
        try:
            return from_dict(Affiliation, json.loads(data))
        except (ValueError, TypeError, ValidationError) as exc:
            raise StoreError(
                code="store.corrupt",
                path=self.path,
                detail=f"affiliation {affiliation_id}: {exc}",
            ) from exc

    def _contact_current(self, contact_id: object) -> _Current:
        row = None
        if isinstance(contact_id, str):
            row = self._conn.execute(
                "SELECT rid, version, kind, number FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(kind="contact", key=contact_id)
        return _Current(rid=row[0], version=row[1], kind=row[2], number=row[3])

    # -- contacts ------------------------------------------------------------------
    @_public
    def add_contact(self, contact: Contact) -> Contact:
        """See :meth:`crmkit.store.Store.add_contact`."""
        return self._add_contacts([contact])[0]

    @_public
    def add_contacts(self, contacts: Iterable[Contact]) -> list[Contact]:
        """See :meth:`crmkit.store.Store.add_contacts`.

        One transaction; rows are written with ``executemany`` in batches of
        :data:`WRITE_BATCH`.
        """
        return self._add_contacts(contacts)

    def _add_contacts(self, contacts: Iterable[Contact]) -> list[Contact]:
        accepted: list[Contact] = []

        def prepared() -> Iterator[PreparedContact]:
            for contact in contacts:
                item = prepare_contact(contact)  # refuses anything but a person or company
                accepted.append(contact)
                yield item

        numbers = self._add_prepared(prepared())
        return [_stamped(c, n) for c, n in zip(accepted, numbers, strict=True)]

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """A block of many :meth:`add_prepared` / :meth:`add_contacts` calls, written faster.

        The ``bulk_load`` capability.  On entry the secondary indexes of the
        lookup tables (e-mail address, domain, phone and switchboard-stem
        look-ups) are dropped, and their exact DDL is kept in ``crmkit_meta``
        — one transaction.  Inside the block every write is its own
        transaction as usual; the lookup rows are still written (only the
        indexes over them wait), so every committed contact is complete and
        every read gives the same results, only without those indexes.  On
        leaving (also by an exception) the indexes are built again in one
        sorted pass and the key removed, again in one transaction.

        If the process dies inside the block, the next open of the file
        (by any process) sees the key and builds the indexes before anything
        else.  Another process that opens the file while the load runs
        cannot tell it from a killed one and does the same; the load then
        goes on correctly, only slower.  Nested blocks join the outermost one.
        """
        self._check_open()
        with self._lock:
            outer = self._bulk_depth == 0
            self._bulk_depth += 1
        try:
            if outer:
                with self._write(), self._translated():
                    lookups.drop_indexes(self._conn)
            yield
        finally:
            with self._lock:
                self._bulk_depth -= 1
            if outer and not self._closed:
                with self._write(), self._translated():
                    lookups.restore_indexes(self._conn)

    @_public
    def add_prepared(self, items: Iterable[PreparedContact]) -> list[str]:
        """Store many prepared contacts in one transaction; their numbers, in order.

        The ``bulk_prepared`` capability: the same as :meth:`add_contacts` for
        the contacts the items were made from (:func:`crmkit.store.prepare_contact`),
        without serialising them or deriving their search keys here.
        """
        return self._add_prepared(items)

    def _add_prepared(self, items: Iterable[PreparedContact]) -> list[str]:
        numbers: list[str] = []
        ids: list[str] = []
        with self._write() as savepoint:
            conn = self._conn
            last = self._sequence_value()
            start = last
            rid = conn.execute("SELECT coalesce(max(rid), 0) FROM contacts").fetchone()[0]
            top = in_order = self._top_number_key()
            rows: list[tuple[Any, ...]] = []
            keys = lookups.LookupRows()
            emails, phones, names, stems = keys.emails, keys.phones, keys.names, keys.stems

            def taken() -> list[tuple[str, str]]:
                return list(zip(ids, numbers, strict=True))

            for item in items:
                if not isinstance(item, PreparedContact):
                    raise ValidationError.single(
                        "contact",
                        "value.type",
                        expected="PreparedContact",
                        actual=type(item).__name__,
                    )
                # One unpacking instead of a dozen attribute look-ups: this
                # loop runs once per contact of a bulk load.
                (cid, number, kind, archived, owner, data, item_emails, item_phones, words,
                 item_stems, lead_status, restricted) = item  # fmt: skip
                if number is None:
                    last += 1
                    number = format_number(last)
                    seq: int | None = last
                else:
                    seq = _number_seq(number)
                    if seq is not None and seq > last:
                        last = seq
                if top is not None:
                    key = (len(number), number)
                    top = key if key > top else None
                numbers.append(number)
                ids.append(cid)
                rid += 1
                rows.append(
                    (
                        rid,
                        cid,
                        number,
                        seq,
                        kind,
                        1,
                        int(archived),
                        owner,
                        '{"number":"' + number + '","version":1,' + data[1:],
                        lead_status,
                        int(restricted),
                    )
                )
                for address, domain in item_emails:
                    emails.append((rid, address, domain))
                for e164 in item_phones:
                    phones.append((rid, e164))
                if words:
                    names.append((rid, " ".join(words)))
                for stem in item_stems:
                    stems.append((rid, stem))
                if len(rows) >= WRITE_BATCH:
                    self._insert_rows(savepoint, taken, rows, keys)
            self._insert_rows(savepoint, taken, rows, keys)
            if last != start:
                conn.execute(
                    "UPDATE sequences SET value = ? WHERE name = ?", (last, CONTACT_SEQUENCE)
                )
            if in_order and top is None:
                self._rid_order_broken()
        return numbers

    def _top_number_key(self) -> tuple[int, str] | None:
        """The number order key of the last stored contact while rid order is number order.

        ``None`` when the store does not rely on rid order.  While it does, each
        new contact (a new rid is larger than all others) must sort after it.
        """
        if not self._rid_in_number_order():
            return None
        row = self._conn.execute(
            "SELECT number FROM contacts ORDER BY length(number) DESC, number DESC LIMIT 1"
        ).fetchone()
        return (0, "") if row is None else (len(row[0]), row[0])

    def _rid_order_broken(self) -> None:
        self._conn.execute(f"UPDATE {META_TABLE} SET value = '0' WHERE key = ?", (RID_ORDER_KEY,))

    def _rid_in_number_order(self) -> bool:
        """True while ``contacts.rid`` order is number order (see :mod:`crmkit_sqlite.schema`)."""
        row = self._conn.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = ?", (RID_ORDER_KEY,)
        ).fetchone()
        return row is not None and row[0] == "1"

    def _sequence_value(self) -> int:
        """The last contact number handed out or given explicitly (the counter)."""
        row = self._conn.execute(
            "SELECT value FROM sequences WHERE name = ?", (CONTACT_SEQUENCE,)
        ).fetchone()
        return int(row[0]) if row is not None else 0

    def _insert_rows(
        self,
        savepoint: str,
        taken: Callable[[], list[tuple[str, str]]],
        rows: list[tuple[Any, ...]],
        keys: lookups.LookupRows,
    ) -> None:
        """Insert the collected rows; *taken* gives ``(id, number)`` of every contact so far."""
        conn = self._conn
        try:
            conn.executemany(_INSERT_CONTACT, rows)
        except sqlite3.IntegrityError as exc:
            conn.execute(f"ROLLBACK TO {savepoint}")
            raise self._duplicate(taken()) from exc
        keys.write(conn)
        rows.clear()

    def _duplicate(self, stored: list[tuple[str, str]]) -> CrmkitError:
        """The first ``(id, number)`` of *stored* that is taken, as MemoryStore reports it.

        Runs after rolling back to the state before the call.
        """
        conn = self._conn
        ids: set[str] = set()
        numbers: set[str] = set()
        for contact_id, number in stored:
            if (
                contact_id in ids
                or conn.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone()
            ):
                return ConflictError(code="exists", kind="contact", key=contact_id)
            if (
                number in numbers
                or conn.execute("SELECT 1 FROM contacts WHERE number = ?", (number,)).fetchone()
            ):
                return ConflictError(code="exists", kind="contact number", key=number)
            ids.add(contact_id)
            numbers.add(number)
        return StoreError(code="store", detail="a contact could not be added (constraint failed)")

    @_public
    def get_contact(self, contact_id: str, *, scope: RowScope | None = None) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact` (outside *scope*: not found)."""
        row = None
        if isinstance(contact_id, str):
            where, params = _scope_sql(scope)
            with self._lock:
                row = self._conn.execute(
                    f"SELECT data FROM contacts WHERE id = ?{where}", (contact_id, *params)
                ).fetchone()
        if row is None:
            raise NotFoundError(kind="contact", key=contact_id)
        return self._load_contact(contact_id, row[0])

    @_public
    def get_contact_by_number(self, number: str, *, scope: RowScope | None = None) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact_by_number`."""
        row = None
        if isinstance(number, str):
            where, params = _scope_sql(scope)
            with self._lock:
                row = self._conn.execute(
                    f"SELECT id, data FROM contacts WHERE number = ?{where}", (number, *params)
                ).fetchone()
        if row is None:
            raise NotFoundError(kind="contact", key=number)
        return self._load_contact(row[0], row[1])

    @_public
    def update_contact(self, contact: Contact) -> Contact:
        """See :meth:`crmkit.store.Store.update_contact`."""
        with self._write():
            self._forget_loaded(contact.id)
            current = self._contact_current(contact.id)
            check_contact_update(contact, current.version, current.kind)
            stored = attrs.evolve(contact, number=current.number, version=current.version + 1)
            conn = self._conn
            conn.execute(
                "UPDATE contacts SET version = ?, archived = ?, owner = ?, data = ?,"
                " lead_status = ?, restricted = ? WHERE id = ?",
                (
                    stored.version,
                    int(stored.archived_at is not None),
                    stored.owner,
                    _dumps(stored),
                    stored.lead.status if stored.lead is not None else None,
                    int(stored.restricted_at is not None),
                    stored.id,
                ),
            )
            lookups.delete_rows(conn, current.rid)
            keys = lookups.LookupRows()
            keys.add(current.rid, stored)
            keys.write(conn)
            return stored

    @_public
    def delete_contact(self, contact_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_contact` (affiliations go by cascade)."""
        with self._write():
            self._forget_loaded(contact_id)
            deleted = 0
            if isinstance(contact_id, str) and entries.has_entries(self._conn, contact_id):
                raise ConflictError(code="store.contact_has_correspondence", key=contact_id)
            if (
                isinstance(contact_id, str)
                and self._conn.execute(
                    "SELECT 1 FROM consent_events WHERE contact_id = ? LIMIT 1", (contact_id,)
                ).fetchone()
            ):
                raise ConflictError(code="store.contact_has_consents", key=contact_id)
            if isinstance(contact_id, str):
                deleted = self._conn.execute(
                    "DELETE FROM contacts WHERE id = ?", (contact_id,)
                ).rowcount
                if deleted:
                    synclinks.erase_links(self._conn, self.path, contact_id)
            if deleted == 0:
                raise NotFoundError(kind="contact", key=contact_id)

    @_public
    def iter_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> Iterator[Contact]:
        """See :meth:`crmkit.store.Store.iter_contacts`.

        Rows are fetched :data:`READ_CHUNK` at a time (keyset pagination on
        the number), so a million contacts never sit in memory at once.  The
        lock is held per chunk, not across the whole iteration: changes made
        by other threads meanwhile may or may not be seen.
        """
        where, params = _scope_sql(scope)
        if not include_archived:
            where += " AND archived = 0"
        return self._iter_filtered(where, params)

    @_public
    def count_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> int:
        """See :meth:`crmkit.store.Store.count_contacts`."""
        where, params = _scope_sql(scope)
        if not include_archived:
            where += " AND archived = 0"
        with self._lock:
            row = self._conn.execute(
                f"SELECT count(*) FROM contacts WHERE 1{where}", params
            ).fetchone()
        return int(row[0])

    # -- affiliations -------------------------------------------------------------------
    def _check_kinds(self, affiliation: Affiliation) -> None:
        person = self._contact_current(affiliation.person_id)
        company = self._contact_current(affiliation.company_id)
        if person.kind != "person":
            raise ValidationError.single(
                "person_id", "affiliation.kind", expected="person", actual=person.kind
            )
        if company.kind != "company":
            raise ValidationError.single(
                "company_id", "affiliation.kind", expected="company", actual=company.kind
            )

    def _affiliation_row(self, aff: Affiliation) -> tuple[Any, ...]:
        data = to_dict(aff)
        return (
            aff.person_id,
            aff.company_id,
            aff.version,
            data.get("created_at"),
            int(aff.primary),
            json.dumps(data, ensure_ascii=False, separators=_JSON_SEPARATORS),
            aff.id,
        )

    @_public
    def add_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """See :meth:`crmkit.store.Store.add_affiliation`."""
        with self._write():
            taken = self._conn.execute(
                "SELECT 1 FROM affiliations WHERE id = ?", (affiliation.id,)
            ).fetchone()
            if taken:
                raise ConflictError(code="exists", kind="affiliation", key=affiliation.id)
            self._check_kinds(affiliation)
            stored = attrs.evolve(affiliation, version=1)
            self._conn.execute(
                "INSERT INTO affiliations (person_id, company_id, version, created_at, "
                "is_primary, data, id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                self._affiliation_row(stored),
            )
            return stored

    @_public
    def get_affiliation(self, affiliation_id: str, *, scope: RowScope | None = None) -> Affiliation:
        """See :meth:`crmkit.store.Store.get_affiliation`."""
        row = None
        if isinstance(affiliation_id, str):
            where, params = _affiliation_scope_sql(scope)
            with self._lock:
                row = self._conn.execute(
                    f"SELECT data FROM affiliations WHERE id = ?{where}",
                    (affiliation_id, *params),
                ).fetchone()
        if row is None:
            raise NotFoundError(kind="affiliation", key=affiliation_id)
        return self._load_affiliation(affiliation_id, row[0])

    @_public
    def update_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """See :meth:`crmkit.store.Store.update_affiliation`."""
        with self._write():
            row = self._conn.execute(
                "SELECT version FROM affiliations WHERE id = ?", (affiliation.id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(kind="affiliation", key=affiliation.id)
            check_version("affiliation", affiliation.id, affiliation.version, row[0])
            self._check_kinds(affiliation)
            stored = attrs.evolve(affiliation, version=row[0] + 1)
            self._conn.execute(
                "UPDATE affiliations SET person_id = ?, company_id = ?, version = ?, "
                "created_at = ?, is_primary = ?, data = ? WHERE id = ?",
                self._affiliation_row(stored),
            )
            return stored

    @_public
    def delete_affiliation(self, affiliation_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_affiliation`."""
        with self._write():
            deleted = 0
            if isinstance(affiliation_id, str):
                deleted = self._conn.execute(
                    "DELETE FROM affiliations WHERE id = ?", (affiliation_id,)
                ).rowcount
            if deleted == 0:
                raise NotFoundError(kind="affiliation", key=affiliation_id)

    @_public
    def affiliations_of_person(
        self, person_id: str, *, scope: RowScope | None = None
    ) -> list[Affiliation]:
        """See :meth:`crmkit.store.Store.affiliations_of_person`."""
        return self._affiliations_of("person_id", person_id, scope)

    @_public
    def affiliations_of_company(
        self, company_id: str, *, scope: RowScope | None = None
    ) -> list[Affiliation]:
        """See :meth:`crmkit.store.Store.affiliations_of_company`."""
        return self._affiliations_of("company_id", company_id, scope)

    def _affiliations_of(
        self, column: str, contact_id: str, scope: RowScope | None
    ) -> list[Affiliation]:
        if not isinstance(contact_id, str):
            return []
        where, params = _affiliation_scope_sql(scope)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, data FROM affiliations WHERE {column} = ?{where}",
                (contact_id, *params),
            ).fetchall()
        return sort_affiliations(self._load_affiliation(i, d) for i, d in rows)

    # -- search ---------------------------------------------------------------------------------
    @_public
    def search(self, query: search_rules.Query, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.search`.

        Candidates come from the lookup tables (the FTS5 name index for text,
        exact index look-ups for numbers, e-mails, domains and phones),
        narrowed in SQL by kind, archive state and *scope*;
        :func:`crmkit.search.tier` decides what matches.  Candidates are read
        in number order and reading stops once ``limit`` results are found —
        first whole-word (tier 0) matches, then prefix (tier 1) matches — so
        ``"mu"`` among a million contacts costs as much as ``limit`` rows.
        The result is exactly ``crmkit.search.select(all_contacts, query)``.
        """
        filters, params = self._filter_sql(query)
        visible, visible_params = _scope_sql(scope)
        filters += visible
        params += visible_params
        if query.mode == "all":
            return self._take(self._iter_filtered(filters, params), query, tier=0)
        with self._lock:
            ordered = self._rid_in_number_order()
        if ordered and query.mode == "domain":
            sql = (
                "SELECT contacts.rid, NULL, contacts.id, contacts.data FROM contact_emails "
                "CROSS JOIN contacts ON contacts.rid = contact_emails.contact_rid "
                f"WHERE contact_emails.domain = ?{filters} AND contact_emails.contact_rid > ? "
                "ORDER BY contact_emails.contact_rid LIMIT ?"
            )
            found = self._in_rid_order(sql, (query.value, *params), None, query.limit)
            return self._take(found, query, tier=0)
        if query.mode != "text":
            subquery, key_params = self._exact_sql(query)
            found = self._candidates(subquery, key_params, filters, params)
            return self._take(found, query, tier=0)
        if not query.words or not all(_has_token(w) for w in query.words):
            # No words, or a word without a single token character (hand-built
            # queries only; analyze() never makes them): no index can narrow
            # the search down, so every contact is a candidate.
            return search_rules.select(self._iter_filtered(filters, params), query)
        if ordered:
            return self._search_names_in_order(query, filters, params)
        names = "SELECT rowid FROM contact_names WHERE contact_names MATCH ?"
        whole = self._candidates(names, (_fts_match(query.words, prefix=False),), filters, params)
        out = self._take(whole, query, tier=0)
        if len(out) < query.limit:
            # Prefix matches include the whole-word ones again; _take keeps tier 1 only.
            prefixed = self._candidates(
                names, (_fts_match(query.words, prefix=True),), filters, params
            )
            out += self._take(prefixed, query, tier=1, limit=query.limit - len(out))
        return out

    def _search_names_in_order(
        self, query: search_rules.Query, filters: str, params: tuple[Any, ...]
    ) -> list[Contact]:
        """Text search when rid order is number order: read each tier along the FTS5 rowids.

        The stored name words rank a row before its contact is loaded, so
        only the rows that end up in the result are deserialised.
        """
        sql = (
            "SELECT contacts.rid, contact_names.words, contacts.id, contacts.data "
            "FROM contact_names CROSS JOIN contacts ON contacts.rid = contact_names.rowid "
            f"WHERE contact_names MATCH ?{filters} AND contact_names.rowid > ? "
            "ORDER BY contact_names.rowid LIMIT ?"
        )
        out: list[Contact] = []
        for tier in (0, 1):
            want = query.limit - len(out)
            if want < 1:
                break
            # Prefix matches include the whole-word ones again; ranking skips them.
            match = _fts_match(query.words, prefix=tier == 1)

            def keep(words: str | None, tier: int = tier) -> bool:
                if words is None:
                    return False
                return search_rules.word_tier(words.split(" "), query.words) == tier

            found = self._in_rid_order(sql, (match, *params), keep, want)
            out += self._take(found, query, tier=tier, limit=want)
        return out

    def _in_rid_order(
        self,
        sql: str,
        params: tuple[Any, ...],
        keep: Callable[[str | None], bool] | None,
        want: int,
    ) -> Iterator[Contact]:
        """Contacts from *sql* in rid order, read in growing chunks so the caller can stop.

        *sql* selects ``rid, words, id, data`` and ends with ``rid > ?`` and
        ``LIMIT ?`` (bound after *params*); a rid repeated in consecutive rows
        is read once.  Rows whose words *keep* rejects are not deserialised.
        """
        chunk = max(want + 8, 32)
        after = -(2**63)
        previous = None
        while True:
            self._check_open()
            with self._lock, self._translated():
                rows = self._conn.execute(sql, (*params, after, chunk)).fetchall()
            for rid, words, contact_id, data in rows:
                if rid == previous:
                    continue
                previous = rid
                if keep is None or keep(words):
                    yield self._load_contact(contact_id, data)
            if len(rows) < chunk:
                return
            after = rows[-1][0]
            chunk = min(chunk * 4, max(4096, want))

    @staticmethod
    def _take(
        candidates: Iterable[Contact],
        query: search_rules.Query,
        *,
        tier: int,
        limit: int | None = None,
    ) -> list[Contact]:
        """The first *limit* candidates (in number order) in rank *tier* of *query*."""
        want = query.limit if limit is None else limit
        out: list[Contact] = []
        if want < 1:
            return out
        for contact in candidates:
            if search_rules.tier(contact, query) == tier:
                out.append(contact)
                if len(out) >= want:
                    break
        return out

    @staticmethod
    def _filter_sql(query: search_rules.Query) -> tuple[str, tuple[Any, ...]]:
        sql = ""
        params: tuple[Any, ...] = ()
        if not query.include_archived:
            sql += " AND archived = 0"
        if query.kind is not None:
            sql += " AND kind = ?"
            params = (query.kind,)
        return sql, params

    @staticmethod
    def _exact_sql(query: search_rules.Query) -> tuple[str, tuple[str, ...]]:
        """The sub-select of candidate rids for a number, e-mail, domain or phone query."""
        if query.mode == "number":
            return "SELECT rid FROM contacts WHERE number = ?", (query.value,)
        if query.mode == "email":
            return "SELECT contact_rid FROM contact_emails WHERE address_lower = ?", (query.value,)
        if query.mode == "domain":
            return "SELECT contact_rid FROM contact_emails WHERE domain = ?", (query.value,)
        return "SELECT contact_rid FROM contact_phones WHERE e164 = ?", (query.value,)

    def _candidates(
        self,
        subquery: str,
        sub_params: tuple[Any, ...],
        filters: str,
        params: tuple[Any, ...],
    ) -> Iterator[Contact]:
        """Contacts whose rid the *subquery* selects and that pass *filters*, in number order.

        A few candidates are read at once and sorted here; many are walked
        along the number index in chunks, so the caller can stop early.
        """
        with self._lock, self._translated():
            probe = self._conn.execute(
                f"SELECT count(*) FROM ({subquery} LIMIT {SMALL_CANDIDATES + 1})", sub_params
            ).fetchone()[0]
            if probe <= SMALL_CANDIDATES:
                rows = self._conn.execute(
                    f"SELECT id, data, number FROM contacts WHERE rid IN ({subquery}){filters}",
                    (*sub_params, *params),
                ).fetchall()
        if probe > SMALL_CANDIDATES:
            yield from self._iter_filtered(
                f"{filters} AND rid IN ({subquery})", (*params, *sub_params)
            )
            return
        rows.sort(key=lambda row: (len(row[2]), row[2]))
        for contact_id, data, _number in rows:
            yield self._load_contact(contact_id, data)

    def _iter_filtered(self, filters: str, params: tuple[Any, ...]) -> Iterator[Contact]:
        same_length = (
            "SELECT id, data, number FROM contacts "
            f"WHERE length(number) = ? AND number > ? {filters} ORDER BY number LIMIT ?"
        )
        longer = (
            "SELECT id, data, number FROM contacts "
            f"WHERE length(number) > ? {filters} ORDER BY length(number), number LIMIT ?"
        )
        after = ""
        while True:
            self._check_open()
            with self._lock, self._translated():
                rows = self._conn.execute(
                    same_length, (len(after), after, *params, READ_CHUNK)
                ).fetchall()
                if len(rows) < READ_CHUNK:
                    rows += self._conn.execute(
                        longer, (len(after), *params, READ_CHUNK - len(rows))
                    ).fetchall()
            for contact_id, data, _number in rows:
                yield self._load_contact(contact_id, data)
            if len(rows) < READ_CHUNK:
                return
            after = rows[-1][2]

    @_public
    def find_by_phone(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.find_by_phone` (in number order)."""
        if not isinstance(e164, str):
            return []
        return self._contacts_where(
            "rid IN (SELECT contact_rid FROM contact_phones WHERE e164 = ?)", (e164,), scope
        )

    @_public
    def find_switchboards(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.find_switchboards` (in number order)."""
        if not isinstance(e164, str):
            return []
        prefixes = search_rules.stem_prefixes(e164)
        if not prefixes:
            return []
        marks = ", ".join("?" * len(prefixes))
        return self._contacts_where(
            f"rid IN (SELECT contact_rid FROM contact_stems WHERE stem IN ({marks}))",
            tuple(prefixes),
            scope,
        )

    def _contacts_where(
        self, condition: str, params: tuple[Any, ...], scope: RowScope | None
    ) -> list[Contact]:
        where, scope_params = _scope_sql(scope)
        sql = (
            f"SELECT id, data FROM contacts WHERE {condition}{where} "
            "ORDER BY length(number), number"
        )
        with self._lock:
            rows = self._conn.execute(sql, (*params, *scope_params)).fetchall()
        return [self._load_contact(i, d) for i, d in rows]

    # -- correspondence (see crmkit_sqlite.entries) ----------------------------------------
    @_public
    def add_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.add_entry`."""
        with self._write():
            return entries.add_entry(self._conn, revision)

    @_public
    def correct_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.correct_entry`."""
        with self._write():
            return entries.correct_entry(self._conn, revision)

    @_public
    def delete_entry(self, entry_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_entry`."""
        with self._write():
            entries.delete_entry(self._conn, entry_id)

    @_public
    def get_entry(self, entry_id: str, *, scope: RowScope | None = None) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.get_entry`."""
        with self._lock:
            return entries.get_entry(self._conn, self.path, entry_id, _scope_sql(scope))

    @_public
    def find_entry_by_source(self, source: str) -> CorrespondenceEntry | None:
        """See :meth:`crmkit.store.Store.find_entry_by_source`."""
        with self._lock:
            return entries.find_by_source(self._conn, self.path, source)

    @_public
    def entry_revisions(self, entry_id: str) -> list[EntryRevision]:
        """See :meth:`crmkit.store.Store.entry_revisions`."""
        with self._lock:
            return entries.revisions(self._conn, self.path, entry_id)

    @_public
    def timeline(self, query: TimelineQuery) -> list[CorrespondenceEntry]:
        """See :meth:`crmkit.store.Store.timeline` (full text through FTS5)."""
        with self._lock:
            return entries.timeline(self._conn, self.path, query)

    @_public
    def open_follow_ups(
        self,
        *,
        due_by: dt.date | None = None,
        assignee: str | None = None,
        scope: RowScope | None = None,
    ) -> list[CorrespondenceEntry]:
        """See :meth:`crmkit.store.Store.open_follow_ups`."""
        with self._lock:
            return entries.open_follow_ups(
                self._conn, self.path, due_by=due_by, assignee=assignee, scope=_scope_sql(scope)
            )

    # -- summaries and bounces (see crmkit_sqlite.cockpit) ----------------------------------
    @_public
    def summaries(
        self,
        where: SummaryFilter,
        *,
        scope: RowScope | None = None,
        limit: int | None = None,
    ) -> Iterator[ContactSummary]:
        """See :meth:`crmkit.store.Store.summaries` (one SQL query, JSON fields read in SQL)."""
        with self._lock:
            rows = cockpit.summaries(self._conn, where, _scope_sql(scope), limit)
        return iter(rows)

    @_public
    def segment_ids(
        self,
        segment: Segment,
        *,
        include_archived: bool = False,
        scope: RowScope | None = None,
    ) -> list[str]:
        """See :meth:`crmkit.store.SegmentStore.segment_ids` (one SQL query, see
        :mod:`crmkit_sqlite.segments`)."""
        with self._lock:
            return segment_queries.segment_ids(
                self._conn, segment, include_archived, _scope_sql(scope)
            )

    # -- records (see crmkit_sqlite.segments) ------------------------------------------------
    @_public
    def put_record(self, kind: str, key: str, data: Mapping[str, Any]) -> None:
        """See :meth:`crmkit.store.RecordStore.put_record`."""
        with self._write():
            segment_queries.put_record(self._conn, kind, key, data)

    @_public
    def get_record(self, kind: str, key: str) -> dict[str, Any]:
        """See :meth:`crmkit.store.RecordStore.get_record`."""
        with self._lock:
            return segment_queries.get_record(self._conn, kind, key)

    @_public
    def iter_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """See :meth:`crmkit.store.RecordStore.iter_records`."""
        with self._lock:
            return segment_queries.iter_records(self._conn, kind)

    @_public
    def delete_record(self, kind: str, key: str) -> None:
        """See :meth:`crmkit.store.RecordStore.delete_record`."""
        with self._write():
            segment_queries.delete_record(self._conn, kind, key)

    @_public
    def add_bounce(self, bounce: Bounce) -> Bounce:
        """See :meth:`crmkit.store.Store.add_bounce`."""
        with self._write():
            return cockpit.add_bounce(self._conn, bounce)

    @_public
    def update_bounce(self, bounce: Bounce) -> Bounce:
        """See :meth:`crmkit.store.Store.update_bounce`."""
        with self._write():
            return cockpit.update_bounce(self._conn, self.path, bounce)

    @_public
    def get_bounce(self, bounce_id: str) -> Bounce:
        """See :meth:`crmkit.store.Store.get_bounce`."""
        with self._lock:
            return cockpit.get_bounce(self._conn, self.path, bounce_id)

    @_public
    def iter_bounces(
        self, *, processed: bool | None = None, address: str | None = None
    ) -> Iterator[Bounce]:
        """See :meth:`crmkit.store.Store.iter_bounces`."""
        with self._lock:
            items = list(
                cockpit.iter_bounces(self._conn, self.path, processed=processed, address=address)
            )
        return iter(items)

    # -- merges (see crmkit_sqlite.cockpit) -------------------------------------------------
    @_public
    def add_merge(self, record: MergeRecord) -> None:
        """See :meth:`crmkit.store.Store.add_merge`."""
        with self._write():
            cockpit.add_merge(self._conn, record)

    @_public
    def update_merge(self, record: MergeRecord) -> None:
        """See :meth:`crmkit.store.Store.update_merge`."""
        with self._write():
            cockpit.update_merge(self._conn, record)

    @_public
    def get_merge(self, merge_id: str) -> MergeRecord:
        """See :meth:`crmkit.store.Store.get_merge`."""
        with self._lock:
            return cockpit.get_merge(self._conn, self.path, merge_id)

    @_public
    def merges_of(self, survivor_id: str) -> list[MergeRecord]:
        """See :meth:`crmkit.store.Store.merges_of`."""
        with self._lock:
            return cockpit.merges_of(self._conn, self.path, survivor_id)

    @_public
    def add_dedup_decision(self, decision: DedupDecision) -> None:
        """See :meth:`crmkit.store.Store.add_dedup_decision`."""
        with self._write():
            cockpit.add_decision(self._conn, decision)

    @_public
    def dedup_decisions(self) -> list[DedupDecision]:
        """See :meth:`crmkit.store.Store.dedup_decisions`."""
        with self._lock:
            return cockpit.decisions(self._conn, self.path)

    @_public
    def append_consent_event(self, event: ConsentEvent) -> None:
        """See :meth:`crmkit.store.Store.append_consent_event`."""
        with self._write():
            cockpit.append_consent(self._conn, event)

    @_public
    def consent_events(self, contact_id: str, *, purpose: str | None = None) -> list[ConsentEvent]:
        """See :meth:`crmkit.store.Store.consent_events`."""
        with self._lock:
            return cockpit.consent_events(self._conn, self.path, contact_id, purpose)

    @_public
    def consent_contacts(self) -> list[str]:
        """See :meth:`crmkit.store.Store.consent_contacts`."""
        with self._lock:
            rows = self._conn.execute("SELECT DISTINCT contact_id FROM consent_events").fetchall()
        return [r[0] for r in rows]

    @_public
    def add_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.add_privacy_request`."""
        with self._write():
            return cockpit.add_privacy_request(self._conn, request)

    @_public
    def update_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.update_privacy_request`."""
        with self._write():
            return cockpit.update_privacy_request(self._conn, self.path, request)

    @_public
    def get_privacy_request(self, request_id: str) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.get_privacy_request`."""
        with self._lock:
            return cockpit.get_privacy_request(self._conn, self.path, request_id)

    @_public
    def iter_privacy_requests(self, *, status: str | None = None) -> list[PrivacyRequest]:
        """See :meth:`crmkit.store.Store.iter_privacy_requests`."""
        with self._lock:
            return cockpit.privacy_requests(self._conn, self.path, status)

    @_public
    def put_legal_hold(self, hold: LegalHold) -> None:
        """See :meth:`crmkit.store.Store.put_legal_hold`."""
        with self._write():
            cockpit.put_legal_hold(self._conn, hold)

    @_public
    def legal_holds(self, *, contact_id: str | None = None) -> list[LegalHold]:
        """See :meth:`crmkit.store.Store.legal_holds`."""
        with self._lock:
            return cockpit.legal_holds(self._conn, self.path, contact_id)

    @_public
    def erase_contact(
        self, contact_id: str, tombstone: Tombstone, *, scrub: Collection[str] = ()
    ) -> None:
        """See :meth:`crmkit.store.Store.erase_contact` (``secure_delete`` zeroes what goes)."""
        with self._write():
            self._forget_loaded(contact_id)
            cockpit.erase_contact(self._conn, self.path, contact_id, tombstone, scrub)
            synclinks.erase_links(self._conn, self.path, contact_id)

    @_public
    def tombstones(self) -> list[Tombstone]:
        """See :meth:`crmkit.store.Store.tombstones`."""
        with self._lock:
            return cockpit.tombstones(self._conn, self.path)

    # -- sync links (capability "sync_links") ------------------------------------------------
    @_public
    def put_sync_link(self, link: SyncLink) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.put_sync_link`."""
        with self._write():
            synclinks.put_link(self._conn, link)

    @_public
    def get_sync_link(self, contact_id: str, provider: str, mailbox: str) -> SyncLink | None:
        """See :meth:`crmkit.store.SyncLinkStore.get_sync_link`."""
        with self._lock:
            return synclinks.get_link(self._conn, self.path, contact_id, provider, mailbox)

    @_public
    def find_sync_link(self, provider: str, mailbox: str, remote_id: str) -> SyncLink | None:
        """See :meth:`crmkit.store.SyncLinkStore.find_sync_link`."""
        with self._lock:
            return synclinks.find_link(self._conn, self.path, provider, mailbox, remote_id)

    @_public
    def sync_links(
        self,
        *,
        provider: str | None = None,
        mailbox: str | None = None,
        contact_id: str | None = None,
        status: str | None = None,
    ) -> list[SyncLink]:
        """See :meth:`crmkit.store.SyncLinkStore.sync_links`."""
        with self._lock:
            return synclinks.links(
                self._conn, self.path, provider=provider, mailbox=mailbox,
                contact_id=contact_id, status=status,
            )  # fmt: skip

    @_public
    def delete_sync_link(self, contact_id: str, provider: str, mailbox: str) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.delete_sync_link`."""
        with self._write():
            synclinks.delete_link(self._conn, contact_id, provider, mailbox)

    @_public
    def put_sync_state(self, provider: str, mailbox: str, key: str, value: str | None) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.put_sync_state`."""
        with self._write():
            synclinks.put_state(self._conn, provider, mailbox, key, value)

    @_public
    def get_sync_state(self, provider: str, mailbox: str, key: str) -> str | None:
        """See :meth:`crmkit.store.SyncLinkStore.get_sync_state`."""
        with self._lock:
            return synclinks.get_state(self._conn, provider, mailbox, key)

    @_public
    def purge_deleted(self) -> None:
        """See :meth:`crmkit.store.Store.purge_deleted`."""
        with self._lock:
            if self._depth:
                raise StoreError(code="store.transaction_nested")
            cockpit.purge(self._conn)

    # -- audit ----------------------------------------------------------------------------------
    @_public
    def append_audit(self, record: AuditRecord) -> None:
        """See :meth:`crmkit.store.Store.append_audit` (part of the open transaction, if any)."""
        data = to_dict(record)
        with self._write():
            self._conn.execute(
                "INSERT INTO audit (id, at, actor_id, action, resource, entity_id, outcome, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    data["at"],
                    record.actor_id,
                    record.action,
                    record.resource,
                    record.entity_id,
                    record.outcome,
                    json.dumps(data, ensure_ascii=False, separators=_JSON_SEPARATORS),
                ),
            )

    @_public
    def iter_audit(
        self, *, entity_id: str | None = None, actor_id: str | None = None
    ) -> Iterator[AuditRecord]:
        """See :meth:`crmkit.store.Store.iter_audit` (streamed in chunks, oldest first)."""
        where = ""
        params: tuple[str, ...] = ()
        if entity_id is not None:
            where += " AND entity_id = ?"
            params += (entity_id,)
        if actor_id is not None:
            where += " AND actor_id = ?"
            params += (actor_id,)
        return self._iter_audit(where, params)

    def _iter_audit(self, where: str, params: tuple[str, ...]) -> Iterator[AuditRecord]:
        sql = f"SELECT seq, id, data FROM audit WHERE seq > ?{where} ORDER BY seq LIMIT ?"
        after = 0
        while True:
            self._check_open()
            with self._lock, self._translated():
                rows = self._conn.execute(sql, (after, *params, READ_CHUNK)).fetchall()
            for _seq, record_id, data in rows:
                yield self._load_audit(record_id, data)
            if len(rows) < READ_CHUNK:
                return
            after = rows[-1][0]

    def _load_audit(self, record_id: str, data: str) -> AuditRecord:
        try:
            return from_dict(AuditRecord, json.loads(data))
        except (ValueError, TypeError, ValidationError) as exc:
            raise StoreError(
                code="store.corrupt", path=self.path, detail=f"audit record {record_id}: {exc}"
            ) from exc

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection; later calls raise :class:`crmkit.StoreError` (``store.closed``).

        Closing twice is harmless.  An open transaction (another thread's) is
        waited for; the lock makes sure of that.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.close()
            except sqlite3.Error as exc:
                raise translate_error(exc, self.path) from exc

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<SQLiteStore {self.url} ({state})>"


def _url_for(path: str) -> str:
    # POSIX: "/srv/crm.db" -> "sqlite:////srv/crm.db"; Windows: "sqlite:///C:\\crm.db".
    return "sqlite:///" + os.path.abspath(path)


def open_sqlite_store(url: str, options: Mapping[str, Any]) -> SQLiteStore:
    """The factory registered for ``sqlite://`` (see :func:`parse_url` for the URL forms).

    Known options: ``busy_timeout`` (milliseconds, default 5000).  Other
    options are ignored, as by the memory store.
    """
    path = parse_url(url)
    timeout = options.get("busy_timeout", DEFAULT_BUSY_TIMEOUT_MS)
    return SQLiteStore(path, url=url, busy_timeout=timeout)


__all__ = [
    "DEFAULT_BUSY_TIMEOUT_MS",
    "DISTRIBUTION",
    "MEMORY",
    "READ_CHUNK",
    "WRITE_BATCH",
    "SQLiteStore",
    "open_sqlite_store",
    "parse_url",
    "translate_error",
]
