"""Read WhatsApp chat exports ("Chat exportieren") into plain records.

This is the pure first half of the WhatsApp importer: :func:`parse_whatsapp`
turns the text of an exported ``_chat.txt`` / ``WhatsApp Chat mit ….txt``
into :class:`ChatMessage` records and a list of :class:`LineProblem`; it
reads no file, no clock and no network, and never raises.  Matching senders
to contacts and storing the history happen later, in the facade.

Supported formats (as WhatsApp writes them)::

    23.11.26, 14:05 - Max Mustermann: Hallo            German Android
    [23.11.26, 14:05:33] Max Mustermann: Hallo         German iOS
    11/23/26, 2:05 PM - Max: Hi                        English (US) Android
    [23/11/2026, 14:05:33] Max: Hi                     English (UK) iOS

with two- or four-digit years, 24-hour or 12-hour clocks (``PM``, ``pm``,
``p.m.``, with a space, a no-break space or the narrow no-break space U+202F
before it), the U+200E marks iOS puts at line starts, a byte-order mark and
CRLF line ends.

**Time zone.**  An export carries no time zone: :attr:`ChatMessage.sent_at`
is the naive wall-clock time as written, in the time zone of the phone that
exported it.  The caller attaches one (for German firms
``sent_at.replace(tzinfo=ZoneInfo("Europe/Berlin"))``).

**Day or month first.**  Dotted dates (``23.11.26``) are always day first.
For slash dates the order is decided once per file: if any date's first
field is above 12 the file is day first; otherwise if any second field is
above 12 it is month first; if the dates do not tell (every field ≤ 12), a
file written with a 12-hour clock is taken as month first (the US format
``M/D/YY``, which English Android uses) and one with a 24-hour clock as day
first (``DD/MM/YYYY`` of the UK and most other locales).  Pass ``day_first``
to decide yourself.  Header lines whose date does not exist in the chosen
order become ``whatsapp.bad_timestamp`` problems.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Final

import attrs

from crmkit.io._problems import PROBLEM_TEXT_LIMIT, LineProblem
from crmkit.messages import register_messages

register_messages(
    {
        "whatsapp.orphan_line": (
            "line {line} does not start with a date and time and follows no message: {text!r}",
            "Zeile {line} beginnt nicht mit Datum und Uhrzeit und gehört zu keiner "
            "Nachricht: {text!r}",
        ),
        "whatsapp.bad_timestamp": (
            "line {line} has a date or time that does not exist: {text!r}",
            "Zeile {line} enthält ein Datum oder eine Uhrzeit, die es nicht gibt: {text!r}",
        ),
    }
)


def _problem_text(raw: str) -> str:
    return raw[:PROBLEM_TEXT_LIMIT]


@attrs.frozen(kw_only=True)
class ChatMessage:
    """One message (or system notice) of a WhatsApp chat.

    ``line`` is the 1-based line where the message starts; ``sent_at`` the
    naive local time as written in the export (attach the time zone
    yourself); ``sender`` the name or phone number as shown (``""`` for
    system notices); ``text`` the message with its lines joined by ``"\\n"``
    (``""`` for an attachment without caption).  ``attachment_omitted`` is
    true when the message carried a photo, video, document … that is not
    part of the text export; ``system`` marks notices such as "Messages and
    calls are end-to-end encrypted" or "Max hat die Gruppe erstellt".
    """

    line: int
    sent_at: dt.datetime
    sender: str
    text: str
    attachment_omitted: bool = False
    system: bool = False


@attrs.frozen(kw_only=True)
class WhatsAppParse:
    """What :func:`parse_whatsapp` read: the messages, and the lines it could not use."""

    messages: tuple[ChatMessage, ...] = ()
    problems: tuple[LineProblem, ...] = ()


# --------------------------------------------------------------------------- patterns

#: Invisible direction marks (LRM, RLM, embeddings, isolates) and the BOM.
_MARKS: Final = "\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_MARKS_RE: Final = re.compile(f"[{_MARKS}]")
_LINE_END: Final = re.compile(r"\r\n|\r|\n")


def _header_pattern(p: str) -> str:
    """Date and time groups, their names prefixed with *p* (one set per alternative)."""
    date = (
        rf"(?P<{p}a>\d{{1,2}})(?P<{p}sep>[./])(?P<{p}b>\d{{1,2}})"
        rf"(?P={p}sep)(?P<{p}year>\d{{4}}|\d{{2}})"
    )
    time = (
        rf"(?P<{p}hour>\d{{1,2}}):(?P<{p}minute>\d{{2}})(?::(?P<{p}second>\d{{2}}))?"
        rf"(?:[ \u00a0\u202f]?(?P<{p}ampm>[AaPp]\.?[ \u00a0\u202f]?[Mm]\.?))?"
    )
    return rf"{date},? {time}"


#: ``[date, time] `` (iOS) or ``date, time - `` (Android), then the rest of the line.
_HEADER: Final = re.compile(
    rf"(?:\[{_header_pattern('')}\] ?|{_header_pattern('x')} [-–] )(?P<rest>.*)", re.DOTALL
)

_ATTACHMENT_WHOLE: Final = re.compile(
    r"<(?:Medien ausgeschlossen|Medien weggelassen|Media omitted)>", re.IGNORECASE
)
_ATTACHMENT_PREFIX: Final = re.compile(r"<(?:Anhang|attached): [^>]*>\s*", re.IGNORECASE)
_ATTACHMENT_FILE: Final = re.compile(
    r"\S+\.\w{1,5} \((?:Datei angehängt|file attached)\)\s*", re.IGNORECASE
)
_ATTACHMENT_SUFFIX: Final = re.compile(
    r"\s*(?:(?:Bild|Foto|Video|Audio|Sticker|GIF|Dokument|Kontaktkarte|Kontakt)"
    r" weggelassen|(?:image|photo|video|audio|sticker|GIF|document|Contact card)"
    r" omitted)$",
    re.IGNORECASE,
)

#: System notices, recognised in the part before the first ": " (or the whole line).
_SYSTEM: Final = re.compile(
    r"Ende-zu-Ende-verschlüsselt|Ende-zu-Ende-Verschlüsselung|end-to-end encrypt"
    r"|\bhat die Gruppe\b|\bhat (?:den Betreff|die Gruppenbeschreibung|das Gruppenbild)\b"
    r"|\bhat .* (?:hinzugefügt|entfernt|erstellt|geändert)\b|\bhat dich\b"
    r"|\bcreated group\b|\bcreated this group\b|\bchanged (?:the subject|this group|the group)"
    r"|\bchanged their phone number\b|\badded\b|\bremoved\b|\bleft$|\bjoined using\b"
    r"|Sicherheitsnummer|security code|\bist beigetreten\b|\bwurde entfernt\b"
    r"|\bhat die Gruppe verlassen\b|\bhat zu .* gewechselt\b|\bchanged to \+?\d",
    re.IGNORECASE,
)


#: Notices are short; looking further than this only costs time on hostile input.
_SYSTEM_SCAN: Final = 300


def _fields(match: re.Match[str]) -> dict[str, str | None]:
    """The date and time groups of a header match, whichever alternative matched."""
    names = ("a", "b", "sep", "year", "hour", "minute", "second", "ampm")
    if match.group("a") is not None:
        return {n: match.group(n) for n in names}
    return {n: match.group("x" + n) for n in names}


def _build_datetime(f: dict[str, str | None], day_first: bool) -> dt.datetime | None:
    """The datetime of the header fields, or None when it does not exist."""
    a, b = int(f["a"] or 0), int(f["b"] or 0)
    if f["sep"] == ".":
        day, month = a, b
    else:
        day, month = (a, b) if day_first else (b, a)
    year_text = f["year"] or ""
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    hour, minute = int(f["hour"] or 0), int(f["minute"] or 0)
    second = int(f["second"] or 0)
    ampm = f["ampm"]
    if ampm is not None:
        if not 1 <= hour <= 12:
            return None
        pm = ampm.lstrip()[0] in "Pp"
        hour = hour % 12 + (12 if pm else 0)
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _decide_day_first(headers: Iterable[dict[str, str | None]]) -> bool:
    """Day first or month first for the slash dates of one file (see the module docs)."""
    first_big = second_big = twelve_hour = False
    for f in headers:
        if f["ampm"] is not None:
            twelve_hour = True
        if f["sep"] != "/":
            continue
        first_big = first_big or int(f["a"] or 0) > 12
        second_big = second_big or int(f["b"] or 0) > 12
    if first_big:
        return True
    if second_big:
        return False
    return not twelve_hour


def _clean_sender(sender: str) -> str:
    return " ".join(_MARKS_RE.sub("", sender).split())


def _split_attachment(text: str) -> tuple[str, bool]:
    """The text without an attachment marker, and whether there was one."""
    first, _, rest = text.partition("\n")
    head = _MARKS_RE.sub("", first).strip()
    found = False
    if _ATTACHMENT_WHOLE.fullmatch(head):
        head, found = "", True
    else:
        for pattern in (_ATTACHMENT_PREFIX, _ATTACHMENT_FILE):
            match = pattern.match(head)
            if match:
                head, found = head[match.end() :], True
                break
        else:
            match = _ATTACHMENT_SUFFIX.search(head)
            # iOS puts U+200E before the marker; without it, only a whole line counts,
            # so "Max: the image omitted" typed by a person stays text
            marked = match is not None and "\u200e" + match.group().strip() in first
            if match and (marked or not head[: match.start()].strip()):
                head, found = head[: match.start()].strip(" •"), True
    if not found:
        return text, False
    return "\n".join(part for part in (head, rest) if part).strip(), True


def _strip_marks_at_edges(text: str) -> str:
    return text.strip(_MARKS + " \t\n")


def _message(line: int, sent_at: dt.datetime, rest: str, body: list[str]) -> ChatMessage:
    rest = rest.lstrip(_MARKS)
    sender, colon, first = rest.partition(": ")
    if not colon:
        sender, first, system = "", rest, True
    else:
        system = bool(_SYSTEM.search(sender[:_SYSTEM_SCAN]))
        if system:
            sender, first = "", rest
        elif _MARKS_RE.match(first) and _SYSTEM.search(first[:_SYSTEM_SCAN]):
            # iOS writes notices "from" the chat's name, after an invisible mark
            sender, system = "", True
    text = _strip_marks_at_edges("\n".join([first, *body]))
    attachment = False
    if not system:
        text, attachment = _split_attachment(text)
    return ChatMessage(
        line=line,
        sent_at=sent_at,
        sender=_clean_sender(sender),
        text=text,
        attachment_omitted=attachment,
        system=system,
    )


# --------------------------------------------------------------------------- API


def parse_whatsapp(text: str, *, day_first: bool | None = None) -> WhatsAppParse:
    """The messages of a WhatsApp chat export, and the lines it could not read.

    *text* is the decoded content of the export (``.txt``; UTF-8 with or
    without BOM, any line ends).  A line starting with a date and time begins
    a message; other lines continue the one before.  Lines that cannot
    belong to a message (text before the first message, lines after a header
    whose date does not exist) are returned as :class:`LineProblem` with the
    codes ``whatsapp.orphan_line`` and ``whatsapp.bad_timestamp``; blank
    lines before the first message are ignored.

    *day_first* forces the order of slash dates; ``None`` (the default)
    decides per file as described in the module documentation.  Never
    raises for a :class:`str`.

    >>> chat = parse_whatsapp("23.11.26, 14:05 - Max Mustermann: Hallo\\nbis morgen")
    >>> chat.messages[0].sender, chat.messages[0].text
    ('Max Mustermann', 'Hallo\\nbis morgen')
    """
    if not isinstance(text, str):  # defensive: the importer hands us decoded text
        text = str(text)
    lines = _LINE_END.split(text.removeprefix("\ufeff"))
    matches: list[tuple[int, re.Match[str] | None, str]] = []
    for number, raw in enumerate(lines, start=1):
        matches.append((number, _HEADER.match(raw.lstrip(_MARKS + " ")), raw))
    headers = [_fields(m) for _, m, _ in matches if m is not None]
    if day_first is None:
        day_first = _decide_day_first(headers)

    messages: list[ChatMessage] = []
    problems: list[LineProblem] = []
    current: tuple[int, dt.datetime, str] | None = None
    body: list[str] = []

    def flush() -> None:
        if current is not None:
            messages.append(_message(current[0], current[1], current[2], body))

    for number, match, raw in matches:
        if match is not None:
            sent_at = _build_datetime(_fields(match), day_first)
            flush()
            body = []
            if sent_at is None:
                problems.append(
                    LineProblem(line=number, text=_problem_text(raw), code="whatsapp.bad_timestamp")
                )
                current = None
            else:
                current = (number, sent_at, match.group("rest"))
        elif current is not None:
            body.append(raw)
        elif raw.strip(_MARKS + " \t"):
            problems.append(
                LineProblem(line=number, text=_problem_text(raw), code="whatsapp.orphan_line")
            )
    flush()
    return WhatsAppParse(messages=tuple(messages), problems=tuple(problems))


def group_by_day(messages: Iterable[ChatMessage]) -> dict[dt.date, tuple[ChatMessage, ...]]:
    """The messages grouped by calendar day of ``sent_at``, for "one entry per chat day".

    Days appear in the order of their first message; each day keeps its
    messages in input order.  System notices are kept (filter them first if
    they should not count).
    """
    days: dict[dt.date, list[ChatMessage]] = {}
    for message in messages:
        days.setdefault(message.sent_at.date(), []).append(message)
    return {day: tuple(group) for day, group in days.items()}


__all__ = [
    "PROBLEM_TEXT_LIMIT",
    "ChatMessage",
    "LineProblem",
    "WhatsAppParse",
    "group_by_day",
    "parse_whatsapp",
]
