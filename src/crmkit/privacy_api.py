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
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from crmkit._guard import guarded
from crmkit.correspondence import EntryRevision, timeline_query
from crmkit.messages import Lang, render
from crmkit.model import Contact
from crmkit.privacy import PrivacyRequest, Tombstone, close, extend
from crmkit.retention import GERMAN_DEFAULTS, LegalHold, RetentionPolicy, RetentionVerdict, verdict
from crmkit.serialize import to_dict

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

    # -- erasure ------------------------------------------------------------------------
    def _person(self, contact: Contact) -> list[Contact]:
        """The contact and every record merged into it (they are the same person)."""
        store = self._crm.store
        out: list[Contact] = [contact]
        todo: list[str] = [contact.id]
        while todo:
            for merge in store.merges_of(todo.pop()):
                if merge.undone_at is None:
                    for merged_id in merge.merged_ids:
                        out.append(store.get_contact(merged_id))
                        todo.append(merged_id)
        return out

    @guarded("erase", "contact")
    def erase(
        self, contact: Contact | str, *, reason: str, today: dt.date | None = None
    ) -> ErasureResult:
        """Erase the person's personal data — or restrict it while a retention period holds.

        If nothing holds (:meth:`retention`), the contact and the records
        merged into it go with their contact points, correspondence naming only
        them (a shared entry is unlinked), consent ledger, holds, bounces,
        merge records, search index entries and the personal values in the
        audit log; a tombstone remains.  Sync plugins and other recipients are
        told through ``crmkit_on_contact_deleted`` (Art. 19).  If a period
        holds, the contacts are restricted (Art. 18): archived, out of every
        contact decision, and erased by :meth:`run_due_erasures` once it ends.
        One transaction; in SQLite nothing of the erased data stays in the
        file or its WAL.
        """
        crm = self._crm
        if not isinstance(reason, str) or not reason.strip():
            from crmkit.errors import ValidationError

            raise ValidationError.single("reason", "privacy.reason_required")
        day = today or crm.today()
        people = self._person(crm._load(contact, follow=False))
        verdicts = [self.retention(c, day) for c in people]
        held = [v for v in verdicts if not v.erase_now]
        if held:
            return self._restrict(people, verdicts, reason)
        tombstones: list[Tombstone] = []
        with crm.transaction():
            for person in people:
                tombstones.append(self._erase_one(person, reason, day))
        crm.store.purge_deleted()
        return ErasureResult(erased=True, tombstones=tuple(tombstones),
                             verdicts=tuple(verdicts))  # fmt: skip

    def _erase_one(self, person: Contact, reason: str, day: dt.date) -> Tombstone:
        crm = self._crm
        scrub: set[str] = set()
        for entry in crm.store.timeline(timeline_query([person.id])):
            scrub.add(entry.id)
            if entry.contact_ids == (person.id,):
                continue
            rest = tuple(i for i in entry.contact_ids if i != person.id)
            unlinked = attrs.evolve(entry, contact_ids=rest, revision=entry.revision + 1)
            crm.store.correct_entry(
                EntryRevision(
                    entry=unlinked,
                    at=crm.now(),
                    actor_id=crm.actor.id,
                    actor_name=crm.actor.name,
                    action="erase",
                    reason="a contact named here was erased",
                )
            )
        affs = crm.store.affiliations_of_person(person.id) + crm.store.affiliations_of_company(
            person.id
        )
        scrub.update(a.id for a in affs)
        scrub.update(b.id for b in crm.store.iter_bounces() if person.id in b.contact_ids)
        scrub.update(r.id for r in crm.store.iter_privacy_requests() if r.contact_id == person.id)
        tombstone = Tombstone(contact_id=person.id, number=person.number or "", erased_on=day,
                              reason=reason)  # fmt: skip
        crm.campaigns._forget(person.id)
        crm.store.erase_contact(person.id, tombstone, scrub=scrub)
        crm._record("erase", "contact", person.id, reason=reason)
        crm._emit("crmkit_on_contact_deleted", contact=person)
        return tombstone

    def _restrict(
        self, people: list[Contact], verdicts: list[RetentionVerdict], reason: str
    ) -> ErasureResult:
        crm = self._crm
        ends = [v.erasable_from for v in verdicts if not v.erase_now]
        erase_from = None if any(e is None for e in ends) else max(e for e in ends if e)
        with crm.transaction():
            for person in people:
                current = crm.store.get_contact(person.id)
                note = f"restricted (Art. 18): {reason}"
                restricted = attrs.evolve(
                    current,
                    archived_at=current.archived_at or crm.now(),
                    archive_reason=note[:500],
                    restricted_at=current.restricted_at or crm.now(),
                    updated_at=crm.now(),
                )
                stored = crm.store.update_contact(restricted)
                crm._record("restrict", "contact", stored.id, current, stored, reason=reason)
                crm._emit("crmkit_on_contact_saved", contact=stored, created=False)
        return ErasureResult(erased=False, restricted=True, erase_from=erase_from,
                             verdicts=tuple(verdicts))  # fmt: skip

    @guarded("erase", "contact")
    def run_due_erasures(self, today: dt.date | None = None) -> list[Tombstone]:
        """Erase every restricted contact whose retention has ended (run it daily)."""
        from crmkit.summary import SummaryFilter

        crm = self._crm
        day = today or crm.today()
        done: list[Tombstone] = []
        where = SummaryFilter(restricted=True, include_archived=True)
        for summary in list(crm.store.summaries(where)):
            try:
                contact = crm.store.get_contact(summary.id)
            except LookupError:
                continue  # erased with its survivor in this run
            if contact.merged_into is not None:
                continue
            result = self.erase(contact, reason=contact.archive_reason or "retention ended",
                                today=day)  # fmt: skip
            done.extend(result.tombstones)
        return done

    @guarded("export", "contact")
    def access_report(self, contact: Contact | str, today: dt.date | None = None) -> AccessReport:
        """Everything stored about the person (Art. 15 GDPR), as JSON and readable text.

        The contact and the records merged into it; affiliations; all
        correspondence, internal notes included; the consent ledger; privacy
        requests, legal holds and bounces; the audit records about them; the
        legal basis, the purposes and the retention verdict; the recipients
        (sync links, once a sync plugin is installed).
        """
        crm = self._crm
        store = crm.store
        people = self._person(crm._load(contact, follow=False))
        ids = {p.id for p in people}
        affs = {
            a.id: a
            for p in people
            for a in store.affiliations_of_person(p.id) + store.affiliations_of_company(p.id)
        }
        entries = store.timeline(timeline_query(ids))
        consents = [e for i in ids for e in store.consent_events(i)]
        audit_ids = ids | set(affs) | {e.id for e in entries}
        head = people[0]
        verdict_ = self.retention(head, today)
        data: dict[str, Any] = {
            "name": head.display_name,
            "number": head.number,
            "generated_on": (today or crm.today()).isoformat(),
            "contacts": [to_dict(p) for p in people],
            "affiliations": [to_dict(a) for a in affs.values()],
            "correspondence": [to_dict(e) for e in entries],
            "consents": [to_dict(e) for e in consents],
            "privacy_requests": [to_dict(r) for r in store.iter_privacy_requests()
                                 if r.contact_id in ids],
            "legal_holds": [to_dict(h) for i in ids for h in store.legal_holds(contact_id=i)],
            "bounces": [to_dict(b) for b in store.iter_bounces() if ids & set(b.contact_ids)],
            "audit": [to_dict(r) for r in store.iter_audit() if r.entity_id in audit_ids],
            "recipients": _recipients(store, ids),
            "legal_basis": to_dict(head.legal_basis) if head.legal_basis else None,
            "purposes": sorted({e.purpose for e in consents}
                               | ({head.legal_basis.purpose} if head.legal_basis
                                  and head.legal_basis.purpose else set())),
            "retention": to_dict(verdict_),
        }  # fmt: skip
        crm._record("export", "contact", head.id, reason="access report (Art. 15)")
        return AccessReport(data=data)

    @guarded("read", "privacy_request")
    def tombstones(self) -> list[Tombstone]:
        """What remains of erased contacts: ids, numbers, dates and reasons."""
        return self._crm.store.tombstones()


