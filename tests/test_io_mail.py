"""E-mails and mbox files: German encodings decode, bad input gives problems, never crashes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmkit import ValidationError, messages
from crmkit.io import LineProblem, MailAddress, MailMessage, parse_email, parse_mbox

BERLIN_WINTER = dt.timezone(dt.timedelta(hours=1))

# Outlook-style: RFC 2047 headers in two encodings, ISO-8859-1 quoted-printable body.
OUTLOOK = b"""\
Message-ID: <20261123091500.4711@mail.schroeder-haustechnik.de>
Date: Mon, 23 Nov 2026 09:15:00 +0100
From: =?utf-8?q?J=C3=B6rdis_Schr=C3=B6der?= <J.Schroeder@Schroeder-Haustechnik.DE>
To: "=?iso-8859-1?q?M=FCller=2C_Max?=" <max.mueller@MUSTERMANN.de>,
 Vertrieb <vertrieb@mustermann.de>
Cc: buchhaltung@mustermann.de, Max <max.mueller@mustermann.de>
Subject: =?utf-8?q?Angebot_Heizungswartung_f=C3=BCr_die_?=
 =?utf-8?q?Gr=C3=BCnstra=C3=9Fe_12?=
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Sehr geehrter Herr M=FCller,

anbei das Angebot f=FCr die Wartung. Die Anfahrt ist inklusive, Gr=FC=DFe =
aus K=F6ln.

J=F6rdis Schr=F6der
"""

MULTIPART = b"""\
From: Max Mustermann <max@mustermann.de>
To: =?utf-8?b?SsO2cmRpcyBTY2hyw7ZkZXI=?= <j.schroeder@schroeder-haustechnik.de>
Subject: AW: Angebot
Date: 24 Nov 2026 17:45:00 -0000
Message-ID: <abc@mustermann.de>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

R3V0ZW4gVGFnIEZyYXUgU2NocsO2ZGVyLApkYW5rZSBmw7xyIGRhcyBBbmdlYm90Lg==
--inner
Content-Type: text/html; charset=utf-8

<p>Guten Tag Frau Schr&ouml;der,</p><p>danke f&uuml;r das Angebot.</p>
--inner--
--outer
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''Auftrag_M%C3%BCller.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: image/png
Content-Disposition: attachment

iVBORw0KGgo=
--outer--
"""

HTML_ONLY = b"""\
From: newsletter@example.com
Subject: Neuigkeiten
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style><script>alert(1)</script></head>
<body><h1>Willkommen bei M&uuml;ller &amp; S&ouml;hne</h1><p>Ihr Termin:<br>Montag</p></body></html>
"""


def test_rfc2047_headers_and_latin1_quoted_printable_body() -> None:
    mail = parse_email(OUTLOOK)
    assert mail.message_id == "20261123091500.4711@mail.schroeder-haustechnik.de"
    assert mail.subject == "Angebot Heizungswartung für die Grünstraße 12"
    assert mail.sender == MailAddress(
        address="J.Schroeder@schroeder-haustechnik.de", name="Jördis Schröder"
    )
    assert mail.recipients == (
        MailAddress(address="max.mueller@mustermann.de", name="Müller, Max"),
        MailAddress(address="vertrieb@mustermann.de", name="Vertrieb"),
        MailAddress(address="buchhaltung@mustermann.de"),
    )
    assert mail.sent_at == dt.datetime(2026, 11, 23, 9, 15, tzinfo=BERLIN_WINTER)
    assert mail.body_text == (
        "Sehr geehrter Herr Müller,\n\nanbei das Angebot für die Wartung. Die Anfahrt ist "
        "inklusive, Grüße aus Köln.\n\nJördis Schröder"
    )
    assert mail.attachments == ()
    assert mail.invalid_addresses == () and mail.findings == ()


def test_multipart_prefers_plain_text_and_lists_attachments() -> None:
    mail = parse_email(MULTIPART)
    assert mail.body_text == "Guten Tag Frau Schröder,\ndanke für das Angebot."
    assert mail.attachments == ("Auftrag_Müller.pdf", "[image/png]")
    assert mail.recipients == (
        MailAddress(address="j.schroeder@schroeder-haustechnik.de", name="Jördis Schröder"),
    )
    assert mail.sent_at == dt.datetime(2026, 11, 24, 17, 45, tzinfo=dt.UTC)
    assert mail.message_id == "abc@mustermann.de"


def test_html_only_mail_is_stripped_of_tags() -> None:
    mail = parse_email(HTML_ONLY)
    assert mail.body_text == "Willkommen bei Müller & Söhne\n\nIhr Termin:\nMontag"
    assert mail.sender == MailAddress(address="newsletter@example.com")
    assert mail.sent_at is None and mail.message_id is None and mail.findings == ()


def test_unencoded_8bit_headers_and_undeclared_latin1_body() -> None:
    headers = "From: Jürgen Weiß <jw@weiss.de>\nSubject: Grüße\n\n".encode()
    data = headers + "Schöne Grüße".encode("latin-1")
    mail = parse_email(data)
    assert mail.sender == MailAddress(address="jw@weiss.de", name="Jürgen Weiß")
    assert mail.subject == "Grüße"
    assert mail.body_text == "Schöne Grüße"


def test_invalid_addresses_and_dates_are_kept_as_findings() -> None:
    mail = parse_email(
        b"From: Max <max@localhost>\n"
        b"To: ok@mustermann.de, kaputt@@mustermann.de\n"
        b"Date: am Montag\n"
        b"Subject: Test\n\nText"
    )
    assert mail.sender is None
    assert mail.recipients == (MailAddress(address="ok@mustermann.de"),)
    assert mail.invalid_addresses[0] == "Max <max@localhost>"
    assert len(mail.invalid_addresses) == 2
    assert mail.sent_at is None
    fields = [(f.field, f.code, f.severity) for f in mail.findings]
    assert ("from.0", "email.invalid", "warning") in fields
    assert ("date", "mail.bad_date", "warning") in fields
    bad_date = next(f for f in mail.findings if f.code == "mail.bad_date")
    assert (
        bad_date.message("de")
        == "'am Montag' ist kein Datum; die Nachricht hat keinen Sendezeitpunkt"
    )


@pytest.mark.parametrize("data", [b"", b"  \n", b"einfach nur Text ohne Kopfzeilen\n"])
def test_data_without_mail_headers_is_unreadable(data: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        parse_email(data)
    assert info.value.findings[0].code == "mail.unreadable"
    assert info.value.message("de").startswith("ungültige Eingabe: data: das ist keine E-Mail")


def test_text_instead_of_bytes_is_a_type_error() -> None:
    with pytest.raises(ValidationError) as info:
        parse_email("From: x@y.de")  # type: ignore[arg-type]
    assert info.value.findings[0].code == "value.type"


MBOX = b"""\
From MAILER-DAEMON Mon Nov 23 09:15:00 2026
From: max@mustermann.de
To: j.schroeder@schroeder-haustechnik.de
Subject: Termin

