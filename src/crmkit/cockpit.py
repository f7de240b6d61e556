"""The cockpit: ``crm.check()``, ``crm.worklist()``, ``crm.leads`` and ``crm.bounces``.

The rules (:mod:`crmkit.rules`) and the worklist items
(:mod:`crmkit.worklist`) are pure; this module asks the store the questions
they need answered — as :class:`crmkit.summary.SummaryFilter` queries, so a
million contacts are filtered in the store — and stores lead and bounce
changes through one transaction each, with audit records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any, overload

import attrs

from crmkit import leads as lead_rules
from crmkit._guard import guarded
from crmkit.bounce import Bounce
from crmkit.errors import Finding, NotFoundError, Severity, ValidationError
from crmkit.frames import ContactList
from crmkit.messages import Lang
from crmkit.model import LEAD_STATUSES, Company, Contact
from crmkit.rules import RuleContext, RulePolicy, check_contact, company_domains, quality_score
from crmkit.summary import OPEN_LEAD_STATUSES, ContactSummary, SummaryFilter, month_seed, summarize
from crmkit.worklist import WorkItem, Worklist, item_for

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

ContactRef = Contact | str


@attrs.frozen(kw_only=True)
class WorklistRequest:
    """What a worklist source is asked for: the day, the rule policy, an owner (or all)."""

    today: dt.date
    now: dt.datetime
    policy: RulePolicy
    owner: str | None = None


#: A worklist source: ``source(crm, request)`` → work items.
WorklistSource = Callable[["CRM", WorklistRequest], Iterable[WorkItem]]


# --------------------------------------------------------------------------- check


class CheckReport(Sequence[Finding]):
    """All findings of ``crm.check()`` and the data-quality score."""

    __slots__ = ("_findings", "numbers", "total")

    def __init__(
        self,
        findings: Iterable[Finding],
        total: int,
        numbers: dict[str, str],
    ) -> None:
        self._findings = tuple(findings)
        self.total = total
        self.numbers = numbers

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        return self._findings[index]

    def __len__(self) -> int:
        return len(self._findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._findings)

    def __repr__(self) -> str:
        return f"<CheckReport {len(self)} findings, score {self.score:.1%}>"

    @property
    def score(self) -> float:
        """The share of contacts without an error finding (1.0 = all clean)."""
        return quality_score(self._findings, self.total)

    def of(self, code: str) -> list[Finding]:
        """The findings with this code."""
        return [f for f in self._findings if f.code == code]

    def by_severity(self) -> dict[str, int]:
        """How many findings of each severity."""
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self._findings:
            out[f.severity] += 1
        return out

    def rows(self, lang: Lang = "en") -> list[dict[str, Any]]:
        """Every finding as a flat dict (for CSV, JSON, data frames)."""
        return [
            {
                "severity": f.severity,
                "code": f.code,
                "contact_id": f.contact_id,
                "contact_number": self.numbers.get(f.contact_id or "", ""),
                "field": f.field,
                "message": f.message(lang),
                "action": f.suggestion(lang),
            }
            for f in self._findings
        ]

    def to_pandas(self, lang: Lang = "en") -> Any:
        """A :class:`pandas.DataFrame` of :meth:`rows` (needs the ``pandas`` extra)."""
        from crmkit.frames import to_pandas

        return to_pandas(self, lang)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("severity", "contact", "finding", "action"))
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(str(r[k]))}</td>"
                for k in ("severity", "contact_number", "message", "action")
            )
            + "</tr>"
            for r in self.rows()[:500]
        )
        caption = f"<caption>{escape(repr(self))}</caption>"
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def run_check(crm: CRM, policy: RulePolicy) -> CheckReport:
    """Every finding about every contact the actor may read (two passes over the store)."""
    store = crm.store
    scope = crm.scope()
    aff_scope = crm.scope("affiliation")
    today = crm.today()
    companies = (c for c in store.iter_contacts(include_archived=False, scope=scope))
    domains = company_domains((c for c in companies if isinstance(c, Company)), policy)
    findings: list[Finding] = []
    numbers: dict[str, str] = {}
    total = 0
    for contact in store.iter_contacts(include_archived=False, scope=scope):
        total += 1
        numbers[contact.id] = contact.number or ""
        if isinstance(contact, Company):
            affs = store.affiliations_of_company(contact.id, scope=aff_scope)
        else:
            affs = store.affiliations_of_person(contact.id, scope=aff_scope)
        context = RuleContext(affiliations=tuple(affs), company_domains=domains, today=today)
        findings.extend(check_contact(contact, context, policy))
        findings.extend(
            f if f.contact_id else attrs.evolve(f, contact_id=contact.id)
            for f in crm.hooks.validate_contact(contact)
            if f.code not in _OWN_FINDINGS
        )
    return CheckReport(findings, total, numbers)


#: Findings :func:`check_contact` already includes (the contact's own value warnings).
_OWN_FINDINGS = frozenset({"phone.unassigned"})


# --------------------------------------------------------------------------- worklist


def build_worklist(crm: CRM, request: WorklistRequest) -> Worklist:
    """Ask every registered source and sort the items by urgency."""
    items: list[WorkItem] = []
    for _name, source in crm.hooks.worklist_sources().items():
        items.extend(source(crm, request))
    if request.owner is not None:
        items = [i for i in items if i.owner == request.owner]
    return Worklist(items, request.today)


def _summaries(crm: CRM, request: WorklistRequest, **where: Any) -> Iterator[ContactSummary]:
    where.setdefault("active_on", request.today)  # affiliations that ended do not count
    return crm.store.summaries(SummaryFilter(owner=request.owner, **where), scope=crm.scope())


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _quiet_since(crm: CRM, request: WorklistRequest, days: int) -> dt.datetime:
    """The start (in the users' zone) of the day *days* before today, in UTC.

    Whatever happened before it happened more than *days* days ago — "no
    contact for more than 365 days" holds from the 366th day on, also across
    a change to or from summer time.
    """
    day = request.today - _days(days)
    return dt.datetime.combine(day, dt.time(), tzinfo=crm.zone).astimezone(dt.UTC)


def lead_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """New leads to qualify, open leads older than the limit, leads nobody touched."""
    policy, today = request.policy, request.today
    cutoff = _quiet_since(crm, request, policy.lead_untouched_days)
    seen: set[str] = set()
    for s in _summaries(crm, request, lead_statuses=OPEN_LEAD_STATUSES, changed_before=cutoff,
                        silent_since=cutoff):  # fmt: skip
        seen.add(s.id)
        yield item_for(s, "lead.untouched", policy.severity("lead.untouched", "warning"),
                       due=today, action="action.decide_lead", source="leads",
                       days=policy.lead_untouched_days)  # fmt: skip
    old = today - _days(policy.lead_open_days)
    for s in _summaries(crm, request, lead_statuses=OPEN_LEAD_STATUSES, lead_since_before=old):
        if s.id in seen:
            continue
        seen.add(s.id)
        since = s.lead_since or today
        yield item_for(s, "lead.stale", policy.severity("lead.stale", "warning"),
                       due=since + _days(policy.lead_open_days), action="action.decide_lead",
                       source="leads", days=(today - since).days)  # fmt: skip
    for s in _summaries(crm, request, lead_statuses=frozenset({"new"})):
        if s.id in seen:
            continue
        since = s.lead_since or today
        yield item_for(s, "lead.qualify", policy.severity("lead.qualify", "info"),
                       due=since + _days(policy.lead_qualify_days), action="action.qualify_lead",
                       source="leads")  # fmt: skip


def customer_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Customers nobody has been in touch with for the configured period."""
    policy = request.policy
    cutoff = _quiet_since(crm, request, policy.customer_silence_days)
    for s in _summaries(crm, request, relationships=frozenset({"customer"}),
                        silent_since=cutoff, created_before=cutoff):  # fmt: skip
        yield item_for(s, "customer.silent", policy.severity("customer.silent", "info"),
                       due=request.today, action="action.call_customer", source="customers",
                       days=policy.customer_silence_days)  # fmt: skip


def role_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Companies without a decision maker, customers without a billing contact."""
    policy = request.policy
    if policy.enabled("company.no_decision_maker"):
        for s in _summaries(crm, request, kind="company", missing_role="decision_maker"):
            yield item_for(s, "company.no_decision_maker",
                           policy.severity("company.no_decision_maker"), due=request.today,
                           action="action.add_decision_maker", source="roles")  # fmt: skip
    required = policy.billing_required_for
    if required and policy.enabled("customer.no_billing_contact"):
        for s in _summaries(crm, request, kind="company", missing_role="billing",
                            relationships=required):  # fmt: skip
            yield item_for(s, "customer.no_billing_contact",
                           policy.severity("customer.no_billing_contact"), due=request.today,
                           action="action.add_billing", source="roles")  # fmt: skip


def data_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Persons not linked to a company; contacts without legal basis or e-mail.

    One pass over the contacts: the summaries carry the three facts.
    """
    policy = request.policy
    rules = [
        (code, action)
        for code, action in (
            ("person.not_linked", "action.link_company"),
            ("contact.no_legal_basis", "action.clarify_basis"),
            ("contact.no_email", "action.add_email"),
        )
        if policy.enabled(code)
    ]
    if not rules:
        return
    severity = {code: policy.severity(code) for code, _ in rules}
    for s in _summaries(crm, request):
        for code, action in rules:
            if code == "person.not_linked":
                if s.kind != "person" or s.affiliated:
                    continue
            elif code == "contact.no_legal_basis":
                if s.has_legal_basis:
                    continue
            elif s.has_email:
                continue
            yield item_for(s, code, severity[code], action=action, source="data")


def _summary_of(crm: CRM, contact_id: str) -> ContactSummary | None:
    try:
        return summarize(crm.store.get_contact(contact_id, scope=crm.scope()))
    except NotFoundError:
        return None


def bounce_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Bounces nobody has processed yet."""
    if not crm.allowed("read", "contact"):
        return
    for bounce in crm.store.iter_bounces(processed=False):
        summaries = [s for i in bounce.contact_ids if (s := _summary_of(crm, i)) is not None]
        if not summaries and (bounce.contact_ids or crm.scope() is not None):
            continue  # only contacts the actor may not see, or nobody's for a limited actor
        severity: Severity = "warning" if bounce.kind == "hard" else "info"
        params = {"address": bounce.address, "bounce": bounce.kind}
        if summaries:
            yield item_for(summaries[0], "bounce.unprocessed",
                           request.policy.severity("bounce.unprocessed", severity),
                           due=bounce.at.date(), action="action.process_bounce",
                           source="bounces", ref=bounce.id, **params)  # fmt: skip
        else:
            yield WorkItem(kind="bounce.unprocessed", severity=severity, due=bounce.at.date(),
                           params=params, action="action.process_bounce", source="bounces",
                           ref=bounce.id)  # fmt: skip


def follow_up_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Follow-ups due within the horizon, and overdue ones."""
    if not crm.allowed("read", "correspondence"):
        return
    horizon = request.today + _days(request.policy.follow_up_horizon_days)
    see_internal = crm.allowed("read", "internal_note")
    scope = crm.scope("correspondence")
    for entry in crm.store.open_follow_ups(due_by=horizon, scope=scope):
        if entry.internal and not see_internal:
            continue
        assert entry.follow_up is not None
        summary = next(
            (s for i in entry.contact_ids if (s := _summary_of(crm, i)) is not None), None
        )
        overdue = entry.follow_up.due < request.today
        kind = "follow_up.overdue" if overdue else "follow_up.due"
        item = WorkItem(
            kind=kind,
            severity=request.policy.severity(kind, "warning" if overdue else "info"),
            due=entry.follow_up.due,
            contact_id=summary.id if summary else None,
            contact_number=summary.number if summary else "",
            contact_name=summary.name if summary else "",
            owner=entry.follow_up.assignee or entry.author or None,
            params={"subject": entry.subject or entry.content[:60]},
            action="action.follow_up",
            source="follow_ups",
            ref=entry.id,
        )
        yield item


def sample_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """The monthly quality sample: the same N contacts all month, different ones next month."""
    size = request.policy.quality_sample_size
    if size <= 0:
        return
    seed = month_seed(request.today)
    end = (request.today.replace(day=28) + _days(4)).replace(day=1) - _days(1)
    where = SummaryFilter(sample_seed=seed)
    for s in crm.store.summaries(where, scope=crm.scope(), limit=size):
        yield item_for(s, "quality.sample", "info", due=end, action="action.check_sample",
                       source="sample", month=request.today.strftime("%Y-%m"))  # fmt: skip


def _stale_consents(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    from crmkit.consent import state

    after = crm.consents.policy.stale_after
    for contact_id in crm.store.consent_contacts():
        summary = _summary_of(crm, contact_id)
        if summary is None:
            continue
        events = crm.store.consent_events(contact_id)
        for purpose in dict.fromkeys(e.purpose for e in events if e.kind == "granted"):
            current = state(events, purpose)
            if current.stale(request.today, after):
                last = max(m for m in (current.granted_at, current.last_used) if m is not None)
                yield item_for(summary, "consent.stale", "warning", due=request.today,
                               action="action.reconfirm_consent", source="consent",
                               purpose=purpose, date=last.date().isoformat())  # fmt: skip


def consent_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Open consent requests with their next deadline; cases without answer to decide;
    granted consents unused for too long (re-confirm them instead of using them)."""
    if not crm.allowed("read", "consent"):
        return
    yield from _stale_consents(crm, request)
    for found in crm.consents.cases():
        if found.stage not in ("open", "no_response"):
            continue
        summary = _summary_of(crm, found.contact_id)
        if summary is None:
            continue
        if found.stage == "open":
            yield item_for(summary, "consent.case_open", "info", due=found.due,
                           action="action.consent_step", source="consent",
                           purpose=found.purpose, step=found.next_action or "")  # fmt: skip
        else:
            due = found.ended_at.date() if found.ended_at else request.today
            yield item_for(summary, "consent.decision_needed", "warning", due=due,
                           action="action.consent_decide", source="consent",
                           purpose=found.purpose)  # fmt: skip


def privacy_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Open data-subject requests: due within a week (warning) or overdue (error)."""
    if not crm.allowed("read", "privacy_request"):
        return
    for req in crm.store.iter_privacy_requests(status="open"):
        summary = _summary_of(crm, req.contact_id) if req.contact_id else None
        days_left = (req.due - request.today).days
        severity: Severity = "error" if days_left < 0 else "warning" if days_left <= 7 else "info"
        yield WorkItem(
            kind="privacy.request_due",
            severity=severity,
            due=req.due,
            contact_id=summary.id if summary else None,
            contact_number=summary.number if summary else "",
            contact_name=summary.name if summary else req.requester,
            params={"article": req.article, "request": req.kind,
                    "received": req.received.isoformat(), "due": req.due.isoformat()},
            action="action.answer_request",
            source="privacy",
            ref=req.id,
        )  # fmt: skip


def hold_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Active legal holds, due at their end (or open-ended)."""
    if not crm.allowed("read", "privacy_request"):
        return
    for hold in crm.store.legal_holds():
        if not hold.active(request.today):
            continue
        summary = _summary_of(crm, hold.contact_id)
        if summary is None:
            continue
        yield item_for(summary, "privacy.hold", "info", due=hold.until,
                       action="action.review_hold", source="privacy", ref=hold.id,
                       reason=hold.reason)  # fmt: skip


def erasure_items(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Restricted contacts (Art. 18) with the day their erasure becomes possible."""
    if not crm.allowed("read", "privacy_request"):
        return
    where = SummaryFilter(restricted=True, include_archived=True)
    for summary in crm.store.summaries(where, scope=crm.scope()):
        found = crm.privacy.retention(summary.id, request.today)
        due = request.today if found.erase_now else found.erasable_from
        yield item_for(summary, "privacy.erasure_scheduled", "info", due=due,
                       action="action.run_erasures", source="erasure",
                       date=due.isoformat() if due else "—")  # fmt: skip


#: The built-in sources, registered through ``crmkit_register_worklist_sources``.
BUILTIN_SOURCES: dict[str, WorklistSource] = {
    "leads": lead_items,
    "customers": customer_items,
    "roles": role_items,
    "data": data_items,
    "bounces": bounce_items,
    "follow_ups": follow_up_items,
    "sample": sample_items,
    "consent": consent_items,
    "privacy": privacy_items,
    "holds": hold_items,
    "erasure": erasure_items,
}


# --------------------------------------------------------------------------- leads


class Leads:
    """``crm.leads``: create, qualify, convert and archive leads; lead metrics."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @guarded("create", "contact")
    def create(
        self,
        contact: Contact | str,
        *,
        source: str | None = None,
        source_detail: str | None = None,
        budget: Decimal | int | str | None = None,
        timeframe: str | None = None,
        decision_maker: Contact | str | None = None,
        next_steps: str | None = None,
    ) -> Contact:
        """Make a new contact (or a stored one: id, number) a lead since today.

        ``crm.leads.create(Company(name="Neu GmbH"), source="Messe",
        source_detail="IT-Days 2025, Stand 42", budget=25000, timeframe="Q1")``.
        *decision_maker* is the person who decides (contact, id or number).
        """
        crm = self._crm
        with crm.transaction():
            current = contact if isinstance(contact, Contact) and contact.number is None else None
            base = current if current is not None else crm._load(contact)
            dm = crm._load(decision_maker).id if decision_maker is not None else None
            lead = lead_rules.start(
                base, crm.today(), source=source, source_detail=source_detail, budget=budget,
                timeframe=timeframe, decision_maker_id=dm, next_steps=next_steps,
            )  # fmt: skip
            if current is not None:
                return crm.contacts.add(lead)
            crm.require("update", "contact", base.id)
            return crm.contacts.update(attrs.evolve(lead, version=base.version))

    def _change(self, ref: ContactRef, change: Callable[[Contact], Contact]) -> Contact:
        crm = self._crm
        with crm.transaction():
            current = crm._load(ref)
            if isinstance(ref, Contact) and ref.version != current.version:
                current = attrs.evolve(current, version=ref.version)  # the store will refuse
            return crm.contacts.update(change(current))

    @guarded("update", "contact")
    def qualify(self, lead: ContactRef, /, **changes: Any) -> Contact:
        """Mark the lead qualified today (lead fields such as ``budget`` may change with it).

        ``decision_maker`` (a contact, id or number) sets ``decision_maker_id``;
        other names are those of :data:`crmkit.leads.QUALIFY_FIELDS`.
        """
        crm = self._crm
        with crm.transaction():
            if "decision_maker" in changes:
                dm = changes.pop("decision_maker")
                changes["decision_maker_id"] = crm._load(dm).id if dm is not None else None
            return self._change(lead, lambda c: lead_rules.qualify(c, crm.today(), **changes))

    @guarded("update", "contact")
    def convert(self, lead: ContactRef) -> Contact:
        """The lead became a customer: relationship ``customer``, ``customer_since`` today.

        The lead data stays on the contact (status ``won``) as its history.
        """
        return self._change(lead, lambda c: lead_rules.convert(c, self._crm.today()))

    @guarded("update", "contact")
    def archive(self, lead: ContactRef, reason: str) -> Contact:
        """The lead is lost: status ``lost`` with *reason*; a contact that is only a lead
        is archived as well (hidden from lists and searches, kept in the store)."""
        crm = self._crm
        today = crm.today()

        def lose(c: Contact) -> Contact:
            lost = lead_rules.lose(c, today, reason)
            if {r.value for r in lost.relationships} == {"lead"}:
                crm.require("archive", "contact", c.id)
                lost = attrs.evolve(lost, archived_at=crm.now(), archive_reason=reason)
            return lost

        return self._change(lead, lose)

    @guarded("read", "contact")
    def all(self, *, include_closed: bool = False) -> ContactList:
        """Every lead the actor may see (archived ones included when closed ones are asked for).

        A :class:`crmkit.frames.ContactList`: a list with a table in Jupyter and ``to_pandas()``.
        """
        crm = self._crm
        statuses = frozenset(LEAD_STATUSES) if include_closed else OPEN_LEAD_STATUSES
        where = SummaryFilter(lead_statuses=statuses, include_archived=include_closed)
        found = crm.store.summaries(where, scope=crm.scope())
        return ContactList(crm._show(crm.store.get_contact(s.id)) for s in found)

    @guarded("read", "contact")
    def metrics(self) -> dict[str, Any]:
        """Conversion rate, median days to conversion and leads by source, over every lead."""
        contacts = self.all(include_closed=True)
        return {
            "conversion_rate": lead_rules.conversion_rate(contacts),
            "median_days_to_conversion": lead_rules.median_days_to_conversion(contacts),
            "by_source": lead_rules.leads_by_source(contacts),
        }


# --------------------------------------------------------------------------- bounces


class Bounces:
    """``crm.bounces``: record returned mail and mark it processed."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @guarded("update", "contact")
    def record(
        self,
        address: str,
        kind: str = "hard",
        *,
        at: dt.datetime | str | None = None,
        detail: str = "",
    ) -> Bounce:
        """Record a bounce for *address* (``hard`` or ``soft``) at *at* (default: now).

        A hard bounce marks the address undeliverable (``EmailAddress.bounced_at``)
        on every contact that has it, in the same transaction.
        """
        crm = self._crm
        from crmkit import search as search_rules

        bounce = Bounce(address=address, kind=kind, at=at or crm.now(), detail=detail)
        query = search_rules.Query(mode="email", value=bounce.address.lower(),
                                   include_archived=True, limit=search_rules.MAX_LIMIT)  # fmt: skip
        with crm.transaction():
            contacts = crm.store.search(query, scope=crm.scope())
            bounce = attrs.evolve(bounce, contact_ids=[c.id for c in contacts])
            stored = crm.store.add_bounce(bounce)
            crm._record("create", "bounce", stored.id, None, stored)
            if stored.kind == "hard":
                for contact in contacts:
                    emails = [
                        attrs.evolve(e, bounced_at=e.bounced_at or stored.at)
                        if e.address.lower() == stored.address.lower()
                        else e
                        for e in contact.emails
                    ]
                    crm.contacts.update(attrs.evolve(contact, emails=emails))
        return stored

    @guarded("update", "contact")
    def mark_processed(self, bounce: Bounce | str) -> Bounce:
        """Mark a bounce as handled (now, by the actor); it leaves the worklist."""
        crm = self._crm
        key = bounce.id if isinstance(bounce, Bounce) else bounce
        with crm.transaction():
            current = crm.store.get_bounce(key)
            if isinstance(bounce, Bounce) and bounce.version != current.version:
                current = attrs.evolve(current, version=bounce.version)
            stored = crm.store.update_bounce(
                attrs.evolve(current, processed_at=crm.now(), processed_by=crm.actor.id)
            )
            crm._record("update", "bounce", stored.id, current, stored)
        return stored

    @guarded("read", "contact")
    def open(self) -> list[Bounce]:
        """Bounces not processed yet, oldest first."""
        return list(self._crm.store.iter_bounces(processed=False))

    @guarded("read", "contact")
    def of(self, address: str) -> list[Bounce]:
        """Every bounce recorded for *address*, oldest first."""
        if not isinstance(address, str):
            raise ValidationError.single(
                "address", "value.type", expected="str", actual=type(address).__name__
            )
        return list(self._crm.store.iter_bounces(address=address.strip()))


__all__ = [
    "BUILTIN_SOURCES",
    "Bounces",
    "CheckReport",
    "Leads",
    "WorklistRequest",
    "WorklistSource",
    "build_worklist",
    "run_check",
]
