"""Importing e-mails and WhatsApp chats into the correspondence history.

The parsing is pure (:mod:`crmkit.io`); this module reads the files, matches
addresses, phone numbers and names to contacts, and logs one entry per
e-mail or per chat day through ``crm.correspondence``.  Each entry is its own
transaction, so a bad message never stops the rest or leaves anything half
written.  What happened is returned as an :class:`ImportReport`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from crmkit import normalize
from crmkit import search as search_rules
from crmkit._reports import LinesReport
from crmkit.correspondence import CorrespondenceEntry
from crmkit.errors import CrmkitError, Finding, ValidationError
from crmkit.io._problems import PROBLEM_TEXT_LIMIT, LineProblem
from crmkit.io.mail import MailMessage, parse_email, parse_mbox_located
from crmkit.io.whatsapp import ChatMessage, group_by_day, parse_whatsapp
from crmkit.messages import Lang, render
from crmkit.model import Contact, Person
from crmkit.model._convert import MAX_LONG, MAX_SHORT

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM

#: File names of e-mails in a folder.
EMAIL_SUFFIXES: Final = frozenset({".eml"})
#: File names of mailboxes, read as mbox even when something precedes the first ``From `` line.
MBOX_SUFFIXES: Final = frozenset({".mbox", ".mbx"})
#: Marker for a chat message whose photo, video or document is not in the export.
ATTACHMENT_MARK: Final = "📎"
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_PHONE_LIKE: Final = re.compile(r"^\+?[\d\s()/.\-–]{5,}$")
_TRUNCATED: Final = "\n[…]"
#: Longest import key (``CorrespondenceEntry.source`` takes 1000 characters).
_SOURCE_LIMIT: Final = 1000
#: What a zip archive starts with, whatever its file name says.
_ZIP_MAGIC: Final = b"PK\x03\x04"
#: What reading a damaged, encrypted or exotic zip archive can raise.
_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    KeyError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    zlib.error,
)


@attrs.frozen(kw_only=True)
class ImportProblem:
    """Something an import could not use: where (file and 1-based line, 0 = whole file) and why."""

    path: str
    line: int
    code: str
    text: str = ""
    detail: str = ""

    def message(self, lang: Lang = "en") -> str:
        """``file:line: message`` in *lang*."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        body = render(self.code, lang, line=self.line, text=self.text, detail=self.detail)
        return f"{where}: {body}"

    def __str__(self) -> str:
        return self.message()


@attrs.frozen(kw_only=True)
class ImportReport(LinesReport):
    """What an import did.

    ``imported`` and ``updated`` are entry ids (``updated``: a chat day that
    got more messages, stored as a new revision); ``duplicates`` the import
    keys of messages or days that were there already; ``unmatched`` the
    addresses, numbers or names that match no contact; ``unmatched_items``
    how many messages or chat days were left out for that reason;
    ``problems`` the malformed lines and messages.
    """

    imported: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    unmatched_items: int = 0
    problems: tuple[ImportProblem, ...] = ()

    def summary(self, lang: Lang = "en") -> str:
        """One line: how many were imported, extended, already there, unmatched, problems."""
        return render(
            "import.summary",
            lang,
            imported=len(self.imported),
            updated=len(self.updated),
            duplicates=len(self.duplicates),
            unmatched_items=self.unmatched_items,
            problems=len(self.problems),
        )

    def lines(self, lang: Lang = "en") -> list[str]:
        """The summary, the unmatched values and every problem, one per line."""
        out = [self.summary(lang)]
        if self.unmatched:
            out.append(render("import.unmatched", lang, values=", ".join(self.unmatched)))
        out.extend(p.message(lang) for p in self.problems)
        return out


class _Collector:
    """Mutable state of one import run."""

    def __init__(self) -> None:
        self.imported: list[str] = []
        self.updated: list[str] = []
        self.duplicates: list[str] = []
        self.unmatched: dict[str, None] = {}
        self.unmatched_items = 0
        self.problems: list[ImportProblem] = []

    def problem(self, path: Path, line: int, code: str, text: str = "", detail: str = "") -> None:
        self.problems.append(
            ImportProblem(
                path=str(path), line=line, code=code, text=text[:PROBLEM_TEXT_LIMIT], detail=detail
            )
        )

    def line_problem(self, path: Path, problem: LineProblem) -> None:
        self.problems.append(
            ImportProblem(
                path=str(path),
                line=problem.line,
                code=problem.code,
                text=problem.text,
                detail=problem.detail,
            )
        )

    def report(self) -> ImportReport:
        return ImportReport(
            imported=tuple(self.imported),
            updated=tuple(self.updated),
            duplicates=tuple(self.duplicates),
            unmatched=tuple(self.unmatched),
            unmatched_items=self.unmatched_items,
            problems=tuple(self.problems),
        )


