"""Importing e-mails and WhatsApp chats: real files on both stores, bad input never crashes."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import Company, EmailAddress, Person, PhoneNumber, ValidationError
from crmkit.auth import Actor
from crmkit.correspondence import CorrespondenceEntry
from crmkit.correspondence_import import ATTACHMENT_MARK, ImportProblem, ImportReport
from crmkit.errors import PermissionDenied

Clock = Callable[[], dt.datetime]
UTC = dt.UTC


# -- stores and contacts ---------------------------------------------------------------------------
def _open(kind: str, tmp_path: Path, clock: Clock, plugins: Iterable[object] = ()) -> crmkit.CRM:
    url = "memory://" if kind == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"
    return crmkit.open(url, clock=clock, plugins=plugins, load_entry_points=kind == "sqlite")


@pytest.fixture(params=["memory", "sqlite"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def crm(store_kind: str, tmp_path: Path, clock: Clock) -> Iterator[crmkit.CRM]:
    with _open(store_kind, tmp_path, clock) as crm:
        yield crm


class People(NamedTuple):
    max: Person
    erika: Person
    juergen: Person
    muster: Company


def _add_people(crm: crmkit.CRM) -> People:
    return People(
        max=crm.contacts.add(
            Person(
                first_name="Max",
                last_name="Mustermann",
                emails=[EmailAddress(address="max.mustermann@muster.de")],
                phones=[PhoneNumber.parse("0170 1234567")],
            )
        ),
        erika=crm.contacts.add(
            Person(
                first_name="Erika",
                last_name="Musterfrau",
                emails=[EmailAddress(address="erika@beispiel.de")],
            )
        ),
        juergen=crm.contacts.add(
            Person(
                first_name="Juergen",
                last_name="Mueller",
                emails=[EmailAddress(address="j.mueller@mueller-bau.de")],
            )
        ),
        muster=crm.contacts.add(
            Company(name="Muster GmbH", emails=[EmailAddress(address="info@muster.de")])
        ),
    )


@pytest.fixture
def people(crm: crmkit.CRM) -> People:
    return _add_people(crm)


def _entries(crm: crmkit.CRM) -> dict[str, CorrespondenceEntry]:
    """Every entry on any contact's timeline, by id."""
    found: dict[str, CorrespondenceEntry] = {}
    for contact in crm.contacts.all(include_archived=True):
        found.update((e.id, e) for e in crm.correspondence.timeline(contact))
    return found


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _codes(report: ImportReport) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in report.problems]


# -- e-mail samples --------------------------------------------------------------------------------
# Max writes to the firm, Erika in Cc; the addresses are written in other cases than stored.
OFFER = b"""\
Message-ID: <angebot-4711@muster.de>
Date: Mon, 23 Nov 2026 09:15:00 +0100
From: Max Mustermann <Max.Mustermann@Muster.DE>
To: Vertrieb <vertrieb@meine-firma.de>
Cc: =?utf-8?q?Erika_Musterfrau?= <ERIKA@Beispiel.de>
Subject: =?utf-8?q?Anfrage_Heizungswartung_f=C3=BCr_die_?=
 =?utf-8?q?Gr=C3=BCnstra=C3=9Fe_12?=
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Sehr geehrte Damen und Herren,

bitte schicken Sie uns ein Angebot f=FCr die Wartung. Gr=FC=DFe aus K=F6ln.

Max Mustermann
"""

# The firm answers with the offer attached: outbound, the sender is no contact.
REPLY = """\
Message-ID: <re-angebot-4711@meine-firma.de>
Date: Tue, 24 Nov 2026 18:30:00 +0100
From: Vertrieb <vertrieb@meine-firma.de>
To: max.mustermann@muster.de
In-Reply-To: <angebot-4711@muster.de>
Subject: AW: Anfrage Heizungswartung
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="grenze"

--grenze
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Guten Tag Herr Mustermann,
anbei unser Angebot für die Grünstraße.
--grenze
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''Angebot_M%C3%BCller.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--grenze
Content-Type: image/png
Content-Disposition: attachment

iVBORw0KGgo=
--grenze--
""".encode()

NEWSLETTER = b"""\
Message-ID: <nl-2026-47@example.com>
Date: Wed, 25 Nov 2026 06:00:00 +0000
From: Newsletter <news@example.com>
To: vertrieb@meine-firma.de
Subject: Neuigkeiten

Unbekannt.
"""

CALLBACK_NO_ID = """\
Date: Thu, 26 Nov 2026 11:30:00 +0100
From: erika@beispiel.de
To: vertrieb@meine-firma.de
Subject: Rückruf
Content-Type: text/plain; charset=utf-8

Bitte rufen Sie mich zurück.
""".encode()

HTML_ONLY = b"""\
Message-ID: <html-1@beispiel.de>
Date: Fri, 27 Nov 2026 08:00:00 +0100
From: Erika Musterfrau <erika@beispiel.de>
To: vertrieb@meine-firma.de
Subject: Termin
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style><script>alert(1)</script></head>
<body><h1>Willkommen bei M&uuml;ller &amp; S&ouml;hne</h1><p>Ihr Termin:<br>Montag</p></body></html>
"""

NO_DATE = b"""\
Message-ID: <ohne-datum@muster.de>
From: max.mustermann@muster.de
To: vertrieb@meine-firma.de
Subject: <script>alert(1)</script> Termin

Ohne Datum.
"""

BAD_DATE = NO_DATE.replace(b"From:", b"Date: am Montag\nFrom:").replace(
    b"ohne-datum", b"falsches-datum"
)


