"""Test helpers for the survey: an SMTP inbox (aiosmtpd), a movable clock, HTTP calls.

Used by the plugin's own tests and usable by an application's tests; needs
``aiosmtpd`` (a development dependency) for :func:`smtp_server`.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from crmkit_survey.config import ConsentText, Controller, SmtpConfig, SurveyConfig
from crmkit_survey.web import ThreadingServer

START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
SECRET = b"k" * 16 + b"0123456789abcdef-survey-tests"
TEXT = ConsentText(
    purpose="newsletter",
    version="nl-2026-1",
    de="Ja, ich möchte den Newsletter der Muster GmbH per E-Mail erhalten (etwa monatlich).",
    en="Yes, I would like to receive the Muster GmbH newsletter by e-mail (about monthly).",
    label_de="Newsletter per E-Mail",
    label_en="newsletter by e-mail",
)
LINK_RE = re.compile(r"http://127\.0\.0\.1:\d+/([aw])/([A-Za-z0-9_.-]+)")


class FakeClock:
    """A clock the test moves forward."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by a :class:`datetime.timedelta`'s keyword arguments."""
        self.now += dt.timedelta(**delta)


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses some recipients."""

    def __init__(self) -> None:
        self.port = 0
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        """Accept the recipient unless it is in :attr:`refuse` (then 550) or
        :attr:`defer` (then 451)."""
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address.lower() in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        """Keep the message (parsed)."""
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for *address*."""
        return [m for m in self.messages if m["To"] == address]


def body(message: EmailMessage) -> str:
    """The plain-text body of a received mail."""
    part = message.get_body(("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def link_in(message: EmailMessage) -> str:
    """The personal link in a received mail."""
    found = LINK_RE.search(body(message))
    assert found is not None, body(message)
    return found.group(0)


def free_port() -> int:
    """A port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert isinstance(port, int)
        return port


def make_config(inbox: Inbox, server: ThreadingServer, **options: Any) -> SurveyConfig:
    """The test configuration: the SMTP server and the answer app on 127.0.0.1."""
    return SurveyConfig(
        secret=SECRET,
        base_url=f"http://127.0.0.1:{server.server_port}",
        controller=Controller(
            name="Muster GmbH",
            address="Musterstraße 1, 70173 Stuttgart",
            email="datenschutz@muster.de",
            privacy_url="https://muster.de/datenschutz",
        ),
        texts=(TEXT,),
        smtp=SmtpConfig(
            host="127.0.0.1",
            port=inbox.port,
            sender="einwilligung@muster.de",
            timeout=10,
        ),
        **options,
    )


class Response:
    """Status, headers and text of an HTTP response."""

    def __init__(self, status: int, headers: dict[str, str], text: str) -> None:
        self.status = status
        self.headers = headers
        self.text = text


def http(
    url: str,
    data: dict[str, str] | bytes | None = None,
    *,
    method: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A real HTTP request with urllib (4xx/5xx returned, not raised)."""
    from urllib.parse import urlencode

    payload = urlencode(data).encode() if isinstance(data, dict) else data
    request = urllib.request.Request(url, data=payload, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return Response(resp.status, dict(resp.headers), resp.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        text = err.read().decode("utf-8")
        return Response(err.code, dict(err.headers), text)


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the form on *page*."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; yields its :class:`Inbox`."""
    from aiosmtpd.controller import Controller as SmtpController

    handler = Inbox()
    controller = SmtpController(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()
