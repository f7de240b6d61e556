"""Read e-mails (``.eml``) and mbox files into plain records.

This is the pure first half of the mail importer: :func:`parse_email` and
:func:`parse_mbox` take the raw bytes and return :class:`MailMessage`
records; they read no file, clock or network.  Matching addresses to
contacts and storing the correspondence happen later, in the facade.

Decoding follows the standard library's :mod:`email` package with
``policy=email.policy.default``: RFC 2047 encoded words in headers
(``=?utf-8?q?M=C3=BCller?=``), RFC 2231 file names, quoted-printable and
base64 bodies, declared charsets.  Beyond that, 8-bit text that declares no
charset (or the wrong one) is read as UTF-8 when it is valid UTF-8 and as
Windows-1252 (the superset of ISO-8859-1 German mail programs write)
otherwise, so umlauts survive and no string carries undecodable bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import email.utils
import re
from collections.abc import Iterator
from email.headerregistry import Address
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Final

import attrs

from crmkit import normalize
from crmkit.errors import Finding, ValidationError
from crmkit.io._problems import PROBLEM_TEXT_LIMIT, LineProblem
from crmkit.messages import register_messages

register_messages(
    {
        "mail.unreadable": (
            "this is not an e-mail message: {reason}",
            "das ist keine E-Mail-Nachricht: {reason}",
        ),
        "mail.bad_date": (
            "{value!r} is not a date; the message has no sending time",
            "{value!r} ist kein Datum; die Nachricht hat keinen Sendezeitpunkt",
        ),
        "mbox.unreadable": (
            "the message starting at line {line} cannot be read ({detail}): {text!r}",
            "die Nachricht ab Zeile {line} ist nicht lesbar ({detail}): {text!r}",
        ),
        "mbox.preamble": (
            "line {line} comes before the first 'From ' line and belongs to no message: {text!r}",
            "Zeile {line} steht vor der ersten „From “-Zeile und gehört zu keiner "
            "Nachricht: {text!r}",
        ),
    }
)

#: Headers of which a message needs at least one to count as an e-mail.
_MAIL_HEADERS: Final = ("from", "to", "cc", "date", "subject", "message-id")


@attrs.frozen(kw_only=True)
class MailAddress:
    """An e-mail address as normalised by :func:`crmkit.normalize.email`, and its display name.

    ``address`` has a lower-case (Unicode) domain; ``name`` is the decoded
    display name, ``""`` when there is none.
    """

    address: str
    name: str = ""


@attrs.frozen(kw_only=True)
class MailMessage:
    """One e-mail, decoded.

    ``message_id`` is the Message-ID without angle brackets (``None`` when
    missing); ``sender`` the From address (``None`` when missing or invalid);
    ``recipients`` the To and Cc addresses in header order, without
    duplicates; ``sent_at`` the Date header as an aware datetime (``None``
    when missing or unreadable; a date without zone or with ``-0000`` is
    taken as UTC); ``body_text`` the text/plain body, or the text/html body
    without its tags when there is no plain one; ``attachments`` the file
    names of attached parts (``[type/subtype]`` for a part without name).
    Addresses that :func:`crmkit.normalize.email` rejects are kept verbatim
    in ``invalid_addresses`` with a finding each; ``findings`` holds these
    and other warnings (``mail.bad_date``).
    """

    message_id: str | None = None
    subject: str = ""
    sender: MailAddress | None = None
    recipients: tuple[MailAddress, ...] = ()
    sent_at: dt.datetime | None = None
    body_text: str = ""
    attachments: tuple[str, ...] = ()
    invalid_addresses: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()


# --------------------------------------------------------------------------- decoding

_SURROGATES: Final = re.compile("[\ud800-\udfff]")


def _decode_bytes(data: bytes, charset: str | None = None) -> str:
    """*data* as text: the declared charset, else UTF-8, else Windows-1252."""
    candidates = [c for c in (charset, "utf-8") if c]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("cp1252", errors="replace")


def _clean(value: str) -> str:
    """*value* with raw 8-bit bytes (kept as surrogates by :mod:`email`) decoded."""
    if not _SURROGATES.search(value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    return _decode_bytes(raw).replace("\x00", "")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML document, with line breaks at block ends."""

    _BLOCKS: Final = frozenset(
        {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}
    )
    _SKIP: Final = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_TAG: Final = re.compile(r"<[^>]*>")


