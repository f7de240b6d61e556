"""A stateful Microsoft Graph fake on 127.0.0.1 for loopback tests.

:class:`FakeGraph` serves the slice of Graph v1.0 personal contacts that
crmkit-m365 uses (see ``shared/reference/m365-graph.md`` §5): contact
folders, contacts CRUD with change keys and etags, folder delta with paging
and tokens, ``$batch``, the two ``$filter`` forms (e-mail address and
single-value extended property) and ``$expand`` of extended properties.
It runs a stdlib :class:`http.server.ThreadingHTTPServer` on
``127.0.0.1:0``; every link it emits is absolute with its own host and port.

Fault injection through the control API: :meth:`FakeGraph.throttle` (429 or
503, with or without ``Retry-After``, also per item inside a batch),
``max_concurrency`` (429 ``ApplicationThrottled`` beyond it),
:meth:`FakeGraph.invalidate_delta_tokens` (410 ``SyncStateNotFound``, the
400 variant, or mid-round), ``replay`` and ``partial_updates`` on delta
pages, :meth:`FakeGraph.expire_tokens` (401), ``latency`` per request, and
the user's own edits (:meth:`external_edit`, :meth:`external_create`,
:meth:`external_delete`, :meth:`move`).  :attr:`FakeGraph.requests` logs
every request (batch items too) for assertions; :meth:`FakeGraph.wait_idle`
waits until no request is being served (a killed client's last requests
land after their latency).

With ``tls=`` (a ``trustme`` CA) it serves HTTPS and the two Entra ID
endpoints MSAL uses for client credentials.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import attrs

#: Properties of a contact the fake keeps (the §1.2 shape).
CONTACT_KEYS: Final = (
    "displayName",
    "givenName",
    "middleName",
    "surname",
    "title",
    "jobTitle",
    "companyName",
    "department",
    "emailAddresses",
    "businessPhones",
    "homePhones",
    "mobilePhone",
    "businessAddress",
    "homeAddress",
    "otherAddress",
    "personalNotes",
    "birthday",
    "spouseName",
    "categories",
    "nickName",
    "officeLocation",
    "profession",
)
_NOT_FOUND: Final = "The specified object was not found in the store."
_BAD_SECRET: Final = "AADSTS7000215: Invalid client secret provided."
_FOLDER_EXISTS: Final = "A folder with the specified name already exists."


@attrs.define
class Request:
    """One request the fake received (``batch`` true for an item of a ``$batch``)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0
    batch: bool = False


@attrs.define
class _Throttle:
    count: int
    retry_after: int | None
    where: re.Pattern[str]
    status: int


@attrs.define
class _Round:
    folder: str
    ids: list[str]
    removed: list[str]
    fields: dict[str, set[str] | None]
    offset: int
    seq: int
    generation: int
    select: list[str] | None
    partial: bool


