"""A thin Microsoft Graph v1.0 client over httpx.

* Every request carries ``Authorization: Bearer <token>`` from an injected
  token provider (``Callable[[], str]``) and ``Prefer: IdType="ImmutableId"``.
  A 401 ``InvalidAuthenticationToken`` asks the provider for a new token
  once (calling its ``invalidate()`` first if it has one) and retries.
* 429 and 503 (also 500, 502, 504) are retried at most ``max_retries``
  times, waiting ``Retry-After`` seconds when given, else an exponential
  backoff; the wait goes through an injected ``sleep``.
* At most ``max_in_flight`` (4) requests per mailbox are in flight at once:
  :meth:`GraphClient.batch` sends its chunks of at most 20 from a small
  thread pool guarded by a semaphore.
* Errors become :class:`GraphError` with the HTTP status and the Graph error
  code; neither the token nor the secret ever appears in a message or log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import httpx

from crmkit.errors import CrmkitError

log = logging.getLogger("crmkit_m365")

GRAPH_URL: Final = "https://graph.microsoft.com/v1.0"
#: Sent on every request: ids survive moves between folders.
PREFER_IMMUTABLE: Final = 'IdType="ImmutableId"'
#: Statuses retried with Retry-After or backoff.
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
#: Error codes that mean "the delta token is dead: start a full round".
RESYNC_CODES: Final = frozenset({"syncstatenotfound", "resyncrequired", "fullsyncrequired"})
BATCH_LIMIT: Final = 20

TokenProvider = Callable[[], str]


class GraphError(CrmkitError):
    """A Graph request failed (status, Graph error code, message; never a secret)."""

    def __init__(self, status: int, code: str, message: str, *, method: str = "", url: str = ""):
        self.status, self.graph_code, self.graph_message = status, code, message
        self.method, self.url = method, _shown(url)
        super().__init__(
            code="m365.graph",
            status=status,
            graph_code=code,
            detail=message[:300],
            request=f"{method} {self.url}".strip(),
        )

    @property
    def needs_resync(self) -> bool:
        """410, or a 4xx whose code says the sync state is gone."""
        return self.status == 410 or (
            400 <= self.status < 500 and self.graph_code.lower() in RESYNC_CODES
        )


def _shown(url: str) -> str:
    """*url* without its query (tokens and filters stay out of messages)."""
    return url.split("?", 1)[0]


def error_of(status: int, body: Any) -> tuple[str, str]:
    """The Graph error code and message in a response body (``innerError`` or ``innererror``)."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            return str(err.get("code") or ""), str(err.get("message") or "")
        if isinstance(err, str):  # OAuth shape
            return err, str(body.get("error_description") or "")
    return "", ""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (case-insensitive), if present and numeric."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


