"""One mailbox's CRM contact folder as a :class:`crmkit.sync_engine.RemoteBook`.

* The folder (``CRM`` by default) is found by display name among the
  mailbox's contact folders and created if missing (a 409 from a parallel
  creation finds it again).
* :meth:`GraphBook.changes` reads ``…/contactFolders/{fid}/contacts/delta``
  page by page (``Prefer: odata.maxpagesize``), following next links
  verbatim, and returns the delta link to store.  A 410, or a 4xx whose code
  is ``syncStateNotFound``/``resyncRequired``/``fullSyncRequired``, on the
  stored link or on a next link mid-round, restarts from the base URL: a
  full round (``full=True``), and the engine marks and sweeps.
* :meth:`GraphBook.apply` sends creates, updates and deletes through
  ``$batch`` (at most 20 per batch, at most 4 batches in flight), with
  ``If-Match`` on PATCH and DELETE; 412 is reported as ``conflict``, 404 as
  ``gone``.  Every create and the first update of a linked item store the
  CRM contact number in a single-value extended property, so links can be
  rebuilt after local state was lost (:meth:`GraphBook.crm_number`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from crmkit.sync_engine import RemoteChanges, RemoteItem, RemoteOp, RemoteResult, Removed
from crmkit_m365.graph import GraphClient, GraphError
from crmkit_m365.mapping import SELECT, is_partial, to_graph, to_values

PROVIDER: Final = "m365"
#: The single-value extended property holding the CRM contact number.
NUMBER_PROPERTY: Final = "String {6f1c2b1e-5a0d-4c7e-9d3b-2c4e8a9f1d70} Name crmkitNumber"
#: Delta page size asked for.
PAGE_SIZE: Final = 50
#: A bound on the pages of one delta round (and on restarts).
MAX_PAGES: Final = 100_000


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _change_key(item: Mapping[str, Any]) -> str | None:
    key = item.get("changeKey")
    if isinstance(key, str) and key:
        return key
    etag = item.get("@odata.etag")
    if isinstance(etag, str) and etag.startswith('W/"'):
        return etag[3:-1]
    return None


def remote_item(item: Mapping[str, Any]) -> RemoteItem:
    """A Graph contact (full or partial) as a :class:`~crmkit.sync_engine.RemoteItem`."""
    return RemoteItem(
        remote_id=str(item["id"]),
        change_key=_change_key(item),
        values=to_values(item),
        modified=_parse_time(item.get("lastModifiedDateTime")),
        partial=is_partial(item),
    )


class GraphBook:
    """The CRM folder of one mailbox (see the module docstring).

    :param client: the Graph client (its token provider, retries, limits).
    :param mailbox: the user's id or UPN.
    :param folder_name: the dedicated contact folder (created if missing).
    """

    provider: str = PROVIDER

    def __init__(
        self,
        client: GraphClient,
        mailbox: str,
        folder_name: str = "CRM",
        *,
        page_size: int = PAGE_SIZE,
        create: bool = True,
    ) -> None:
        self.client = client
        self.mailbox = mailbox
        self.folder_name = folder_name
        self.page_size = page_size
        self._user = f"users/{quote(mailbox, safe='@')}"
        #: The folder id; ``""`` when it does not exist and *create* is false (a dry run).
        self.folder = self._ensure_folder() if create else (self._find_folder() or "")
        self.restarts = 0

    # -- folder ---------------------------------------------------------------------------
    def _find_folder(self) -> str | None:
        for folder in self.client.pages(f"{self._user}/contactFolders"):
            if folder.get("displayName") == self.folder_name:
                return str(folder["id"])
        return None

    def _ensure_folder(self) -> str:
        found = self._find_folder()
        if found is not None:
            return found
        try:
            made = self.client.request(
                "POST", f"{self._user}/contactFolders", json={"displayName": self.folder_name}
            ).json()
            return str(made["id"])
        except GraphError as exc:
            if exc.status != 409:
                raise
        again = self._find_folder()
        if again is None:  # pragma: no cover - 409 without the folder
            raise GraphError(409, "ErrorFolderExists", "the folder exists but cannot be found")
        return again

    # -- reading --------------------------------------------------------------------------
    def _delta_url(self) -> str:
        return self.client.url(
            f"{self._user}/contactFolders/{self.folder}/contacts/delta?$select={','.join(SELECT)}"
        )

    def changes(self, token: str | None) -> RemoteChanges:
        """See :meth:`crmkit.sync_engine.RemoteBook.changes`."""
        if not self.folder:
            return RemoteChanges(full=True)
        full = token is None
        url = token or self._delta_url()
        events: list[RemoteItem | Removed] = []
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        restarted = False
        for _ in range(MAX_PAGES):
            try:
                page = self.client.get_json(url, headers=headers)
            except GraphError as exc:
                if exc.needs_resync and not restarted:
                    restarted, full, events = True, True, []
                    self.restarts += 1
                    url = self._delta_url()
                    continue
                raise
            for item in page.get("value") or []:
                if "@removed" in item:
                    events.append(Removed(str(item["id"])))
                else:
                    events.append(remote_item(item))
            link = page.get("@odata.nextLink")
            if link:
                url = str(link)
                continue
            return RemoteChanges(
                events=tuple(events), token=page.get("@odata.deltaLink"), full=full
            )
        raise GraphError(0, "TooManyPages", f"more than {MAX_PAGES} delta pages", url=url)

    def get(self, remote_id: str) -> RemoteItem | None:
        """See :meth:`crmkit.sync_engine.RemoteBook.get`."""
        try:
            item = self.client.get_json(
                f"{self._user}/contacts/{remote_id}", params={"$select": ",".join(SELECT)}
            )
        except GraphError as exc:
            if exc.status == 404:
                return None
            raise
        if item.get("parentFolderId") not in (None, self.folder):
            return None  # moved out of the synced folder
        return remote_item(item)

    def crm_number(self, remote_id: str) -> str | None:
        """See :meth:`crmkit.sync_engine.RemoteBook.crm_number`."""
        try:
            item = self.client.get_json(
                f"{self._user}/contacts/{remote_id}",
                params={
                    "$select": "id",
                    "$expand": f"singleValueExtendedProperties($filter=id eq '{NUMBER_PROPERTY}')",
                },
            )
        except GraphError as exc:
            if exc.status == 404:
                return None
            raise
        for prop in item.get("singleValueExtendedProperties") or []:
            if prop.get("id") == NUMBER_PROPERTY and prop.get("value"):
                return str(prop["value"])
        return None

    def find_by_number(self, number: str) -> list[str]:
        """Ids of the items in the mailbox carrying CRM number *number*."""
        flt = (
            f"singleValueExtendedProperties/Any(ep: ep/id eq '{NUMBER_PROPERTY}' "
            f"and ep/value eq '{number}')"
        )
        items = self.client.pages(
            f"{self._user}/contacts", params={"$filter": flt, "$select": "id"}
        )
        return [str(i["id"]) for i in items]

    # -- writing --------------------------------------------------------------------------
    def _request(self, op: RemoteOp) -> dict[str, Any]:
        if op.kind == "create":
            body = to_graph(op.values, current=op.current)
            if op.crm_number:
                body["singleValueExtendedProperties"] = [
                    {"id": NUMBER_PROPERTY, "value": op.crm_number}
                ]
            return {
                "method": "POST",
                "url": f"/{self._user}/contactFolders/{self.folder}/contacts",
                "body": body,
            }
        headers = {"If-Match": f'W/"{op.change_key}"'} if op.change_key else {}
        url = f"/{self._user}/contacts/{op.remote_id}"
        if op.kind == "delete":
            return {"method": "DELETE", "url": url, "headers": headers}
        body = to_graph(op.values, current=op.current)
        if op.crm_number:
            body["singleValueExtendedProperties"] = [
                {"id": NUMBER_PROPERTY, "value": op.crm_number}
            ]
        return {"method": "PATCH", "url": url, "headers": headers, "body": body}

    def apply(self, ops: Sequence[RemoteOp]) -> list[RemoteResult]:
        """See :meth:`crmkit.sync_engine.RemoteBook.apply` (``$batch``: ≤ 20, ≤ 4 in flight)."""
        answers = self.client.batch([self._request(op) for op in ops])
        out: list[RemoteResult] = []
        for op, answer in zip(ops, answers, strict=True):
            status = int(answer["status"])
            body = answer.get("body")
            if 200 <= status < 300:
                item = remote_item(body) if isinstance(body, Mapping) and "id" in body else None
                out.append(RemoteResult(op=op, item=item))
            elif status == 412:
                out.append(RemoteResult(op=op, error="conflict"))
            elif status == 404:
                out.append(RemoteResult(op=op, error="gone"))
            else:
                code = ""
                if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
                    code = str(body["error"].get("code") or "")
                out.append(RemoteResult(op=op, error=f"HTTP {status} {code}".strip()))
        return out


__all__ = ["NUMBER_PROPERTY", "PAGE_SIZE", "PROVIDER", "GraphBook", "remote_item"]
