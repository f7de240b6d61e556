"""The consent ledger and the may-I-contact decision — pure, with the legal sources.

Consent is never an editable flag.  It is an append-only ledger of
:class:`ConsentEvent` values per contact, purpose (``newsletter``,
``email_marketing``, ``phone_marketing``, ``events`` … any lower-case name)
and contact point (the e-mail address or phone number it was given for);
:func:`state` derives the current state from the events.  Each event keeps
its proof: when, over which channel, from which source, who recorded it,
and the version and SHA-256 of the consent text shown (Art. 7(1) GDPR: the
controller must prove consent; BGH I ZR 164/09: every consent documented,
stored and printable).

:func:`may_contact` decides whether a contact may be approached for a
purpose over a channel, as policy data with sources (§7 UWG, Art. 21 and
18 GDPR), and explains the decision in one sentence in English and German.
**This is not legal advice**; the rules encode the cited sources as of
January 2026 (see ``docs/privacy.md``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from crmkit import normalize
from crmkit.errors import ValidationError
from crmkit.ids import new_id
from crmkit.messages import Lang, render
from crmkit.model import _convert

#: Purposes crmkit knows; any other lower-case name is allowed too.
PURPOSES: Final[tuple[str, ...]] = ("newsletter", "email_marketing", "phone_marketing", "events")
#: What can happen to a consent.  ``objected`` (Art. 21) and ``sale_notice``
#: (an address taken in a sale with the opt-out notice of §7(3) UWG) are facts
#: the decision needs besides consent proper.  ``sent`` and ``send_failed``
#: document a provider's delivery of a request or reminder (proof that the
#: request itself went out, or that it could not be delivered); they do not
#: change the state.
EVENT_KINDS: Final[tuple[str, ...]] = (
    "requested",
    "reminded",
    "granted",
    "declined",
    "withdrawn",
    "expired",
    "objected",
    "sale_notice",
    "used",
    "no_response",
    "decided",
    "sent",
    "send_failed",
)
#: Kinds that set the state of a consent (the others are context).
STATE_KINDS: Final[frozenset[str]] = frozenset(
    {"requested", "granted", "declined", "withdrawn", "expired", "no_response"}
)
#: What may be decided about a case that ended without response.
NO_RESPONSE_DECISIONS: Final[tuple[str, ...]] = ("follow_up_again", "restart_later", "clean_up")
CHANNELS: Final[tuple[str, ...]] = ("email", "phone", "letter", "sms", "fax")
#: Unused marketing consent older than this is not used silently (courts: 1.5–4 years).
DEFAULT_STALE_AFTER: Final = dt.timedelta(days=730)

_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _name(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _convert.type_error(field, "str", value)
    name = value.strip().lower().replace("-", "_").replace(" ", "_")
    if not _NAME_RE.match(name):
        raise ValidationError.single(field, "value.invalid", value=value, reason="not a name")
    return name


def _purpose(value: object) -> str:
    return _name("purpose", value)


def _kind(value: object) -> str:
    if value not in EVENT_KINDS:
        raise ValidationError.single(
            "kind", "value.choice", value=value, choices=", ".join(EVENT_KINDS)
        )
    return str(value)


def contact_point(value: object) -> str | None:
    """The canonical contact point: a lower-case e-mail address or an E.164 number."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _convert.type_error("contact_point", "str", value)
    if "@" in value:
        return normalize.email(value, field="contact_point").lower()
    return normalize.phone(value, field="contact_point")


def _at(value: object) -> dt.datetime:
    result = _convert.utc_datetime("at", value)
    if result is None:
        raise ValidationError.single("at", "value.required")
    return result


def _recorded_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("recorded_at", value)


def _id(value: object) -> str:
    return _convert.identifier("id", value)


def _contact_id(value: object) -> str:
    return _convert.identifier("contact_id", value)


def _line(value: object) -> str:
    return _convert.text("text", value, max_length=500)


