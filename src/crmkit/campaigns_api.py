"""``crm.campaigns``: frozen campaign lists, their responses and their export.

>>> import datetime as dt, crmkit
>>> from crmkit import Segment
>>> crm = crmkit.open("memory://", load_entry_points=False,
...                   clock=lambda: dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC))
>>> max_ = crm.contacts.add(crmkit.Person(last_name="Mustermann", emails=["max@muster.de"]))
>>> _ = crm.contacts.add(crmkit.Person(last_name="Ohnemail"))
>>> _ = crm.consents.record(max_, "newsletter", "granted", channel="web_form", source="form")
>>> herbst = crm.campaigns.create("Herbst", Segment(kind="person"), "newsletter", "email")
>>> [m.number for m in herbst.included], [m.reason() for m in herbst.excluded]
(['C00001'], ['no: there is no e-mail address for an e-mail campaign'])

Every write is one transaction with an audit record.  An export re-checks
the list first (:meth:`Campaigns.export_csv`): whoever withdrew or objected
since the list was frozen is dropped and reported, never exported.
"""

from __future__ import annotations

import builtins
import csv
import datetime as dt
import io
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from crmkit._guard import guarded
from crmkit.campaigns import (
    Campaign,
    CampaignMember,
    CampaignResponse,
    Decision,
    decide_member,
    recheck,
    unsubscribe_kind,
)
from crmkit.errors import NotFoundError, ValidationError
from crmkit.messages import Lang
from crmkit.model import Company, Contact, Person, Relationship
from crmkit.segments import Segment
from crmkit.serialize import from_dict, to_dict
from crmkit.store import record_store
from crmkit.summary import summarize

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

#: The record kind campaigns are kept under.
RECORD_KIND = "campaign"
#: The columns of :meth:`Campaigns.export_csv` (German headers for mailing tools).
EXPORT_COLUMNS = ("Kundennummer", "Name", "Kontakt", "Kanal", "Zweck", "Rechtsgrundlage")


@attrs.frozen(kw_only=True)
class CampaignExport:
    """What :meth:`Campaigns.export_csv` did: the rows written and who was dropped first."""

    campaign: Campaign
    rows: int
    #: Members the automatic re-check dropped just before the export.
    dropped: tuple[CampaignMember, ...]
    #: The CSV text when no target was given.
    text: str = ""


