"""Where the survey stands: requests sent, answered, reminded, bounced; and the worklist source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from crmkit.errors import NotFoundError
from crmkit.summary import summarize
from crmkit.worklist import WorkItem, item_for
from crmkit_survey.survey import deliveries

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.cockpit import WorklistRequest
    from crmkit.crm import CRM


@attrs.frozen(kw_only=True)
class SurveyReport:
    """Counts over every request a provider mailed (of one purpose, if given).

    ``requests`` cases started; ``sent`` requests whose first mail went
    out; ``reminders`` reminder mails sent; ``bounced`` requests whose last
    delivery failed; ``granted``, ``declined``, ``withdrawn`` answers;
    ``open`` still waiting; ``no_response`` closed without an answer.
    """

    purpose: str | None
    requests: int = 0
    sent: int = 0
    reminders: int = 0
    bounced: int = 0
    granted: int = 0
    declined: int = 0
    withdrawn: int = 0
    open: int = 0
    no_response: int = 0

    @property
    def answered(self) -> int:
        """Requests with an answer (granted or declined)."""
        return self.granted + self.declined

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        out = {k: v for k, v in attrs.asdict(self).items() if isinstance(v, int)}
        out["answered"] = self.answered
        return out


def report(crm: CRM, purpose: str | None = None) -> SurveyReport:
    """Count the mailed requests in the ledger (the actor needs read access to consent)."""
    counts = dict.fromkeys(
        ("requests", "sent", "reminders", "bounced", "granted", "declined", "withdrawn",
         "open", "no_response"), 0,
    )  # fmt: skip
    seen: set[str | None] = set()  # a merged contact's events also count for the survivor
    for contact_id in crm.store.consent_contacts():
        try:
            events = crm.consents.events(contact_id)
        except NotFoundError:
            continue
        requests = [e for e in events if e.kind == "requested"
                    and (purpose is None or e.purpose == purpose)]  # fmt: skip
        for request in requests:
            if request.request_id in seen:
                continue
            seen.add(request.request_id)
            mails = deliveries(events, request.request_id)
            if not mails:
                continue  # not mailed by a provider
            related = [e for e in events if e.request_id == request.request_id]
            kinds = [e.kind for e in related]
            counts["requests"] += 1
            counts["sent"] += any(m.kind == "sent" and m.note == "request" for m in mails)
            counts["reminders"] += sum(m.kind == "sent" and m.note == "reminder" for m in mails)
            counts["bounced"] += mails[-1].kind == "send_failed"
            for kind in ("granted", "declined", "withdrawn", "no_response"):
                counts[kind] += kind in kinds
            counts["open"] += not any(k in kinds for k in ("granted", "declined", "no_response"))
    return SurveyReport(purpose=purpose, **counts)


def failed_deliveries(crm: CRM, request: WorklistRequest) -> Iterator[WorkItem]:
    """Worklist source ``survey``: open requests whose last mail could not be delivered."""
    if not crm.allowed("read", "consent"):
        return
    for found in crm.consents.cases(stage="open"):
        events = crm.consents.events(found.contact_id)
        mails = deliveries(events, found.request_id)
        if not mails or mails[-1].kind != "send_failed":
            continue
        try:
            summary = summarize(crm.store.get_contact(found.contact_id, scope=crm.scope()))
        except NotFoundError:
            continue
        failed = mails[-1]
        yield item_for(
            summary, "survey.send_failed", "warning", due=failed.at.date(),
            action="action.survey_check_address", source="survey", ref=failed.id,
            purpose=found.purpose, address=failed.contact_point or "—",
            error=failed.note or failed.source,
        )  # fmt: skip


__all__ = ["SurveyReport", "failed_deliveries", "report"]
