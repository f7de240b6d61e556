"""The PostgreSQL store: a connection pool, one schema, transactions per thread.

Every entity is kept as the JSON (``jsonb``) of :func:`crmkit.serialize.to_dict`;
the columns beside it (number, kind, version, archived …) and the search-key
tables of :mod:`crmkit_postgres.schema` exist for ordering, filtering and
search.

Connections come from a :class:`psycopg_pool.ConnectionPool` (autocommit,
``search_path`` set to the store's schema).  A call outside
:meth:`PostgresStore.transaction` borrows a connection for its own short
transaction; the outermost ``transaction()`` block of a thread keeps one
connection for the whole block, so every call of that thread inside it joins
the transaction, while other threads keep working on their own connections.
Each write method runs in a savepoint, so a method that fails (a duplicate
id, a stale version …) changes nothing even when the caller catches the
error inside a larger transaction.

Optimistic concurrency: an update checks the stored version and its
``UPDATE`` carries ``WHERE version = <the version read>``; when another
transaction committed a change in between, the row no longer matches and the
caller gets :class:`crmkit.ConflictError` — nothing is overwritten.

No psycopg exception leaves a public method:
:func:`crmkit_postgres.errors.translate_error` turns each into a
:class:`crmkit.CrmkitError`.  All SQL takes user values as parameters only;
the one identifier that comes from the user, the schema name, is validated
and quoted with :class:`psycopg.sql.Identifier`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Concatenate, Final, ParamSpec, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import attrs
import psycopg
from psycopg import errors as pg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from crmkit import search as search_rules
from crmkit.audit import AuditRecord
from crmkit.auth import RowScope
from crmkit.bounce import Bounce
from crmkit.consent import ConsentEvent
from crmkit.correspondence import CorrespondenceEntry, EntryRevision, TimelineQuery
from crmkit.errors import ConflictError, CrmkitError, NotFoundError, StoreError, ValidationError
from crmkit.merge import DedupDecision, MergeRecord
from crmkit.model import Affiliation, Contact
from crmkit.privacy import PrivacyRequest, Tombstone
from crmkit.retention import LegalHold
from crmkit.segments import Segment
from crmkit.serialize import to_dict
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
from crmkit_postgres import records, synclinks
from crmkit_postgres import segments as segment_queries
from crmkit_postgres.errors import translate_error
from crmkit_postgres.schema import (
    CONTACT_COUNTER,
    DEFAULT_SCHEMA,
    META_TABLE,
    SCHEMA_VERSION,
    check_schema_name,
    migrate,
    other_tables,
    read_schema_version,
)

Conn = psycopg.Connection[TupleRow]

#: The distribution named in "upgrade …" messages.
DISTRIBUTION: Final = "crmkit-postgres"
#: URL schemes this store answers to.
SCHEMES: Final = ("postgresql", "postgres")
#: Default pool sizes and the seconds to wait for a free connection.
DEFAULT_POOL_MIN: Final = 1
DEFAULT_POOL_MAX: Final = 10
DEFAULT_POOL_TIMEOUT: Final = 30.0
#: Seconds to wait for the server when opening the store.
DEFAULT_CONNECT_TIMEOUT: Final = 10
#: Rows fetched per round trip by the streaming reads.
READ_CHUNK: Final = 1000
#: A single search key shared by fewer contacts than this may drive the query: its
#: contacts are read first and only they are checked and sorted.  Keys shared by
#: more (``gmbh``, a free-mail domain) are dense enough that reading contacts in
#: number order finds the first results soon.
DRIVE_BELOW: Final = 20_000
#: The tables :meth:`PostgresStore.bulk_load` vacuums and analyses when it ends.
BULK_TABLES: Final = (
    "contacts", "contact_words", "contact_emails", "contact_phones", "contact_stems",
)  # fmt: skip
#: The options a ``postgresql://`` URL query (or ``crmkit.open`` keyword) may carry for
#: crmkit; every other query parameter goes to libpq unchanged (``sslmode`` …).
OPTIONS: Final = ("schema", "pool_min_size", "pool_max_size", "pool_timeout")

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Row visibility for a :class:`~crmkit.auth.RowScope`, on the outer ``contacts``
#: table: its own contacts, and persons affiliated with one of its own companies.
_VISIBLE: Final = (
    "(contacts.owner = %s OR (contacts.kind = 'person' AND EXISTS ("
    "SELECT 1 FROM affiliations a JOIN contacts co ON co.id = a.company_id "
    "WHERE a.person_id = contacts.id AND co.owner = %s)))"
)
#: An affiliation is visible when its person or its company is.
_AFFILIATION_VISIBLE: Final = (
    f"(EXISTS (SELECT 1 FROM contacts WHERE contacts.id = affiliations.person_id AND {_VISIBLE})"
    f" OR EXISTS (SELECT 1 FROM contacts WHERE contacts.id = affiliations.company_id"
    f" AND {_VISIBLE}))"
)
_ORDER: Final = "ORDER BY length(number), number"


def scope_sql(scope: RowScope | None) -> tuple[str, tuple[str, ...]]:
    """An ``AND …`` clause restricting ``contacts`` rows to *scope* (empty for None)."""
    if scope is None:
        return "", ()
    return f" AND {_VISIBLE}", (scope.owner, scope.owner)


def _affiliation_scope_sql(scope: RowScope | None) -> tuple[str, tuple[str, ...]]:
    if scope is None:
        return "", ()
    return f" AND {_AFFILIATION_VISIBLE}", (scope.owner,) * 4


def walk_is_cheaper(n: int, want: int, contacts: float) -> bool:
    """Whether walking the number order beats reading a key's *n* rows for *want* results.

    The walk reads about *want* × *contacts* / *n* rows; the driver *n*.
    *contacts* is the planner's estimate (not positive: unknown, so drive).
    """
    return contacts > 0 and n * n > want * contacts


def without_implied_prefixes(words: tuple[str, ...]) -> tuple[str, ...]:
    """*words* without those that begin another of them, for the prefix (``LIKE``) pass.

    A contact with a word starting ``mueller`` has one starting ``m``, too, so
    ``m`` adds nothing to the candidates of ``("mueller", "m")`` but would make
    PostgreSQL read every word beginning with m (the duplicate check asks for
    the last name and the first initial, which is often the same letter).
    Which candidates really match is decided afterwards, as for every search.

    >>> without_implied_prefixes(("mueller", "m", "anna"))
    ('mueller', 'anna')
    """
    return tuple(w for w in words if not any(v != w and v.startswith(w) for v in words))


def like_prefix(word: str) -> str:
    """A ``LIKE`` pattern matching text that starts with *word* (``%``, ``_``, ``\\`` escaped)."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def is_key(value: object) -> bool:
    """True for a string PostgreSQL can take as a text value (no NUL character)."""
    return isinstance(value, str) and "\x00" not in value


# -- URLs ---------------------------------------------------------------------
@attrs.frozen
class Target:
    """What a ``postgresql://`` URL names: the libpq connection string and crmkit's options."""

    #: The libpq URL (crmkit's options removed), handed to psycopg.
    conninfo: str
    #: The URL without the password, for messages and :attr:`PostgresStore.url`.
    safe_url: str
    schema: str = DEFAULT_SCHEMA
    pool_min_size: int = DEFAULT_POOL_MIN
    pool_max_size: int = DEFAULT_POOL_MAX
    pool_timeout: float = DEFAULT_POOL_TIMEOUT


