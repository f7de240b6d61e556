"""Segments: declarative filters over contacts, evaluated in the store.

>>> from crmkit.segments import Segment
>>> customers = Segment(relationships={"customer"}, has_email=True)
>>> in_stuttgart = Segment(postal_code_prefix="70")
>>> target = (customers & in_stuttgart) | Segment(tags_any={"VIP"})
>>> Segment.from_dict(target.to_dict()) == target
True

A :class:`Segment` states every condition as data.  All conditions given on
one segment must hold; ``all_of``, ``any_of`` and ``none_of`` combine other
segments (``a & b``, ``a | b``, ``~a``).  An empty segment matches every
contact.  Archived contacts are left out by whoever evaluates a segment
unless asked for (``include_archived``); a segment itself says nothing
about archiving.

What a segment *means* is defined by :meth:`Segment.matches`, over a contact
and a :class:`SegmentContext` with what a store knows from its other tables
(the newest correspondence), the consent ledger and custom predicates.
Stores evaluate the *pushable* part (every condition except ``consent`` and
``predicates``) in their own query language; the facade evaluates the rest
in Python over the store's candidates (see :func:`store_part`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs

from crmkit import normalize
from crmkit.consent import ConsentEvent, objected, state
from crmkit.errors import ValidationError
from crmkit.model import Contact, Relationship, _convert
from crmkit.model.values import LEAD_STATUSES

#: What ``consent_status`` may ask for: a consent state, or ``objected`` (Art. 21).
CONSENT_STATUSES: Final[tuple[str, ...]] = (
    "none",
    "requested",
    "granted",
    "declined",
    "withdrawn",
    "expired",
    "no_response",
    "objected",
)
#: A custom predicate: ``predicate(contact, context) -> bool``.
Predicate = Callable[[Contact, "SegmentContext"], bool]
_KINDS: Final = ("person", "company")
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")


def _kind(value: object) -> str | None:
    if value is None or value == "":
        return None
    if value not in _KINDS:
        raise ValidationError.single("kind", "value.choice", value=value, choices="person, company")
    return str(value)


def _relationships(value: object) -> frozenset[str]:
    items = _convert.tags("relationships", value)
    known = {r.value for r in Relationship}
    for item in items:
        if item not in known:
            raise ValidationError.single(
                "relationships", "value.choice", value=item, choices=", ".join(sorted(known))
            )
    return items


def _lead_statuses(value: object) -> frozenset[str]:
    items = _convert.tags("lead_statuses", value)
    for item in items:
        if item not in LEAD_STATUSES:
            raise ValidationError.single(
                "lead_statuses", "value.choice", value=item, choices=", ".join(LEAD_STATUSES)
            )
    return items


def _tags_all(value: object) -> frozenset[str]:
    return _convert.tags("tags_all", value)


def _tags_any(value: object) -> frozenset[str]:
    return _convert.tags("tags_any", value)


def _tags_none(value: object) -> frozenset[str]:
    return _convert.tags("tags_none", value)


def _lead_sources(value: object) -> frozenset[str]:
    return _convert.tags("lead_sources", value)


def _owner(value: object) -> str | None:
    return _convert.optional_text("owner", value)


def _city(value: object) -> str | None:
    return _convert.optional_text("city", value)


def _postal_code_prefix(value: object) -> str | None:
    return _convert.optional_text("postal_code_prefix", value, max_length=20)


def _country(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _convert.type_error("country", "str", value)
    return normalize.country(value, field="country")


def _date(field: str) -> Callable[[object], dt.date | None]:
    def convert(value: object) -> dt.date | None:
        if isinstance(value, dt.datetime):
            raise _convert.type_error(field, "date", value)
        return _convert.date(field, value)

    return convert


def _created_from(value: object) -> dt.date | None:
    return _date("created_from")(value)


def _created_to(value: object) -> dt.date | None:
    return _date("created_to")(value)


def _changed_from(value: object) -> dt.date | None:
    return _date("changed_from")(value)


def _changed_to(value: object) -> dt.date | None:
    return _date("changed_to")(value)


def _last_contact_from(value: object) -> dt.date | None:
    return _date("last_contact_from")(value)


def _last_contact_to(value: object) -> dt.date | None:
    return _date("last_contact_to")(value)


def _optional_bool(field: str, value: object) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _convert.type_error(field, "bool", value)
    return value


def _has_email(value: object) -> bool | None:
    return _optional_bool("has_email", value)


def _has_phone(value: object) -> bool | None:
    return _optional_bool("has_phone", value)


def _consent(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _convert.type_error("consent", "str", value)
    if not value or not set(value) <= _NAME_CHARS or len(value) > 40:
        raise ValidationError.single(
            "consent", "value.invalid", value=value, reason="not a purpose name"
        )
    return value


def _consent_status(value: object) -> str:
    if value not in CONSENT_STATUSES:
        raise ValidationError.single(
            "consent_status", "value.choice", value=value, choices=", ".join(CONSENT_STATUSES)
        )
    return str(value)


def _predicates(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else _convert.sequence("predicates", value)
    out: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item or not set(item) <= _NAME_CHARS:
            raise ValidationError.single(
                f"predicates.{i}", "value.invalid", value=item, reason="not a predicate name"
            )
        out.append(item)
    return tuple(dict.fromkeys(out))


def _children(field: str, value: object) -> tuple[Segment, ...]:
    if value is None:
        return ()
    items = _convert.sequence(field, value)
    out: list[Segment] = []
    for i, item in enumerate(items):
        if isinstance(item, Segment):
            out.append(item)
        elif isinstance(item, Mapping):
            try:
                out.append(Segment.from_dict(item))
            except ValidationError as exc:
                raise exc.at(f"{field}.{i}") from None
        else:
            raise _convert.type_error(f"{field}.{i}", "Segment", item)
    return tuple(out)


def _all_of(value: object) -> tuple[Segment, ...]:
    return _children("all_of", value)


def _any_of(value: object) -> tuple[Segment, ...]:
    return _children("any_of", value)


def _none_of(value: object) -> tuple[Segment, ...]:
    return _children("none_of", value)


@attrs.frozen(kw_only=True)
class SegmentContext:
    """What :meth:`Segment.matches` needs besides the contact itself.

    ``last_contact`` is the newest ``occurred_at`` of the contact's
    correspondence (``None``: none); ``consent_events`` its consent ledger
    (only needed for ``consent`` conditions); ``predicates`` the custom
    predicates by name (registered through ``crmkit_register_segment_predicates``).
    """

    last_contact: dt.datetime | None = None
    consent_events: tuple[ConsentEvent, ...] = ()
    predicates: Mapping[str, Predicate] = attrs.field(factory=dict)


def _utc_day(moment: dt.datetime | None) -> dt.date | None:
    return moment.astimezone(dt.UTC).date() if moment is not None else None


def _in_range(day: dt.date | None, start: dt.date | None, end: dt.date | None) -> bool:
    if start is None and end is None:
        return True
    if day is None:
        return False
    return (start is None or day >= start) and (end is None or day <= end)


@attrs.frozen(kw_only=True)
class Segment:
    """A declarative filter over contacts; every given condition must hold.

    * ``kind`` — ``"person"`` or ``"company"``;
    * ``relationships`` — at least one of them (``customer``, ``lead`` …);
    * ``tags_all`` / ``tags_any`` / ``tags_none`` — all, at least one, none
      of these tags (exact, case-sensitive);
    * ``lead_sources`` / ``lead_statuses`` — a lead whose source / status is one of them;
    * ``owner`` — owned by this actor id;
    * ``city`` / ``postal_code_prefix`` / ``country`` — some address has
      exactly this city, a postal code starting with the prefix, this
      country (ISO code);
    * ``created_from``/``created_to``, ``changed_from``/``changed_to`` — the
      UTC day of ``created_at``/``updated_at`` lies in the range (both ends
      inclusive; an unknown stamp never matches a range);
    * ``last_contact_from``/``last_contact_to`` — the UTC day of the newest
      correspondence lies in the range (no correspondence never matches);
    * ``has_email`` / ``has_phone`` — has at least one (or none);
    * ``consent`` with ``consent_status`` (default ``granted``) — the state
      of the consent for that purpose (``objected``: an Art. 21 objection
      is on record, whatever the purpose); evaluated in Python;
    * ``predicates`` — custom predicates by name, all must hold; evaluated
      in Python;
    * ``all_of`` / ``any_of`` / ``none_of`` — every / at least one / none
      of these segments.
    """

    kind: str | None = attrs.field(default=None, converter=_kind)
    relationships: frozenset[str] = attrs.field(factory=frozenset, converter=_relationships)
    tags_all: frozenset[str] = attrs.field(factory=frozenset, converter=_tags_all)
    tags_any: frozenset[str] = attrs.field(factory=frozenset, converter=_tags_any)
    tags_none: frozenset[str] = attrs.field(factory=frozenset, converter=_tags_none)
    lead_sources: frozenset[str] = attrs.field(factory=frozenset, converter=_lead_sources)
    lead_statuses: frozenset[str] = attrs.field(factory=frozenset, converter=_lead_statuses)
    owner: str | None = attrs.field(default=None, converter=_owner)
    city: str | None = attrs.field(default=None, converter=_city)
    postal_code_prefix: str | None = attrs.field(default=None, converter=_postal_code_prefix)
    country: str | None = attrs.field(default=None, converter=_country)
    created_from: dt.date | None = attrs.field(default=None, converter=_created_from)
    created_to: dt.date | None = attrs.field(default=None, converter=_created_to)
    changed_from: dt.date | None = attrs.field(default=None, converter=_changed_from)
    changed_to: dt.date | None = attrs.field(default=None, converter=_changed_to)
    last_contact_from: dt.date | None = attrs.field(default=None, converter=_last_contact_from)
    last_contact_to: dt.date | None = attrs.field(default=None, converter=_last_contact_to)
    has_email: bool | None = attrs.field(default=None, converter=_has_email)
    has_phone: bool | None = attrs.field(default=None, converter=_has_phone)
    consent: str | None = attrs.field(default=None, converter=_consent)
    consent_status: str = attrs.field(default="granted", converter=_consent_status)
    predicates: tuple[str, ...] = attrs.field(factory=tuple, converter=_predicates)
    all_of: tuple[Segment, ...] = attrs.field(factory=tuple, converter=_all_of)
    any_of: tuple[Segment, ...] = attrs.field(factory=tuple, converter=_any_of)
    none_of: tuple[Segment, ...] = attrs.field(factory=tuple, converter=_none_of)

    def __and__(self, other: Segment) -> Segment:
        return Segment(all_of=(self, other))

    def __or__(self, other: Segment) -> Segment:
        return Segment(any_of=(self, other))

    def __invert__(self) -> Segment:
        return Segment(none_of=(self,))

    # -- meaning ---------------------------------------------------------------------------
    def matches(self, contact: Contact, context: SegmentContext | None = None) -> bool:
        """True when *contact* is in the segment (the reference every store agrees with).

        An unknown predicate name raises :class:`crmkit.ValidationError`.
        """
        ctx = context or SegmentContext()
        return self._own(contact, ctx) and all(
            (
                all(s.matches(contact, ctx) for s in self.all_of),
                not self.any_of or any(s.matches(contact, ctx) for s in self.any_of),
                not any(s.matches(contact, ctx) for s in self.none_of),
            )
        )

    def _own(self, c: Contact, ctx: SegmentContext) -> bool:
        if self.kind is not None and c.kind != self.kind:
            return False
        rels = {r.value for r in c.relationships}
        if self.relationships and not self.relationships & rels:
            return False
        if not self.tags_all <= c.tags:
            return False
        if self.tags_any and not self.tags_any & c.tags:
            return False
        if self.tags_none & c.tags:
            return False
        if self.lead_sources and (c.lead is None or c.lead.source not in self.lead_sources):
            return False
        if self.lead_statuses and (c.lead is None or c.lead.status not in self.lead_statuses):
            return False
        if self.owner is not None and c.owner != self.owner:
            return False
        if not self._address_ok(c):
            return False
        if not _in_range(_utc_day(c.created_at), self.created_from, self.created_to):
            return False
        if not _in_range(_utc_day(c.updated_at), self.changed_from, self.changed_to):
            return False
        last = _utc_day(ctx.last_contact)
        if not _in_range(last, self.last_contact_from, self.last_contact_to):
            return False
        if self.has_email is not None and bool(c.emails) != self.has_email:
            return False
        if self.has_phone is not None and bool(c.phones) != self.has_phone:
            return False
        if self.consent is not None and consent_status(ctx.consent_events, self.consent) != (
            self.consent_status
        ):
            return False
        for name in self.predicates:
            predicate = ctx.predicates.get(name)
            if predicate is None:
                raise ValidationError.single(
                    "predicates",
                    "value.choice",
                    value=name,
                    choices=", ".join(sorted(ctx.predicates)) or "—",
                )
            if not predicate(c, ctx):
                return False
        return True

    def _address_ok(self, c: Contact) -> bool:
        if self.city is None and self.postal_code_prefix is None and self.country is None:
            return True
        # Each condition may be met by a different address (as the stores evaluate it).
        if self.city is not None and not any(a.city == self.city for a in c.addresses):
            return False
        prefix = self.postal_code_prefix
        if prefix is not None and not any(a.postal_code.startswith(prefix) for a in c.addresses):
            return False
        return self.country is None or any(a.country == self.country for a in c.addresses)

    # -- shape -----------------------------------------------------------------------------
    def children(self) -> tuple[Segment, ...]:
        """The combined segments (``all_of``, ``any_of``, ``none_of``)."""
        return (*self.all_of, *self.any_of, *self.none_of)

    def pushable(self) -> bool:
        """True when a store can evaluate all of it (no ``consent``, no ``predicates``)."""
        return (
            self.consent is None
            and not self.predicates
            and all(s.pushable() for s in self.children())
        )

    def needs_last_contact(self) -> bool:
        """True when some condition asks about the newest correspondence."""
        own = self.last_contact_from is not None or self.last_contact_to is not None
        return own or any(s.needs_last_contact() for s in self.children())

    def needs_consent(self) -> bool:
        """True when some condition asks about the consent ledger."""
        return self.consent is not None or any(s.needs_consent() for s in self.children())

    def predicate_names(self) -> frozenset[str]:
        """Every custom predicate named anywhere in the segment."""
        out = set(self.predicates)
        for s in self.children():
            out |= s.predicate_names()
        return frozenset(out)

    # -- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict with only the conditions that are set."""
        out: dict[str, Any] = {}
        for a in attrs.fields(Segment):
            value = getattr(self, a.name)
            if a.name == "consent_status":
                if self.consent is not None:
                    out[a.name] = value
                continue
            if value is None or value == () or value == frozenset():
                continue
            if isinstance(value, frozenset):
                out[a.name] = sorted(value)
            elif isinstance(value, tuple):
                out[a.name] = [v.to_dict() if isinstance(v, Segment) else v for v in value]
            elif isinstance(value, dt.date):
                out[a.name] = value.isoformat()
            else:
                out[a.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Segment:
        """The segment of a :meth:`to_dict` dict (or one written by hand).

        Unknown keys and bad values raise :class:`crmkit.ValidationError`
        naming the field.
        """
        if not isinstance(data, Mapping):
            raise _convert.type_error("segment", "mapping", data)
        known = {a.name for a in attrs.fields(Segment)}
        for key in data:
            if key not in known:
                raise ValidationError.single(
                    str(key), "value.invalid", value=key, reason="not a segment condition"
                )
        return cls(**{str(k): v for k, v in data.items()})

    def to_json(self) -> str:
        """Compact JSON of :meth:`to_dict` (what the stores keep)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Segment:
        """The segment of :meth:`to_json` text; bad JSON raises :class:`crmkit.ValidationError`."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ValidationError.single(
                "segment", "value.invalid", value=str(text)[:40], reason=str(exc)
            ) from None
        return cls.from_dict(data)


def consent_status(events: Iterable[ConsentEvent], purpose: str) -> str:
    """What a ``consent`` condition compares: ``objected`` or the state's status."""
    events = list(events)
    if objected(events) is not None:
        return "objected"
    return state(events, purpose).status


def store_part(segment: Segment) -> Segment:
    """The part of *segment* a store can evaluate: a superset of its members.

    A pushable segment is itself.  Otherwise ``consent`` and ``predicates``
    are dropped where dropping them only widens the result (own conditions,
    ``all_of``, the pushable members of ``none_of``); an ``any_of`` with a
    member that is not pushable is dropped as a whole.
    """
    if segment.pushable():
        return segment
    any_of = segment.any_of if all(s.pushable() for s in segment.any_of) else ()
    return attrs.evolve(
        segment,
        consent=None,
        consent_status="granted",
        predicates=(),
        all_of=tuple(store_part(s) for s in segment.all_of),
        any_of=any_of,
        none_of=tuple(s for s in segment.none_of if s.pushable()),
    )


__all__ = [
    "CONSENT_STATUSES",
    "Predicate",
    "Segment",
    "SegmentContext",
    "consent_status",
    "store_part",
]
