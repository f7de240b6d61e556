"""WhatsApp chat exports: every real format, German samples, and no crash on any text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmkit import messages
from crmkit.io import ChatMessage, LineProblem, WhatsAppParse, group_by_day, parse_whatsapp

D = dt.datetime

GERMAN_ANDROID = """\
23.11.26, 09:12 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb \
dieses Chats kann sie lesen oder anhören, nicht einmal WhatsApp. Tippe, um mehr zu erfahren.
23.11.26, 09:14 - Max Mustermann: Guten Morgen Frau Schröder, anbei das Angebot für die \
Heizungswartung.
23.11.26, 09:14 - Max Mustermann: <Medien ausgeschlossen>
23.11.26, 09:20 - Jördis Schröder: Danke! Zwei Fragen:
1. Ist die Anfahrt inklusive?
2. Geht auch Dezember?

Grüße aus Köln
24.11.26, 17:45 - +49 170 1234567: Diese Nachricht wurde gelöscht.
24.11.26, 17:46 - Max Mustermann: IMG-20261124-WA0003.jpg (Datei angehängt)
Der Kessel im Keller
"""

GERMAN_IOS = (
    "[23.11.26, 09:12:04] Schröder Haustechnik: \u200eNachrichten und Anrufe sind "
    "Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie lesen oder anhören, "
    "nicht einmal WhatsApp.\n"
    "\u200e[23.11.26, 09:12:05] Jördis Schröder: \u200eJördis Schröder hat die Gruppe "
    "„Schröder Haustechnik“ erstellt.\n"
    "[23.11.26, 09:13:40] Jördis Schröder: Hallo zusammen 👋\n"
    "\u200e[23.11.26, 09:15:02] \u202a+49 170 1234567\u202c: \u200eBild weggelassen\n"
    "\u200e[23.11.26, 09:16:30] Max Mustermann: Angebot_2026.pdf • \u200e3 Seiten "
    "\u200eDokument weggelassen\n"
    "\u200e[23.11.26, 09:17:00] Max Mustermann: \u200e<Anhang: 00000012-PHOTO-2026-11-23-09-17-00"
    ".jpg>\n"
    "[23.11.26, 21:03:59] Jördis Schröder: Passt, bis Montag!\n"
)

ENGLISH_ANDROID = (
    "11/23/26, 9:05 AM - Messages and calls are end-to-end encrypted. No one outside of this "
    "chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n"
    '11/23/26, 9:06 AM - Jördis Schröder created group "Heating"\n'
    "11/23/26, 12:30 PM - Max Mustermann: Hi, the quote is attached\n"
    "11/23/26, 12:31 PM - Max Mustermann: <Media omitted>\n"
    "11/23/26, 2:05\u202fpm - Jördis Schröder: Thanks\n"
    "11/23/26, 11:59 p.m. - Jördis Schröder: See you on Monday\n"
    "11/24/26, 12:01 AM - Max Mustermann: 👍\n"
)

ENGLISH_IOS = (
    "[23/11/2026, 14:05:33] Max Mustermann: Hi Jördis\n"
    "\u200e[23/11/2026, 14:06:10] Max Mustermann: \u200eimage omitted\n"
    "\u200e[01/12/2026, 08:00:00] Jördis Schröder: \u200edocument omitted\n"
)


def test_german_android_export() -> None:
    chat = parse_whatsapp(GERMAN_ANDROID)
    assert chat.problems == ()
    system, offer, media, questions, deleted, photo = chat.messages
    assert system.system and system.sender == "" and system.sent_at == D(2026, 11, 23, 9, 12)
    assert system.text.startswith("Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt.")
    assert offer == ChatMessage(
        line=2,
        sent_at=D(2026, 11, 23, 9, 14),
        sender="Max Mustermann",
        text="Guten Morgen Frau Schröder, anbei das Angebot für die Heizungswartung.",
    )
    assert media.attachment_omitted and media.text == "" and not media.system
    assert questions.line == 4
    assert questions.sender == "Jördis Schröder"
    assert questions.text == (
        "Danke! Zwei Fragen:\n1. Ist die Anfahrt inklusive?\n2. Geht auch Dezember?\n\n"
        "Grüße aus Köln"
    )
    assert deleted.sender == "+49 170 1234567"
    assert deleted.sent_at == D(2026, 11, 24, 17, 45)
    assert photo.attachment_omitted and photo.text == "Der Kessel im Keller"


def test_german_ios_export() -> None:
    chat = parse_whatsapp(GERMAN_IOS)
    assert chat.problems == ()
    notice, created, hello, image, document, attached, late = chat.messages
    assert notice.system and notice.sender == "" and notice.sent_at == D(2026, 11, 23, 9, 12, 4)
    assert created.system
    assert created.text == "Jördis Schröder hat die Gruppe „Schröder Haustechnik“ erstellt."
    assert hello.text == "Hallo zusammen 👋" and not hello.system
    assert image.sender == "+49 170 1234567"
    assert image.attachment_omitted and image.text == ""
    assert document.attachment_omitted and document.text == "Angebot_2026.pdf • 3 Seiten"
    assert attached.attachment_omitted and attached.text == ""
    assert late.sent_at == D(2026, 11, 23, 21, 3, 59)
    assert "\u200e" not in "".join(m.sender for m in chat.messages)


def test_english_android_export_with_twelve_hour_clock() -> None:
    chat = parse_whatsapp(ENGLISH_ANDROID)
    assert chat.problems == ()
    times = [m.sent_at for m in chat.messages]
    assert times == [
        D(2026, 11, 23, 9, 5),
        D(2026, 11, 23, 9, 6),
        D(2026, 11, 23, 12, 30),
        D(2026, 11, 23, 12, 31),
        D(2026, 11, 23, 14, 5),
        D(2026, 11, 23, 23, 59),
        D(2026, 11, 24, 0, 1),
    ]
    assert [m.system for m in chat.messages] == [True, True, False, False, False, False, False]
    assert chat.messages[3].attachment_omitted
    assert chat.messages[4].sender == "Jördis Schröder"


def test_english_ios_export_is_day_first() -> None:
    chat = parse_whatsapp(ENGLISH_IOS)
    assert chat.problems == ()
    assert [m.sent_at for m in chat.messages] == [
        D(2026, 11, 23, 14, 5, 33),
        D(2026, 11, 23, 14, 6, 10),
        D(2026, 12, 1, 8, 0, 0),
    ]
    assert [m.attachment_omitted for m in chat.messages] == [False, True, True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the dates decide: a first field above 12 means day first …
        ("03/04/26, 10:00 - A: x\n13/04/26, 10:00 - A: y", D(2026, 4, 3, 10, 0)),
        # … a second field above 12 means month first
        ("03/04/26, 10:00 - A: x\n04/13/26, 10:00 - A: y", D(2026, 3, 4, 10, 0)),
        # undecided: a 12-hour clock is the US M/D/YY format
        ("03/04/26, 10:00 AM - A: x", D(2026, 3, 4, 10, 0)),
        # undecided: a 24-hour clock is DD/MM/YYYY
        ("[03/04/2026, 10:00:00] A: x", D(2026, 4, 3, 10, 0)),
        # dotted dates are always day first
        ("03.04.26, 10:00 - A: x", D(2026, 4, 3, 10, 0)),
    ],
)
def test_day_or_month_first_is_decided_per_file(text: str, expected: dt.datetime) -> None:
    chat = parse_whatsapp(text)
    assert chat.problems == ()
    assert chat.messages[0].sent_at == expected


def test_day_first_can_be_forced() -> None:
    assert parse_whatsapp("03/04/26, 10:00 AM - A: x", day_first=True).messages[0].sent_at == D(
        2026, 4, 3, 10, 0
    )


def test_bom_crlf_and_four_digit_years() -> None:
    text = "\ufeff23.11.2026, 14:05 - Max Mustermann: Hallo\r\nwie geht's?\r\n"
    chat = parse_whatsapp(text)
    assert chat == WhatsAppParse(
        messages=(
            ChatMessage(
                line=1,
                sent_at=D(2026, 11, 23, 14, 5),
                sender="Max Mustermann",
                text="Hallo\nwie geht's?",
            ),
        )
    )


def test_line_before_the_first_message_is_a_problem() -> None:
    text = "\n\nWhatsApp Chat mit Max Mustermann\n23.11.26, 14:05 - Max Mustermann: Hallo"
    chat = parse_whatsapp(text)
    assert chat.problems == (
        LineProblem(line=3, text="WhatsApp Chat mit Max Mustermann", code="whatsapp.orphan_line"),
    )
    assert [m.text for m in chat.messages] == ["Hallo"]
    assert chat.problems[0].message("de") == (
        "Zeile 3 beginnt nicht mit Datum und Uhrzeit und gehört zu keiner Nachricht: "
        "'WhatsApp Chat mit Max Mustermann'"
    )


def test_impossible_date_is_a_problem_and_its_lines_too() -> None:
    text = (
        "28.02.26, 10:00 - Max: vorher\n"
        "30.02.26, 10:00 - Max: gibt es nicht\n"
        "noch eine Zeile\n"
        "01.03.26, 25:00 - Max: auch nicht\n"
        "01.03.26, 10:00 - Max: nachher"
    )
    chat = parse_whatsapp(text)
    assert [m.text for m in chat.messages] == ["vorher", "nachher"]
    assert [(p.line, p.code) for p in chat.problems] == [
        (2, "whatsapp.bad_timestamp"),
        (3, "whatsapp.orphan_line"),
        (4, "whatsapp.bad_timestamp"),
    ]
    assert chat.problems[0].message("en") == (
        "line 2 has a date or time that does not exist: '30.02.26, 10:00 - Max: gibt es nicht'"
    )


def test_problem_text_is_truncated() -> None:
    chat = parse_whatsapp("x" * 500)
    assert chat.problems[0].text == "x" * 200


@pytest.mark.parametrize(
    "rest",
    [
        "Max Mustermann hat den Betreff zu „Projekt: Heizung“ geändert",
        "Max Mustermann hat Jördis Schröder hinzugefügt",
        'Max Mustermann created group "Projekt: Heizung"',
        "Max Mustermann added Jördis Schröder",
        "Jördis Schröder hat die Gruppe verlassen",
        "Ihre Sicherheitsnummer für Jördis Schröder hat sich geändert.",
    ],
)
def test_system_notices_are_recognised(rest: str) -> None:
    (message,) = parse_whatsapp(f"23.11.26, 14:05 - {rest}").messages
    assert message.system and message.sender == "" and message.text == rest


def test_ordinary_messages_mentioning_groups_are_not_system() -> None:
    (message,) = parse_whatsapp(
        "23.11.26, 14:05 - Max Mustermann: Ich habe die Gruppe erstellt, added you"
    ).messages
    assert not message.system and message.sender == "Max Mustermann"


@pytest.mark.parametrize(
    ("text", "attachment", "rest"),
    [
        ("Bild weggelassen", True, ""),
        ("\u200eVideo weggelassen", True, ""),
        ("Vertrag.pdf • \u200e2 Seiten \u200eDokument weggelassen", True, "Vertrag.pdf • 2 Seiten"),
        ("<Anhang: 00000031-AUDIO-2026-11-23-14-05-33.opus>", True, ""),
        ("<attached: 00000031-PHOTO-2026-11-23-14-05-33.jpg>", True, ""),
        ("document omitted", True, ""),
        ("Das Foto habe ich dir geschickt, Bild weggelassen", False, None),
        ("sorry, the image omitted", False, None),
        ("<Medien ausgeschlossen>\nhier die Rechnung", True, "hier die Rechnung"),
    ],
)
def test_attachment_markers(text: str, attachment: bool, rest: str | None) -> None:
    (message,) = parse_whatsapp(f"[23.11.26, 14:05:33] Max Mustermann: {text}").messages
    assert message.attachment_omitted is attachment
    assert message.text == (text if rest is None else rest)


def test_group_by_day() -> None:
    chat = parse_whatsapp(GERMAN_ANDROID)
    days = group_by_day(chat.messages)
    assert list(days) == [dt.date(2026, 11, 23), dt.date(2026, 11, 24)]
    assert len(days[dt.date(2026, 11, 23)]) == 4
    assert [m.line for m in days[dt.date(2026, 11, 24)]] == [9, 10]
    assert group_by_day([]) == {}


def test_codes_are_in_the_catalogue() -> None:
    for code in ("whatsapp.orphan_line", "whatsapp.bad_timestamp"):
        assert code in messages.codes()
        assert messages.template(code, "de") != messages.template(code, "en")


def _render_android(message: ChatMessage) -> str:
    return f"{message.sent_at:%d.%m.%y, %H:%M} - {message.sender}: {message.text}"


_names = (
    st.text(
        alphabet=st.characters(categories=["L"], include_characters=" -"), min_size=1, max_size=20
    )
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: bool(s) and "hat" not in s.split())
)
_texts = st.lists(
    st.text(
        alphabet=st.characters(categories=["L", "N", "P", "Zs"], exclude_characters="\u200e"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool),
    min_size=1,
    max_size=3,
).map("\n".join)


@given(
    st.lists(
        st.builds(
            ChatMessage,
            line=st.just(0),
            sent_at=st.datetimes(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31)).map(
                lambda d: d.replace(second=0, microsecond=0)
            ),
            sender=_names,
            text=_texts.filter(lambda t: not t.lstrip().startswith("<")),
        ),
        max_size=5,
    )
)
def test_german_android_round_trip(sent: list[ChatMessage]) -> None:
    chat = parse_whatsapp("\n".join(_render_android(m) for m in sent))
    got = [(m.sent_at, m.sender, m.text) for m in chat.messages]
    expected = [(m.sent_at, m.sender, m.text) for m in sent]
    assert chat.problems == ()
    assert got == expected
    assert not any(m.attachment_omitted or m.system for m in chat.messages)


@given(st.text())
@example("")
@example("\ufeff23.11.26, 14:05 - Max Mustermann: Hallo\r\nzweite Zeile")
@example("[23.11.26, 14:05:33] Max Mustermann: Hallo")
@example("11/23/26, 2:05\u202fPM - Max: Hi")
@example("11/23/26, 2:05 p.m. - Max: Hi")
@example("\u200e[23/11/2026, 14:05:33] Max: \u200eimage omitted")
@example("Fortsetzung ohne Nachricht\n23.11.26, 14:05 - Max: Hallo")
@example("99.99.99, 99:99 - X: y")
@example("1/1/00, 0:00 AM - :")
@example("[1.1.00, 0:00] ")
@example("23.11.26, 14:05 - Max Mustermann: <Anhang: >")
def test_any_text_gives_a_parse(text: str) -> None:
    chat = parse_whatsapp(text)
    assert isinstance(chat, WhatsAppParse)
    line_count = text.count("\n") + text.count("\r") + 1
    lines = [m.line for m in chat.messages]
    assert lines == sorted(lines)
    assert all(1 <= line <= line_count for line in lines)
    for problem in chat.problems:
        assert 1 <= problem.line <= line_count and len(problem.text) <= 200
        assert problem.message("de") and problem.message("en")
