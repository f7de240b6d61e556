"""``crm.privacy``: data-subject requests with their deadlines (Art. 12, 15–21 GDPR).

>>> import datetime as dt, crmkit
>>> crm = crmkit.open("memory://", clock=lambda: dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC))
>>> req = crm.privacy.record_request("access", requester="Max Mustermann per Brief")
>>> req.due
datetime.date(2026, 2, 28)

Every change is one transaction with an audit record.  Not legal advice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from crmkit._guard import guarded
from crmkit.model import Contact
from crmkit.privacy import PrivacyRequest, close, extend

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

RequestRef = PrivacyRequest | str


class Privacy:
    """``crm.privacy``: the data-subject requests of the CRM."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def _store(self, before: PrivacyRequest | None, after: PrivacyRequest) -> PrivacyRequest:
        crm = self._crm
        with crm.transaction():
            if before is None:
                stored = crm.store.add_privacy_request(after)
                crm._record("create", "privacy_request", stored.id, None, stored)
            else:
                stored = crm.store.update_privacy_request(after)
                crm._record("update", "privacy_request", stored.id, before, stored)
        return stored

    def _current(self, ref: RequestRef) -> PrivacyRequest:
        key = ref.id if isinstance(ref, PrivacyRequest) else ref
        current = self._crm.store.get_privacy_request(key)
        if isinstance(ref, PrivacyRequest):
            return attrs.evolve(current, version=ref.version)  # a stale one is refused
        return current

    @guarded("create", "privacy_request")
    def record_request(
        self,
        kind: str,
        *,
        contact: Contact | str | None = None,
        requester: str = "",
        received: dt.date | str | None = None,
        identity: str = "pending",
    ) -> PrivacyRequest:
        """Log a request (``access``, ``rectification``, ``erasure``, ``restriction``,
        ``portability``, ``objection``) received on *received* (default: today).

        The due day is one calendar month later (Art. 12(3)).
        """
        crm = self._crm
        contact_id = crm._load(contact).id if contact is not None else None
        request = PrivacyRequest(kind=kind, contact_id=contact_id, requester=requester,
                                 received=received or crm.today(), identity=identity)  # fmt: skip
        return self._store(None, request)

    @guarded("update", "privacy_request")
    def verify_identity(self, request: RequestRef, *, verified: bool = True) -> PrivacyRequest:
        """Record the outcome of the identity check."""
        current = self._current(request)
        return self._store(
            current, attrs.evolve(current, identity="verified" if verified else "failed")
        )

    @guarded("update", "privacy_request")
    def extend(
        self, request: RequestRef, months: int, reason: str, *, on: dt.date | None = None
    ) -> PrivacyRequest:
        """Extend the deadline by one or two months, announced on *on* (default: today).

        Only possible within the first month, and with a reason (Art. 12(3)).
        """
        current = self._current(request)
        return self._store(current, extend(current, months, reason, on or self._crm.today()))

    @guarded("update", "privacy_request")
    def complete(self, request: RequestRef, outcome: str) -> PrivacyRequest:
        """Close the request as answered (the identity must be verified)."""
        current = self._current(request)
        return self._store(current, close(current, "done", outcome, self._crm.today()))

    @guarded("update", "privacy_request")
    def refuse(self, request: RequestRef, explanation: str) -> PrivacyRequest:
        """Refuse the request, with the explanation the person is given (due in one month)."""
        current = self._current(request)
        return self._store(current, close(current, "refused", explanation, self._crm.today()))

    @guarded("read", "privacy_request")
    def get(self, request: RequestRef) -> PrivacyRequest:
        """The stored request."""
        key = request.id if isinstance(request, PrivacyRequest) else request
        return self._crm.store.get_privacy_request(key)

    @guarded("read", "privacy_request")
    def requests(self, *, status: str | None = "open") -> list[PrivacyRequest]:
        """The requests (open ones by default; ``None`` for all), soonest due first."""
        found = self._crm.store.iter_privacy_requests(status=status)
        return sorted(found, key=lambda r: (r.due, r.received))


__all__ = ["Privacy", "RequestRef"]