def _mbox(*mails: bytes) -> bytes:
    parts = [b"From sender@example.com Mon Nov 23 09:15:00 2026\n" + m.rstrip(b"\n") for m in mails]
    return b"\n\n".join(parts) + b"\n"


# -- e-mail: matching, direction, content ----------------------------------------------------------
def test_eml_matches_addresses_case_insensitively_and_logs_one_entry_on_all(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_email(_write(tmp_path / "anfrage.eml", OFFER))

    assert len(report.imported) == 1 and report.problems == ()
    assert report.unmatched == ("vertrieb@meine-firma.de",)
    assert report.unmatched_items == 0 and report.duplicates == ()
    entry = crm.correspondence.get(report.imported[0])
    assert set(entry.contact_ids) == {people.max.id, people.erika.id}
    assert entry.channel == "email" and entry.direction == "inbound"
    assert entry.subject == "Anfrage Heizungswartung für die Grünstraße 12"
    assert entry.content == (
        "Sehr geehrte Damen und Herren,\n\nbitte schicken Sie uns ein Angebot für die Wartung. "
        "Grüße aus Köln.\n\nMax Mustermann"
    )
    assert entry.occurred_at == dt.datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    assert entry.source == "email:angebot-4711@muster.de"
    for contact in (people.max, people.erika):
        assert [e.id for e in crm.correspondence.timeline(contact)] == [entry.id]
    assert list(crm.correspondence.timeline(people.juergen)) == []
    assert crm.contacts.count() == 4


def test_eml_from_an_unknown_sender_is_outbound_and_lists_attachments(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_email(_write(tmp_path / "antwort.eml", REPLY))

    (entry_id,) = report.imported
    entry = crm.correspondence.get(entry_id)
    assert entry.contact_ids == (people.max.id,)
    assert entry.direction == "outbound"
    assert entry.content == (
        "Guten Tag Herr Mustermann,\nanbei unser Angebot für die Grünstraße.\n\n"
        f"{ATTACHMENT_MARK} Angebot_Müller.pdf\n{ATTACHMENT_MARK} [image/png]"
    )
    assert report.unmatched == ("vertrieb@meine-firma.de",)


def test_eml_without_a_known_address_is_reported_and_invents_no_contact(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_email(_write(tmp_path / "news.eml", NEWSLETTER))

    assert report.imported == () and report.unmatched_items == 1
    assert report.unmatched == ("news@example.com", "vertrieb@meine-firma.de")
    assert crm.contacts.count() == 4
    assert _entries(crm) == {}


def test_html_only_mail_becomes_text(crm: crmkit.CRM, people: People, tmp_path: Path) -> None:
    report = crm.correspondence.import_email(_write(tmp_path / "termin.eml", HTML_ONLY))

    entry = crm.correspondence.get(report.imported[0])
    assert entry.content == "Willkommen bei Müller & Söhne\n\nIhr Termin:\nMontag"
    assert entry.contact_ids == (people.erika.id,) and entry.direction == "inbound"


def test_folder_is_searched_recursively_for_eml_files(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    inbox = tmp_path / "Posteingang"
    _write(inbox / "2026-11-23 Anfrage.eml", OFFER)
    _write(inbox / "Max" / "Angebote" / "Antwort.EML", REPLY)
    _write(inbox / "Werbung" / "news.eml", NEWSLETTER)
    _write(inbox / "kaputt.eml", b"\x00\x01\x02 kein Mail-Kopf \xff\xfe")
    _write(inbox / "Notizen.txt", HTML_ONLY)  # no .eml: not read at all
    (inbox / "leer.eml").mkdir()  # a folder with a mail-like name is no mail either

    report = crm.correspondence.import_email(inbox)

    assert len(report.imported) == 2
    assert report.unmatched_items == 1
    (problem,) = report.problems
    assert problem.path == str(inbox / "kaputt.eml")
    assert (problem.line, problem.code) == (0, "mail.unreadable")
    subjects = {e.subject for e in _entries(crm).values()}
    assert subjects == {
        "Anfrage Heizungswartung für die Grünstraße 12",
        "AW: Anfrage Heizungswartung",
    }
    assert crm.contacts.count() == 4


def test_mbox_imports_every_message_and_reports_bad_parts_with_line_numbers(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    data = b"Exportiert aus Thunderbird\n\n" + _mbox(OFFER, b"das ist keine Mail", REPLY, HTML_ONLY)
    lines = data.split(b"\n")
    bad_line = lines.index(b"das ist keine Mail")  # the "From " line before it, 1-based

    report = crm.correspondence.import_email(_write(tmp_path / "Archiv.mbox", data))

    assert len(report.imported) == 3
    assert _codes(report) == [(1, "mbox.preamble"), (bad_line, "mbox.unreadable")]
    assert all(p.path == str(tmp_path / "Archiv.mbox") for p in report.problems)
    assert report.problems[1].message("de") == (
        f"{tmp_path / 'Archiv.mbox'}:{bad_line}: die Nachricht ab Zeile {bad_line} ist nicht "
        "lesbar (no mail headers): 'das ist keine Mail'"
    )
    assert len(crm.correspondence.timeline(people.max)) == 2
    assert len(crm.correspondence.timeline(people.erika)) == 2


def test_same_message_id_is_not_imported_twice_across_eml_and_mbox(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    first = crm.correspondence.import_email(_write(tmp_path / "anfrage.eml", OFFER))
    again = crm.correspondence.import_email(tmp_path / "anfrage.eml")
    mbox = crm.correspondence.import_email(_write(tmp_path / "mbox", _mbox(OFFER, REPLY)))

    assert len(first.imported) == 1
    assert again.imported == () and again.duplicates == ("email:angebot-4711@muster.de",)
    assert len(mbox.imported) == 1 and mbox.duplicates == ("email:angebot-4711@muster.de",)
    assert len(_entries(crm)) == 2
    assert [r.action for r in crm.correspondence.revisions(first.imported[0])] == ["import"]


def test_message_without_id_is_deduplicated_by_content_hash(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    path = _write(tmp_path / "rueckruf.eml", CALLBACK_NO_ID)
    first = crm.correspondence.import_email(path)
    again = crm.correspondence.import_email(path)
    in_mbox = crm.correspondence.import_email(_write(tmp_path / "mbox", _mbox(CALLBACK_NO_ID)))
    other = crm.correspondence.import_email(
        _write(tmp_path / "anders.eml", CALLBACK_NO_ID.replace(b"mich", b"uns"))
    )

    (entry_id,) = first.imported
    source = crm.correspondence.get(entry_id).source
    assert source is not None and source.startswith("email:sha256:")
    assert again.imported == () and again.duplicates == (source,)
    assert in_mbox.imported == () and in_mbox.duplicates == (source,)
    assert len(other.imported) == 1  # a different text is a different message
    assert len(crm.correspondence.timeline(people.erika)) == 2


@pytest.mark.parametrize(
    "message_id",
    [
        pytest.param("<kontroll\x01zeichen@muster.de>", id="control-character"),
        pytest.param("<Mu\u0308ller-1@muster.de>", id="decomposed-umlaut"),
        pytest.param("<" + "x" * 1200 + "@muster.de>", id="too-long"),
    ],
)
def test_odd_message_ids_import_once_and_are_then_duplicates(
    crm: crmkit.CRM, people: People, tmp_path: Path, message_id: str
) -> None:
    data = OFFER.replace(b"<angebot-4711@muster.de>", message_id.encode())
    path = _write(tmp_path / "odd.eml", data)
    first = crm.correspondence.import_email(path)
    again = crm.correspondence.import_email(path)

    assert len(first.imported) == 1 and first.problems == ()
    assert again.imported == () and again.problems == ()
    assert again.duplicates == (crm.correspondence.get(first.imported[0]).source,)


def test_message_without_a_readable_date_is_a_problem_not_an_entry(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    missing = _write(tmp_path / "ohne.eml", NO_DATE)
    wrong = _write(tmp_path / "falsch.eml", BAD_DATE)
    far = _write(
        tmp_path / "fern.eml",
        NO_DATE.replace(b"From:", b"Date: Fri, 31 Dec 9999 23:59:59 -1200\nFrom:").replace(
            b"ohne-datum", b"fern"
        ),
    )

    report = crm.correspondence.import_email(tmp_path)

    assert report.imported == ()
    label = "<script>alert(1)</script> Termin"
    by_file = {(Path(p.path).name, p.code) for p in report.problems}
    assert by_file == {
        ("ohne.eml", "import.no_date"),
        ("falsch.eml", "import.warning"),
        ("falsch.eml", "import.no_date"),
        ("fern.eml", "import.no_date"),
    }
    no_date = next(p for p in report.problems if p.path == str(missing))
    assert no_date.message("en") == (
        f"{missing}: the message {label!r} has no readable date; it was not imported"
    )
    assert no_date.message("de") == (
        f"{missing}: die Nachricht {label!r} hat kein lesbares Datum; sie wurde nicht importiert"
    )
    warning = next(p for p in report.problems if p.code == "import.warning")
    assert warning.path == str(wrong)
    assert "'am Montag' is not a date" in warning.message()
    assert str(far) in {p.path for p in report.problems}
    assert _entries(crm) == {}


def test_nonexistent_path_raises_a_validation_error(crm: crmkit.CRM, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        crm.correspondence.import_email(tmp_path / "gibt-es-nicht.eml")
    finding = info.value.findings[0]
    assert (finding.field, finding.code) == ("path", "import.no_file")
    with pytest.raises(ValidationError):
        crm.correspondence.import_whatsapp(tmp_path / "gibt-es-nicht.txt")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
        pytest.param("Einkaufsliste: Milch, Käse".encode("latin-1"), id="text"),
        pytest.param(b"From \n\n\nFrom x\n\x00", id="broken-mbox"),
    ],
)
def test_garbage_files_give_problems_never_an_exception(
    crm: crmkit.CRM, people: People, tmp_path: Path, data: bytes
) -> None:
    report = crm.correspondence.import_email(_write(tmp_path / "mail.eml", data))
    assert report.imported == () and report.problems
    assert all(isinstance(p, ImportProblem) and str(p) for p in report.problems)
    assert crm.contacts.count() == 4


def test_unreadable_file_is_a_problem(crm: crmkit.CRM, people: People, tmp_path: Path) -> None:
    _write(tmp_path / "ok.eml", OFFER)
    locked = _write(tmp_path / "gesperrt.eml", REPLY)
    locked.chmod(0)
    try:
        readable = os.access(locked, os.R_OK)  # root reads any file
        report = crm.correspondence.import_email(tmp_path)
    finally:
        locked.chmod(0o644)
    if readable:
        assert len(report.imported) == 2 and report.problems == ()
    else:
        assert len(report.imported) == 1
        assert _codes(report) == [(0, "import.unreadable_file")]
        assert report.problems[0].path == str(locked)
    # a directory given as a chat export cannot be read either, whoever runs the tests
    chat = crm.correspondence.import_whatsapp(tmp_path)
    assert _codes(chat) == [(0, "import.unreadable_file")]


# -- WhatsApp samples ------------------------------------------------------------------------------
# German Android export of a chat between Anna (the user) and Max, two days in November.
GERMAN_ANDROID = """\
23.11.26, 09:12 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb \
dieses Chats kann sie lesen oder anhören, nicht einmal WhatsApp. Tippe, um mehr zu erfahren.
23.11.26, 09:15 - Max Mustermann: Guten Morgen Frau Schmidt, ist das Angebot schon fertig?
23.11.26, 09:20 - Anna Schmidt: Ja, kommt heute.
Viele Grüße

Anna
23.11.26, 09:21 - Max Mustermann: <Medien ausgeschlossen>
24.11.26, 17:45 - Anna Schmidt: Angebot_2026.pdf (Datei angehängt)
Hier ist es
24.11.26, 17:50 - Max Mustermann: Danke!
"""

#: The same chat exported a week later: more on the 24th, and a new day.
GERMAN_ANDROID_LONGER = (
    GERMAN_ANDROID
    + """\
24.11.26, 18:02 - Max Mustermann: Passt so, bitte beauftragen.
30.11.26, 08:05 - Max Mustermann: Der Techniker war da 👍
"""
)

DAY_23 = (
    "09:15 Max Mustermann: Guten Morgen Frau Schmidt, ist das Angebot schon fertig?\n"
    "09:20 Anna Schmidt: Ja, kommt heute.\n"
    "    Viele Grüße\n"
    "\n"
    "    Anna\n"
    f"09:21 Max Mustermann: {ATTACHMENT_MARK}"
)
DAY_24 = f"17:45 Anna Schmidt: Hier ist es {ATTACHMENT_MARK}\n17:50 Max Mustermann: Danke!"

# A chat with a number that is not in the phone book: the export shows the number.
BY_NUMBER = """\
02.12.26, 18:03 - +49 170 1234567: Bin morgen um 8 da.
02.12.26, 18:04 - Anna Schmidt: Passt!
"""

# English (US) iOS export, 12-hour clock, with Jürgen spelled with umlauts.
ENGLISH_IOS = (
    "[11/23/26, 9:05:12 AM] Jürgen Müller: \u200eMessages and calls are end-to-end encrypted. "
    "No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
    "[11/23/26, 9:15:02 AM] Jürgen Müller: Good morning! The roof is done.\n"
    "\u200e[11/23/26, 9:16:40 AM] Jürgen Müller: \u200eimage omitted\n"
    "[11/23/26, 1:02:11 PM] Anna Schmidt: Great, thanks!\n"
    "See you Monday\n"
    "[11/24/26, 8:00:00 AM] Jürgen Müller: Invoice follows\n"
)


def _chat(tmp_path: Path, text: str, name: str = "WhatsApp Chat mit Max Mustermann.txt") -> Path:
    return _write(tmp_path / name, text)


def _ios_zip(tmp_path: Path, chat: str, name: str = "WhatsApp Chat - Jürgen Müller.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        # a text file sent in the chat sorts before the chat itself
        archive.writestr("00000003-Notizen.txt", "Dachrinne links prüfen")
        archive.writestr("00000004-PHOTO-2026-11-23-09-16-40.jpg", b"\xff\xd8\xff\xe0")
        archive.writestr("_chat.txt", "\ufeff" + chat)
    return path


def _by_day(crm: crmkit.CRM, contact: Person | Company) -> dict[str, CorrespondenceEntry]:
    return {e.subject: e for e in crm.correspondence.timeline(contact)}


# -- WhatsApp: days, matching, direction, time -----------------------------------------------------
def test_german_android_export_gives_one_entry_per_day(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID), me="Anna Schmidt")

    assert len(report.imported) == 2 and report.problems == ()
    assert report.unmatched == () and report.unmatched_items == 0
    days = _by_day(crm, people.max)
    assert list(days) == ["WhatsApp 2026-11-24", "WhatsApp 2026-11-23"]  # newest first
    first, second = days["WhatsApp 2026-11-23"], days["WhatsApp 2026-11-24"]
    assert first.contact_ids == (people.max.id,) and first.channel == "messenger"
    assert first.direction == "inbound" and second.direction == "outbound"
    # 09:15 in Berlin in winter is 08:15 UTC; the 09:12 notice does not count
    assert first.occurred_at == dt.datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    assert second.occurred_at == dt.datetime(2026, 11, 24, 16, 45, tzinfo=UTC)
    assert first.content == DAY_23
    assert second.content == DAY_24
    assert "verschlüsselt" not in first.content
    assert crm.contacts.count() == 4


def test_without_me_only_matched_senders_are_inbound_and_the_rest_is_reported(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID))

    assert len(report.imported) == 2
    assert report.unmatched == ("Anna Schmidt",)
    days = _by_day(crm, people.max)
    assert days["WhatsApp 2026-11-23"].direction == "inbound"
    assert days["WhatsApp 2026-11-24"].direction == "outbound"


def test_me_makes_own_messages_outbound_and_still_reports_unknown_senders(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    chat = GERMAN_ANDROID + "25.11.26, 07:30 - Susi Sorglos: Wer ist das?\n"
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, chat), me="anna schmidt")

    assert report.unmatched == ("Susi Sorglos",)
    days = _by_day(crm, people.max)
    assert days["WhatsApp 2026-11-24"].direction == "outbound"
    assert days["WhatsApp 2026-11-25"].direction == "inbound"  # not me: someone else wrote


def test_me_never_puts_the_chat_on_my_own_contact(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    anna = crm.contacts.add(Person(first_name="Anna", last_name="Schmidt"))
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID), me="Anna Schmidt")

    assert len(report.imported) == 2
    assert list(crm.correspondence.timeline(anna)) == []
    assert all(e.contact_ids == (people.max.id,) for e in crm.correspondence.timeline(people.max))


def test_sender_shown_as_phone_number_is_matched_by_number(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, BY_NUMBER), me="Anna Schmidt")

    (entry_id,) = report.imported
    entry = crm.correspondence.get(entry_id)
    assert entry.contact_ids == (people.max.id,) and entry.direction == "inbound"
    assert entry.occurred_at == dt.datetime(2026, 12, 2, 17, 3, tzinfo=UTC)
    assert entry.content == "18:03 +49 170 1234567: Bin morgen um 8 da.\n18:04 Anna Schmidt: Passt!"


def test_english_ios_export_with_twelve_hour_clock_matches_folded_names(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_whatsapp(
        _chat(tmp_path, ENGLISH_IOS, "_chat.txt"), me="Anna Schmidt"
    )

    assert len(report.imported) == 2 and report.problems == () and report.unmatched == ()
    days = _by_day(crm, people.juergen)
    first = days["WhatsApp 2026-11-23"]
    assert first.occurred_at == dt.datetime(2026, 11, 23, 8, 15, 2, tzinfo=UTC)
    assert first.content == (
        "09:15 Jürgen Müller: Good morning! The roof is done.\n"
        f"09:16 Jürgen Müller: {ATTACHMENT_MARK}\n"
        "13:02 Anna Schmidt: Great, thanks!\n"
        "    See you Monday"
    )
    assert days["WhatsApp 2026-11-24"].content == "08:00 Jürgen Müller: Invoice follows"


def test_ios_zip_export_reads_the_chat_not_a_text_attachment(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    report = crm.correspondence.import_whatsapp(_ios_zip(tmp_path, ENGLISH_IOS), me="Anna Schmidt")

    assert len(report.imported) == 2 and report.problems == ()
    assert set(_by_day(crm, people.juergen)) == {"WhatsApp 2026-11-23", "WhatsApp 2026-11-24"}
    assert "Dachrinne" not in "".join(e.content for e in _entries(crm).values())


def test_zip_export_without_a_chat_or_broken_is_a_problem(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    empty = tmp_path / "nur-fotos.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("00000004-PHOTO.jpg", b"\xff\xd8")
    broken = _write(tmp_path / "kaputt.zip", b"PK\x03\x04 abgeschnitten")

    assert _codes(crm.correspondence.import_whatsapp(empty)) == [(0, "import.no_chat_file")]
    assert _codes(crm.correspondence.import_whatsapp(broken)) == [(0, "import.unreadable_file")]
    assert _entries(crm) == {}


def test_given_contact_gets_every_day(crm: crmkit.CRM, people: People, tmp_path: Path) -> None:
    chat = GERMAN_ANDROID.replace("Max Mustermann", "Herr M. (Muster)")
    report = crm.correspondence.import_whatsapp(
        _chat(tmp_path, chat), people.muster.number, me="Anna Schmidt"
    )

    assert len(report.imported) == 2
    days = _by_day(crm, people.muster)
    assert set(days) == {"WhatsApp 2026-11-23", "WhatsApp 2026-11-24"}
    assert all(e.contact_ids == (people.muster.id,) for e in days.values())
    assert days["WhatsApp 2026-11-23"].direction == "inbound"
    assert list(crm.correspondence.timeline(people.max)) == []


def test_chat_without_a_matched_sender_imports_nothing(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    chat = GERMAN_ANDROID.replace("Max Mustermann", "Moritz Unbekannt")
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, chat))

    assert report.imported == () and report.unmatched_items == 2
    assert report.unmatched == ("Moritz Unbekannt", "Anna Schmidt")
    assert _entries(crm) == {} and crm.contacts.count() == 4


def test_ambiguous_name_matches_nobody(crm: crmkit.CRM, people: People, tmp_path: Path) -> None:
    crm.contacts.add(Person(first_name="Max", last_name="Mustermann"))  # a namesake
    chat = "23.11.26, 09:15 - Max Mustermann: Hallo\n"
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, chat))

    assert report.imported == () and report.unmatched == ("Max Mustermann",)


def test_time_zone_decides_the_utc_time(crm: crmkit.CRM, people: People, tmp_path: Path) -> None:
    path = _chat(tmp_path, GERMAN_ANDROID)
    report = crm.correspondence.import_whatsapp(path, timezone="America/New_York")

    first = crm.correspondence.get(report.imported[0])
    assert first.occurred_at == dt.datetime(2026, 11, 23, 14, 15, tzinfo=UTC)
    summer = "15.07.26, 09:15 - Max Mustermann: Sommer\n"
    (summer_id,) = crm.correspondence.import_whatsapp(_chat(tmp_path, summer, "s.txt")).imported
    assert crm.correspondence.get(summer_id).occurred_at == dt.datetime(
        2026, 7, 15, 7, 15, tzinfo=UTC
    )


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe", "", "../../etc/passwd", "MEZ"])
def test_invalid_time_zone_is_a_validation_error(
    crm: crmkit.CRM, people: People, tmp_path: Path, zone: str
) -> None:
    with pytest.raises(ValidationError) as info:
        crm.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID), timezone=zone)
    assert info.value.findings[0].field == "timezone"
    assert "timezone" in info.value.message("de")
    assert _entries(crm) == {}


# -- WhatsApp: re-import ---------------------------------------------------------------------------
def test_reimporting_the_same_export_adds_nothing(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    path = _chat(tmp_path, GERMAN_ANDROID)
    first = crm.correspondence.import_whatsapp(path, me="Anna Schmidt")
    again = crm.correspondence.import_whatsapp(path, me="Anna Schmidt")

    assert again.imported == () and again.updated == () and again.problems == ()
    assert set(again.duplicates) == {crm.correspondence.get(i).source for i in first.imported}
    assert all(len(crm.correspondence.revisions(i)) == 1 for i in first.imported)


def test_longer_export_extends_the_last_day_and_adds_the_new_one(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    crm.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID), me="Anna Schmidt")
    before = _by_day(crm, people.max)
    longer = _chat(tmp_path, GERMAN_ANDROID_LONGER, "WhatsApp Chat mit Max Mustermann (2).txt")

    report = crm.correspondence.import_whatsapp(longer, me="Anna Schmidt")

    day_24 = before["WhatsApp 2026-11-24"]
    assert report.updated == (day_24.id,)
    assert report.duplicates == (before["WhatsApp 2026-11-23"].source,)
    assert len(report.imported) == 1 and report.problems == ()
    extended = crm.correspondence.get(day_24.id)
    assert extended.revision == 2
    assert extended.content == DAY_24 + "\n18:02 Max Mustermann: Passt so, bitte beauftragen."
    assert extended.occurred_at == day_24.occurred_at
    revisions = crm.correspondence.revisions(day_24.id)
    assert [(r.revision, r.action) for r in revisions] == [(1, "import"), (2, "import")]
    assert revisions[1].reason == "WhatsApp re-import: +1"
    assert [c.field for c in revisions[1].changes] == ["content"]
    assert [a.action for a in crm.audit.history(day_24.id)] == ["create", "update"]
    new = crm.correspondence.get(report.imported[0])
    assert new.subject == "WhatsApp 2026-11-30"
    assert new.content == "08:05 Max Mustermann: Der Techniker war da 👍"
    # the day with the blank line in a message was not touched
    assert crm.correspondence.get(before["WhatsApp 2026-11-23"].id).revision == 1
    # and importing the longer export once more changes nothing
    again = crm.correspondence.import_whatsapp(longer, me="Anna Schmidt")
    assert again.imported == () and again.updated == () and len(again.duplicates) == 3


def test_a_day_with_a_blank_line_in_a_message_can_be_extended(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    day_23 = GERMAN_ANDROID.split("24.11.26")[0]  # Anna's message has an empty line
    (entry_id,) = crm.correspondence.import_whatsapp(_chat(tmp_path, day_23)).imported
    more = day_23 + "23.11.26, 09:30 - Max Mustermann: Super, danke\n"
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, more, "mehr.txt"))

    assert report.updated == (entry_id,) and report.duplicates == ()
    assert crm.correspondence.get(entry_id).content == (
        DAY_23 + "\n09:30 Max Mustermann: Super, danke"
    )