def _clean_text(value: str, limit: int = MAX_LONG) -> str:
    """Text as an entry stores it: NFC, no control characters, trailing blanks and blank
    edge lines removed (as :func:`crmkit.normalize.multiline` does), at most *limit*
    characters.

    Normalising here, before cutting, means the result fits after the entry's own
    normalisation (NFC can make text longer) and equals what the store gives back,
    so a re-imported chat day can be compared line by line with the stored one.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    if len(text) > limit:
        text = text[: limit - len(_TRUNCATED)] + _TRUNCATED
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _clean_line(value: str, limit: int = MAX_SHORT) -> str:
    """One line as an entry stores it: NFC, no control characters, white space collapsed."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", value))
    return " ".join(" ".join(text.split())[:limit].split())


def _source_key(value: str) -> str:
    """*value* as :attr:`CorrespondenceEntry.source` stores it, so a look-up finds it again."""
    return _clean_line(value, _SOURCE_LIMIT)


def _require_path(path: Path) -> None:
    if not path.exists():
        raise ValidationError.single("path", "import.no_file", value=str(path))


def _read_bytes(path: Path, collect: _Collector) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        collect.problem(path, 0, "import.unreadable_file", detail=exc.strerror or str(exc))
        return None


# --------------------------------------------------------------------------- e-mail


def _mail_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in EMAIL_SUFFIXES
        )
    return [path]


def _is_mbox(file: Path, data: bytes) -> bool:
    """An mbox file: named so, or starting with a ``From `` separator line."""
    return file.suffix.lower() in MBOX_SUFFIXES or data.lstrip(b"\r\n").startswith(b"From ")


def _mail_source(mail: MailMessage) -> str:
    if mail.message_id:
        return _source_key("email:" + mail.message_id)
    digest = hashlib.sha256()
    for part in (
        mail.sender.address if mail.sender else "",
        mail.sent_at.isoformat() if mail.sent_at else "",
        mail.subject,
        mail.body_text,
    ):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return "email:sha256:" + digest.hexdigest()[:40]


