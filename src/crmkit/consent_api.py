"""``crm.consents``: record consent events with their proof, derive states, decide contacts.

>>> import datetime as dt, crmkit
>>> crm = crmkit.open("memory://", clock=lambda: dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC))
>>> max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
>>> _ = crm.consents.record(max_, "newsletter", "granted", contact_point="max@muster.de",
...                         channel="web_form", source="https://muster.de/newsletter",
...                         text="Ja, ich möchte den Newsletter erhalten.", text_version="v3")
>>> crm.consents.may_contact(max_, "newsletter", "email").allowed
True

The ledger is append-only: there is no update and no delete through the
facade (erasure is a privacy operation).  Events of contacts merged into a
contact count for it too, so a merge never turns a "no" into a "yes".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from crmkit._guard import guarded
from crmkit.consent import (
    NO_RESPONSE_DECISIONS,
    Case,
    ClarificationPolicy,
    ConsentEvent,
    ConsentState,
    ContactDecision,
    case,
    evidence,
    evidence_text,
    may_contact,
    state,
    text_sha256,
)
from crmkit.errors import PluginError, ValidationError
from crmkit.ids import new_id
from crmkit.messages import Lang
from crmkit.model import Company, Contact, Person, Relationship

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM


class Consents:
    """``crm.consents``: the consent ledger of the contacts."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm
        #: The reminder schedule of consent requests (policy data; replace to change it).
        self.policy = ClarificationPolicy()

    def _events(self, contact: Contact) -> list[ConsentEvent]:
        """The contact's events and those of every contact merged into it."""
        store = self._crm.store
        ids: list[str] = [contact.id]
        for merge in store.merges_of(contact.id):
            if merge.undone_at is None:
                ids.extend(merge.merged_ids)
        events = [e for i in dict.fromkeys(ids) for e in store.consent_events(i)]
        return sorted(events, key=lambda e: e.at)

    @guarded("create", "consent")
    def record(
        self,
        contact: Contact | str,
        purpose: str,
        kind: str,
        *,
        at: dt.datetime | str | None = None,
        contact_point: str | None = None,
        channel: str = "",
        source: str = "",
        text: str | None = None,
        text_version: str | None = None,
        request_id: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        note: str = "",
    ) -> ConsentEvent:
        """Append an event (``granted``, ``declined``, ``withdrawn`` …) with its proof.

        *at* is when it happened (default: now); *text* is the consent text
        as shown — only its SHA-256 is kept, with *text_version*.  A grant
        needs *channel* and *source*.  Returns the stored event.
        """
        crm = self._crm
        target = crm._load(contact)
        event = ConsentEvent(
            contact_id=target.id,
            purpose=purpose,
            kind=kind,
            at=at or crm.now(),
            recorded_at=crm.now(),
            contact_point=contact_point,
            channel=channel,
            source=source,
            recorded_by=crm.actor.id,
            text_version=text_version,
            text_sha256=text_sha256(text) if text else None,
            request_id=request_id,
            ip=ip,
            user_agent=user_agent,
            note=note,
        )
        with crm.transaction():
            crm.store.append_consent_event(event)
            crm._record("create", "consent", target.id, None, event, reason=f"{purpose}: {kind}")
        return event

    @guarded("create", "consent")
    def object(
        self, contact: Contact | str, *, channel: str = "", source: str = ""
    ) -> ConsentEvent:
        """Record an objection to direct marketing (Art. 21 GDPR): it blocks all marketing."""
        return self.record(
            contact, "direct_marketing", "objected", channel=channel or "recorded",
            source=source or "objection",
        )  # fmt: skip

    @guarded("read", "consent")
    def events(self, contact: Contact | str) -> list[ConsentEvent]:
        """The contact's ledger, oldest first (merged contacts' events included)."""
        return self._events(self._crm._load(contact))

    @guarded("read", "consent")
    def state(
        self, contact: Contact | str, purpose: str, contact_point: str | None = None
    ) -> ConsentState:
        """The current state of the consent for *purpose*, derived from the ledger."""
        return state(self._events(self._crm._load(contact)), purpose, contact_point)

    @guarded("read", "consent")
    def may_contact(
        self,
        contact: Contact | str,
        purpose: str,
        channel: str,
        *,
        contact_point: str | None = None,
        similar_goods: bool = False,
        today: dt.date | None = None,
    ) -> ContactDecision:
        """May we approach *contact* for *purpose* over *channel*?  See
        :func:`crmkit.consent.may_contact`; ``decision.reason("de")`` says why.

        A company, or a person working at one, counts as a business (phone:
        presumed consent may do); a customer may fall under the existing-
        customer exception for e-mail when *similar_goods* is true.
        Not legal advice.
        """
        crm = self._crm
        target = crm._load(contact)
        business = isinstance(target, Company) or (
            isinstance(target, Person)
            and any(a.is_active(crm.today()) for a in crm.store.affiliations_of_person(target.id))
        )
        return may_contact(
            purpose=purpose,
            channel=channel,
            today=today or crm.today(),
            events=self._events(target),
            contact_point_=contact_point,
            business=business,
            existing_customer=Relationship.CUSTOMER in target.relationships,
            similar_goods=similar_goods,
            restricted=target.restricted_at is not None,
        )

    # -- the clarification process ------------------------------------------------------
    def _provider(self, name: str | None) -> Any:
        if name is None:
            return None
        providers = self._crm.hooks.consent_providers()
        if name not in providers:
            raise ValidationError.single(
                "provider", "value.choice", value=name, choices=", ".join(sorted(providers)) or "—"
            )
        return providers[name]

    @guarded("create", "consent")
    def request(
        self,
        contacts: Contact | str | list[Contact | str],
        purpose: str,
        *,
        channel: str = "email",
        source: str = "clarification",
        text: str | None = None,
        text_version: str | None = None,
        provider: str | None = None,
    ) -> list[ConsentEvent]:
        """Start a clarification case per contact: a ``requested`` event with a new request id.

        With *provider* (registered through ``crmkit_register_consent_providers``)
        each request is delivered by it; the reminders follow
        :attr:`policy` when :meth:`run_schedule` runs.  One transaction.
        """
        crm = self._crm
        sender = self._provider(provider)
        refs = contacts if isinstance(contacts, list) else [contacts]
        out: list[ConsentEvent] = []
        with crm.transaction():
            for ref in refs:
                target = crm._load(ref)
                event = self.record(target, purpose, "requested", channel=channel, source=source,
                                    text=text, text_version=text_version,
                                    request_id=new_id())  # fmt: skip
                if sender is not None:
                    _send(sender, crm, target, event, reminder=False)
                out.append(event)
        return out

    @guarded("create", "consent")
    def record_answer(
        self,
        contact: Contact | str,
        purpose: str,
        answer: str,
        /,
        *,
        request_id: str | None = None,
        **proof: Any,
    ) -> ConsentEvent:
        """Record the answer to a request: ``granted`` or ``declined``, with its proof."""
        if answer not in ("granted", "declined"):
            raise ValidationError.single(
                "answer", "value.choice", value=answer, choices="granted, declined"
            )
        return self.record(contact, purpose, answer, request_id=request_id, **proof)

    @guarded("create", "consent")
    def decide(self, contact: Contact | str, purpose: str, decision: str) -> ConsentEvent:
        """Decide about a case that ended without response: ``follow_up_again``,
        ``restart_later`` or ``clean_up`` (recorded, so the case is settled)."""
        if decision not in NO_RESPONSE_DECISIONS:
            raise ValidationError.single(
                "decision", "value.choice", value=decision, choices=", ".join(NO_RESPONSE_DECISIONS)
            )
        found = self.case(contact, purpose)
        if found is None or found.stage != "no_response":
            raise ValidationError.single("decision", "consent.no_open_decision", purpose=purpose)
        return self.record(contact, purpose, "decided", note=decision)

    @guarded("read", "consent")
    def case(self, contact: Contact | str, purpose: str) -> Case | None:
        """The contact's latest request for *purpose* and where it stands."""
        return case(self._events(self._crm._load(contact)), purpose, self.policy)

    @guarded("read", "consent")
    def cases(self, *, stage: str | None = None) -> list[Case]:
        """Every clarification case (of one *stage*, if given), soonest due first."""
        crm = self._crm
        out: list[Case] = []
        scope = crm.scope()
        for contact_id in crm.store.consent_contacts():
            try:
                contact = crm.store.get_contact(contact_id, scope=scope)
            except LookupError:
                continue
            events = crm.store.consent_events(contact.id)
            for purpose in dict.fromkeys(e.purpose for e in events if e.kind == "requested"):
                found = case(events, purpose, self.policy)
                if found is not None and (stage is None or found.stage == stage):
                    out.append(found)
        out.sort(key=lambda c: (c.due or dt.date.max, c.requested_at))
        return out

    @guarded("update", "consent")
    def run_schedule(
        self, today: dt.date | None = None, *, provider: str | None = None
    ) -> list[ConsentEvent]:
        """Send the reminders that are due and close the cases past the deadline.

        Returns the ``reminded`` and ``no_response`` events it recorded.
        Run it daily; running it twice on a day records nothing new.
        """
        crm = self._crm
        day = today or crm.today()
        sender = self._provider(provider)
        done: list[ConsentEvent] = []
        with crm.transaction():
            for found in self.cases(stage="open"):
                if found.due is None or found.due > day:
                    continue
                kind = "reminded" if found.next_action == "remind" else "no_response"
                event = self.record(found.contact_id, found.purpose, kind,
                                    request_id=found.request_id, channel="schedule",
                                    source="clarification schedule")  # fmt: skip
                if kind == "reminded" and sender is not None:
                    _send(sender, crm, crm._load(found.contact_id), event, reminder=True)
                done.append(event)
        return done

    @guarded("read", "evidence")
    def evidence(self, contact: Contact | str, purpose: str) -> dict[str, Any]:
        """A self-contained evidence bundle (JSON-ready) for the consent to *purpose*."""
        target = self._crm._load(contact)
        return evidence(target.id, purpose, self._events(target))

    @guarded("read", "evidence")
    def evidence_text(self, contact: Contact | str, purpose: str, lang: Lang = "en") -> str:
        """The evidence bundle as printable text."""
        return evidence_text(self.evidence(contact, purpose), lang)


def _send(sender: Any, crm: CRM, contact: Contact, event: ConsentEvent, *, reminder: bool) -> None:
    try:
        sender.send(crm, contact, event, reminder)
    except Exception as exc:
        if isinstance(exc, (ValidationError, PluginError)):
            raise
        raise PluginError(plugin="consent provider", detail=f"{type(exc).__name__}: {exc}") from exc


__all__ = ["Consents"]