def test_a_repeated_line_counts_when_extending(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    short = "23.11.26, 09:15 - Max Mustermann: ok\n"
    (entry_id,) = crm.correspondence.import_whatsapp(_chat(tmp_path, short)).imported
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, short + short, "lang.txt"))

    assert report.updated == (entry_id,)
    assert crm.correspondence.get(entry_id).content == (
        "09:15 Max Mustermann: ok\n09:15 Max Mustermann: ok"
    )


def test_an_export_that_differs_from_the_stored_day_loses_nothing(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    (entry_id,) = crm.correspondence.import_whatsapp(
        _chat(tmp_path, "23.11.26, 09:15 - Max Mustermann: Hallo\n")
    ).imported
    edited = "23.11.26, 09:15 - Max Mustermann: Diese Nachricht wurde gelöscht.\n"
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, edited, "neu.txt"))

    # A day that opens differently is another conversation: stored beside the first.
    assert report.updated == () and report.duplicates == () and len(report.imported) == 1
    assert crm.correspondence.get(entry_id).content == "09:15 Max Mustermann: Hallo"
    assert len(crm.correspondence.timeline(people.max)) == 2


def test_the_same_chat_is_one_conversation_whoever_it_is_matched_to(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    chat = _chat(tmp_path, "23.11.26, 09:15 - Max Mustermann: Hallo\n")
    assert len(crm.correspondence.import_whatsapp(chat).imported) == 1
    again = crm.correspondence.import_whatsapp(chat, contact=people.erika)
    assert again.imported == () and len(again.duplicates) == 1


# -- WhatsApp: malformed input ---------------------------------------------------------------------
def test_malformed_lines_are_reported_with_line_numbers_and_never_abort(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    chat = (
        "Chat-Export vom 01.12.2026\n"  # 1: before the first message
        "23.11.26, 09:15 - Max Mustermann: Hallo\n"  # 2
        "31.02.26, 10:00 - Max Mustermann: den 31. Februar gibt es nicht\n"  # 3
        "und diese Zeile gehört zu nichts\n"  # 4
        "24.11.26, 25:61 - Max Mustermann: auch keine Uhrzeit\n"  # 5
        "24.11.26, 10:00 - Max Mustermann: aber das hier\n"  # 6
        "01.01.0001, 00:30 - Max Mustermann: vor dem Jahr 1 in UTC\n"  # 7
    )
    report = crm.correspondence.import_whatsapp(_chat(tmp_path, chat))

    assert _codes(report) == [
        (1, "whatsapp.orphan_line"),
        (3, "whatsapp.bad_timestamp"),
        (4, "whatsapp.orphan_line"),
        (5, "whatsapp.bad_timestamp"),
        (7, "import.no_date"),
    ]
    assert len(report.imported) == 2
    assert (
        report.problems[1]
        .message("de")
        .startswith(
            f"{tmp_path / 'WhatsApp Chat mit Max Mustermann.txt'}:3: Zeile 3 enthält ein Datum"
        )
    )
    contents = sorted(e.content for e in crm.correspondence.timeline(people.max))
    assert contents == ["09:15 Max Mustermann: Hallo", "10:00 Max Mustermann: aber das hier"]


# -- both importers: reports, timelines, audit, rights ---------------------------------------------
def test_report_texts_in_both_languages_and_html_is_escaped(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    _write(tmp_path / "mails" / "anfrage.eml", OFFER)
    _write(tmp_path / "mails" / "news.eml", NEWSLETTER)
    no_date = _write(tmp_path / "mails" / "ohne.eml", NO_DATE)

    report = crm.correspondence.import_email(tmp_path / "mails")

    assert report.summary("en") == (
        "imported: 1, extended: 0, already there: 0, without a known contact: 1, problems: 1"
    )
    assert report.summary("de") == (
        "importiert: 1, ergänzt: 0, bereits vorhanden: 0, ohne bekannten Kontakt: 1, Probleme: 1"
    )
    assert str(report) == "\n".join(
        [
            report.summary("en"),
            "not matched to any contact: vertrieb@meine-firma.de, news@example.com",
            f"{no_date}: the message '<script>alert(1)</script> Termin' has no readable date; "
            "it was not imported",
        ]
    )
    assert report.lines("de")[1] == (
        "keinem Kontakt zugeordnet: vertrieb@meine-firma.de, news@example.com"
    )
    html = report._repr_html_()
    assert html.startswith(f"<p><b>{report.summary()}</b></p><ul><li>")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Termin" in html
    assert ImportReport()._repr_html_() == (
        "<p><b>imported: 0, extended: 0, already there: 0, without a known contact: 0, "
        "problems: 0</b></p>"
    )


def test_every_imported_entry_is_on_the_timeline_newest_first_with_an_audit_record(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    imported: list[str] = []
    imported += crm.correspondence.import_email(_write(tmp_path / "mbox", _mbox(OFFER))).imported
    imported += crm.correspondence.import_email(_write(tmp_path / "a.eml", REPLY)).imported
    for name, chat in (("1.txt", GERMAN_ANDROID), ("2.txt", BY_NUMBER)):
        report = crm.correspondence.import_whatsapp(_chat(tmp_path, chat, name), me="Anna Schmidt")
        imported += report.imported

    timeline = crm.correspondence.timeline(people.max)
    assert sorted(e.id for e in timeline) == sorted(imported)
    subjects = [e.subject for e in timeline]
    assert subjects[:3] == [
        "WhatsApp 2026-12-02",
        "AW: Anfrage Heizungswartung",
        "WhatsApp 2026-11-24",
    ]
    # the mail and the first chat day both took place at 08:15 UTC: the id breaks the tie
    assert set(subjects[3:]) == {
        "WhatsApp 2026-11-23",
        "Anfrage Heizungswartung für die Grünstraße 12",
    }
    keys = [(e.occurred_at, e.recorded_at, e.id) for e in timeline]
    assert keys == sorted(keys, reverse=True)
    for entry in timeline:
        assert entry.recorded_at == dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        assert entry.author == crm.actor.id and entry.revision == 1
        (record,) = crm.audit.history(entry.id)
        assert (record.action, record.resource, record.outcome) == (
            "create",
            "correspondence",
            "ok",
        )
        assert record.actor_id == crm.actor.id


def test_an_actor_without_the_right_imports_nothing(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    reader = crm.as_actor(Actor(id="rita", roles={"readonly"}))
    with pytest.raises(PermissionDenied):
        reader.correspondence.import_email(_write(tmp_path / "a.eml", OFFER))
    with pytest.raises(PermissionDenied):
        reader.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID))
    assert _entries(crm) == {} and crm.contacts.count() == 4
    assert [r.outcome for r in crm.audit.history()][-2:] == ["denied", "denied"]


def test_matching_only_sees_the_actors_own_contacts(
    crm: crmkit.CRM, people: People, tmp_path: Path
) -> None:
    crm.contacts.update(attrs.evolve(people.max, owner="anna"))
    anna = crm.as_actor(Actor(id="anna", roles={"sales"}))

    report = anna.correspondence.import_email(_write(tmp_path / "a.eml", OFFER))

    (entry_id,) = report.imported
    assert crm.correspondence.get(entry_id).contact_ids == (people.max.id,)
    assert "ERIKA@beispiel.de" in report.unmatched


class _FailingListener:
    """A plugin whose notification fails, after the entry was committed."""

    @crmkit.hookimpl
    def crmkit_on_correspondence_saved(
        self, crm: crmkit.CRM, entry: CorrespondenceEntry, created: bool
    ) -> None:
        raise RuntimeError("Webhook nicht erreichbar")


def test_a_plugin_failing_after_the_commit_does_not_hide_the_stored_entry(
    store_kind: str, tmp_path: Path, clock: Clock
) -> None:
    with _open(store_kind, tmp_path, clock, plugins=[_FailingListener()]) as crm:
        people = _add_people(crm)
        mail = crm.correspondence.import_email(_write(tmp_path / "a.eml", OFFER))
        first = crm.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID))
        longer = crm.correspondence.import_whatsapp(_chat(tmp_path, GERMAN_ANDROID_LONGER, "2.txt"))

        assert len(mail.imported) == 1 and _codes(mail) == [(0, "import.warning")]
        assert "Webhook nicht erreichbar" in mail.problems[0].message()
        assert len(first.imported) == 2 and len(first.problems) == 2
        assert len(longer.updated) == 1 and len(longer.imported) == 1
        assert {p.code for p in longer.problems} == {"import.warning"}
        timeline = crm.correspondence.timeline(people.max)
        assert sorted(e.id for e in timeline) == sorted(
            mail.imported + first.imported + longer.imported
        )
        again = crm.correspondence.import_email(tmp_path / "a.eml")
        assert again.imported == () and len(again.duplicates) == 1


# -- any input: problems, never an exception, never a new contact ----------------------------------
MAIL_LINES = [
    b"From max.mustermann@muster.de Mon Nov 23 09:15:00 2026\n",
    b"From: Max.Mustermann@Muster.DE\n",
    b"From: =?utf-8?q?J=C3=BCrgen?= <j.mueller@MUELLER-bau.de>\n",
    b"To: erika@beispiel.de, unbekannt@example.com\n",
    b'Cc: ,,<>;: "" <@>\n',
    b"Date: Mon, 23 Nov 2026 09:15:00 +0100\n",
    b"Date: Fri, 31 Dec 9999 23:59:59 -1200\n",
    b"Date: am Montag\n",
    b"Message-ID: <angebot-4711@muster.de>\n",
    b"Message-ID: <\x01\xff>\n",
    b"Subject: =?utf-8?q?<script>M=C3=BCller?=\n",
    b"Content-Type: text/html; charset=x-unknown\n",
    b'Content-Type: multipart/mixed; boundary="b"\n',
    b"--b\n",
    b"Content-Disposition: attachment; filename*=utf-8''%FF%00.pdf\n",
    b">From quoted\n",
    b"\n",
]
_mail_bytes = st.binary(max_size=300) | st.lists(
    st.sampled_from(MAIL_LINES) | st.binary(max_size=20), max_size=14
).map(b"".join)


def _check_report(crm: crmkit.CRM, people: People, report: ImportReport) -> None:
    assert isinstance(report, ImportReport)
    assert crm.contacts.count() == 4
    known = {c.id for c in people}
    for entry_id in report.imported + report.updated:
        entry = crm.correspondence.get(entry_id)
        assert set(entry.contact_ids) <= known
        assert entry.occurred_at.tzinfo is UTC
    for problem in report.problems:
        assert isinstance(problem, ImportProblem) and problem.message("de") and str(problem)
    assert report.summary("de") and str(report) and report._repr_html_()


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_mail_bytes, name=st.sampled_from(["in.eml", "in.mbox", "Inbox"]))
@example(data=OFFER, name="in.eml")
@example(data=_mbox(OFFER, b"\x00\xff", REPLY), name="Inbox")
@example(data=MAIL_LINES[1] + MAIL_LINES[6] + b"\nx", name="in.eml")
@example(data=MAIL_LINES[1] + MAIL_LINES[5] + MAIL_LINES[9] + b"\nx", name="in.eml")
@example(data=b"From \nFrom: x@y.de\n\n" * 3, name="in.mbox")
def test_any_bytes_as_mail_give_a_report(
    crm: crmkit.CRM, people: People, tmp_path: Path, data: bytes, name: str
) -> None:
    report = crm.correspondence.import_email(_write(tmp_path / name, data))
    _check_report(crm, people, report)