Hallo Frau Schr=F6der,
>From now on: Montag.
>>From quoted twice

From j.schroeder@schroeder-haustechnik.de Mon Nov 23 10:00:00 2026
this is not a mail

From j.schroeder@schroeder-haustechnik.de Mon Nov 23 11:00:00 2026
From: j.schroeder@schroeder-haustechnik.de
Subject: =?utf-8?q?R=C3=BCckfrage?=
Content-Type: text/plain; charset=utf-8

Passt.
"""


def test_mbox_splits_unquotes_and_reports_unreadable_entries() -> None:
    mails, problems = parse_mbox(MBOX)
    assert [m.subject for m in mails] == ["Termin", "Rückfrage"]
    assert mails[0].body_text == "Hallo Frau Schr=F6der,\nFrom now on: Montag.\n>From quoted twice"
    assert mails[1].body_text == "Passt."
    assert problems == [
        LineProblem(
            line=10, text="this is not a mail", code="mbox.unreadable", detail="no mail headers"
        )
    ]
    assert problems[0].message("de") == (
        "die Nachricht ab Zeile 10 ist nicht lesbar (no mail headers): 'this is not a mail'"
    )


def test_mbox_with_crlf_and_preamble() -> None:
    data = MBOX.replace(b"\n", b"\r\n")
    mails, problems = parse_mbox(b"Exportiert am 23.11.2026\r\n\r\n" + data)
    assert [m.subject for m in mails] == ["Termin", "R\u00fcckfrage"]
    assert [(p.line, p.code) for p in problems] == [(1, "mbox.preamble"), (12, "mbox.unreadable")]
    assert problems[0].text == "Exportiert am 23.11.2026"


def test_mbox_without_from_lines_is_all_preamble() -> None:
    mails, problems = parse_mbox(OUTLOOK)
    assert mails == []
    assert [(p.line, p.code) for p in problems] == [(1, "mbox.preamble")]
    assert parse_mbox(b"") == ([], [])


def test_codes_are_in_the_catalogue() -> None:
    for code in ("mail.unreadable", "mail.bad_date", "mbox.unreadable", "mbox.preamble"):
        assert code in messages.codes()


def _no_surrogates(mail: MailMessage) -> bool:
    texts = [mail.subject, mail.body_text, *mail.attachments, *mail.invalid_addresses]
    texts += [a.address + a.name for a in (mail.sender, *mail.recipients) if a is not None]
    return not any("\ud800" <= c <= "\udfff" for t in texts for c in t)


@given(st.binary(max_size=400))
@example(OUTLOOK)
@example(MULTIPART)
@example(b"From: \xff\xfe <\xc3@\x00>\nSubject: =?x-unknown?q?=FC?=\n\n\xfc")
@example(b"Content-Type: text/plain; charset=x-nonsense\nSubject: a\n\n\xe4\xf6\xfc")
@example(b'Subject: x\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n\n--b--')
@example(b"Date: Mon, 99 Foo 99999 99:99:99 +9999\nTo: ,,,<>;:\n\n")
@example(b"Message-ID: <\n\n")
def test_any_bytes_give_a_message_or_a_validation_error(data: bytes) -> None:
    try:
        mail = parse_email(data)
    except ValidationError as exc:
        assert exc.findings[0].code == "mail.unreadable"
    else:
        assert isinstance(mail, MailMessage)
        assert _no_surrogates(mail)
        assert mail.sent_at is None or mail.sent_at.tzinfo is not None


@given(st.lists(st.sampled_from([b"From x\n", b"\n", b"Subject: a\n", b">From y\n"]) | st.binary()))
@example([MBOX, b"\xff\n", b"From "])
def test_any_bytes_give_an_mbox_parse(chunks: list[bytes]) -> None:
    mails, problems = parse_mbox(b"".join(chunks))
    assert all(isinstance(m, MailMessage) for m in mails)
    assert all(p.code in {"mbox.preamble", "mbox.unreadable"} for p in problems)