class _Matcher:
    """Contacts behind e-mail addresses, phone numbers and names (cached per run)."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm
        self._scope = crm.scope()
        self._cache: dict[str, tuple[Contact, ...]] = {}

    def _search(self, key: str, query: search_rules.Query) -> tuple[Contact, ...]:
        found = self._cache.get(key)
        if found is None:
            found = tuple(self._crm.store.search(query, scope=self._scope))
            self._cache[key] = found
        return found

    def by_address(self, address: str) -> tuple[Contact, ...]:
        query = search_rules.Query(mode="email", value=address.lower(), include_archived=True)
        return self._search("email:" + address.lower(), query)

    def by_sender(self, sender: str) -> tuple[Contact, ...]:
        """The one contact a chat sender (a phone number or a full name) stands for, or ``()``."""
        if _PHONE_LIKE.match(sender):
            try:
                e164 = normalize.phone(sender)
            except ValidationError:
                e164 = None
            if e164 is not None:
                key = "phone:" + e164
                if key not in self._cache:
                    found = self._crm.store.find_by_phone(e164, scope=self._scope)
                    persons = [c for c in found if isinstance(c, Person)]
                    candidates = persons or found
                    self._cache[key] = tuple(candidates) if len(candidates) == 1 else ()
                return self._cache[key]
        folded = normalize.fold(sender)
        if not folded:
            return ()
        key = "name:" + folded
        if key not in self._cache:
            words = tuple(folded.split())
            query = search_rules.Query(
                mode="text",
                words=words[: search_rules.MAX_WORDS],
                kind="person",
                include_archived=True,
            )
            found = [
                c
                for c in self._crm.store.search(query, scope=self._scope)
                if isinstance(c, Person)
                and normalize.fold(f"{c.first_name} {c.last_name}") == folded
            ]
            self._cache[key] = tuple(found) if len(found) == 1 else ()
        return self._cache[key]


def _log(crm: CRM, values: dict[str, Any]) -> CorrespondenceEntry:
    return crm.correspondence._new_entry(values, action="import")


def import_email(crm: CRM, path: Path) -> ImportReport:
    """See :meth:`crmkit.correspondence_api.Correspondence.import_email`."""
    _require_path(path)
    collect = _Collector()
    matcher = _Matcher(crm)
    for file in _mail_files(path):
        data = _read_bytes(file, collect)
        if data is None:
            continue
        for line, mail in _mails(file, data, collect):
            _import_mail(crm, matcher, collect, file, line, mail)
    return collect.report()


def _mails(file: Path, data: bytes, collect: _Collector) -> Iterator[tuple[int, MailMessage]]:
    if _is_mbox(file, data):
        located, problems = parse_mbox_located(data)
        for problem in problems:
            collect.line_problem(file, problem)
        yield from located
        return
    try:
        yield 0, parse_email(data)
    except ValidationError as exc:
        collect.problem(
            file, 0, "mail.unreadable", detail=str(exc.findings[0].params.get("reason", ""))
        )


def _import_mail(
    crm: CRM, matcher: _Matcher, collect: _Collector, file: Path, line: int, mail: MailMessage
) -> None:
    label = mail.subject or mail.message_id or "(no subject)"
    for finding in mail.findings:
        collect.problem(file, line, "import.warning", text=label, detail=_finding_text(finding))
    source = _mail_source(mail)
    if crm.store.find_entry_by_source(source) is not None:
        collect.duplicates.append(source)
        return
    try:
        occurred = None if mail.sent_at is None else mail.sent_at.astimezone(dt.UTC)
    except (OverflowError, ValueError):  # year 9999 with a negative offset
        occurred = None
    if occurred is None:
        collect.problem(file, line, "import.no_date", text=label)
        return
    sender = mail.sender.address if mail.sender else None
    addresses = ([sender] if sender else []) + [r.address for r in mail.recipients]
    matched: dict[str, Contact] = {}
    sender_known = False
    for address in addresses:
        found = matcher.by_address(address)
        if not found:
            collect.unmatched.setdefault(address, None)
        for contact in found:
            matched.setdefault(contact.id, contact)
        if address == sender and found:
            sender_known = True
    if not matched:
        collect.unmatched_items += 1
        return
    body = _clean_text(mail.body_text)
    if mail.attachments:
        files = "\n".join(f"{ATTACHMENT_MARK} {_clean_line(name)}" for name in mail.attachments)
        body = _clean_text(f"{body}\n\n{files}" if body else files)
    values = {
        "contact_ids": list(matched),
        "channel": "email",
        "direction": "inbound" if sender_known else "outbound",
        "occurred_at": occurred,
        "subject": _clean_line(mail.subject),
        "content": body or _clean_line(mail.subject) or "(empty message)",
        "source": source,
    }
    entry_id = _store(crm, collect, values, file, line, label)
    if entry_id is not None:
        collect.imported.append(entry_id)


def _store(
    crm: CRM, collect: _Collector, values: dict[str, Any], file: Path, line: int, label: str
) -> str | None:
    """Log one entry; the id, or ``None`` (and a problem) when it was not stored.

    A plugin notified after the commit may still fail: then the entry is
    stored all the same and counts as imported, with the failure as a warning.
    """
    try:
        return _log(crm, values).id
    except CrmkitError as exc:
        stored = crm.store.find_entry_by_source(values["source"])
        if stored is None:
            collect.problem(file, line, "import.not_stored", text=label, detail=str(exc))
            return None
        collect.problem(file, line, "import.warning", text=label, detail=str(exc))
        return stored.id


def _finding_text(finding: Finding) -> str:
    return finding.message()


# --------------------------------------------------------------------------- WhatsApp


def _chat_member(names: Iterable[str]) -> str | None:
    """The chat in an export archive: ``_chat.txt`` (iOS), else ``WhatsApp Chat ….txt``
    (Android), else the first other ``.txt`` — never a text file sent in the chat
    (``00000012-Notizen.txt``) when the chat itself is there."""

    def rank(name: str) -> tuple[int, str]:
        base = name.rpartition("/")[2].lower()
        return (0 if base == "_chat.txt" else 1 if base.startswith("whatsapp") else 2, name)

    texts = [n for n in names if n.lower().endswith(".txt")]
    return min(texts, key=rank) if texts else None


def _chat_text(path: Path, collect: _Collector) -> str | None:
    data = _read_bytes(path, collect)
    if data is None:
        return None
    if path.suffix.lower() == ".zip" or data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                member = _chat_member(archive.namelist())
                if member is None:
                    collect.problem(path, 0, "import.no_chat_file")
                    return None
                data = archive.read(member)
        except _ZIP_ERRORS as exc:
            collect.problem(
                path, 0, "import.unreadable_file", detail=str(exc) or type(exc).__name__
            )
            return None
    return data.decode("utf-8-sig", errors="replace")


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # "Europe" is a folder
        raise ValidationError.single(
            "timezone",
            "value.invalid",
            value=timezone,
            reason="not an IANA time zone such as Europe/Berlin",
        ) from None


def _chat_line(message: ChatMessage) -> str:
    text = message.text
    if message.attachment_omitted:
        text = f"{text} {ATTACHMENT_MARK}".strip()
    body = text.replace("\n", "\n    ")
    return f"{message.sent_at:%H:%M} {message.sender}: {body}"


def _day_source(first: ChatMessage, day: dt.date) -> str:
    """The import key of a chat day: the day and its first message.

    A longer export of the same chat starts the day with the same message, so
    it finds the day again, whichever contacts it is matched to; another chat
    on the same day (a group) starts differently.
    """
    opening = f"{first.sent_at.isoformat()}\x00{first.sender}\x00{first.text}"
    key = hashlib.sha256(opening.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"whatsapp:{day.isoformat()}:{key}"


def import_whatsapp(
    crm: CRM, path: Path, contact: Contact | str | None, *, timezone: str, me: str | None
) -> ImportReport:
    """See :meth:`crmkit.correspondence_api.Correspondence.import_whatsapp`."""
    _require_path(path)
    zone = _zone(timezone)
    collect = _Collector()
    text = _chat_text(path, collect)
    if text is None:
        return collect.report()
    parsed = parse_whatsapp(text)
    for problem in parsed.problems:
        collect.line_problem(path, problem)
    messages = [m for m in parsed.messages if not m.system]
    matcher = _Matcher(crm)
    senders: dict[str, tuple[Contact, ...]] = {}
    for message in messages:
        if message.sender not in senders:
            senders[message.sender] = matcher.by_sender(message.sender)
    own = normalize.fold(me) if me is not None else None

    def is_me(sender: str) -> bool:
        return own is not None and normalize.fold(sender) == own

    if contact is not None:
        target = crm._load(contact)
        contacts: dict[str, Contact] = {target.id: target}
    else:  # your own messages never put the chat on your own contact
        contacts = {c.id: c for s, found in senders.items() if not is_me(s) for c in found}
    if me is None:
        inbound = {s for s, found in senders.items() if found}
    else:
        inbound = {s for s in senders if not is_me(s)}
    for sender, found in senders.items():
        if not found and not is_me(sender):
            collect.unmatched.setdefault(sender, None)
    days = group_by_day(messages)
    if not contacts:
        collect.unmatched_items += len(days)
        return collect.report()
    for day, group in days.items():
        _import_day(crm, collect, path, zone, list(contacts), inbound, day, group)
    return collect.report()


def _import_day(
    crm: CRM,
    collect: _Collector,
    path: Path,
    zone: ZoneInfo,
    contact_ids: list[str],
    inbound: set[str],
    day: dt.date,
    group: tuple[ChatMessage, ...],
) -> None:
    first = group[0]
    source = _day_source(first, day)
    content = _clean_text("\n".join(_chat_line(m) for m in group))
    label = f"WhatsApp {day.isoformat()}"
    try:
        occurred = first.sent_at.replace(tzinfo=zone).astimezone(dt.UTC)
    except (OverflowError, ValueError):  # 01.01.0001, 00:30 in Berlin is before year 1 in UTC
        collect.problem(path, first.line, "import.no_date", text=label)
        return
    existing = crm.store.find_entry_by_source(source)
    if existing is None:
        values = {
            "contact_ids": contact_ids,
            "channel": "messenger",
            "direction": "inbound" if first.sender in inbound else "outbound",
            "occurred_at": occurred,
            "subject": label,
            "content": content,
            "source": source,
        }
        entry_id = _store(crm, collect, values, path, first.line, label)
        if entry_id is not None:
            collect.imported.append(entry_id)
        return
    # lines as a multiset: a day may hold the same line twice ("09:14 Max: ok")
    old, new = Counter(existing.content.split("\n")), Counter(content.split("\n"))
    if new <= old or not old <= new:
        collect.duplicates.append(source)
        return
    added = (new - old).total()
    try:
        entry = crm.correspondence._extend(
            existing, content=content, reason=f"WhatsApp re-import: +{added}"
        )
    except CrmkitError as exc:
        stored = crm.store.find_entry_by_source(source)
        if stored is None or stored.revision == existing.revision:
            collect.problem(path, first.line, "import.not_stored", text=label, detail=str(exc))
            return
        collect.problem(path, first.line, "import.warning", text=label, detail=str(exc))
        entry = stored
    collect.updated.append(entry.id)


__all__ = [
    "ATTACHMENT_MARK",
    "EMAIL_SUFFIXES",
    "MBOX_SUFFIXES",
    "ImportProblem",
    "ImportReport",
    "import_email",
    "import_whatsapp",
]