class GraphClient:
    """Graph v1.0 requests for one mailbox (see the module docstring).

    :param token_provider: returns a bearer token
        (e.g. :class:`crmkit_m365.auth.MsalTokenProvider`).
    :param base_url: ``https://graph.microsoft.com/v1.0`` or a fake's.
    :param max_retries: retries of a throttled or failed request.
    :param max_in_flight: requests in flight at once (Graph allows 4 per mailbox).
    :param sleep: how to wait (tests pass one that records).
    :param http: an ``httpx.Client`` to use (TLS settings, timeouts).
    """

    def __init__(
        self,
        token_provider: TokenProvider,
        *,
        base_url: str = GRAPH_URL,
        max_retries: int = 5,
        max_in_flight: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.token_provider = token_provider
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.max_in_flight = max_in_flight
        self.backoff = backoff
        self.sleep = sleep
        self.http = http or httpx.Client(timeout=timeout, trust_env=False)
        self._token: str | None = None
        self._token_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self.stats = {"requests": 0, "retries": 0, "refreshes": 0, "batches": 0}
        self._stats_lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    def _bearer(self, refresh: bool = False) -> str:
        with self._token_lock:
            if refresh or self._token is None:
                if refresh:
                    invalidate = getattr(self.token_provider, "invalidate", None)
                    if callable(invalidate):
                        invalidate()
                    self._count("refreshes")
                self._token = self.token_provider()
            return self._token

    def url(self, path: str) -> str:
        """An absolute URL for a path relative to the base (absolute URLs stay)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Sequence[int] = (),
    ) -> httpx.Response:
        """Send one request with retries; a status >= 400 not in *ok* raises :class:`GraphError`."""
        url = self.url(path)
        refreshed = False
        attempt = 0
        while True:
            hdrs = {"Prefer": PREFER_IMMUTABLE, **(headers or {})}
            if "Prefer" in (headers or {}):
                hdrs["Prefer"] = f"{PREFER_IMMUTABLE}, {headers['Prefer']}"  # type: ignore[index]
            hdrs["Authorization"] = f"Bearer {self._bearer()}"
            with self._slots:
                self._count("requests")
                response = self.http.request(method, url, json=json, params=params, headers=hdrs)
            status = response.status_code
            if status < 400 or status in ok:
                return response
            body = _json(response)
            code, message = error_of(status, body)
            if status == 401 and not refreshed:
                refreshed = True
                self._bearer(refresh=True)
                continue
            if status in RETRY_STATUSES and attempt < self.max_retries:
                attempt += 1
                self._count("retries")
                self.sleep(self.wait(attempt, response.headers))
                continue
            log.debug("graph %s %s -> %s %s", method, _shown(url), status, code)
            raise GraphError(status, code, message, method=method, url=url)

    def wait(self, attempt: int, headers: Mapping[str, str]) -> float:
        """Seconds to wait before retry *attempt*: ``Retry-After``, else ``backoff * 2**(n-1)``."""
        given = retry_after(headers)
        return given if given is not None else self.backoff * 2 ** (attempt - 1)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET and decode JSON."""
        return _json(self.request("GET", path, **kwargs))

    def batch(self, requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Run *requests* (``method``, ``url`` relative, optional ``headers``/``body``)
        through ``$batch`` in chunks of at most 20, at most ``max_in_flight`` at once.

        Returns one ``{"status", "headers", "body"}`` per request, in the
        order given.  An item answered 429/503 inside a batch is retried
        alone (with its ``Retry-After``), a bounded number of times.
        """
        items = [dict(r) for r in requests]
        results: list[dict[str, Any] | None] = [None] * len(items)
        chunks = [
            list(range(i, min(i + BATCH_LIMIT, len(items))))
            for i in range(0, len(items), BATCH_LIMIT)
        ]

        def run(chunk: list[int]) -> None:
            pending = chunk
            attempt = 0
            while pending:
                body = {"requests": [_batch_item(str(n), items[n]) for n in pending]}
                self._count("batches")
                answer = _json(self.request("POST", "$batch", json=body))
                by_id = {str(r.get("id")): r for r in (answer or {}).get("responses", [])}
                again: list[int] = []
                waits: list[float] = []
                for n in pending:
                    resp = by_id.get(str(n)) or {"status": 500, "headers": {}, "body": None}
                    status = int(resp.get("status", 500))
                    hdrs = resp.get("headers") or {}
                    if status in RETRY_STATUSES and attempt < self.max_retries:
                        again.append(n)
                        waits.append(self.wait(attempt + 1, hdrs))
                        continue
                    results[n] = {"status": status, "headers": hdrs, "body": resp.get("body")}
                if again:
                    attempt += 1
                    self._count("retries")
                    self.sleep(max(waits))
                pending = again

        if len(chunks) <= 1:
            for chunk in chunks:
                run(chunk)
        else:
            with ThreadPoolExecutor(max_workers=self.max_in_flight) as pool:
                for future in [pool.submit(run, c) for c in chunks]:
                    future.result()
        return [
            r if r is not None else {"status": 500, "headers": {}, "body": None} for r in results
        ]

    def pages(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_pages: int = 100_000,
    ) -> list[Any]:
        """Every ``value`` item of a list, following ``@odata.nextLink`` verbatim."""
        out: list[Any] = []
        page = self.get_json(path, params=params, headers=headers)
        for _ in range(max_pages):
            out.extend(page.get("value", []))
            link = page.get("@odata.nextLink")
            if not link:
                return out
            page = self.get_json(link, headers=headers)
        raise GraphError(0, "TooManyPages", f"more than {max_pages} pages", url=path)


def _batch_item(rid: str, item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "method": item["method"], "url": item["url"]}
    headers = dict(item.get("headers") or {})
    if item.get("body") is not None:
        headers.setdefault("Content-Type", "application/json")
        out["body"] = item["body"]
    if headers:
        out["headers"] = headers
    return out


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


__all__ = [
    "BATCH_LIMIT",
    "GRAPH_URL",
    "PREFER_IMMUTABLE",
    "RESYNC_CODES",
    "GraphClient",
    "GraphError",
    "TokenProvider",
    "error_of",
    "retry_after",
]