CHAT_LINES = [
    "23.11.26, 09:15 - Max Mustermann: Hallo",
    "23.11.26, 09:16 - +49 170 1234567: <Medien ausgeschlossen>",
    "[11/23/26, 9:15:02 PM] Jürgen Müller: \u200eimage omitted",
    "24.11.26, 10:00 - Anna Schmidt: Gruß",
    "24.11.26, 10:00 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt.",
    "31.12.9999, 23:59 - Max Mustermann: Silvester",
    "01.01.0001, 00:30 - Max Mustermann: Neujahr",
    "31.02.26, 10:00 - Max Mustermann: kein Tag",
    "29.03.26, 02:30 - Max Mustermann: Zeitumstellung",
    "  eingerückte Fortsetzung  ",
    "",
]
_chat_text = st.text(max_size=300) | st.lists(
    st.sampled_from(CHAT_LINES) | st.text(max_size=30), max_size=12
).map("\n".join)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=_chat_text,
    me=st.sampled_from([None, "Anna Schmidt", "Max Mustermann"]),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Pacific/Kiritimati"]),
    as_zip=st.booleans(),
)
@example(text=GERMAN_ANDROID, me="Anna Schmidt", zone="Europe/Berlin", as_zip=False)
@example(text=CHAT_LINES[5], me=None, zone="America/New_York", as_zip=False)
@example(text=CHAT_LINES[6], me=None, zone="Europe/Berlin", as_zip=True)
@example(
    text="23.11.26, 09:15 - Max Mustermann: \x00\x1b\r\u2028ok", me=None, zone="UTC", as_zip=False
)
def test_any_text_as_whatsapp_export_gives_a_report(
    crm: crmkit.CRM,
    people: People,
    tmp_path: Path,
    text: str,
    me: str | None,
    zone: str,
    as_zip: bool,
) -> None:
    if as_zip:
        path = tmp_path / "chat.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("_chat.txt", text)
    else:
        path = tmp_path / "chat.txt"
        path.write_text(text, encoding="utf-8", newline="")
    report = crm.correspondence.import_whatsapp(path, me=me, timezone=zone)
    _check_report(crm, people, report)