class Campaigns:
    """``crm.campaigns``: target lists checked against consent, responses, export."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    # -- deciding ---------------------------------------------------------------------------
    def _decide(
        self, contact: Contact, campaign: Campaign, today: dt.date, similar_goods: bool
    ) -> tuple[str | None, Decision]:
        crm = self._crm
        business = isinstance(contact, Company) or (
            isinstance(contact, Person)
            and any(a.is_active(today) for a in crm.store.affiliations_of_person(contact.id))
        )
        return decide_member(
            contact,
            purpose=campaign.purpose,
            channel=campaign.channel,
            today=today,
            events=crm.consents._events(contact),
            business=business,
            existing_customer=Relationship.CUSTOMER in contact.relationships,
            similar_goods=similar_goods,
        )

    def _save(self, campaign: Campaign, action: str, reason: str = "") -> None:
        crm = self._crm
        record_store(crm.store).put_record(RECORD_KIND, campaign.id, to_dict(campaign))
        crm._record(action, "campaign", campaign.id, reason=reason)

    @guarded("create", "campaign")
    def create(
        self,
        name: str,
        segment: Segment | str,
        purpose: str,
        channel: str,
        today: dt.date | None = None,
        *,
        similar_goods: bool = False,
    ) -> Campaign:
        """Freeze the list of *segment* (or a saved segment's name) for *purpose* over *channel*.

        Every member is decided (:func:`crmkit.campaigns.decide_member`) and
        kept with the reason, the legal basis and the rules version.
        *similar_goods*: the campaign advertises own similar goods (the
        existing-customer exception of §7(3) UWG may apply).  One transaction.
        """
        crm = self._crm
        crm.require("read", "consent")
        day = today or crm.today()
        chosen = crm.segments._resolve(segment)
        draft = Campaign(name=name, purpose=purpose, channel=channel, segment=chosen,
                         created_on=day, created_by=crm.actor.id,
                         similar_goods=similar_goods)  # fmt: skip
        record_store(crm.store)
        members: list[CampaignMember] = []
        for contact_id in crm.segments.ids(chosen):
            contact = crm.store.get_contact(contact_id)
            point, decision = self._decide(contact, draft, day, similar_goods)
            members.append(
                CampaignMember(
                    contact_id=contact.id,
                    number=contact.number or "",
                    name=summarize(contact).name,
                    contact_point=point,
                    decision=decision,
                )
            )
        campaign = attrs.evolve(draft, members=tuple(members))
        with crm.transaction():
            included = len(campaign.included)
            self._save(campaign, "create", f"{campaign.name}: {included}/{len(members)} included")
        return campaign

    # -- reading ----------------------------------------------------------------------------
    @guarded("read", "campaign")
    def get(self, campaign: Campaign | str) -> Campaign:
        """The stored campaign (by id, or the campaign itself reloaded)."""
        key = campaign.id if isinstance(campaign, Campaign) else campaign
        if not isinstance(key, str):
            raise ValidationError.single(
                "campaign", "value.type", expected="Campaign or id", actual=type(key).__name__
            )
        data = record_store(self._crm.store).get_record(RECORD_KIND, key)
        return from_dict(Campaign, data)

    @guarded("read", "campaign")
    def list(self) -> builtins.list[Campaign]:
        """Every campaign, newest first (by day, then name)."""
        found = [
            from_dict(Campaign, data)
            for _, data in record_store(self._crm.store).iter_records(RECORD_KIND)
        ]
        return sorted(found, key=lambda c: (-c.created_on.toordinal(), c.name))

    # -- responses -------------------------------------------------------------------------
    @guarded("create", "campaign")
    def respond(
        self,
        campaign: Campaign | str,
        contact: Contact | str,
        kind: str,
        *,
        on: dt.date | None = None,
        note: str = "",
    ) -> Campaign:
        """Record a response of a member: ``reacted``, ``became_lead``, ``became_customer``
        or ``unsubscribed``.

        An unsubscribe records at once, in the same transaction, a withdrawal
        of the consent (if it was granted) or an objection to direct
        marketing (Art. 21) in the consent ledger.
        """
        crm = self._crm
        with crm.transaction():
            current = self.get(campaign)
            target = crm._load(contact)
            if current.member(target.id) is None:
                raise ValidationError.single(
                    "contact", "value.invalid", value=target.number,
                    reason=f"not a member of the campaign {current.name!r}",
                )  # fmt: skip
            day = on or crm.today()
            event_id = None
            response = CampaignResponse(contact_id=target.id, kind=kind, on=day, note=note)
            if response.kind == "unsubscribed":
                consent_kind = unsubscribe_kind(crm.consents._events(target), current.purpose)
                purpose = current.purpose if consent_kind == "withdrawn" else "direct_marketing"
                event = crm.consents.record(
                    target, purpose, consent_kind, channel=current.channel,
                    source=f"campaign:{current.id}", note=f"unsubscribed from {current.name}",
                )  # fmt: skip
                event_id = event.id
            response = attrs.evolve(response, consent_event_id=event_id)
            updated = attrs.evolve(current, responses=(*current.responses, response))
            self._save(updated, "update", f"{target.number}: {response.kind}")
        return updated

    # -- re-check and export ----------------------------------------------------------------
    def _recheck(
        self, campaign: Campaign, today: dt.date
    ) -> tuple[Campaign, builtins.list[CampaignMember]]:
        crm = self._crm
        decisions: dict[str, Decision] = {}
        for m in campaign.included:
            try:
                contact = crm._load(m.contact_id)
            except NotFoundError:
                continue
            _, decision = self._decide(contact, campaign, today, campaign.similar_goods)
            decisions[m.contact_id] = decision
        updated, dropped = recheck(campaign, decisions, today)
        with crm.transaction():
            reason = f"re-check: {len(dropped)} dropped"
            self._save(updated, "update", reason)
        return updated, dropped

    @guarded("create", "campaign")
    def recheck(
        self, campaign: Campaign | str, today: dt.date | None = None
    ) -> tuple[Campaign, builtins.list[CampaignMember]]:
        """Decide the included members again; drop (and report) who may no longer be contacted.

        Returns the updated campaign and the members dropped now.
        """
        return self._recheck(self.get(campaign), today or self._crm.today())

    @guarded("export", "campaign")
    def export_csv(
        self,
        campaign: Campaign | str,
        target: str | os.PathLike[str] | IO[str] | None = None,
        *,
        today: dt.date | None = None,
        delimiter: str = ";",
    ) -> CampaignExport:
        """Re-check the list, then write the members still on it as CSV for a mailing tool.

        The re-check is automatic and stored: who withdrew or objected since
        the list was frozen is dropped and reported in
        :attr:`CampaignExport.dropped`, never exported.  Every cell is
        formula-safe (:func:`crmkit.exporting.safe_cell`); ``;`` and UTF-8
        with a byte-order mark for a path.  Without *target* the CSV is
        returned as :attr:`CampaignExport.text`.
        """
        from crmkit.exporting import safe_cell  # loads the importer: only when exporting

        crm = self._crm
        updated, dropped = self._recheck(self.get(campaign), today or crm.today())
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        rows = 0
        for m in updated.included:
            writer.writerow(
                [safe_cell(v) for v in (m.number, m.name, m.contact_point or "", updated.channel,
                                        updated.purpose, m.decision.legal_basis)]
            )  # fmt: skip
            rows += 1
        text = buffer.getvalue()
        if isinstance(target, (str, os.PathLike)):
            Path(target).write_text(text, encoding="utf-8-sig", newline="")
        elif target is not None:
            target.write(text)
        with crm.transaction():
            crm._record("export", "campaign", updated.id, reason=f"{rows} rows")
        shown = text if target is None else ""
        return CampaignExport(campaign=updated, rows=rows, dropped=tuple(dropped), text=shown)

    def _forget(self, contact_id: str) -> None:
        """Blank an erased contact's name, contact point and reason details in every campaign.

        Called by the erasure path inside its transaction; the member row stays
        (with the number, like the tombstone) so the counts still add up.
        """
        crm = self._crm
        if "records" not in crm.store.capabilities:
            return
        records = record_store(crm.store)
        for key, data in records.iter_records(RECORD_KIND):
            campaign = from_dict(Campaign, data)
            if campaign.member(contact_id) is None:
                continue
            members = tuple(
                attrs.evolve(
                    m,
                    name="",
                    contact_point=None,
                    decision=attrs.evolve(m.decision, params={}),
                    dropped=attrs.evolve(m.dropped, params={}) if m.dropped else None,
                )
                if m.contact_id == contact_id
                else m
                for m in campaign.members
            )
            responses = tuple(
                attrs.evolve(r, note="") if r.contact_id == contact_id else r
                for r in campaign.responses
            )
            updated = attrs.evolve(campaign, members=members, responses=responses)
            records.put_record(RECORD_KIND, key, to_dict(updated))

    @guarded("read", "campaign")
    def report(self, campaign: Campaign | str, lang: Lang = "en") -> builtins.list[dict[str, str]]:
        """One row per member: number, name, on the list or not, and why (in *lang*)."""
        found = self.get(campaign)
        return [
            {
                "number": m.number,
                "name": m.name,
                "included": "yes" if m.included else "no",
                "reason": m.reason(lang),
                "legal_basis": (m.dropped or m.decision).legal_basis,
                "dropped_on": m.dropped_on.isoformat() if m.dropped_on else "",
            }
            for m in found.members
        ]


__all__ = ["EXPORT_COLUMNS", "RECORD_KIND", "CampaignExport", "Campaigns"]