class _Error(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


class FakeGraph:
    """The fake (see the module docstring).  Use as a context manager or call
    :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        *,
        page_size: int = 10,
        max_concurrency: int = 4,
        max_emails: int = 3,
        strict_emails: bool = False,
        latency: float = 0.0,
        tls: Any = None,
        client_secret: str = "geheim",
        token_lifetime: int = 3599,
    ) -> None:
        self.page_size = page_size
        self.max_concurrency = max_concurrency
        self.max_emails = max_emails
        self.strict_emails = strict_emails
        self.latency = latency
        self.replay = False
        self.partial_updates = False
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self.tokens_issued = 0
        self._tls = tls
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._keys = itertools.count(1)
        self._clock = 1_764_000_000
        self._tokens: set[str] = set()
        self._users: dict[str, dict[str, Any]] = {}
        self._folders: dict[str, dict[str, Any]] = {}  # fid -> folder (with "_user")
        self._contacts: dict[str, dict[str, Any]] = {}  # cid -> contact (with "_user")
        self._extended: dict[str, dict[str, str]] = {}  # cid -> {prop id: value}
        self._log: dict[str, list[tuple[int, str, str, set[str] | None]]] = {}
        self._seq = itertools.count(1)
        self._generation: dict[str, int] = {}
        self._rounds: dict[str, _Round] = {}
        self._dead_rounds: set[str] = set()
        self._stale_mode: dict[str, str] = {}
        self._throttles: list[_Throttle] = []
        self._in_flight: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._before: list[tuple[re.Pattern[str], Any]] = []

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeGraph:
        """Serve on 127.0.0.1 with a free port."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's
                # algorithm and delayed ACKs add ~40 ms to every response.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                fake._handle(self)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815 (http.server names)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self._tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` (``https`` in TLS mode)."""
        assert self._server is not None, "not started"
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The Graph base URL clients use: ``<origin>/v1.0``."""
        return f"{self.origin}/v1.0"

    # -- control API ----------------------------------------------------------------------
    def add_mailbox(self, upn: str) -> str:
        """A mailbox (user) known by its UPN; returns its id."""
        with self._lock:
            uid = f"user-{len(self._users) + 1}"
            self._users[upn.lower()] = {"id": uid, "upn": upn}
            self._users[uid] = self._users[upn.lower()]
            return uid

    def issue_token(self) -> str:
        """A valid bearer token (what a token provider would return)."""
        with self._lock:
            token = secrets.token_urlsafe(16)
            self._tokens.add(token)
            self.tokens_issued += 1
            return token

    def expire_tokens(self) -> None:
        """Every bearer token issued so far is expired (401 ``InvalidAuthenticationToken``)."""
        with self._lock:
            self._tokens.clear()

    def throttle(
        self,
        n: int,
        *,
        retry_after: int | None = 1,
        where: str = ".*",
        status: int = 429,
    ) -> None:
        """The next *n* requests whose ``METHOD path`` matches *where* get *status*."""
        with self._lock:
            self._throttles.append(_Throttle(n, retry_after, re.compile(where), status))

    def invalidate_delta_tokens(self, folder: str | None = None, *, mode: str = "410") -> None:
        """Older delta and next links of *folder* (all folders by default) die.

        ``mode="410"``: 410 Gone + ``Location``; ``"400"``: 400 with code
        ``SyncStateNotFound``; ``"mid_round"``: only next links of rounds in
        progress die (410), delta links stay valid.
        """
        with self._lock:
            folders = [folder] if folder else list(self._folders)
            for fid in folders:
                if mode == "mid_round":
                    for key, rnd in self._rounds.items():
                        if rnd.folder == fid:
                            self._dead_rounds.add(key)
                    continue
                self._generation[fid] = self._generation.get(fid, 0) + 1
                self._stale_mode[fid] = mode
                for key, rnd in self._rounds.items():
                    if rnd.folder == fid:
                        self._dead_rounds.add(key)

    def before_next(self, where: str, action: Any) -> None:
        """Run *action()* just before the next request matching ``METHOD path`` (once):
        a user's edit landing between a client's read and its write."""
        with self._lock:
            self._before.append((re.compile(where), action))

    def folder_id(self, upn: str, name: str) -> str | None:
        """The id of a mailbox's folder by display name."""
        user = self._user(upn)
        for fid, folder in self._folders.items():
            if folder["_user"] == user["id"] and folder["displayName"] == name:
                return fid
        return None

    def create_folder(self, upn: str, name: str) -> str:
        """Create a contact folder (as a user would)."""
        with self._lock:
            return str(self._create_folder(self._user(upn), {"displayName": name})["id"])

    def contacts(self, upn: str, folder: str | None = None) -> list[dict[str, Any]]:
        """The contacts of a mailbox (of one folder id), as Graph returns them."""
        user = self._user(upn)
        with self._lock:
            return [
                self._public(c)
                for c in self._contacts.values()
                if c["_user"] == user["id"] and (folder is None or c["parentFolderId"] == folder)
            ]

    def contact(self, cid: str) -> dict[str, Any]:
        """One contact, as Graph returns it."""
        with self._lock:
            return self._public(self._contacts[cid])

    def extended(self, cid: str) -> dict[str, str]:
        """The single-value extended properties of a contact."""
        with self._lock:
            return dict(self._extended.get(cid, {}))

    def external_create(self, upn: str, folder: str, **fields: Any) -> str:
        """A user creates a contact in Outlook; returns its id."""
        with self._lock:
            return str(self._create_contact(self._user(upn), folder, fields)["id"])

    def external_edit(self, cid: str, **fields: Any) -> None:
        """A user edits a contact in Outlook."""
        with self._lock:
            self._update_contact(self._contacts[cid], fields)

    def external_delete(self, cid: str) -> None:
        """A user deletes a contact in Outlook."""
        with self._lock:
            self._delete_contact(self._contacts[cid])

    def move(self, cid: str, folder: str) -> str:
        """A user moves a contact to another folder; the id stays (immutable ids)."""
        with self._lock:
            contact = self._contacts[cid]
            old = contact["parentFolderId"]
            self._append(old, cid, "delete", None)
            contact["parentFolderId"] = folder
            self._touch(contact)
            self._append(folder, cid, "upsert", None)
            return cid

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being served (``False`` if *timeout* seconds pass first).

        After a client was killed, the requests it had sent are still served
        (and change the mailbox) once their ``latency`` is over.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                busy = any(self._in_flight.values())
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def count(self, method: str | None = None, pattern: str = ".*") -> int:
        """How many logged requests match a method and a path pattern."""
        rx = re.compile(pattern)
        return sum(
            1 for r in self.requests if (method is None or r.method == method) and rx.search(r.path)
        )

    # -- state helpers --------------------------------------------------------------------
    def _user(self, key: str) -> dict[str, Any]:
        found = self._users.get(key.lower()) or self._users.get(key)
        if found is None:
            raise _Error(404, "ErrorInvalidUser", f"The requested user '{key}' is invalid.")
        return found

    def _new_id(self, prefix: str) -> str:
        raw = f"{prefix}-{next(self._ids):06d}-{secrets.token_hex(4)}".encode()
        return "AAMk" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _stamp(self) -> str:
        self._clock += 1
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock))

    def _touch(self, contact: dict[str, Any]) -> None:
        key = f"EQAAAB{next(self._keys):08d}"
        contact["changeKey"] = key
        contact["@odata.etag"] = f'W/"{key}"'
        contact["lastModifiedDateTime"] = self._stamp()

    def _append(self, folder: str, cid: str, kind: str, fields: set[str] | None) -> None:
        self._log.setdefault(folder, []).append((next(self._seq), cid, kind, fields))

    def _create_folder(self, user: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        name = body.get("displayName")
        if not isinstance(name, str) or not name:
            raise _Error(400, "ErrorInvalidRequest", "displayName is required")
        for folder in self._folders.values():
            if folder["_user"] == user["id"] and folder["displayName"] == name:
                raise _Error(409, "ErrorFolderExists", _FOLDER_EXISTS)
        fid = self._new_id("F")
        folder = {
            "id": fid,
            "displayName": name,
            "parentFolderId": body.get("parentFolderId") or "contacts-root",
            "_user": user["id"],
        }
        self._folders[fid] = folder
        return folder

    def _check_emails(self, fields: dict[str, Any]) -> None:
        emails = fields.get("emailAddresses")
        if isinstance(emails, list) and len(emails) > self.max_emails:
            if self.strict_emails:
                raise _Error(400, "ErrorInvalidProperty", "At most 3 e-mail addresses")
            fields["emailAddresses"] = emails[: self.max_emails]

    def _create_contact(
        self, user: dict[str, Any], folder: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        if folder not in self._folders:
            raise _Error(404, "ErrorItemNotFound", _NOT_FOUND)
        fields = {k: v for k, v in body.items() if k in CONTACT_KEYS}
        self._check_emails(fields)
        cid = self._new_id("C")
        contact: dict[str, Any] = {
            "id": cid,
            "createdDateTime": self._stamp(),
            "parentFolderId": folder,
            "_user": user["id"],
            "categories": [],
            "emailAddresses": [],
            "businessPhones": [],
            "homePhones": [],
            "businessAddress": {},
            "homeAddress": {},
            "otherAddress": {},
        }
        contact.update(fields)
        if not contact.get("displayName"):
            contact["displayName"] = " ".join(
                p for p in (contact.get("givenName"), contact.get("surname")) if p
            )
        self._touch(contact)
        self._contacts[cid] = contact
        for prop in body.get("singleValueExtendedProperties") or []:
            self._extended.setdefault(cid, {})[prop["id"]] = prop["value"]
        self._append(folder, cid, "upsert", None)
        return contact

    def _update_contact(self, contact: dict[str, Any], body: Mapping[str, Any]) -> None:
        fields = {k: v for k, v in body.items() if k in CONTACT_KEYS}
        self._check_emails(fields)
        changed = {k for k, v in fields.items() if contact.get(k) != v}
        for key, value in fields.items():
            if value is None:
                contact.pop(key, None)
            else:
                contact[key] = value
        for prop in body.get("singleValueExtendedProperties") or []:
            self._extended.setdefault(contact["id"], {})[prop["id"]] = prop["value"]
        self._touch(contact)
        self._append(contact["parentFolderId"], contact["id"], "upsert", changed)

    def _delete_contact(self, contact: dict[str, Any]) -> None:
        del self._contacts[contact["id"]]
        self._extended.pop(contact["id"], None)
        self._append(contact["parentFolderId"], contact["id"], "delete", None)

    @staticmethod
    def _public(contact: Mapping[str, Any], select: list[str] | None = None) -> dict[str, Any]:
        out = {k: v for k, v in contact.items() if not k.startswith("_")}
        if select:
            keep = {"id", "@odata.etag", *select}
            out = {k: v for k, v in out.items() if k in keep}
        return out

    # -- HTTP -----------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        split = urlsplit(h.path)
        path = unquote(split.path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in h.headers.items()}
        status, out_headers, body = self._route_top(h.command, path, query, headers, raw)
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        for key, value in out_headers.items():
            h.send_header(key, value)
        if data:
            h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if data:
            h.wfile.write(data)

    def _route_top(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if not path.startswith("/v1.0/"):
            return self._oauth(method, path, raw)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {}, _error_body("BadRequest", "Invalid JSON")
        entry = Request(method, path, query, headers, body)
        with self._lock:
            self.requests.append(entry)
        mailbox = self._mailbox_of(path, body)
        with self._lock:
            flying = self._in_flight.get(mailbox, 0) + 1
            self._in_flight[mailbox] = flying
            self.max_in_flight = max(self.max_in_flight, flying)
        try:
            if self.latency:
                time.sleep(self.latency)
            if flying > self.max_concurrency:
                entry.status = 429
                return (
                    429,
                    {},
                    _error_body(
                        "ApplicationThrottled", "Application is over its MailboxConcurrency limit."
                    ),
                )
            token = headers.get("authorization", "")
            with self._lock:
                valid = token.startswith("Bearer ") and token[7:] in self._tokens
            if not valid:
                entry.status = 401
                return (
                    401,
                    {},
                    _error_body(
                        "InvalidAuthenticationToken",
                        "Access token has expired or is not yet valid.",
                    ),
                )
            status, out_headers, out = self._route(method, path[5:], query, headers, body, False)
            entry.status = status
            return status, out_headers, out
        finally:
            with self._lock:
                self._in_flight[mailbox] -= 1

    def _mailbox_of(self, path: str, body: Any) -> str:
        if path.endswith("/$batch") and isinstance(body, dict):
            for item in body.get("requests") or []:
                url = str(item.get("url", ""))
                m = re.match(r"/users/([^/?]+)", url)
                if m:
                    return m.group(1).lower()
        m = re.match(r"/v1\.0/users/([^/?]+)", path)
        return m.group(1).lower() if m else ""

    def _throttled(
        self, method: str, path: str, query: Mapping[str, str] | None = None
    ) -> _Throttle | None:
        with self._lock:
            target = f"{method} {path}?{urlencode(query or {})}"
            for rule_before in list(self._before):
                if rule_before[0].search(target):
                    self._before.remove(rule_before)
                    rule_before[1]()
            for rule in self._throttles:
                if rule.count > 0 and rule.where.search(f"{method} {path}"):
                    rule.count -= 1
                    return rule
        return None

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        in_batch: bool,
    ) -> tuple[int, dict[str, str], Any]:
        rule = self._throttled(method, path, query)
        if rule is not None:
            hdrs = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
            code = "TooManyRequests" if rule.status == 429 else "ServiceUnavailable"
            return rule.status, hdrs, _error_body(code, "Please retry again later.")
        try:
            with self._lock:
                return self._dispatch(method, path, query, headers, body, in_batch)
        except _Error as exc:
            return exc.status, exc.headers, _error_body(exc.code, exc.message)

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        in_batch: bool,
    ) -> tuple[int, dict[str, str], Any]:
        if path == "/$batch" and method == "POST" and not in_batch:
            return self._batch(body, headers)
        m = re.fullmatch(r"/users/([^/]+)/contactFolders", path)
        if m:
            user = self._user(m.group(1))
            if method == "GET":
                folders = [
                    self._public(f) for f in self._folders.values() if f["_user"] == user["id"]
                ]
                return 200, {}, {"value": folders}
            if method == "POST":
                return 201, {}, self._public(self._create_folder(user, body or {}))
        m = re.fullmatch(r"/users/([^/]+)/contactFolders/([^/]+)/contacts/delta", path)
        if m and method == "GET":
            return self._delta(self._user(m.group(1)), m.group(2), query, headers)
        m = re.fullmatch(r"/users/([^/]+)/contactFolders/([^/]+)/contacts", path)
        if m:
            user = self._user(m.group(1))
            if method == "POST":
                return 201, {}, self._public(self._create_contact(user, m.group(2), body or {}))
            if method == "GET":
                return self._list(user, m.group(2), query)
        m = re.fullmatch(r"/users/([^/]+)/contacts", path)
        if m and method == "GET":
            return self._list(self._user(m.group(1)), None, query)
        m = re.fullmatch(r"/users/([^/]+)(?:/contactFolders/[^/]+)?/contacts/([^/]+)", path)
        if m:
            user = self._user(m.group(1))
            contact = self._contacts.get(m.group(2))
            if contact is None or contact["_user"] != user["id"]:
                raise _Error(404, "ErrorItemNotFound", _NOT_FOUND)
            match = headers.get("if-match")
            if method in ("PATCH", "DELETE") and match and match != contact["@odata.etag"]:
                raise _Error(
                    412,
                    "ErrorIrresolvableConflict",
                    "The send or update operation could not be performed because the "
                    "change key passed in the request does not match the current "
                    "change key for the item.",
                )
            if method == "GET":
                return 200, {}, self._with_expand(contact, query)
            if method == "PATCH":
                self._update_contact(contact, body or {})
                return 200, {}, self._public(contact)
            if method == "DELETE":
                self._delete_contact(contact)
                return 204, {}, None
        raise _Error(400, "BadRequest", f"Unsupported request {method} {path}")

    def _with_expand(self, contact: Mapping[str, Any], query: Mapping[str, str]) -> Any:
        out = self._public(contact, _select(query))
        expand = query.get("$expand", "")
        if expand.startswith("singleValueExtendedProperties"):
            props = self._extended.get(contact["id"], {})
            m = re.search(r"\$filter=id eq '([^']+)'", expand)
            wanted = {m.group(1)} if m else set(props)
            out["singleValueExtendedProperties"] = [
                {"id": k, "value": v} for k, v in props.items() if k in wanted
            ]
        return out

    def _list(
        self, user: dict[str, Any], folder: str | None, query: Mapping[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        members = [
            c
            for c in self._contacts.values()
            if c["_user"] == user["id"] and (folder is None or c["parentFolderId"] == folder)
        ]
        flt = query.get("$filter")
        if flt:
            m = re.fullmatch(r"emailAddresses/any\(a:a/address eq '([^']*)'\)", flt)
            n = re.fullmatch(
                r"singleValueExtendedProperties/Any\(ep: ep/id eq '([^']+)' and "
                r"ep/value eq '([^']*)'\)",
                flt,
            )
            if m:
                members = [
                    c
                    for c in members
                    if any(
                        e.get("address", "").lower() == m.group(1).lower()
                        for e in c.get("emailAddresses", [])
                    )
                ]
            elif n:
                members = [
                    c
                    for c in members
                    if (self._extended.get(c["id"], {}).get(n.group(1)) or "").lower()
                    == n.group(2).lower()
                ]
            else:
                raise _Error(400, "ErrorInvalidUrlQueryFilter", "The filter is not supported.")
        top = int(query.get("$top") or 10)
        skip = int(query.get("$skip") or 0)
        page = members[skip : skip + top]
        out: dict[str, Any] = {"value": [self._with_expand(c, query) for c in page]}
        if skip + top < len(members):
            rest = {k: v for k, v in query.items() if k != "$skip"}
            rest["$skip"] = str(skip + top)
            base = f"{self.base_url}/users/{user['id']}/"
            base += f"contactFolders/{folder}/contacts" if folder else "contacts"
            out["@odata.nextLink"] = f"{base}?{urlencode(rest, quote_via=quote)}"
        return 200, {}, out

    # -- delta ----------------------------------------------------------------------------
    def _delta_base(self, user: dict[str, Any], folder: str) -> str:
        return f"{self.base_url}/users/{user['id']}/contactFolders/{folder}/contacts/delta"

    def _delta(
        self,
        user: dict[str, Any],
        folder: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> tuple[int, dict[str, str], Any]:
        if folder not in self._folders:
            raise _Error(404, "ErrorItemNotFound", _NOT_FOUND)
        base = self._delta_base(user, folder)
        generation = self._generation.get(folder, 0)
        size = _page_size(headers, self.page_size)
        log = self._log.get(folder, [])
        now_seq = log[-1][0] if log else 0
        if "$skiptoken" in query:
            key = query["$skiptoken"]
            rnd = self._rounds.get(key)
            if rnd is None or key in self._dead_rounds:
                return self._stale(folder, base, "410")
            return self._page(user, base, key, rnd, size)
        token = query.get("$deltatoken")
        if token:
            gen, _, seq_text = token.partition(".")
            if not gen.isdigit() or int(gen) != generation or not seq_text.isdigit():
                return self._stale(folder, base, self._stale_mode.get(folder, "410"))
            seen = int(seq_text)
            fields: dict[str, set[str] | None] = {}
            removed: list[str] = []
            for seq, cid, kind, changed in log:
                if seq <= seen:
                    continue
                if (
                    kind == "delete"
                    or cid not in self._contacts
                    or (self._contacts[cid]["parentFolderId"] != folder)
                ):
                    fields.pop(cid, None)
                    if cid not in removed:
                        removed.append(cid)
                    continue
                if cid in removed:
                    removed.remove(cid)
                if cid in fields and fields[cid] is not None and changed is not None:
                    fields[cid] = fields[cid] | changed  # type: ignore[operator]
                elif cid in fields and fields[cid] is None:
                    pass
                else:
                    fields[cid] = None if changed is None else set(changed)
            rnd = _Round(
                folder=folder,
                ids=list(fields),
                removed=removed,
                fields=fields,
                offset=0,
                seq=now_seq,
                generation=generation,
                select=_select(query),
                partial=self.partial_updates,
            )
        else:
            ids = [c["id"] for c in self._contacts.values() if c["parentFolderId"] == folder]
            rnd = _Round(
                folder=folder,
                ids=ids,
                removed=[],
                fields={},
                offset=0,
                seq=now_seq,
                generation=generation,
                select=_select(query),
                partial=False,
            )
        key = secrets.token_urlsafe(8)
        self._rounds[key] = rnd
        return self._page(user, base, key, rnd, size)

    def _stale(self, folder: str, base: str, mode: str) -> tuple[int, dict[str, str], Any]:
        body = _error_body(
            "SyncStateNotFound",
            "The sync state generation is not found; generation=149;[highest=157]",
        )
        if mode == "400":
            return 400, {}, body
        return 410, {"Location": f"{base}?$deltatoken="}, body

    def _page(
        self, user: dict[str, Any], base: str, key: str, rnd: _Round, size: int
    ) -> tuple[int, dict[str, str], Any]:
        entries: list[tuple[str, str]] = [("item", c) for c in rnd.ids] + [
            ("removed", c) for c in rnd.removed
        ]
        page = entries[rnd.offset : rnd.offset + size]
        value: list[dict[str, Any]] = []
        for kind, cid in page:
            if kind == "removed":
                value.append(
                    {
                        "@odata.type": "#microsoft.graph.contact",
                        "id": cid,
                        "@removed": {"reason": "deleted"},
                    }
                )
                continue
            contact = self._contacts.get(cid)
            if contact is None:
                continue
            item = self._public(contact, rnd.select)
            changed = rnd.fields.get(cid)
            if rnd.partial and changed is not None:
                keep = {"id", "@odata.etag", "changeKey", "lastModifiedDateTime", *changed}
                item = {k: v for k, v in item.items() if k in keep}
            item["@odata.type"] = "#microsoft.graph.contact"
            value.append(item)
        if self.replay and rnd.offset > 0 and entries and entries[0][0] == "item":
            first = self._contacts.get(entries[0][1])
            if first is not None:
                value.append(
                    {**self._public(first, rnd.select), "@odata.type": "#microsoft.graph.contact"}
                )
        rnd.offset += size
        out: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/$metadata#Collection(contact)",
            "value": value,
        }
        if rnd.offset < len(entries):
            out["@odata.nextLink"] = f"{base}?$skiptoken={key}"
        else:
            out["@odata.deltaLink"] = f"{base}?$deltatoken={rnd.generation}.{rnd.seq}"
            self._rounds.pop(key, None)
        return 200, {}, out

    # -- batch ----------------------------------------------------------------------------
    def _batch(self, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        items = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or len(items) > 20:
            raise _Error(400, "BadRequest", "A batch holds 1 to 20 requests.")
        ids = [str(i.get("id")) for i in items]
        if len(set(ids)) != len(ids):
            raise _Error(400, "BadRequest", "Duplicate request id.")
        results: dict[str, dict[str, Any]] = {}
        for item in items:
            rid = str(item["id"])
            failed = [
                d
                for d in item.get("dependsOn") or []
                if results.get(str(d), {}).get("status", 0) >= 400
            ]
            if failed:
                results[rid] = {
                    "id": rid,
                    "status": 424,
                    "headers": {},
                    "body": _error_body("FailedDependency", "dependency failed"),
                }
                continue
            split = urlsplit(str(item.get("url", "")))
            query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            sub_headers = {
                **headers,
                **{k.lower(): v for k, v in (item.get("headers") or {}).items()},
            }
            method = str(item.get("method", "GET")).upper()
            path = unquote(split.path)
            entry = Request(
                method, "/v1.0" + path, query, sub_headers, item.get("body"), batch=True
            )
            self.requests.append(entry)
            status, out_headers, out = self._route(
                method, path, query, sub_headers, item.get("body"), True
            )
            entry.status = status
            result: dict[str, Any] = {"id": rid, "status": status, "headers": out_headers}
            if out is not None:
                result["body"] = out
            results[rid] = result
        shuffled = list(results.values())
        shuffled.reverse()
        return 200, {}, {"responses": shuffled}

    # -- Entra ID (TLS mode only) ---------------------------------------------------------
    def _oauth(self, method: str, path: str, raw: bytes) -> tuple[int, dict[str, str], Any]:
        m = re.fullmatch(r"/([^/]+)/v2\.0/\.well-known/openid-configuration", path)
        if m and method == "GET" and self._tls is not None:
            tenant = m.group(1)
            return (
                200,
                {},
                {
                    "authorization_endpoint": f"{self.origin}/{tenant}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{self.origin}/{tenant}/oauth2/v2.0/token",
                    "issuer": f"{self.origin}/{tenant}/v2.0",
                },
            )
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if m and method == "POST" and self._tls is not None:
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            if form.get("client_secret") != self.client_secret:
                return 401, {}, {"error": "invalid_client", "error_description": _BAD_SECRET}
            return (
                200,
                {},
                {
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime,
                    "ext_expires_in": self.token_lifetime,
                    "access_token": self.issue_token(),
                },
            )
        return 404, {}, _error_body("NotFound", path)


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": "2026-12-01T09:00:00", "request-id": secrets.token_hex(8)},
        }
    }


def _select(query: Mapping[str, str]) -> list[str] | None:
    text = query.get("$select")
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def _page_size(headers: Mapping[str, str], default: int) -> int:
    m = re.search(r"odata\.maxpagesize=(\d+)", headers.get("prefer", ""))
    return int(m.group(1)) if m else default


@contextmanager
def fake_graph(**options: Any) -> Iterator[FakeGraph]:
    """A started :class:`FakeGraph` for a ``with`` block."""
    fake = FakeGraph(**options).start()
    try:
        yield fake
    finally:
        fake.stop()


__all__ = ["CONTACT_KEYS", "FakeGraph", "Request", "fake_graph"]
