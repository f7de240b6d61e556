"""Correspondence: every call, meeting, e-mail, letter, chat and note with a contact.

An entry records *when* the contact took place (``occurred_at``, required),
*what* it was about (``subject``, ``content``), *what was agreed*
(``agreements``) and *what happens next* (``next_steps``, an optional
:class:`FollowUp` with a due date and an assignee).  One entry may concern
several contacts: a call with a person is logged on the person and shows on
the company's timeline through the affiliation.

Entries are never silently changed: a correction stores a new revision
(:class:`EntryRevision`: who, when, why, what changed) and the old ones stay
readable.  This module is pure: the facade (``crm.correspondence``) stamps
the time and the author, the stores keep the revisions.

What a timeline shows and in which order is decided here
(:func:`select_entries`), so every store gives the same answer:

* newest first: ``occurred_at``, then ``recorded_at``, then id, descending;
* ``channels``: any of them; ``since`` inclusive, ``before`` exclusive;
* ``words``: every folded query word must start a word of the entry's
  subject, content, agreements or next steps (``Angeb`` finds
  "Angebot", ``Müller`` = ``Mueller``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final, TypeVar, overload

import attrs

from crmkit import normalize
from crmkit.audit import FieldChange
from crmkit.errors import ValidationError
from crmkit.ids import new_id
from crmkit.messages import Lang
from crmkit.model import _convert

#: Channels crmkit knows (and labels); any other lower-case name is allowed too.
CHANNELS: Final[tuple[str, ...]] = (
    "phone",
    "meeting",
    "email",
    "letter",
    "messenger",
    "internal_note",
    "association_note",
)
#: Channels of notes that never leave the house; entries on them default to internal.
INTERNAL_CHANNELS: Final[frozenset[str]] = frozenset({"internal_note", "association_note"})
#: Which way a contact went.
DIRECTIONS: Final[tuple[str, ...]] = ("inbound", "outbound", "internal")
#: What a revision did.
REVISION_ACTIONS: Final[tuple[str, ...]] = (
    "log",
    "correct",
    "complete_follow_up",
    "import",
    "merge",
    "unmerge",
    "erase",
)
#: Most words of a timeline text filter that are used.
MAX_TEXT_WORDS: Final = 8

T = TypeVar("T")

_CHANNEL_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def channel_name(value: object) -> str:
    """The canonical channel name: ``"Internal Note"`` → ``"internal_note"``.

    Any lower-case name of letters, digits and ``_`` (up to 40) is allowed;
    other input raises :class:`crmkit.ValidationError` for ``channel``.
    """
    if not isinstance(value, str):
        raise _convert.type_error("channel", "str", value)
    name = value.strip().lower().replace("-", "_").replace(" ", "_")
    if not _CHANNEL_RE.match(name):
        raise ValidationError.single(
            "channel", "value.choice", value=value, choices=", ".join(CHANNELS)
        )
    return name


def _direction(value: object) -> str:
    if not isinstance(value, str) or value.strip().lower() not in DIRECTIONS:
        raise ValidationError.single(
            "direction", "value.choice", value=value, choices=", ".join(DIRECTIONS)
        )
    return value.strip().lower()


def _contact_ids(value: object) -> tuple[str, ...]:
    items = _convert.sequence("contact_ids", value)
    ids = tuple(
        dict.fromkeys(_convert.identifier(f"contact_ids.{i}", v) for i, v in enumerate(items))
    )
    if not ids:
        raise ValidationError.single("contact_ids", "value.required")
    return ids


def _occurred_at(value: object) -> dt.datetime:
    return _required("occurred_at", _convert.utc_datetime("occurred_at", value))


def _revision_at(value: object) -> dt.datetime:
    return _required("at", _convert.utc_datetime("at", value))


def _required(field: str, value: T | None) -> T:
    if value is None:
        raise ValidationError.single(field, "value.required")
    return value


def _recorded_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("recorded_at", value)


def _done_at(value: object) -> dt.datetime | None:
    return _convert.utc_datetime("follow_up.done_at", value)


def _assignee(value: object) -> str | None:
    return _convert.optional_text("follow_up.assignee", value)


def _done_by(value: object) -> str | None:
    return _convert.optional_text("follow_up.done_by", value)


def _note(value: object) -> str:
    return _convert.text("follow_up.note", value)


def _entry_id(value: object) -> str:
    return _convert.identifier("id", value)


def _author(value: object) -> str:
    return _convert.text("author", value)


def _subject(value: object) -> str:
    return _convert.text("subject", value)


def _content(value: object) -> str:
    return _convert.multiline("content", value)


def _agreements(value: object) -> str:
    return _convert.multiline("agreements", value)


def _next_steps(value: object) -> str:
    return _convert.multiline("next_steps", value)


def _reason(value: object) -> str:
    return _convert.multiline("reason", value)


def _internal(value: object) -> bool:
    return _convert.boolean("internal", value)


def _retention_category(value: object) -> str | None:
    return _convert.optional_text("retention_category", value)


def _tags(value: object) -> frozenset[str]:
    return _convert.tags("tags", value)


def _source(value: object) -> str | None:
    return _convert.optional_text("source", value, max_length=1000)


def _due(value: object) -> dt.date:
    result = _convert.date("follow_up.due", value)
    if result is None:
        raise ValidationError.single("follow_up.due", "value.required")
    return result


@attrs.frozen(kw_only=True)
class FollowUp:
    """What has to happen next, by when, and by whom; done once ``done_at`` is set."""

    due: dt.date = attrs.field(converter=_due)
    assignee: str | None = attrs.field(default=None, converter=_assignee)
    note: str = attrs.field(default="", converter=_note)
    done_at: dt.datetime | None = attrs.field(default=None, converter=_done_at)
    done_by: str | None = attrs.field(default=None, converter=_done_by)

    @property
    def is_open(self) -> bool:
        """True until the follow-up is completed."""
        return self.done_at is None

    def is_overdue(self, today: dt.date) -> bool:
        """True when it is still open after its due day."""
        return self.is_open and self.due < today


def _follow_up(value: object) -> FollowUp | None:
    if value is None or isinstance(value, FollowUp):
        return value
    if isinstance(value, (dt.date, str)) and not isinstance(value, dt.datetime):
        return FollowUp(due=value)
    if isinstance(value, dict):
        try:
            return FollowUp(**value)
        except TypeError:
            raise _convert.type_error("follow_up", "FollowUp, date or mapping", value) from None
    raise _convert.type_error("follow_up", "FollowUp, date or mapping", value)


def _revision(value: object) -> int:
    number = _convert.non_negative_int("revision", value)
    if number < 1:
        raise ValidationError.single("revision", "value.invalid", value=value, reason="below 1")
    return number


@attrs.frozen(kw_only=True)
class CorrespondenceEntry:
    """One documented contact: a call, meeting, e-mail, letter, chat or note.

    Build one with :meth:`crmkit.CRM.correspondence` ``.log(...)`` rather than
    by hand; the facade sets ``author``, ``recorded_at`` and ``revision``.
    ``source`` is the importer's key (``email:<Message-ID>`` …) that keeps a
    message from being imported twice.
    """

    id: str = attrs.field(factory=new_id, converter=_entry_id)
    contact_ids: tuple[str, ...] = attrs.field(converter=_contact_ids)
    channel: str = attrs.field(converter=channel_name)
    direction: str = attrs.field(converter=_direction)
    occurred_at: dt.datetime = attrs.field(converter=_occurred_at)
    recorded_at: dt.datetime | None = attrs.field(default=None, converter=_recorded_at)
    author: str = attrs.field(default="", converter=_author)
    subject: str = attrs.field(default="", converter=_subject)
    content: str = attrs.field(default="", converter=_content)
    agreements: str = attrs.field(default="", converter=_agreements)
    next_steps: str = attrs.field(default="", converter=_next_steps)
    follow_up: FollowUp | None = attrs.field(default=None, converter=_follow_up)
    internal: bool = attrs.field(converter=_internal)
    retention_category: str | None = attrs.field(default=None, converter=_retention_category)
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    source: str | None = attrs.field(default=None, converter=_source)
    revision: int = attrs.field(default=1, converter=_revision)

    @direction.default
    def _default_direction(self) -> str:
        if self.channel in INTERNAL_CHANNELS:
            return "internal"
        raise ValidationError.single("direction", "value.required")

    @internal.default
    def _default_internal(self) -> bool:
        return self.channel in INTERNAL_CHANNELS

    def __attrs_post_init__(self) -> None:
        if self.channel in INTERNAL_CHANNELS and self.direction != "internal":
            raise ValidationError.single(
                "direction", "correspondence.internal_channel", channel=self.channel
            )
        if self.channel in INTERNAL_CHANNELS and not self.internal:
            raise ValidationError.single(
                "internal", "correspondence.internal_channel", channel=self.channel
            )
        if not (self.subject or self.content or self.agreements or self.next_steps):
            raise ValidationError.single("content", "correspondence.empty")

    @property
    def has_open_follow_up(self) -> bool:
        """True when the entry carries a follow-up that is not done yet."""
        return self.follow_up is not None and self.follow_up.is_open

    def _repr_html_(self) -> str:
        return Timeline((self,))._repr_html_()


#: Fields a correction may change (id, author, recorded_at, source and revision may not).
CORRECTABLE: Final[frozenset[str]] = frozenset(
    {
        "contact_ids",
        "channel",
        "direction",
        "occurred_at",
        "subject",
        "content",
        "agreements",
        "next_steps",
        "follow_up",
        "internal",
        "retention_category",
        "tags",
    }
)


def _action(value: object) -> str:
    if value not in REVISION_ACTIONS:
        raise ValidationError.single(
            "action", "value.choice", value=value, choices=", ".join(REVISION_ACTIONS)
        )
    return str(value)


@attrs.frozen(kw_only=True)
class EntryRevision:
    """One stored state of an entry: the entry as of then, who made it, when and why.

    ``changes`` lists the fields that differ from the previous revision
    (empty for the first).
    """

    entry: CorrespondenceEntry
    at: dt.datetime = attrs.field(converter=_revision_at)
    actor_id: str
    actor_name: str = ""
    action: str = attrs.field(default="log", converter=_action)
    reason: str = attrs.field(default="", converter=_reason)
    changes: tuple[FieldChange, ...] = ()

    @property
    def revision(self) -> int:
        """The revision number (1 for the entry as first logged)."""
        return self.entry.revision


# --------------------------------------------------------------------------- text and order


def entry_words(entry: CorrespondenceEntry) -> tuple[str, ...]:
    """The folded words a timeline text filter matches against (each once)."""
    text = " ".join((entry.subject, entry.content, entry.agreements, entry.next_steps))
    return tuple(dict.fromkeys(normalize.fold(text).split()))


def text_words(text: str | None) -> tuple[str, ...]:
    """The folded words of a timeline text filter (at most :data:`MAX_TEXT_WORDS`).

    Any string is accepted; text without letters or digits gives ``()`` —
    no text filter.
    """
    if not text:
        return ()
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text[:500])
    return tuple(dict.fromkeys(normalize.fold(cleaned).split()))[:MAX_TEXT_WORDS]


def newest_first_key(entry: CorrespondenceEntry) -> tuple[dt.datetime, dt.datetime, str]:
    """Sort key; sort with ``reverse=True`` for newest first."""
    return (entry.occurred_at, entry.recorded_at or _EPOCH, entry.id)


def follow_up_key(entry: CorrespondenceEntry) -> tuple[dt.date, dt.datetime, str]:
    """Sort key for open follow-ups: due day, then when the contact took place, then id."""
    assert entry.follow_up is not None
    return (entry.follow_up.due, entry.occurred_at, entry.id)


def _since(value: object, zone: dt.tzinfo) -> dt.datetime | None:
    if isinstance(value, str) and len(value.strip()) == 10:
        return _since(_convert.date("since", value), zone)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return _midnight(value, zone)
    return _convert.utc_datetime("since", value)


def _until(value: object, zone: dt.tzinfo) -> dt.datetime | None:
    """``until`` is inclusive for the caller: a date means the whole day."""
    if isinstance(value, str) and len(value.strip()) == 10:
        return _until(_convert.date("until", value), zone)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return _midnight(value + dt.timedelta(days=1), zone)
    moment = _convert.utc_datetime("until", value)
    return None if moment is None else moment + dt.timedelta(microseconds=1)


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def _channels(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({channel_name(value)})
    if not isinstance(value, Iterable):
        raise _convert.type_error("channels", "channel names", value)
    return frozenset(channel_name(v) for v in value)


@attrs.frozen(kw_only=True)
class TimelineQuery:
    """What a timeline asks a store for; :func:`select_entries` says what matches.

    ``since`` is inclusive and ``before`` exclusive (build it with
    :func:`timeline_query`, which reads dates as whole UTC days).
    """

    contact_ids: frozenset[str]
    channels: frozenset[str] | None = None
    since: dt.datetime | None = None
    before: dt.datetime | None = None
    words: tuple[str, ...] = ()
    include_internal: bool = True


def timeline_query(
    contact_ids: Iterable[str],
    *,
    channels: Iterable[str] | str | None = None,
    since: dt.date | dt.datetime | str | None = None,
    until: dt.date | dt.datetime | str | None = None,
    text: str | None = None,
    include_internal: bool = True,
    zone: dt.tzinfo = dt.UTC,
) -> TimelineQuery:
    """Read the caller's filters into a :class:`TimelineQuery`.

    *since* and *until* are inclusive; a date (or ``"2026-11-23"``) means the
    whole day in *zone* (UTC unless given), a datetime that moment.  Wrong values raise
    :class:`crmkit.ValidationError` naming the field.
    """
    if text is not None and not isinstance(text, str):
        raise _convert.type_error("text", "str", text)
    return TimelineQuery(
        contact_ids=frozenset(contact_ids),
        channels=_channels(channels),
        since=_since(since, zone),
        before=_until(until, zone),
        words=text_words(text),
        include_internal=include_internal,
    )


def matches(entry: CorrespondenceEntry, query: TimelineQuery) -> bool:
    """True when *entry* belongs on the timeline *query* describes."""
    if not query.contact_ids.intersection(entry.contact_ids):
        return False
    if query.channels is not None and entry.channel not in query.channels:
        return False
    if query.since is not None and entry.occurred_at < query.since:
        return False
    if query.before is not None and entry.occurred_at >= query.before:
        return False
    if not query.include_internal and entry.internal:
        return False
    if query.words:
        words = entry_words(entry)
        return all(any(w.startswith(q) for w in words) for q in query.words)
    return True


def select_entries(
    candidates: Iterable[CorrespondenceEntry], query: TimelineQuery
) -> list[CorrespondenceEntry]:
    """The timeline from a superset of candidates: matching entries, newest first, each once."""
    seen: set[str] = set()
    out: list[CorrespondenceEntry] = []
    for entry in candidates:
        if entry.id in seen:
            continue
        seen.add(entry.id)
        if matches(entry, query):
            out.append(entry)
    out.sort(key=newest_first_key, reverse=True)
    return out


def select_follow_ups(
    candidates: Iterable[CorrespondenceEntry],
    *,
    due_by: dt.date | None = None,
    assignee: str | None = None,
) -> list[CorrespondenceEntry]:
    """Entries with an open follow-up (due by *due_by*, for *assignee*), soonest first."""
    out = [
        e
        for e in {e.id: e for e in candidates}.values()
        if e.follow_up is not None
        and e.follow_up.is_open
        and (due_by is None or e.follow_up.due <= due_by)
        and (assignee is None or e.follow_up.assignee == assignee)
    ]
    out.sort(key=follow_up_key)
    return out


# --------------------------------------------------------------------------- display


class Timeline(Sequence[CorrespondenceEntry]):
    """A contact's history, newest first: a read-only sequence that renders in Jupyter."""

    __slots__ = ("_entries", "title")

    def __init__(self, entries: Iterable[CorrespondenceEntry], *, title: str = "") -> None:
        self._entries = tuple(entries)
        self.title = title

    @overload
    def __getitem__(self, index: int) -> CorrespondenceEntry: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[CorrespondenceEntry]: ...
    def __getitem__(
        self, index: int | slice
    ) -> CorrespondenceEntry | Sequence[CorrespondenceEntry]:
        if isinstance(index, slice):
            return Timeline(self._entries[index], title=self.title)
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[CorrespondenceEntry]:
        return iter(self._entries)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timeline):
            return self._entries == other._entries
        if isinstance(other, (list, tuple)):
            return list(self._entries) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Timeline {self.title or ''} {len(self)} entries>".replace("  ", " ")

    def open_follow_ups(self) -> list[CorrespondenceEntry]:
        """The entries of this timeline whose follow-up is still open, soonest first."""
        return select_follow_ups(self._entries)

    def rows(self, lang: Lang = "en") -> list[dict[str, Any]]:
        """One flat dict per entry (occurred, channel, subject, follow-up …)."""
        from crmkit.frames import rows

        return rows(self, lang)

    def to_pandas(self, lang: Lang = "en") -> Any:
        """A :class:`pandas.DataFrame` of :meth:`rows` (needs the ``pandas`` extra)."""
        from crmkit.frames import to_pandas

        return to_pandas(self, lang)

    def _repr_html_(self) -> str:
        from html import escape

        head = (
            "<tr><th>occurred</th><th>channel</th><th>direction</th><th>subject</th>"
            "<th>content</th><th>agreements</th><th>next steps</th><th>follow-up</th>"
            "<th>author</th></tr>"
        )
        rows = []
        for e in self._entries:
            fu = ""
            if e.follow_up is not None:
                state = "done" if not e.follow_up.is_open else "open"
                who = f" → {e.follow_up.assignee}" if e.follow_up.assignee else ""
                fu = f"{e.follow_up.due.isoformat()}{who} ({state})"
            cells = (
                e.occurred_at.strftime("%Y-%m-%d %H:%M"),
                e.channel + (" 🔒" if e.internal else ""),
                e.direction,
                e.subject,
                e.content,
                e.agreements,
                e.next_steps,
                fu,
                e.author,
            )
            rows.append(
                "<tr>"
                + "".join(
                    f'<td style="white-space:pre-wrap;text-align:left">{escape(c)}</td>'
                    for c in cells
                )
                + "</tr>"
            )
        caption = f"<caption>{escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


__all__ = [
    "CHANNELS",
    "CORRECTABLE",
    "DIRECTIONS",
    "INTERNAL_CHANNELS",
    "MAX_TEXT_WORDS",
    "REVISION_ACTIONS",
    "CorrespondenceEntry",
    "EntryRevision",
    "FollowUp",
    "Timeline",
    "TimelineQuery",
    "channel_name",
    "entry_words",
    "follow_up_key",
    "matches",
    "newest_first_key",
    "select_entries",
    "select_follow_ups",
    "text_words",
    "timeline_query",
]