def _html_to_text(html: str) -> str:
    """The readable text of *html*: tags, scripts and styles removed, entities decoded."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.parts)
    except Exception:  # HTMLParser trips over some broken markup
        text = _TAG.sub(" ", html)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: Message) -> str:
    """The decoded text of a text/* part."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return _clean(raw) if isinstance(raw, str) else ""
    charset = None
    with contextlib.suppress(Exception):
        charset = part.get_content_charset()
    if charset in {"us-ascii", "ascii"}:
        charset = None  # 8-bit text labelled ASCII is common; let UTF-8/CP1252 decide
    return _decode_bytes(payload, charset).replace("\r\n", "\n")


def _body(message: EmailMessage) -> str:
    for kind in ("plain", "html"):
        try:
            part = message.get_body(preferencelist=(kind,))
        except Exception:
            part = None
        if part is not None:
            text = _part_text(part)
            return _html_to_text(text) if kind == "html" else text.strip()
    return ""


def _attachments(message: Message) -> Iterator[str]:
    for part in message.iter_parts() if isinstance(message, EmailMessage) else ():
        filename = None
        with contextlib.suppress(Exception):
            filename = part.get_filename()
        disposition = None
        with contextlib.suppress(Exception):
            disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        if filename:
            yield _clean(filename)
        elif disposition == "attachment" or content_type == "message/rfc822":
            yield f"[{content_type}]"
        elif part.is_multipart():
            yield from _attachments(part)


# --------------------------------------------------------------------------- headers


def _header(message: EmailMessage, name: str) -> str | None:
    """The decoded header *name*, or None; never raises."""
    try:
        value = message[name]
    except Exception:
        raw = next((v for k, v in message.raw_items() if k.lower() == name), None)
        return _clean(str(raw)) if raw is not None else None
    return None if value is None else _clean(str(value))


def _addresses(message: EmailMessage, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of all *name* headers, decoded; never raises."""
    pairs: list[tuple[str, str]] = []
    try:
        for header in message.get_all(name) or []:
            found: tuple[Address, ...] = getattr(header, "addresses", ())
            pairs.extend((a.display_name, a.addr_spec) for a in found)
    except Exception:  # a header the registry cannot parse: fall back to the lenient parser
        raw = [str(v) for k, v in message.raw_items() if k.lower() == name]
        pairs = list(email.utils.getaddresses(raw))
    return [(_clean(n), _clean(a)) for n, a in pairs if n.strip() or a.strip()]


def _sent_at(value: str | None) -> tuple[dt.datetime | None, Finding | None]:
    if value is None or not value.strip():
        return None, None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        finding = Finding(field="date", code="mail.bad_date", params={"value": value[:200]})
        return None, attrs.evolve(finding, severity="warning")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed, None


# --------------------------------------------------------------------------- API


def parse_email(data: bytes) -> MailMessage:
    """The e-mail in *data* (the bytes of an ``.eml`` file or one mbox entry), decoded.

    Raises :class:`~crmkit.ValidationError` with the code ``mail.unreadable``
    when *data* is not bytes, is empty, or has none of the headers From,
    To, Cc, Date, Subject and Message-ID; anything else is read as well as
    it can be, with warnings in :attr:`MailMessage.findings`.

    >>> mail = parse_email(b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@Example.DE>\\n"
    ...                    b"Subject: Angebot\\n\\nGuten Tag")
    >>> mail.sender
    MailAddress(address='jm@example.de', name='Jürgen Müller')
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValidationError.single(
            "data", "value.type", expected="bytes", actual=type(data).__name__
        )
    data = bytes(data)
    if not data.strip():
        raise ValidationError.single("data", "mail.unreadable", reason="no data")
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; this is the last line of defence
        raise ValidationError.single("data", "mail.unreadable", reason=type(exc).__name__) from None
    if not isinstance(message, EmailMessage):  # pragma: no cover - policy.default makes one
        raise ValidationError.single("data", "mail.unreadable", reason="no message")
    try:
        present = {k.lower() for k in message}
    except Exception:
        present = set()
    if not present.intersection(_MAIL_HEADERS):
        raise ValidationError.single("data", "mail.unreadable", reason="no mail headers")

    findings: list[Finding] = []
    invalid: list[str] = []

    def normalised(name: str, address: str, field: str) -> MailAddress | None:
        try:
            return MailAddress(address=normalize.email(address, field=field), name=name.strip())
        except ValidationError as exc:
            invalid.append(f"{name} <{address}>" if name and address else name or address)
            findings.extend(attrs.evolve(f, severity="warning") for f in exc.findings)
            return None

    sender = None
    for index, (name, address) in enumerate(_addresses(message, "from")):
        candidate = normalised(name, address, f"from.{index}")
        if sender is None:
            sender = candidate
    recipients: list[MailAddress] = []
    seen: set[str] = set()
    for header in ("to", "cc"):
        for index, (name, address) in enumerate(_addresses(message, header)):
            recipient = normalised(name, address, f"{header}.{index}")
            if recipient is not None and recipient.address.lower() not in seen:
                seen.add(recipient.address.lower())
                recipients.append(recipient)

    sent_at, date_finding = _sent_at(_header(message, "date"))
    if date_finding is not None:
        findings.append(date_finding)
    message_id = _header(message, "message-id")
    if message_id is not None:
        message_id = message_id.strip().strip("<>").strip() or None
    try:
        attachments = tuple(_attachments(message))
    except Exception:
        attachments = ()

    return MailMessage(
        message_id=message_id,
        subject=" ".join((_header(message, "subject") or "").split()),
        sender=sender,
        recipients=tuple(recipients),
        sent_at=sent_at,
        body_text=_body(message),
        attachments=attachments,
        invalid_addresses=tuple(invalid),
        findings=tuple(findings),
    )


_FROM_QUOTED: Final = re.compile(rb"^>+From ")


def _mbox_entries(data: bytes) -> Iterator[tuple[int, list[bytes]]]:
    """(1-based line number, lines) of each part of *data*; the first may be a preamble.

    The preamble (the lines before the first separator) is yielded with
    line number 0 so the caller can tell it apart.
    """
    start = 0
    lines: list[bytes] = []
    previous_blank = True
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        if line.startswith(b"From ") and previous_blank:
            if lines or start:
                yield start, lines
            start, lines = number, []
        else:
            lines.append(line)
        previous_blank = not line.strip()
    if lines or start:
        yield start, lines


def parse_mbox(data: bytes) -> tuple[list[MailMessage], list[LineProblem]]:
    """The e-mails of an mbox file and the problems; see :func:`parse_mbox_located`."""
    located, problems = parse_mbox_located(data)
    return [message for _line, message in located], problems


def parse_mbox_located(data: bytes) -> tuple[list[tuple[int, MailMessage]], list[LineProblem]]:
    """The e-mails of an mbox file (Thunderbird, Google Takeout, ``mboxrd``), and problems.

    A message starts at a line beginning with ``From `` at the start of the
    data or after a blank line (the separator line itself is dropped);
    quoted ``>From `` lines in the body are unquoted by one ``>``, as mboxrd
    prescribes.  Messages that :func:`parse_email` rejects become
    ``mbox.unreadable`` problems, non-blank text before the first ``From ``
    line one ``mbox.preamble`` problem; the line numbers are 1-based lines
    of *data*.  Never raises except for non-bytes input.

    Each message comes with the line of its ``From `` separator.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValidationError.single(
            "data", "value.type", expected="bytes", actual=type(data).__name__
        )
    messages: list[tuple[int, MailMessage]] = []
    problems: list[LineProblem] = []
    for start, lines in _mbox_entries(bytes(data)):
        if start == 0:
            first = next((i for i, line in enumerate(lines) if line.strip()), None)
            if first is not None:
                text = _decode_bytes(lines[first]).rstrip("\r\n")[:PROBLEM_TEXT_LIMIT]
                problems.append(LineProblem(line=first + 1, text=text, code="mbox.preamble"))
            continue
        body = b"".join(line[1:] if _FROM_QUOTED.match(line) else line for line in lines)
        try:
            messages.append((start, parse_email(body)))
        except ValidationError as exc:
            first_line = next((line for line in lines if line.strip()), b"")
            problems.append(
                LineProblem(
                    line=start,
                    text=_decode_bytes(first_line).rstrip("\r\n")[:PROBLEM_TEXT_LIMIT],
                    code="mbox.unreadable",
                    detail="; ".join(str(f.params.get("reason", f.code)) for f in exc.findings),
                )
            )
    return messages, problems


__all__ = ["MailAddress", "MailMessage", "parse_email", "parse_mbox", "parse_mbox_located"]
