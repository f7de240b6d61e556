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
from crmkit.correspondence import timeline_query
from crmkit.model import Contact
from crmkit.privacy import PrivacyRequest, close, extend
from crmkit.retention import GERMAN_DEFAULTS, LegalHold, RetentionPolicy, RetentionVerdict, verdict

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

RequestRef = PrivacyRequest | str


class Privacy:
    """``crm.privacy``: the data-subject requests of the CRM."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm
        #: Retention policies by category (German defaults; add or override per installation).
        self.retention_policies: dict[str, RetentionPolicy] = dict(GERMAN_DEFAULTS)

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

    # -- retention and legal holds ----------------------------------------------------
    @guarded("update", "privacy_request")
    def place_hold(
        self, contact: Contact | str, reason: str, *, until: dt.date | str | None = None
    ) -> LegalHold:
        """Block the contact's erasure (a tax assessment, a lawsuit, an audit) until lifted."""
        crm = self._crm
        target = crm._load(contact)
        hold = LegalHold(contact_id=target.id, reason=reason, placed_on=crm.today(), until=until)
        with crm.transaction():
            crm.store.put_legal_hold(hold)
            crm._record("create", "legal_hold", target.id, None, hold, reason=reason)
        return hold

    @guarded("update", "privacy_request")
    def lift_hold(self, hold: LegalHold) -> LegalHold:
        """Lift a legal hold today."""
        crm = self._crm
        lifted = attrs.evolve(hold, lifted_on=crm.today())
        with crm.transaction():
            crm.store.put_legal_hold(lifted)
            crm._record("update", "legal_hold", hold.contact_id, hold, lifted)
        return lifted

    @guarded("read", "privacy_request")
    def holds(self, contact: Contact | str | None = None) -> list[LegalHold]:
        """Legal holds (of one contact, if given), oldest first."""
        crm = self._crm
        contact_id = crm._load(contact).id if contact is not None else None
        return crm.store.legal_holds(contact_id=contact_id)

    @guarded("read", "privacy_request")
    def retention(self, contact: Contact | str, today: dt.date | None = None) -> RetentionVerdict:
        """Erase now, or keep until when and why: :func:`crmkit.retention.verdict`."""
        crm = self._crm
        target = crm._load(contact, follow=False)
        return verdict(
            target.id,
            today or crm.today(),
            entries=crm.store.timeline(timeline_query([target.id])),
            consents=crm.store.consent_events(target.id),
            holds=crm.store.legal_holds(contact_id=target.id),
            policies=self.retention_policies,
        )

    @guarded("read", "privacy_request")
    def erasure_plan(self, today: dt.date | None = None) -> list[RetentionVerdict]:
        """A dry run over the archived contacts: who could be erased now, who is held, why.

        Active contacts are not candidates for erasure: archive them first
        (or record an erasure request).
        """
        crm = self._crm
        day = today or crm.today()
        out: list[RetentionVerdict] = []
        for contact in crm.store.iter_contacts(include_archived=True):
            if contact.archived_at is not None and contact.merged_into is None:
                out.append(self.retention(contact, day))
        return out


__all__ = ["Privacy", "RequestRef"]
