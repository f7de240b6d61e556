"""``crm.sync``: contact sync with remote address books, provider-neutral.

The rules live in :mod:`crmkit.sync` (pure); this module joins them with the
store (links and state, capability ``sync_links``), the providers registered
through ``crmkit_register_sync_providers``, the worklist and the audit
trail.

>>> import crmkit
>>> crm = crmkit.open("memory://", load_entry_points=False)
>>> max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
>>> crm.sync.status(max_).state
'not_linked'

Writes a provider makes inside :meth:`Sync.applying` are tagged with the
origin ``sync:<provider>``: the ``crmkit_on_contact_saved`` notification
carries it (so a provider does not push its own writes back) and the audit
record names it.  Notifications, and so pushes, run only after the CRM
transaction committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from crmkit._guard import guarded
from crmkit.errors import StoreError, ValidationError
from crmkit.model import Contact
from crmkit.store import SyncLinkStore, sync_link_store
from crmkit.sync import (
    DEFAULT_FIELD_TABLE,
    LINK_STATUSES,
    FieldTable,
    Side,
    SyncFilter,
    SyncLink,
    SyncStatus,
)
from crmkit.worklist import WorkItem

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.cockpit import WorklistRequest
    from crmkit.crm import CRM
    from crmkit.sync_engine import RemoteBook, SyncReport

ContactRef = Contact | str

#: Link statuses that become worklist items, with their severity and suggested action.
WORKLIST_STATUSES: Mapping[str, tuple[str, str]] = {
    "error": ("error", "sync.action.retry"),
    "conflict": ("warning", "sync.action.decide"),
    "skipped_no_email": ("info", "sync.action.add_email"),
    "unlinked": ("info", "sync.action.review_unlinked"),
}


def _decisions_key(contact_id: str) -> str:
    return f"decisions/{contact_id}"


class Sync:
    """``crm.sync``: providers, links, per-contact status and conflict decisions."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def _store(self) -> SyncLinkStore:
        return sync_link_store(self._crm.store)

    @guarded("read", "contact")
    def providers(self) -> dict[str, Any]:
        """The registered sync providers by name."""
        return self._crm.hooks.sync_providers()

    @guarded("update", "contact")
    def run(
        self,
        name: str,
        *,
        dry_run: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> Any:
        """Run one round of the provider *name* and return its report.

        *progress* (``(phase, done, total)``) goes to providers that accept it.
        """
        providers = self._crm.hooks.sync_providers()
        if name not in providers:
            raise ValidationError.single(
                "provider", "sync.unknown_provider", name=name, known=", ".join(sorted(providers))
            )
        if progress is None:
            return providers[name].sync(self._crm, dry_run=dry_run)
        return providers[name].sync(self._crm, dry_run=dry_run, progress=progress)

    @guarded("update", "contact")
    def round(
        self,
        book: RemoteBook,
        *,
        table: FieldTable = DEFAULT_FIELD_TABLE,
        where: SyncFilter | None = None,
        dry_run: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> SyncReport:
        """Run one sync round with a remote address book (see :mod:`crmkit.sync_engine`).

        Providers call this with their :class:`~crmkit.sync_engine.RemoteBook`
        for each mailbox; *where* says which contacts sync, *table* who owns
        which field; with *dry_run* nothing changes on either side.
        """
        from crmkit.sync_engine import run_round

        return run_round(
            self._crm, book, table=table, where=where, dry_run=dry_run, progress=progress
        )

    @guarded("read", "contact")
    def status(self, contact: ContactRef) -> SyncStatus:
        """The sync state of *contact* over all its links (``not_linked`` without any)."""
        found = self._crm._load(contact)
        if "sync_links" not in self._crm.store.capabilities:
            return SyncStatus(contact_id=found.id)
        links = self._store().sync_links(contact_id=found.id)
        return SyncStatus(contact_id=found.id, links=tuple(links))

    @guarded("read", "contact")
    def links(
        self,
        *,
        provider: str | None = None,
        mailbox: str | None = None,
        status: str | None = None,
    ) -> list[SyncLink]:
        """Every link (of a provider, a mailbox, a status) of the contacts the actor may read."""
        if status is not None and status not in LINK_STATUSES:
            raise ValidationError.single(
                "status", "value.choice", value=status, choices=LINK_STATUSES
            )
        crm = self._crm
        links = self._store().sync_links(provider=provider, mailbox=mailbox, status=status)
        scope = crm.scope()
        if scope is None:
            return links
        visible = {c.id for c in crm.store.iter_contacts(scope=scope)}
        return [link for link in links if link.contact_id in visible]

    @guarded("update", "contact")
    def resolve(
        self, contact: ContactRef, provider: str, mailbox: str, decisions: Mapping[str, Side]
    ) -> None:
        """Decide conflicting fields of a link (``{"surname": "crm"}``).

        The next round of the provider applies the decisions.
        """
        for field, side in decisions.items():
            if side not in ("crm", "remote"):
                raise ValidationError.single(
                    f"decisions.{field}", "value.choice", value=side, choices=("crm", "remote")
                )
        crm = self._crm
        found = crm._load(contact)
        store = self._store()
        with crm.transaction():
            merged = {**self.decisions(found, provider, mailbox), **decisions}
            store.put_sync_state(
                provider, mailbox, _decisions_key(found.id), json.dumps(merged, sort_keys=True)
            )
            crm._record("resolve_sync", "contact", found.id, reason=json.dumps(merged))

    @guarded("update", "contact")
    def forget(self, contact: ContactRef, provider: str, mailbox: str) -> None:
        """Drop a contact's link, e.g. after its remote copy was deleted (status
        ``unlinked``): the next round pushes the contact again as a new copy."""
        crm = self._crm
        found = crm._load(contact)
        with crm.transaction():
            self._store().delete_sync_link(found.id, provider, mailbox)
            crm._record("forget_sync_link", "contact", found.id, reason=f"{provider} {mailbox}")

    @guarded("read", "contact")
    def decisions(self, contact: ContactRef, provider: str, mailbox: str) -> dict[str, Side]:
        """The conflict decisions recorded for a contact's link, not yet applied."""
        found = self._crm._load(contact)
        text = self._store().get_sync_state(provider, mailbox, _decisions_key(found.id))
        return dict(json.loads(text)) if text else {}

    @guarded("update", "contact")
    def clear_decisions(self, contact: ContactRef, provider: str, mailbox: str) -> None:
        """Forget the decisions of a link once a round applied them."""
        found = self._crm._load(contact)
        self._store().put_sync_state(provider, mailbox, _decisions_key(found.id), None)

    @guarded("update", "contact")
    @contextmanager
    def applying(self, provider: str) -> Iterator[None]:
        """Tag the facade writes inside the block as coming from sync with *provider*.

        ``crmkit_on_contact_saved`` receives ``origin="sync:<provider>"`` and
        the audit records name it, so the write is not pushed back.
        """
        session = self._crm._session
        previous = session.origin
        session.origin = f"sync:{provider}"
        try:
            yield
        finally:
            session.origin = previous


def sync_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Worklist items for links with errors, pending conflicts, skipped and unlinked contacts."""
    if "sync_links" not in crm.store.capabilities:
        return
    try:
        store = sync_link_store(crm.store)
    except StoreError:  # pragma: no cover - capability declared but methods missing
        return
    scope = crm.scope()
    for link in store.sync_links():
        if link.status not in WORKLIST_STATUSES:
            continue
        try:
            contact = crm.store.get_contact(link.contact_id, scope=scope)
        except LookupError:
            continue
        if request.owner is not None and contact.owner != request.owner:
            continue
        severity, action = WORKLIST_STATUSES[link.status]
        params: dict[str, Any] = {"provider": link.provider, "mailbox": link.mailbox}
        if link.status == "error":
            params["error"] = link.last_error
        if link.status == "conflict":
            params["fields"] = ", ".join(link.conflicts)
        if link.status == "unlinked":
            params["reason"] = link.last_error
        yield WorkItem(
            kind=f"sync.{link.status}",
            severity=severity,  # type: ignore[arg-type]
            due=request.today,
            contact_id=contact.id,
            contact_number=contact.number or "",
            contact_name=contact.display_name,
            owner=contact.owner,
            params=params,
            action=action,
            source="sync",
            ref=link.remote_id,
        )


__all__ = ["WORKLIST_STATUSES", "Sync", "sync_items"]