def _option(name: str, value: object) -> Any:
    """A validated option value; :class:`crmkit.StoreError` (``store.bad_option``) if wrong."""
    try:
        if name == "schema":
            return check_schema_name(value)
        if name == "pool_timeout":
            number = float(value)  # type: ignore[arg-type]
            if not 0 < number <= 3600:
                raise ValueError("expected seconds between 0 and 3600")
            return number
        if isinstance(value, bool):
            raise ValueError("expected a whole number")
        count = int(value)  # type: ignore[call-overload]
        if not 1 <= count <= 1000:
            raise ValueError("expected 1 to 1000")
        return count
    except (TypeError, ValueError) as exc:
        raise StoreError(
            code="store.bad_option", option=name, value=value, reason=str(exc)
        ) from None


def parse_url(url: str, options: Mapping[str, Any] | None = None) -> Target:
    """Read a ``postgresql://`` (or ``postgres://``) URL and keyword *options*.

    ``postgresql://user:secret@db.example.org:5432/crm?schema=crm&sslmode=require``:
    the query options ``schema`` (default ``crmkit``), ``pool_min_size``,
    ``pool_max_size`` and ``pool_timeout`` are crmkit's (keyword *options*
    of the same names win); every other query parameter goes to libpq.  A
    URL of another scheme, with a fragment, or with a NUL character raises
    :class:`crmkit.StoreError` (``store.bad_url``); a wrong option value
    ``store.bad_option``.
    """
    if not isinstance(url, str) or "\x00" in url:
        raise StoreError(code="store.bad_url", url=url)
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise StoreError(code="store.bad_url", url=url) from None
    if parts.scheme.lower() not in SCHEMES or parts.fragment or "://" not in url:
        raise StoreError(code="store.bad_url", url=url)
    ours: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for key, value in query:
        if key in OPTIONS:
            ours[key] = value
        else:
            rest.append((key, value))
    for key, value in (options or {}).items():
        if key in OPTIONS and value is not None:
            ours[key] = value
    values = {key: _option(key, value) for key, value in ours.items()}
    if values.get("pool_min_size", DEFAULT_POOL_MIN) > values.get(
        "pool_max_size", DEFAULT_POOL_MAX
    ):
        raise StoreError(
            code="store.bad_option",
            option="pool_min_size",
            value=values["pool_min_size"],
            reason="larger than pool_max_size",
        )
    conninfo = urlunsplit(
        ("postgresql", parts.netloc, parts.path, urlencode(rest, quote_via=quote), "")
    )
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    user = quote(unquote(parts.username), safe="") + "@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    shown = urlencode([*rest, *((k, str(v)) for k, v in sorted(values.items()))], quote_via=quote)
    safe = urlunsplit((parts.scheme, user + host + port, parts.path, shown, ""))
    return Target(conninfo=conninfo, safe_url=safe, **values)


def _shown(conninfo: str, schema: str) -> str:
    """A URL for messages naming the server, database and schema of *conninfo* (no password)."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.Error:
        return f"postgresql://?schema={schema}"
    host = str(params.get("host") or "")
    if ":" in host:
        host = f"[{host}]"
    user = quote(str(params["user"]), safe="") + "@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    dbname = quote(str(params.get("dbname") or ""), safe="")
    return f"postgresql://{user}{host}{port}/{dbname}?schema={schema}"


# -- plumbing -------------------------------------------------------------------
def _public(
    method: Callable[Concatenate[PostgresStore, _P], _R],
) -> Callable[Concatenate[PostgresStore, _P], _R]:
    """Refuse work on a closed store and translate every psycopg error."""

    @functools.wraps(method)
    def wrapper(self: PostgresStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        self._check_open()
        with self._translated():
            return method(self, *args, **kwargs)

    return wrapper


class _Local(threading.local):
    """The connection of this thread's open transaction, if any."""

    conn: Conn | None = None
    depth: int = 0


def _dumps(entity: object) -> Jsonb:
    return Jsonb(to_dict(entity))


def _number_seq(number: str) -> int | None:
    digits = number[1:]
    return int(digits) if digits.isdigit() else None


def _lookup_rows(
    contact_id: str, item: PreparedContact
) -> tuple[
    list[tuple[str, str, str]], list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]
]:
    emails = list({(contact_id, a, d) for a, d in item.emails})
    phones = [(contact_id, p) for p in dict.fromkeys(item.phones)]
    words = [(contact_id, w) for w in dict.fromkeys(item.words)]
    stems = [(contact_id, s) for s in dict.fromkeys(item.stems)]
    return emails, phones, words, stems