def _sha(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValidationError.single(
            "text_sha256", "value.invalid", value=value, reason="not a SHA-256 in hex"
        )
    return value


def _optional_line(value: object) -> str | None:
    return _convert.optional_text("text", value, max_length=500)


def text_sha256(text: str) -> str:
    """The SHA-256 (hex) of a consent text exactly as it was shown (NFC, ``\\n`` line ends)."""
    cleaned = normalize.multiline(text, field="text")
    return hashlib.sha256(cleaned.encode("utf-8")).hexdigest()


@attrs.frozen(kw_only=True)
class ConsentEvent:
    """One entry of the consent ledger, with its proof.

    ``channel`` is how it came in (``web_form``, ``survey``, ``phone``,
    ``paper``, ``email`` …), ``source`` where (a form's URL, a survey id, the
    call), ``recorded_by`` who entered it.  ``text_version`` and
    ``text_sha256`` identify the consent text shown; ``request_id`` ties a
    double opt-in confirmation to its request; ``ip`` and ``user_agent`` are
    stored as the caller gives them.
    """

    id: str = attrs.field(factory=new_id, converter=_id)
    contact_id: str = attrs.field(converter=_contact_id)
    purpose: str = attrs.field(converter=_purpose)
    contact_point: str | None = attrs.field(default=None, converter=contact_point)
    kind: str = attrs.field(converter=_kind)
    at: dt.datetime = attrs.field(converter=_at)
    recorded_at: dt.datetime | None = attrs.field(default=None, converter=_recorded_at)
    channel: str = attrs.field(default="", converter=_line)
    source: str = attrs.field(default="", converter=_line)
    recorded_by: str = attrs.field(default="", converter=_line)
    text_version: str | None = attrs.field(default=None, converter=_optional_line)
    text_sha256: str | None = attrs.field(default=None, converter=_sha)
    request_id: str | None = attrs.field(default=None, converter=_optional_line)
    ip: str | None = attrs.field(default=None, converter=_optional_line)
    user_agent: str | None = attrs.field(default=None, converter=_optional_line)
    note: str = attrs.field(default="", converter=_line)

    def __attrs_post_init__(self) -> None:
        if self.kind == "granted" and not (self.channel and self.source):
            raise ValidationError.single("source", "consent.proof_required", kind=self.kind)


@attrs.frozen(kw_only=True)
class ConsentState:
    """The state of one consent, derived from its events.

    ``status`` is ``none`` (never asked), ``requested``, ``granted``,
    ``declined``, ``withdrawn`` or ``expired``; ``since`` when it got there;
    ``granted_at`` and ``last_used`` drive the staleness rule.
    """

    purpose: str
    contact_point: str | None
    status: str = "none"
    since: dt.datetime | None = None
    granted_at: dt.datetime | None = None
    last_used: dt.datetime | None = None
    reminders: int = 0
    events: tuple[ConsentEvent, ...] = ()

    def stale(self, today: dt.date, after: dt.timedelta = DEFAULT_STALE_AFTER) -> bool:
        """True for a granted consent unused (and not renewed) for longer than *after*."""
        if self.status != "granted":
            return False
        last = max(m for m in (self.granted_at, self.last_used) if m is not None)
        return today - last.date() > after


def _order(events: Iterable[ConsentEvent]) -> list[ConsentEvent]:
    return sorted(events, key=lambda e: (e.at, e.recorded_at or e.at))


def state(
    events: Iterable[ConsentEvent], purpose: str, contact_point_: str | None = None
) -> ConsentState:
    """The current state of the consent for *purpose* (and, if given, that contact point).

    A consent given for one e-mail address does not cover another: with a
    *contact_point*, only events for it (or for no particular point) count.
    """
    point = contact_point(contact_point_)
    relevant = [
        e
        for e in _order(events)
        if e.purpose == purpose and (point is None or e.contact_point in (None, point))
    ]
    status, since, granted, used, reminders = "none", None, None, None, 0
    for e in relevant:
        if e.kind in STATE_KINDS:
            status, since = e.kind, e.at
            if e.kind == "granted":
                granted, used = e.at, None
            if e.kind == "requested":
                reminders = 0
        elif e.kind == "reminded":
            reminders += 1
        elif e.kind == "used" and status == "granted":
            used = e.at
    return ConsentState(
        purpose=purpose,
        contact_point=point,
        status=status,
        since=since,
        granted_at=granted if status == "granted" else None,
        last_used=used,
        reminders=reminders,
        events=tuple(relevant),
    )


def _days(value: object) -> tuple[int, ...]:
    items = _convert.sequence("remind_after_days", value)
    days = tuple(
        _convert.non_negative_int(f"remind_after_days.{i}", d) for i, d in enumerate(items)
    )
    if list(days) != sorted(set(days)):
        raise ValidationError.single(
            "remind_after_days", "value.invalid", value=value, reason="not increasing"
        )
    return days


def _close_after(value: object) -> int:
    return _convert.non_negative_int("close_after_days", value)


@attrs.frozen(kw_only=True)
class ClarificationPolicy:
    """The reminder schedule of a consent request, in days after the request.

    Defaults: reminders after 14 and 28 days, closed as "no response" after
    42.  ``stale_after`` is how long a granted consent may go unused before
    it is re-confirmed.
    """

    remind_after_days: tuple[int, ...] = attrs.field(default=(14, 28), converter=_days)
    close_after_days: int = attrs.field(default=42, converter=_close_after)
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER

    def __attrs_post_init__(self) -> None:
        if self.remind_after_days and self.close_after_days <= self.remind_after_days[-1]:
            raise ValidationError.single(
                "close_after_days", "value.invalid", value=self.close_after_days,
                reason="must come after the last reminder",
            )  # fmt: skip


@attrs.frozen(kw_only=True)
class Case:
    """A consent request and where it stands.

    ``stage`` is ``open`` (waiting for an answer), ``granted``,
    ``declined``, ``no_response`` (closed without answer: a decision is
    needed) or ``decided`` (the decision after no response: ``decision``).
    ``next_action`` is ``remind`` or ``close`` with its ``due`` day while open.
    """

    contact_id: str
    purpose: str
    request_id: str | None
    requested_at: dt.datetime
    stage: str
    reminders: int = 0
    due: dt.date | None = None
    next_action: str | None = None
    decision: str | None = None
    ended_at: dt.datetime | None = None


def case(
    events: Iterable[ConsentEvent], purpose: str, policy: ClarificationPolicy | None = None
) -> Case | None:
    """The latest consent request for *purpose* in *events* and where it stands (or ``None``)."""
    policy = policy or ClarificationPolicy()
    ordered = [e for e in _order(events) if e.purpose == purpose]
    start = next((i for i in range(len(ordered) - 1, -1, -1)
                  if ordered[i].kind == "requested"), None)  # fmt: skip
    if start is None:
        return None
    request = ordered[start]
    stage, reminders, ended, decision = "open", 0, None, None
    for e in ordered[start + 1 :]:
        if e.kind == "reminded":
            reminders += 1
        elif e.kind in ("granted", "declined", "no_response") and stage == "open":
            stage, ended = e.kind, e.at
        elif e.kind == "decided" and stage == "no_response":
            stage, decision, ended = "decided", e.note or None, e.at
        elif e.kind == "withdrawn" and stage == "granted":
            stage, ended = "declined", e.at
    due, action = None, None
    day0 = request.at.date()
    if stage == "open":
        pending = policy.remind_after_days[reminders:]
        if pending:
            due, action = day0 + dt.timedelta(days=pending[0]), "remind"
        else:
            due, action = day0 + dt.timedelta(days=policy.close_after_days), "close"
    return Case(contact_id=request.contact_id, purpose=purpose, request_id=request.request_id,
                requested_at=request.at, stage=stage, reminders=reminders, due=due,
                next_action=action, decision=decision, ended_at=ended)  # fmt: skip


def objected(events: Iterable[ConsentEvent]) -> ConsentEvent | None:
    """The Art. 21 objection to direct marketing in *events*, if any (it never lapses)."""
    return next((e for e in _order(events) if e.kind == "objected"), None)


@attrs.frozen(kw_only=True)
class ContactDecision:
    """The answer of :func:`may_contact`, with the rule behind it."""

    allowed: bool
    code: str
    legal_basis: str
    params: Mapping[str, Any] = attrs.field(factory=dict)
    until: dt.date | None = None

    def reason(self, lang: Lang = "en") -> str:
        """The decision in one sentence, in *lang*."""
        return render(self.code, lang, **self.params)

    def __bool__(self) -> bool:
        return self.allowed


def may_contact(
    *,
    purpose: str,
    channel: str,
    today: dt.date,
    events: Iterable[ConsentEvent],
    contact_point_: str | None = None,
    business: bool = False,
    existing_customer: bool = False,
    similar_goods: bool = False,
    restricted: bool = False,
    stale_after: dt.timedelta = DEFAULT_STALE_AFTER,
) -> ContactDecision:
    """May this contact be approached for *purpose* (advertising) over *channel*?

    * a restricted contact (Art. 18 GDPR) may only be stored;
    * an objection to direct marketing (Art. 21(2)/(3) GDPR) blocks all of it;
    * e-mail, SMS and fax need prior express consent (§7(2) Nr. 2 UWG), except
      the existing-customer exception of §7(3) UWG for e-mail: the address
      came from a sale with the opt-out notice (a ``sale_notice`` event), it
      advertises own similar goods (*similar_goods*) and there is no
      objection;
    * telephone needs prior express consent from consumers and at least
      presumed consent from other market participants (§7(2) Nr. 1 UWG) —
      with *business* true, a documented consent or presumed consent
      (``granted`` with channel ``presumed``) suffices;
    * letters are allowed on legitimate interest (Art. 6(1)(f)) unless objected;
    * a granted consent unused for longer than *stale_after* is not used
      silently but re-confirmed first.

    Not legal advice.
    """
    events = list(events)
    point = contact_point(contact_point_)
    channel = _name("channel", channel)
    if restricted:
        return ContactDecision(
            allowed=False, code="consent.no.restricted", legal_basis="Art. 18 GDPR"
        )
    objection = objected(events)
    if objection is not None:
        return ContactDecision(
            allowed=False,
            code="consent.no.objected",
            legal_basis="Art. 21(3) GDPR",
            params={"date": objection.at.date().isoformat()},
        )
    if channel == "letter":
        return ContactDecision(
            allowed=True, code="consent.yes.letter", legal_basis="Art. 6(1)(f) GDPR"
        )
    current = state(events, purpose, point)
    params: dict[str, Any] = {"purpose": purpose, "channel": channel}
    if current.status == "granted":
        if current.stale(today, stale_after):
            last = max(m for m in (current.granted_at, current.last_used) if m is not None)
            return ContactDecision(
                allowed=False, code="consent.no.stale",
                legal_basis="§7 UWG; BGH III ZR 196/17; LG München I 17 HK O 138/10",
                params={**params, "date": last.date().isoformat()},
            )  # fmt: skip
        basis = "Art. 6(1)(a) GDPR; §7(2) UWG"
        presumed = current.events and current.events[-1].channel == "presumed"
        if presumed and not (channel == "phone" and business):
            return ContactDecision(allowed=False, code="consent.no.presumed_only",
                                   legal_basis="§7(2) Nr. 1 UWG", params=params)  # fmt: skip
        granted = current.granted_at or current.since
        day = granted.date().isoformat() if granted else ""
        return ContactDecision(allowed=True, code="consent.yes.granted", legal_basis=basis,
                               params={**params, "date": day})  # fmt: skip
    if current.status in ("declined", "withdrawn"):
        return ContactDecision(allowed=False, code=f"consent.no.{current.status}",
                               legal_basis="Art. 7(3) GDPR; §7(2) UWG", params=params)  # fmt: skip
    if channel == "email" and existing_customer and similar_goods:
        notice = next(
            (e for e in _order(events)
             if e.kind == "sale_notice" and (point is None or e.contact_point in (None, point))),
            None,
        )  # fmt: skip
        if notice is not None:
            return ContactDecision(allowed=True, code="consent.yes.customer_exception",
                                   legal_basis="§7(3) UWG", params=params)  # fmt: skip
    code = {
        "phone": "consent.no.phone_business" if business else "consent.no.phone_consumer",
        "email": "consent.no.email",
    }.get(channel, "consent.no.email")
    basis = "§7(2) Nr. 1 UWG" if channel == "phone" else "§7(2) Nr. 2 UWG"
    return ContactDecision(allowed=False, code=code, legal_basis=basis, params=params)


def evidence(contact_id: str, purpose: str, events: Iterable[ConsentEvent]) -> dict[str, Any]:
    """A self-contained evidence bundle: the current state and every event with its proof."""
    from crmkit.serialize import to_dict

    relevant = [e for e in _order(events) if e.purpose == purpose or e.kind == "objected"]
    current = state(relevant, purpose)
    return {
        "contact_id": contact_id,
        "purpose": purpose,
        "status": current.status,
        "since": current.since.isoformat() if current.since else None,
        "events": [to_dict(e) for e in relevant],
        "digest": hashlib.sha256(
            json.dumps([to_dict(e) for e in relevant], sort_keys=True).encode()
        ).hexdigest(),
    }


def evidence_text(bundle: Mapping[str, Any], lang: Lang = "en") -> str:
    """The evidence bundle as readable text (for printing: BGH I ZR 164/09)."""
    lines = [
        render(
            "consent.evidence.title",
            lang,
            purpose=bundle["purpose"],
            contact=bundle["contact_id"],
            status=bundle["status"],
        ),
    ]
    for e in bundle["events"]:
        proof = ", ".join(
            f"{k}={e[k]}"
            for k in ("channel", "source", "recorded_by", "text_version", "text_sha256",
                      "request_id", "ip", "user_agent", "contact_point")
            if e.get(k)
        )  # fmt: skip
        lines.append(f"- {e['at']} {e['kind']}: {proof}")
    lines.append(f"SHA-256: {bundle['digest']}")
    return "\n".join(lines)


__all__ = [
    "CHANNELS",
    "DEFAULT_STALE_AFTER",
    "EVENT_KINDS",
    "NO_RESPONSE_DECISIONS",
    "PURPOSES",
    "STATE_KINDS",
    "Case",
    "ClarificationPolicy",
    "ConsentEvent",
    "ConsentState",
    "ContactDecision",
    "case",
    "contact_point",
    "evidence",
    "evidence_text",
    "may_contact",
    "objected",
    "state",
    "text_sha256",
]