@attrs.frozen(kw_only=True)
class AccessReport:
    """Everything stored about a person (Art. 15), machine-readable (Art. 20) and readable.

    ``data`` is a JSON-ready dict; :meth:`markdown` renders it in German or
    English, ``_repr_html_`` in Jupyter.
    """

    data: Mapping[str, Any]

    def to_json(self) -> str:
        """The report as JSON (UTF-8 text, keys sorted)."""
        return json.dumps(self.data, ensure_ascii=False, indent=2, sort_keys=True)

    def markdown(self, lang: Lang = "de") -> str:
        """The report as Markdown, headings in *lang*."""
        lines = [f"# {render('privacy.report.title', lang, name=self.data['name'])}", ""]
        lines.append(render("privacy.report.generated", lang, day=self.data["generated_on"]))
        for key in _SECTIONS:
            items = self.data[key]
            lines += ["", f"## {render('privacy.report.' + key, lang)} ({len(items)})", ""]
            for item in items:
                lines.append("- " + json.dumps(item, ensure_ascii=False, sort_keys=True))
        retention = self.data["retention"]
        lines += ["", f"## {render('privacy.report.retention', lang)}", "",
                  json.dumps(retention, ensure_ascii=False, sort_keys=True)]  # fmt: skip
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        from html import escape

        return "<pre>" + escape(self.markdown()) + "</pre>"


def _recipients(store: Any, ids: Iterable[str]) -> list[dict[str, Any]]:
    """Where copies of the person's data go (Art. 15(1)(c)): the sync links."""
    if "sync_links" not in store.capabilities:
        return []
    from crmkit.store import sync_link_store

    links = sync_link_store(store)
    return [
        {"provider": link.provider, "mailbox": link.mailbox, "folder": link.folder,
         "remote_id": link.remote_id, "status": link.status,
         "last_synced": link.last_synced.isoformat() if link.last_synced else None}
        for contact_id in sorted(ids)
        for link in links.sync_links(contact_id=contact_id)
    ]  # fmt: skip


_SECTIONS: Final = (
    "contacts", "affiliations", "correspondence", "consents", "privacy_requests",
    "legal_holds", "bounces", "audit", "recipients",
)  # fmt: skip


@attrs.frozen(kw_only=True)
class ErasureResult:
    """What :meth:`Privacy.erase` did: erased (with tombstones) or restricted until when."""

    erased: bool
    restricted: bool = False
    erase_from: dt.date | None = None
    tombstones: tuple[Tombstone, ...] = ()
    verdicts: tuple[RetentionVerdict, ...] = ()


__all__ = ["AccessReport", "ErasureResult", "Privacy", "RequestRef"]