class PostgresStore:
    """A :class:`crmkit.store.Store` in a PostgreSQL database (psycopg 3, a connection pool).

    :param conninfo: a libpq connection string or ``postgresql://`` URL
        (without crmkit's options; see :func:`parse_url` for URLs with them).
    :param schema: the schema that holds crmkit's tables (created if missing).
    :param pool_min_size: connections kept open.
    :param pool_max_size: connections at most (threads beyond wait for one).
    :param pool_timeout: seconds to wait for a free connection before
        :class:`crmkit.StoreError` (``store.busy``).
    :param url: the URL to report as :attr:`url` (no password).

    Opening creates or upgrades the schema (see :mod:`crmkit_postgres.schema`)
    and refuses a schema that holds other tables, is damaged, or was written
    by a newer release — each with a :class:`crmkit.StoreError`.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        pool_min_size: int = DEFAULT_POOL_MIN,
        pool_max_size: int = DEFAULT_POOL_MAX,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
        url: str | None = None,
    ) -> None:
        self.schema: str = _option("schema", schema)
        self.url = url or _shown(conninfo, self.schema)
        #: How messages name this database: the URL (no password).
        self.path = self.url
        self.capabilities: frozenset[str] = frozenset(
            {
                "persistent",
                "concurrent",
                "fulltext",
                "bulk_prepared",
                "bulk_load",
                "segments",
                "records",
                "sync_links",
            }
        )
        self._local = _Local()
        self._closed = False
        self._close_lock = threading.Lock()
        self._setup(conninfo)
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            conninfo,
            min_size=_option("pool_min_size", pool_min_size),
            max_size=_option("pool_max_size", pool_max_size),
            timeout=_option("pool_timeout", pool_timeout),
            kwargs={"autocommit": True},
            configure=self._configure,
            check=ConnectionPool.check_connection,
            open=False,
            name=f"crmkit-{self.schema}",
        )
        try:
            self._pool.open(wait=True, timeout=DEFAULT_CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            self._pool.close()
            raise translate_error(exc, self.path) from exc

    # -- opening ---------------------------------------------------------------
    def _configure(self, conn: Conn) -> None:
        """Each new pooled connection: crmkit's schema first on the path, UTC."""
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute("SET TIME ZONE 'UTC'")
        # Search keys are skewed (a shared domain, "gmbh" and a rare name use the same
        # statement): plan with the actual values, never a generic plan.
        conn.execute("SET plan_cache_mode = force_custom_plan")
        # crmkit's statements are short look-ups whose cost estimates can still
        # pass the JIT threshold (a word shared by many contacts): compiling
        # them took longer than running them.
        conn.execute("SET jit = off")

    def _setup(self, conninfo: str) -> None:
        try:
            conn = psycopg.connect(
                conninfo, autocommit=True, connect_timeout=DEFAULT_CONNECT_TIMEOUT
            )
        except psycopg.Error as exc:
            raise StoreError(code="store.io", path=self.path, detail=str(exc).strip()) from exc
        try:
            with conn:
                self._configure(conn)
                if self._inspect(conn) == SCHEMA_VERSION and stored_fingerprint(conn) == (
                    fingerprint()
                ):
                    return
                with conn.transaction():
                    # One process migrates; the others wait here, then see it done.
                    conn.execute(
                        "SELECT pg_advisory_xact_lock(hashtext(%s))", ("crmkit:" + self.schema,)
                    )
                    current = self._inspect(conn)
                    if current == 0:
                        conn.execute(
                            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                                sql.Identifier(self.schema)
                            )
                        )
                    migrate(conn, current)
                    rebuild_keys(conn, self.path)
        except psycopg.Error as exc:
            raise translate_error(exc, self.path) from exc

    def _inspect(self, conn: Conn) -> int:
        """The schema version (0 for a missing or empty schema); refuse others."""
        try:
            found = read_schema_version(conn, self.schema)
        except ValueError as exc:
            raise StoreError(code="store.corrupt", path=self.path, detail=str(exc)) from None
        if found is None:
            tables = other_tables(conn, self.schema)
            if tables:
                shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
                raise StoreError(
                    code="store.not_crmkit",
                    path=self.path,
                    detail=f"schema {self.schema} has the tables {shown} but no {META_TABLE}",
                )
            return 0
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
        except psycopg.Error as exc:
            raise translate_error(exc, self.path) from exc

    @contextmanager
    def _connection(self) -> Iterator[Conn]:
        """This thread's transaction connection, or a pooled one for this call."""
        self._check_open()
        conn = self._local.conn
        if conn is not None:
            yield conn
            return
        with self._pool.connection() as pooled:
            yield pooled

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """A block of many :meth:`add_prepared` / :meth:`add_contacts` calls.

        The ``bulk_load`` capability.  Inside the block every write is its own
        transaction as usual.  On leaving (also by an exception) the contact
        and search-key tables are vacuumed and analysed, as autovacuum would do
        some time later: the planner then knows their sizes, and searches read
        the contacts of their words from the indexes alone, right after the
        load.  Not inside :meth:`transaction` (``VACUUM`` cannot run there).
        """
        self._check_open()
        if self._local.conn is not None:
            raise StoreError(code="store.transaction_nested")
        try:
            yield
        finally:
            with self._translated(), self._pool.connection() as conn:
                for table in BULK_TABLES:
                    conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside the block commit together or not at all.

        The outermost block of a thread takes a connection from the pool and
        keeps it until the block ends (``BEGIN`` … ``COMMIT``); nested blocks
        join it.  An exception inside rolls back everything since the
        outermost block began and propagates.  A lost connection rolls back
        too and raises :class:`crmkit.StoreError` (``store.connection_lost``).
        """
        self._check_open()
        local = self._local
        if local.conn is not None:
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        with self._translated():
            conn = self._pool.getconn()
        try:
            local.conn, local.depth = conn, 1
            with self._translated(), conn.transaction():
                yield
                if self._closed:  # closed inside the block: nothing is committed
                    raise StoreError(code="store.closed")
        finally:
            local.conn, local.depth = None, 0
            if not self._closed:
                self._pool.putconn(conn)
            else:
                conn.close()

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        """A connection inside a transaction and a savepoint: a failed write changes nothing."""
        with self._connection() as conn, conn.transaction():
            yield conn

    def _load_contact(self, contact_id: str, data: Any) -> Contact:
        return records.load(Contact, self.path, f"contact {contact_id}", data)

    # -- contacts ------------------------------------------------------------------
    @_public
    def add_contact(self, contact: Contact) -> Contact:
        """See :meth:`crmkit.store.Store.add_contact`."""
        return self._add_contacts([contact])[0]

    @_public
    def add_contacts(self, contacts: Iterable[Contact]) -> list[Contact]:
        """See :meth:`crmkit.store.Store.add_contacts` (one transaction, pipelined inserts)."""
        return self._add_contacts(contacts)

    def _add_contacts(self, contacts: Iterable[Contact]) -> list[Contact]:
        accepted: list[Contact] = []
        items: list[PreparedContact] = []
        for contact in contacts:
            items.append(prepare_contact(contact))  # refuses anything but a person or company
            accepted.append(contact)
        numbers = self._add_prepared(items)
        return [
            c if (c.number, c.version) == (n, 1) else attrs.evolve(c, number=n, version=1)
            for c, n in zip(accepted, numbers, strict=True)
        ]

    @_public
    def add_prepared(self, items: Iterable[PreparedContact]) -> list[str]:
        """Store many prepared contacts in one transaction; their numbers, in order.

        The ``bulk_prepared`` capability: the same as :meth:`add_contacts` for
        the contacts the items were made from (:func:`crmkit.store.prepare_contact`).
        """
        return self._add_prepared(items)

    def _add_prepared(self, items: Iterable[PreparedContact]) -> list[str]:
        rows: list[tuple[Any, ...]] = []
        emails: list[tuple[str, str, str]] = []
        phones: list[tuple[str, str]] = []
        words: list[tuple[str, str]] = []
        stems: list[tuple[str, str]] = []
        taken: list[tuple[str, str]] = []
        with self._connection() as conn:
            try:
                with conn.transaction():
                    # The counter row's lock serialises concurrent inserts until commit.
                    row = conn.execute(
                        "SELECT value FROM counters WHERE name = %s FOR UPDATE",
                        (CONTACT_COUNTER,),
                    ).fetchone()
                    start = last = int(row[0]) if row else 0
                    for item in items:
                        if not isinstance(item, PreparedContact):
                            raise ValidationError.single(
                                "contact",
                                "value.type",
                                expected="PreparedContact",
                                actual=type(item).__name__,
                            )
                        number = item.number
                        if number is None:
                            last += 1
                            number = format_number(last)
                            seq: int | None = last
                        else:
                            seq = _number_seq(number)
                            if seq is not None and seq > last:
                                last = seq
                        taken.append((item.id, number))
                        data = json.loads(item.data)
                        data["number"], data["version"] = number, 1
                        rows.append(
                            (item.id, number, seq, item.kind, 1, item.archived, item.owner, data)
                        )
                        e, p, w, s = _lookup_rows(item.id, item)
                        emails += e
                        phones += p
                        words += w
                        stems += s
                    self._check_new(conn, taken)
                    with conn.cursor() as cur:
                        columns = "id, number, number_seq, kind, version, archived, owner, data"
                        _insert(cur, f"contacts ({columns})", rows)
                        _write_keys(cur, emails, phones, words, stems)
                    if last != start:
                        conn.execute(
                            "UPDATE counters SET value = %s WHERE name = %s",
                            (last, CONTACT_COUNTER),
                        )
            except pg.UniqueViolation as exc:  # a concurrent insert took an id or number
                raise self._duplicate(conn, taken) or translate_error(exc, self.path) from exc
        return [n for _, n in taken]

    def _check_new(self, conn: Conn, taken: list[tuple[str, str]]) -> None:
        found = self._duplicate(conn, taken)
        if found is not None:
            raise found

    @staticmethod
    def _duplicate(conn: Conn, taken: list[tuple[str, str]]) -> CrmkitError | None:
        """The first ``(id, number)`` of *taken* that is taken, as the memory store reports it."""
        if not taken:
            return None
        ids = [i for i, _ in taken]
        numbers = [n for _, n in taken]
        stored_ids = {
            r[0] for r in conn.execute("SELECT id FROM contacts WHERE id = ANY(%s)", (ids,))
        }
        stored_numbers = {
            r[0]
            for r in conn.execute("SELECT number FROM contacts WHERE number = ANY(%s)", (numbers,))
        }
        seen_ids: set[str] = set()
        seen_numbers: set[str] = set()
        for contact_id, number in taken:
            if contact_id in seen_ids or contact_id in stored_ids:
                return ConflictError(code="exists", kind="contact", key=contact_id)
            if number in seen_numbers or number in stored_numbers:
                return ConflictError(code="exists", kind="contact number", key=number)
            seen_ids.add(contact_id)
            seen_numbers.add(number)
        return None

    @_public
    def get_contact(self, contact_id: str, *, scope: RowScope | None = None) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact` (outside *scope*: not found)."""
        row = None
        if is_key(contact_id):
            where, params = scope_sql(scope)
            with self._connection() as conn:
                row = conn.execute(
                    f"SELECT data FROM contacts WHERE id = %s{where}", (contact_id, *params)
                ).fetchone()
        if row is None:
            raise NotFoundError(kind="contact", key=contact_id)
        return self._load_contact(contact_id, row[0])

    @_public
    def get_contact_by_number(self, number: str, *, scope: RowScope | None = None) -> Contact:
        """See :meth:`crmkit.store.Store.get_contact_by_number`."""
        row = None
        if is_key(number):
            where, params = scope_sql(scope)
            with self._connection() as conn:
                row = conn.execute(
                    f"SELECT id, data FROM contacts WHERE number = %s{where}", (number, *params)
                ).fetchone()
        if row is None:
            raise NotFoundError(kind="contact", key=number)
        return self._load_contact(row[0], row[1])

    @_public
    def update_contact(self, contact: Contact) -> Contact:
        """See :meth:`crmkit.store.Store.update_contact` (version checked in the ``UPDATE``)."""
        with self._write() as conn:
            row = None
            if is_key(contact.id):
                row = conn.execute(
                    "SELECT version, kind, number FROM contacts WHERE id = %s", (contact.id,)
                ).fetchone()
            if row is None:
                raise NotFoundError(kind="contact", key=contact.id)
            version, kind, number = row
            check_contact_update(contact, version, kind)
            stored = attrs.evolve(contact, number=number, version=version + 1)
            done = conn.execute(
                "UPDATE contacts SET version = %s, archived = %s, owner = %s, data = %s "
                "WHERE id = %s AND version = %s",
                (
                    stored.version,
                    stored.archived_at is not None,
                    stored.owner,
                    _dumps(stored),
                    stored.id,
                    version,
                ),
            ).rowcount
            if done != 1:  # another transaction committed a change meanwhile
                now = conn.execute(
                    "SELECT version FROM contacts WHERE id = %s", (contact.id,)
                ).fetchone()
                if now is None:
                    raise NotFoundError(kind="contact", key=contact.id)
                raise ConflictError(
                    kind="contact", key=number, expected=contact.version, actual=now[0]
                )
            for table in ("contact_emails", "contact_phones", "contact_words", "contact_stems"):
                conn.execute(f"DELETE FROM {table} WHERE contact_id = %s", (stored.id,))
            with conn.cursor() as cur:
                _write_keys(cur, *_lookup_rows(stored.id, prepare_contact(stored)))
            return stored

    @_public
    def delete_contact(self, contact_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_contact` (affiliations go by cascade)."""
        with self._write() as conn:
            if not is_key(contact_id):
                raise NotFoundError(kind="contact", key=contact_id)
            if conn.execute(
                "SELECT 1 FROM correspondence_contacts WHERE contact_id = %s LIMIT 1",
                (contact_id,),
            ).fetchone():
                raise ConflictError(code="store.contact_has_correspondence", key=contact_id)
            if conn.execute(
                "SELECT 1 FROM consent_events WHERE contact_id = %s LIMIT 1", (contact_id,)
            ).fetchone():
                raise ConflictError(code="store.contact_has_consents", key=contact_id)
            deleted = conn.execute("DELETE FROM contacts WHERE id = %s", (contact_id,)).rowcount
            if deleted == 0:
                raise NotFoundError(kind="contact", key=contact_id)
            synclinks.erase_links(conn, self.path, contact_id)

    @_public
    def iter_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> Iterator[Contact]:
        """See :meth:`crmkit.store.Store.iter_contacts`.

        Rows are fetched :data:`READ_CHUNK` at a time (keyset pagination on
        number order), so a million contacts never sit in memory at once.
        Inside a transaction the chunks read that transaction's view.
        """
        where, params = scope_sql(scope)
        if not include_archived:
            where += " AND NOT archived"
        return self._iter_where("true", (), where, params)

    def _iter_where(
        self,
        condition: str,
        cond_params: tuple[Any, ...],
        filters: str,
        params: tuple[Any, ...],
        *,
        first: int = READ_CHUNK,
        driver: tuple[str, tuple[str, ...]] | None = None,
    ) -> Iterator[Contact]:
        """Contacts passing *condition* and *filters*, in number order, read in chunks.

        The first chunk has *first* rows (a search that wants few asks for few);
        each next one is four times larger, up to :data:`READ_CHUNK`.  With a
        *driver* (a query selecting ``contact_id`` and its parameters) the
        candidates are those ids, read first, instead of a walk along the
        number order (see :meth:`_driver`).  A driver selects exactly the
        contacts that pass *condition*, so *condition* is then not checked
        again (checking it made PostgreSQL read every key's rows a second
        time).
        """
        query = (
            f"SELECT id, data, number FROM contacts WHERE {condition}{filters}"
            f" AND (length(number), number) > (%s, %s) {_ORDER} LIMIT %s"
        )
        if driver is not None:
            query = (
                f"WITH ids AS MATERIALIZED ({driver[0]}) SELECT id, data, number"
                f" FROM ids JOIN contacts ON id = ids.contact_id WHERE true{filters}"
                f" AND (length(number), number) > (%s, %s) {_ORDER} LIMIT %s"
            )
            cond_params = driver[1]
        after: tuple[int, str] = (0, "")
        chunk = max(1, min(first, READ_CHUNK))
        while True:
            self._check_open()
            with self._translated(), self._connection() as conn:
                rows = conn.execute(
                    query,
                    (*cond_params, *params, *after, chunk),
                ).fetchall()
            for contact_id, data, _number in rows:
                yield self._load_contact(contact_id, data)
            if len(rows) < chunk:
                return
            last = rows[-1][2]
            after = (len(last), last)
            chunk = min(chunk * 4, READ_CHUNK)

    @_public
    def count_contacts(
        self, *, include_archived: bool = True, scope: RowScope | None = None
    ) -> int:
        """See :meth:`crmkit.store.Store.count_contacts`."""
        where, params = scope_sql(scope)
        if not include_archived:
            where += " AND NOT archived"
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT count(*) FROM contacts WHERE true{where}", params
            ).fetchone()
        return int(row[0]) if row else 0

    # -- affiliations -------------------------------------------------------------------
    def _check_kinds(self, conn: Conn, affiliation: Affiliation) -> None:
        kinds: dict[str, str] = {}
        for contact_id in (affiliation.person_id, affiliation.company_id):
            row = None
            if is_key(contact_id):
                row = conn.execute(
                    "SELECT kind FROM contacts WHERE id = %s", (contact_id,)
                ).fetchone()
            if row is None:
                raise NotFoundError(kind="contact", key=contact_id)
            kinds[contact_id] = row[0]
        person, company = kinds[affiliation.person_id], kinds[affiliation.company_id]
        if person != "person":
            raise ValidationError.single(
                "person_id", "affiliation.kind", expected="person", actual=person
            )
        if company != "company":
            raise ValidationError.single(
                "company_id", "affiliation.kind", expected="company", actual=company
            )

    @_public
    def add_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """See :meth:`crmkit.store.Store.add_affiliation`."""
        with self._write() as conn:
            if (
                is_key(affiliation.id)
                and conn.execute(
                    "SELECT 1 FROM affiliations WHERE id = %s", (affiliation.id,)
                ).fetchone()
            ):
                raise ConflictError(code="exists", kind="affiliation", key=affiliation.id)
            self._check_kinds(conn, affiliation)
            stored = attrs.evolve(affiliation, version=1)
            conn.execute(
                "INSERT INTO affiliations (id, person_id, company_id, version, data) "
                "VALUES (%s, %s, %s, 1, %s)",
                (stored.id, stored.person_id, stored.company_id, _dumps(stored)),
            )
            return stored

    @_public
    def get_affiliation(self, affiliation_id: str, *, scope: RowScope | None = None) -> Affiliation:
        """See :meth:`crmkit.store.Store.get_affiliation`."""
        row = None
        if is_key(affiliation_id):
            where, params = _affiliation_scope_sql(scope)
            with self._connection() as conn:
                row = conn.execute(
                    f"SELECT data FROM affiliations WHERE id = %s{where}",
                    (affiliation_id, *params),
                ).fetchone()
        if row is None:
            raise NotFoundError(kind="affiliation", key=affiliation_id)
        return records.load(Affiliation, self.path, f"affiliation {affiliation_id}", row[0])

    @_public
    def update_affiliation(self, affiliation: Affiliation) -> Affiliation:
        """See :meth:`crmkit.store.Store.update_affiliation`."""
        with self._write() as conn:
            row = None
            if is_key(affiliation.id):
                row = conn.execute(
                    "SELECT version FROM affiliations WHERE id = %s", (affiliation.id,)
                ).fetchone()
            if row is None:
                raise NotFoundError(kind="affiliation", key=affiliation.id)
            check_version("affiliation", affiliation.id, affiliation.version, row[0])
            self._check_kinds(conn, affiliation)
            stored = attrs.evolve(affiliation, version=row[0] + 1)
            done = conn.execute(
                "UPDATE affiliations SET person_id = %s, company_id = %s, version = %s, data = %s"
                " WHERE id = %s AND version = %s",
                (
                    stored.person_id,
                    stored.company_id,
                    stored.version,
                    _dumps(stored),
                    stored.id,
                    row[0],
                ),
            ).rowcount
            if done != 1:
                raise ConflictError(
                    kind="affiliation", key=affiliation.id, expected=affiliation.version,
                    actual=row[0] + 1,
                )  # fmt: skip
            return stored

    @_public
    def delete_affiliation(self, affiliation_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_affiliation`."""
        with self._write() as conn:
            deleted = 0
            if is_key(affiliation_id):
                deleted = conn.execute(
                    "DELETE FROM affiliations WHERE id = %s", (affiliation_id,)
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
        if not is_key(contact_id):
            return []
        where, params = _affiliation_scope_sql(scope)
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT id, data FROM affiliations WHERE {column} = %s{where}",
                (contact_id, *params),
            ).fetchall()
        return sort_affiliations(
            records.load(Affiliation, self.path, f"affiliation {i}", d) for i, d in rows
        )

    # -- search ---------------------------------------------------------------------------------
    @_public
    def search(self, query: search_rules.Query, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.search`.

        Candidates come from the search-key tables through their indexes
        (``=`` for whole words, numbers, e-mails, domains and phones,
        ``LIKE 'word%'`` on ``text_pattern_ops`` for prefixes), narrowed in
        SQL by kind, archive state and *scope*, read in number order;
        :func:`crmkit.search.tier` decides what matches.  Whole-word matches
        (tier 0) are read first, then prefix matches (tier 1), and reading
        stops once ``limit`` results are found.  The result is exactly
        ``crmkit.search.select(all_contacts, query)``.
        """
        filters = ""
        params: tuple[Any, ...] = ()
        if not query.include_archived:
            filters += " AND NOT archived"
        if query.kind is not None:
            filters += " AND kind = %s"
            params += (query.kind,)
        visible, visible_params = scope_sql(scope)
        filters += visible
        params += visible_params
        if query.mode == "all" or (query.mode == "text" and not query.words):
            found = self._iter_where("true", (), filters, params, first=query.limit + 8)
            return self._take(found, query, 0, query.limit)
        if query.mode != "text":
            condition, value = {
                "number": ("number = %s", query.value),
                "email": (
                    "id IN (SELECT contact_id FROM contact_emails WHERE address_lower = %s)",
                    query.value,
                ),
                "domain": (
                    "id IN (SELECT contact_id FROM contact_emails WHERE domain = %s)",
                    query.value,
                ),
                "phone": ("id IN (SELECT contact_id FROM contact_phones WHERE e164 = %s)",
                          query.value),
            }[query.mode]  # fmt: skip
            if not is_key(value):
                return []
            driver = (
                self._driver("contact_emails", "domain", "=", (value,), query.limit)
                if query.mode == "domain"
                else None
            )
            found = self._iter_where(
                condition, (value,), filters, params, first=query.limit + 8, driver=driver
            )
            return self._take(found, query, 0, query.limit)
        if not all(is_key(w) for w in query.words):
            return []
        words = tuple(dict.fromkeys(query.words))
        out: list[Contact] = []
        for tier, op, values in (
            (0, "=", words),
            (1, "LIKE", tuple(like_prefix(w) for w in without_implied_prefixes(words))),
        ):
            want = query.limit - len(out)
            if want < 1:
                break
            condition = " AND ".join(
                f"id IN (SELECT contact_id FROM contact_words WHERE word {op} %s)" for _ in values
            )
            driver = self._driver("contact_words", "word", op, values, want)
            # Whole-word matches are prefix matches too: the prefix pass reads past them.
            found = self._iter_where(
                condition, values, filters, params, first=len(out) + want + 8, driver=driver
            )
            out += self._take(found, query, tier, want)
        return out

    def _driver(
        self, table: str, column: str, op: str, values: tuple[str, ...], want: int
    ) -> tuple[str, tuple[str, ...]] | None:
        """Where a search's candidates come from: the ids of its keys, or ``None`` for the walk.

        With several keys (words) the candidates are the intersection of
        their contacts, read from the ``(key, contact_id)`` indexes alone.
        With one, reading its *n* contacts costs about *n*, and walking the
        number order until *want* results turn up about *want* × contacts /
        *n*: the key's contacts are read when it is shared by fewer than
        :data:`DRIVE_BELOW` and :func:`walk_is_cheaper` says no.
        """
        one = f"SELECT contact_id FROM {table} WHERE {column} {op} %s"
        if len(values) > 1:
            return " INTERSECT ".join(one for _ in values), values
        counted = f"SELECT count(*) FROM ({one} LIMIT %s) s"
        with self._translated(), self._connection() as conn:
            row = conn.execute(counted, (values[0], DRIVE_BELOW)).fetchone()
            n = int(row[0]) if row else 0
            if n >= DRIVE_BELOW:
                return None
            row = conn.execute(
                "SELECT reltuples FROM pg_class WHERE oid = 'contacts'::regclass"
            ).fetchone()
            contacts = float(row[0]) if row else -1.0  # -1: never analysed
        if walk_is_cheaper(n, want, contacts):
            return None
        return f"SELECT DISTINCT contact_id FROM {table} WHERE {column} {op} %s", values

    @staticmethod
    def _take(
        candidates: Iterable[Contact], query: search_rules.Query, tier: int, want: int
    ) -> list[Contact]:
        """The first *want* candidates (in number order) in rank *tier* of *query*."""
        out: list[Contact] = []
        if want < 1:
            return out
        for contact in candidates:
            if search_rules.tier(contact, query) == tier:
                out.append(contact)
                if len(out) >= want:
                    break
        return out

    @_public
    def find_by_phone(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.find_by_phone` (in number order)."""
        if not is_key(e164):
            return []
        return self._contacts_where(
            "id IN (SELECT contact_id FROM contact_phones WHERE e164 = %s)", (e164,), scope
        )

    @_public
    def find_switchboards(self, e164: str, *, scope: RowScope | None = None) -> list[Contact]:
        """See :meth:`crmkit.store.Store.find_switchboards` (in number order)."""
        if not is_key(e164):
            return []
        prefixes = search_rules.stem_prefixes(e164)
        if not prefixes:
            return []
        return self._contacts_where(
            "id IN (SELECT contact_id FROM contact_stems WHERE stem = ANY(%s))", (prefixes,), scope
        )

    def _contacts_where(
        self, condition: str, params: tuple[Any, ...], scope: RowScope | None
    ) -> list[Contact]:
        where, scope_params = scope_sql(scope)
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT id, data FROM contacts WHERE {condition}{where} {_ORDER}",
                (*params, *scope_params),
            ).fetchall()
        return [self._load_contact(i, d) for i, d in rows]

    # -- correspondence (see crmkit_postgres.records) ----------------------------------------
    @_public
    def add_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.add_entry`."""
        with self._write() as conn:
            return records.add_entry(conn, revision)

    @_public
    def correct_entry(self, revision: EntryRevision) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.correct_entry`."""
        with self._write() as conn:
            return records.correct_entry(conn, revision)

    @_public
    def delete_entry(self, entry_id: str) -> None:
        """See :meth:`crmkit.store.Store.delete_entry`."""
        with self._write() as conn:
            records.delete_entry(conn, entry_id)

    @_public
    def get_entry(self, entry_id: str, *, scope: RowScope | None = None) -> CorrespondenceEntry:
        """See :meth:`crmkit.store.Store.get_entry`."""
        with self._connection() as conn:
            return records.get_entry(conn, self.path, entry_id, scope_sql(scope))

    @_public
    def find_entry_by_source(self, source: str) -> CorrespondenceEntry | None:
        """See :meth:`crmkit.store.Store.find_entry_by_source`."""
        with self._connection() as conn:
            return records.find_by_source(conn, self.path, source)

    @_public
    def entry_revisions(self, entry_id: str) -> list[EntryRevision]:
        """See :meth:`crmkit.store.Store.entry_revisions`."""
        with self._connection() as conn:
            return records.revisions(conn, self.path, entry_id)

    @_public
    def timeline(self, query: TimelineQuery) -> list[CorrespondenceEntry]:
        """See :meth:`crmkit.store.Store.timeline` (text through the indexed entry words)."""
        with self._connection() as conn:
            return records.timeline(conn, self.path, query)

    @_public
    def open_follow_ups(
        self,
        *,
        due_by: dt.date | None = None,
        assignee: str | None = None,
        scope: RowScope | None = None,
    ) -> list[CorrespondenceEntry]:
        """See :meth:`crmkit.store.Store.open_follow_ups`."""
        with self._connection() as conn:
            return records.open_follow_ups(
                conn, self.path, due_by=due_by, assignee=assignee, scope=scope_sql(scope)
            )

    # -- summaries, bounces, merges, GDPR records (see crmkit_postgres.records) -------------
    @_public
    def summaries(
        self,
        where: SummaryFilter,
        *,
        scope: RowScope | None = None,
        limit: int | None = None,
    ) -> Iterator[ContactSummary]:
        """See :meth:`crmkit.store.Store.summaries` (one SQL query over ``jsonb``)."""
        with self._connection() as conn:
            rows = records.summaries(conn, where, scope_sql(scope), limit)
        return iter(rows)

    @_public
    def add_bounce(self, bounce: Bounce) -> Bounce:
        """See :meth:`crmkit.store.Store.add_bounce`."""
        with self._write() as conn:
            return records.BOUNCES.add(conn, bounce)

    @_public
    def update_bounce(self, bounce: Bounce) -> Bounce:
        """See :meth:`crmkit.store.Store.update_bounce`."""
        with self._write() as conn:
            return records.BOUNCES.update(conn, self.path, bounce)

    @_public
    def get_bounce(self, bounce_id: str) -> Bounce:
        """See :meth:`crmkit.store.Store.get_bounce`."""
        with self._connection() as conn:
            return records.BOUNCES.get(conn, self.path, bounce_id)

    @_public
    def iter_bounces(
        self, *, processed: bool | None = None, address: str | None = None
    ) -> Iterator[Bounce]:
        """See :meth:`crmkit.store.Store.iter_bounces`."""
        with self._connection() as conn:
            items = records.iter_bounces(conn, self.path, processed=processed, address=address)
        return iter(items)

    @_public
    def add_merge(self, record: MergeRecord) -> None:
        """See :meth:`crmkit.store.Store.add_merge`."""
        with self._write() as conn:
            records.add_merge(conn, record)

    @_public
    def update_merge(self, record: MergeRecord) -> None:
        """See :meth:`crmkit.store.Store.update_merge`."""
        with self._write() as conn:
            records.update_merge(conn, record)

    @_public
    def get_merge(self, merge_id: str) -> MergeRecord:
        """See :meth:`crmkit.store.Store.get_merge`."""
        with self._connection() as conn:
            return records.get_merge(conn, self.path, merge_id)

    @_public
    def merges_of(self, survivor_id: str) -> list[MergeRecord]:
        """See :meth:`crmkit.store.Store.merges_of`."""
        with self._connection() as conn:
            return records.merges_of(conn, self.path, survivor_id)

    # -- segments and records (see crmkit_postgres.segments) -----------------------------
    @_public
    def segment_ids(
        self,
        segment: Segment,
        *,
        include_archived: bool = False,
        scope: RowScope | None = None,
    ) -> list[str]:
        """See :meth:`crmkit.store.SegmentStore.segment_ids` (one parameterised SQL query,
        see :mod:`crmkit_postgres.segments`)."""
        with self._connection() as conn:
            return segment_queries.segment_ids(conn, segment, include_archived, scope_sql(scope))

    @_public
    def put_record(self, kind: str, key: str, data: Mapping[str, Any]) -> None:
        """See :meth:`crmkit.store.RecordStore.put_record`."""
        with self._write() as conn:
            segment_queries.put_record(conn, kind, key, data)

    @_public
    def get_record(self, kind: str, key: str) -> dict[str, Any]:
        """See :meth:`crmkit.store.RecordStore.get_record`."""
        with self._connection() as conn:
            return segment_queries.get_record(conn, kind, key)

    @_public
    def iter_records(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """See :meth:`crmkit.store.RecordStore.iter_records`."""
        with self._connection() as conn:
            return segment_queries.iter_records(conn, kind)

    @_public
    def delete_record(self, kind: str, key: str) -> None:
        """See :meth:`crmkit.store.RecordStore.delete_record`."""
        with self._write() as conn:
            segment_queries.delete_record(conn, kind, key)

    @_public
    def add_dedup_decision(self, decision: DedupDecision) -> None:
        """See :meth:`crmkit.store.Store.add_dedup_decision`."""
        with self._write() as conn:
            records.add_decision(conn, decision)

    @_public
    def dedup_decisions(self) -> list[DedupDecision]:
        """See :meth:`crmkit.store.Store.dedup_decisions`."""
        with self._connection() as conn:
            return records.decisions(conn, self.path)

    @_public
    def append_consent_event(self, event: ConsentEvent) -> None:
        """See :meth:`crmkit.store.Store.append_consent_event`."""
        with self._write() as conn:
            records.append_consent(conn, event)

    @_public
    def consent_events(self, contact_id: str, *, purpose: str | None = None) -> list[ConsentEvent]:
        """See :meth:`crmkit.store.Store.consent_events`."""
        with self._connection() as conn:
            return records.consent_events(conn, self.path, contact_id, purpose)

    @_public
    def consent_contacts(self) -> list[str]:
        """See :meth:`crmkit.store.Store.consent_contacts`."""
        with self._connection() as conn:
            rows = conn.execute("SELECT DISTINCT contact_id FROM consent_events").fetchall()
        return [r[0] for r in rows]

    @_public
    def add_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.add_privacy_request`."""
        with self._write() as conn:
            return records.PRIVACY_REQUESTS.add(conn, request)

    @_public
    def update_privacy_request(self, request: PrivacyRequest) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.update_privacy_request`."""
        with self._write() as conn:
            return records.PRIVACY_REQUESTS.update(conn, self.path, request)

    @_public
    def get_privacy_request(self, request_id: str) -> PrivacyRequest:
        """See :meth:`crmkit.store.Store.get_privacy_request`."""
        with self._connection() as conn:
            return records.PRIVACY_REQUESTS.get(conn, self.path, request_id)

    @_public
    def iter_privacy_requests(self, *, status: str | None = None) -> list[PrivacyRequest]:
        """See :meth:`crmkit.store.Store.iter_privacy_requests`."""
        with self._connection() as conn:
            return records.privacy_requests(conn, self.path, status)

    @_public
    def put_legal_hold(self, hold: LegalHold) -> None:
        """See :meth:`crmkit.store.Store.put_legal_hold`."""
        with self._write() as conn:
            records.put_legal_hold(conn, hold)

    @_public
    def legal_holds(self, *, contact_id: str | None = None) -> list[LegalHold]:
        """See :meth:`crmkit.store.Store.legal_holds`."""
        with self._connection() as conn:
            return records.legal_holds(conn, self.path, contact_id)

    @_public
    def erase_contact(
        self, contact_id: str, tombstone: Tombstone, *, scrub: Collection[str] = ()
    ) -> None:
        """See :meth:`crmkit.store.Store.erase_contact` (one transaction)."""
        with self._write() as conn:
            records.erase_contact(conn, self.path, contact_id, tombstone, scrub)
            synclinks.erase_links(conn, self.path, contact_id)

    @_public
    def tombstones(self) -> list[Tombstone]:
        """See :meth:`crmkit.store.Store.tombstones`."""
        with self._connection() as conn:
            return records.tombstones(conn, self.path)

    # -- sync links (capability "sync_links") ------------------------------------------------
    @_public
    def put_sync_link(self, link: SyncLink) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.put_sync_link`."""
        with self._write() as conn:
            synclinks.put_link(conn, link)

    @_public
    def get_sync_link(self, contact_id: str, provider: str, mailbox: str) -> SyncLink | None:
        """See :meth:`crmkit.store.SyncLinkStore.get_sync_link`."""
        with self._connection() as conn:
            return synclinks.get_link(conn, self.path, contact_id, provider, mailbox)

    @_public
    def find_sync_link(self, provider: str, mailbox: str, remote_id: str) -> SyncLink | None:
        """See :meth:`crmkit.store.SyncLinkStore.find_sync_link`."""
        with self._connection() as conn:
            return synclinks.find_link(conn, self.path, provider, mailbox, remote_id)

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
        with self._connection() as conn:
            return synclinks.links(
                conn, self.path, provider=provider, mailbox=mailbox,
                contact_id=contact_id, status=status,
            )  # fmt: skip

    @_public
    def delete_sync_link(self, contact_id: str, provider: str, mailbox: str) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.delete_sync_link`."""
        with self._write() as conn:
            synclinks.delete_link(conn, contact_id, provider, mailbox)

    @_public
    def put_sync_state(self, provider: str, mailbox: str, key: str, value: str | None) -> None:
        """See :meth:`crmkit.store.SyncLinkStore.put_sync_state`."""
        with self._write() as conn:
            synclinks.put_state(conn, provider, mailbox, key, value)

    @_public
    def get_sync_state(self, provider: str, mailbox: str, key: str) -> str | None:
        """See :meth:`crmkit.store.SyncLinkStore.get_sync_state`."""
        with self._connection() as conn:
            return synclinks.get_state(conn, provider, mailbox, key)

    @_public
    def purge_deleted(self) -> None:
        """See :meth:`crmkit.store.Store.purge_deleted`: ``VACUUM`` the tables that held
        personal data, so deleted row versions are freed (outside a transaction)."""
        if self._local.conn is not None:
            raise StoreError(code="store.transaction_nested")
        with self._connection() as conn:
            for table in records.PERSONAL_TABLES:
                conn.execute(f"VACUUM {table}")

    # -- audit ----------------------------------------------------------------------------------
    @_public
    def append_audit(self, record: AuditRecord) -> None:
        """See :meth:`crmkit.store.Store.append_audit` (part of the open transaction, if any)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO audit (id, actor_id, entity_id, data) VALUES (%s, %s, %s, %s)",
                (record.id, record.actor_id, record.entity_id, _dumps(record)),
            )

    @_public
    def iter_audit(
        self, *, entity_id: str | None = None, actor_id: str | None = None
    ) -> Iterator[AuditRecord]:
        """See :meth:`crmkit.store.Store.iter_audit` (streamed in chunks, oldest first)."""
        where = ""
        params: tuple[str, ...] = ()
        for column, value in (("entity_id", entity_id), ("actor_id", actor_id)):
            if value is not None:
                if not is_key(value):
                    return iter(())
                where += f" AND {column} = %s"
                params += (value,)
        return self._iter_audit(where, params)

    def _iter_audit(self, where: str, params: tuple[str, ...]) -> Iterator[AuditRecord]:
        query = f"SELECT seq, id, data FROM audit WHERE seq > %s{where} ORDER BY seq LIMIT %s"
        after = 0
        while True:
            self._check_open()
            with self._translated(), self._connection() as conn:
                rows = conn.execute(query, (after, *params, READ_CHUNK)).fetchall()
            for _seq, record_id, data in rows:
                yield records.load(AuditRecord, self.path, f"audit record {record_id}", data)
            if len(rows) < READ_CHUNK:
                return
            after = rows[-1][0]

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Close the pool; later calls raise :class:`crmkit.StoreError` (``store.closed``).

        Closing twice is harmless.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._pool.close(timeout=5)
        except psycopg.Error as exc:
            raise translate_error(exc, self.path) from exc

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<PostgresStore {self.url} ({state})>"


#: From this many rows on, :func:`_insert` uses ``COPY`` instead of ``INSERT``.
COPY_FROM: Final = 64


def _insert(cur: psycopg.Cursor[TupleRow], target: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert *rows* into *target* (``"table (col, …)"``, a constant): ``COPY`` for many.

    A ``dict`` value is stored as ``jsonb``.  Both paths check every constraint.
    """
    if not rows:
        return
    if len(rows) >= COPY_FROM:
        with cur.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
                          for v in row)
                )  # fmt: skip
        return
    marks = ", ".join(["%s"] * len(rows[0]))
    cur.executemany(
        f"INSERT INTO {target} VALUES ({marks})",
        [tuple(Jsonb(v) if isinstance(v, dict) else v for v in row) for row in rows],
    )


def _write_keys(
    cur: psycopg.Cursor[TupleRow],
    emails: list[tuple[str, str, str]],
    phones: list[tuple[str, str]],
    words: list[tuple[str, str]],
    stems: list[tuple[str, str]],
) -> None:
    """Insert the search-key rows of contacts."""
    _insert(cur, "contact_emails (contact_id, address_lower, domain)", list(emails))
    _insert(cur, "contact_phones (contact_id, e164)", list(phones))
    _insert(cur, "contact_words (contact_id, word)", list(words))
    _insert(cur, "contact_stems (contact_id, stem)", list(stems))


# -- search-key fingerprint ------------------------------------------------------------------
#: Bump when the layout or meaning of the search-key tables changes in this package.
KEYS_FORMAT: Final = 1
#: The ``crmkit_meta`` key holding the fingerprint of the core's key functions.
FINGERPRINT_KEY: Final = "keys_fingerprint"


def fingerprint() -> str:
    """A short hash of how the core's key functions treat a few tricky values.

    The search keys are derived data; when a crmkit release folds names
    differently, the stored keys are rebuilt on the next open.
    """
    from crmkit.correspondence import text_words
    from crmkit.model import Company, Person

    probes: list[object] = []
    for make in (
        lambda: Person(
            id="probe1",
            first_name="Jürgen-Peter",
            last_name="Müller-Lüdenscheidt ÆØÅ Straße ǅ İ ﬁ ①",
            emails=["Max.Mustermann@Bäckerei-Groß.DE"],
            phones=["+49 170 1234567"],
        ),
        lambda: Company(
            id="probe2",
            name="Bäckerei Groß GmbH & Co. KG (Zweigstelle 3) Œuvre Þor Łódź",
            emails=["info@muster.de"],
            phones=["+49 711 781937-0"],
        ),
    ):
        try:
            item = prepare_contact(make())
            probes.append([item.emails, item.phones, item.words, item.stems])
        except ValidationError as exc:
            probes.append(f"invalid: {exc}")
    probes.append(text_words("Rückruf: Angebot über 1.000 € für Straße & Co."))
    text = json.dumps([KEYS_FORMAT, probes], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_fingerprint(conn: Conn) -> str | None:
    """The fingerprint the search keys were built with, if any."""
    row = conn.execute(
        f"SELECT value FROM {META_TABLE} WHERE key = %s", (FINGERPRINT_KEY,)
    ).fetchone()
    return None if row is None else str(row[0])


def rebuild_keys(conn: Conn, path: str, *, force: bool = False) -> None:
    """Refill every search-key table if the fingerprint changed (or *force*).

    The caller owns the transaction and has set the ``search_path``.
    """
    current = fingerprint()
    if stored_fingerprint(conn) == current and not force:
        return
    for table in ("contact_emails", "contact_phones", "contact_words", "contact_stems"):
        conn.execute(f"DELETE FROM {table}")
    with conn.cursor(name="crmkit_rebuild") as rows, conn.cursor() as cur:
        rows.execute("SELECT id, data FROM contacts")
        for contact_id, data in rows:
            contact = records.load(Contact, path, f"contact {contact_id}", data)
            _write_keys(cur, *_lookup_rows(contact_id, prepare_contact(contact)))
    records.rebuild_words(conn, path)
    conn.execute(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (FINGERPRINT_KEY, current),
    )


def open_postgres_store(url: str, options: Mapping[str, Any]) -> PostgresStore:
    """The factory registered for ``postgresql://`` and ``postgres://``.

    See :func:`parse_url` for the URL and the options ``schema``,
    ``pool_min_size``, ``pool_max_size`` and ``pool_timeout``; other keyword
    options are ignored, as by the memory store.
    """
    target = parse_url(url, options)
    return PostgresStore(
        target.conninfo,
        schema=target.schema,
        pool_min_size=target.pool_min_size,
        pool_max_size=target.pool_max_size,
        pool_timeout=target.pool_timeout,
        url=target.safe_url,
    )


__all__ = [
    "DEFAULT_POOL_MAX",
    "DEFAULT_POOL_MIN",
    "DEFAULT_POOL_TIMEOUT",
    "DISTRIBUTION",
    "FINGERPRINT_KEY",
    "KEYS_FORMAT",
    "OPTIONS",
    "READ_CHUNK",
    "SCHEMES",
    "PostgresStore",
    "Target",
    "fingerprint",
    "like_prefix",
    "open_postgres_store",
    "parse_url",
    "rebuild_keys",
    "scope_sql",
    "stored_fingerprint",
]
