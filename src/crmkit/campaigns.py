"""Campaign lists: a frozen target list with the reason for every inclusion and exclusion.

A campaign is created from a segment for one purpose and channel.  Every
member is decided with :func:`decide_member` — :func:`crmkit.consent.may_contact`
plus the channel's reachability (an e-mail campaign needs an address that
did not bounce) — and the decision is kept with its legal basis and the
version of the decision rules (:data:`RULES_VERSION`), so that an audit can
later see why each person was or was not contacted.

Before a list is used again it is re-checked (:func:`recheck`): whoever
withdrew, objected or was restricted since is dropped, with the reason and
the day.  Everything here is pure: the facade (``crm.campaigns``) loads the
contacts and the ledger and stores the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from crmkit.consent import CHANNELS, ConsentEvent, ContactDecision, may_contact, state
from crmkit.errors import ValidationError
from crmkit.ids import new_id
from crmkit.messages import Lang, render
from crmkit.model import Contact, _convert
from crmkit.segments import Segment

#: The version of the decision rules recorded with every campaign: the rules of
#: :func:`crmkit.consent.may_contact` (sources as of January 2026) and the
#: reachability rules below.
RULES_VERSION: Final = "crmkit-consent-2026-01"
#: What can be recorded about a member after the campaign went out.
RESPONSE_KINDS: Final[tuple[str, ...]] = (
    "reacted",
    "became_lead",
    "became_customer",
    "unsubscribed",
)


def _name(value: object) -> str:
    out = _convert.text("name", value, max_length=200)
    if not out:
        raise ValidationError.single("name", "value.required")
    return out


def _channel(value: object) -> str:
    if value not in CHANNELS:
        raise ValidationError.single(
            "channel", "value.choice", value=value, choices=", ".join(CHANNELS)
        )
    return str(value)


def _purpose(value: object) -> str:
    out = _convert.text("purpose", value, max_length=40)
    if not out or not out.replace("_", "").isalnum() or out != out.lower():
        raise ValidationError.single(
            "purpose", "value.invalid", value=value, reason="a lower-case name such as newsletter"
        )
    return out


def _response_kind(value: object) -> str:
    if value not in RESPONSE_KINDS:
        raise ValidationError.single(
            "kind", "value.choice", value=value, choices=", ".join(RESPONSE_KINDS)
        )
    return str(value)


def _params(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _convert.type_error("params", "mapping", value)
    return {str(k): v for k, v in value.items()}


@attrs.frozen(kw_only=True)
class Decision:
    """Why a member is (or is not) on the list: a message code, its legal basis and parameters."""

    included: bool
    code: str
    legal_basis: str = ""
    params: dict[str, Any] = attrs.field(factory=dict, converter=_params)

    def reason(self, lang: Lang = "en") -> str:
        """The decision in one sentence, in *lang*."""
        return render(self.code, lang, **self.params)


@attrs.frozen(kw_only=True)
class CampaignMember:
    """One contact of the segment with its decision (and, once dropped, the day)."""

    contact_id: str
    number: str
    name: str
    #: The e-mail address, phone number or postal address the campaign uses.
    contact_point: str | None = None
    #: The decision when the list was frozen.
    decision: Decision
    #: Why a re-check dropped a member that was included (``None``: never dropped).
    dropped: Decision | None = None
    #: The day of that re-check.
    dropped_on: dt.date | None = None

    @property
    def included(self) -> bool:
        """On the list now: included when frozen and not dropped since."""
        return self.decision.included and self.dropped is None

    def reason(self, lang: Lang = "en") -> str:
        """Why the member is on the list or not (the drop's reason once dropped)."""
        return (self.dropped or self.decision).reason(lang)


@attrs.frozen(kw_only=True)
class CampaignResponse:
    """What a member did after the campaign: reacted, became lead/customer, unsubscribed."""

    contact_id: str
    kind: str = attrs.field(converter=_response_kind)
    on: dt.date
    note: str = ""
    #: The consent event an unsubscribe recorded.
    consent_event_id: str | None = None


@attrs.frozen(kw_only=True)
class Campaign:
    """A frozen target list for one purpose and channel, with every decision and response."""

    id: str = attrs.field(factory=new_id)
    name: str = attrs.field(converter=_name)
    purpose: str = attrs.field(converter=_purpose)
    channel: str = attrs.field(converter=_channel)
    segment: Segment
    created_on: dt.date
    created_by: str = ""
    #: The campaign advertises own similar goods (§7(3) UWG may apply to customers).
    similar_goods: bool = False
    rules_version: str = RULES_VERSION
    members: tuple[CampaignMember, ...] = ()
    responses: tuple[CampaignResponse, ...] = ()
    #: Days of the re-checks, oldest first.
    rechecked_on: tuple[dt.date, ...] = ()

    @property
    def included(self) -> list[CampaignMember]:
        """The members on the list now."""
        return [m for m in self.members if m.included]

    @property
    def excluded(self) -> list[CampaignMember]:
        """The members left out when the list was frozen, or dropped since."""
        return [m for m in self.members if not m.included]

    def member(self, contact_id: str) -> CampaignMember | None:
        """The member with this contact id, if the contact is in the list at all."""
        return next((m for m in self.members if m.contact_id == contact_id), None)

    def _repr_html_(self) -> str:
        """The list as a table in Jupyter: every member, included or not, with the reason."""
        from crmkit._reports import html_table

        caption = (
            f"{self.name} ({self.purpose}, {self.channel}, {self.created_on.isoformat()}): "
            f"{len(self.included)} included, {len(self.excluded)} excluded"
        )
        rows = [
            (m.number, m.name, m.contact_point or "", "yes" if m.included else "no", m.reason())
            for m in self.members
        ]
        return html_table(("number", "name", "contact point", "included", "reason"), rows,
                          caption=caption)  # fmt: skip


def _reach(contact: Contact, channel: str) -> tuple[str | None, Decision | None]:
    """The contact point the channel uses, or the reason there is none."""
    if channel == "email":
        if not contact.emails:
            return None, Decision(included=False, code="campaign.no_email")
        usable = [e for e in contact.emails if not e.undeliverable]
        if not usable:
            return None, Decision(
                included=False,
                code="campaign.bounced",
                params={"address": contact.emails[0].address},
            )
        return usable[0].address, None
    if channel in ("phone", "sms", "fax"):
        if not contact.phones:
            return None, Decision(included=False, code="campaign.no_phone")
        return contact.phones[0].e164, None
    if not contact.addresses:
        return None, Decision(included=False, code="campaign.no_address")
    a = contact.addresses[0]
    return ", ".join(p for p in (a.street, f"{a.postal_code} {a.city}".strip()) if p), None


def decide_member(
    contact: Contact,
    *,
    purpose: str,
    channel: str,
    today: dt.date,
    events: Iterable[ConsentEvent],
    business: bool = False,
    existing_customer: bool = False,
    similar_goods: bool = False,
) -> tuple[str | None, Decision]:
    """The contact point and the decision for one member of a campaign.

    A restriction (Art. 18) or an objection (Art. 21) is the reason whenever
    it applies; then a missing or bounced contact point for the channel;
    otherwise the answer of :func:`crmkit.consent.may_contact` for that
    contact point.
    """
    events = list(events)
    point, unreachable = _reach(contact, channel)
    consent_point = point if channel in ("email", "phone", "sms", "fax") else None
    answer: ContactDecision = may_contact(
        purpose=purpose,
        channel=channel,
        today=today,
        events=events,
        contact_point_=consent_point,
        business=business,
        existing_customer=existing_customer,
        similar_goods=similar_goods,
        restricted=contact.restricted_at is not None,
    )
    decision = Decision(
        included=answer.allowed,
        code=answer.code,
        legal_basis=answer.legal_basis,
        params=dict(answer.params),
    )
    if answer.code in ("consent.no.restricted", "consent.no.objected"):
        return point, decision
    if unreachable is not None:
        return None, unreachable
    return point, decision


def unsubscribe_kind(events: Iterable[ConsentEvent], purpose: str) -> str:
    """What an unsubscribe records: ``withdrawn`` for a granted consent, else ``objected``.

    Someone who gave consent takes it back (Art. 7(3) GDPR); someone
    approached without consent (a letter, the existing-customer exception)
    objects to direct marketing (Art. 21(2) GDPR).
    """
    return "withdrawn" if state(events, purpose).status == "granted" else "objected"


def recheck(
    campaign: Campaign,
    decisions: Mapping[str, Decision],
    today: dt.date,
) -> tuple[Campaign, list[CampaignMember]]:
    """Drop the included members whose new decision (by contact id) is a no.

    *decisions* holds the decision made today for each included member (a
    member missing from it — erased, no longer readable — is dropped with
    ``campaign.gone``).  Returns the campaign with the re-check recorded and
    the members dropped now.
    """
    members: list[CampaignMember] = []
    dropped: list[CampaignMember] = []
    for m in campaign.members:
        if not m.included:
            members.append(m)
            continue
        new = decisions.get(m.contact_id, Decision(included=False, code="campaign.gone"))
        if new.included:
            members.append(m)
            continue
        gone = attrs.evolve(m, dropped=new, dropped_on=today)
        members.append(gone)
        dropped.append(gone)
    done = attrs.evolve(
        campaign, members=tuple(members), rechecked_on=(*campaign.rechecked_on, today)
    )
    return done, dropped


__all__ = [
    "RESPONSE_KINDS",
    "RULES_VERSION",
    "Campaign",
    "CampaignMember",
    "CampaignResponse",
    "Decision",
    "decide_member",
    "recheck",
    "unsubscribe_kind",
]
