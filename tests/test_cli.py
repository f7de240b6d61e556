"""The command line: contacts on memory://, the correspondence commands on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner, Result

import crmkit
from crmkit import Company, EmailAddress, Person, PhoneNumber
from crmkit.cli import main
from crmkit.correspondence import CorrespondenceEntry


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_and_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "version", "plugins", "search", "lookup", "show"):
        assert command in result.output
    result = runner.invoke(main, ["version"])
    assert result.exit_code == 0 and result.output.startswith("crmkit ")


def test_demo_builds_a_sample(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--url", "memory://", "demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Muster GmbH" in result.output
    assert "Created 27 companies, 58 persons and 53 affiliations" in result.output
    assert "phone.unassigned" not in result.output  # messages, not codes
    assert "no assigned number range" in result.output
    out = " ".join(result.output.split())  # the console wraps long lines
    assert "Segment 'Ansprechpartner mit E-Mail' saved: 49 contacts" in out
    assert "Campaign list 'Newsletter Dezember': 4 may be written to, 45 excluded" in out
    assert "✓ C00031 Lukas Schwarz: yes: express consent for newsletter was given" in out
    assert "✗ C00029 Jürgen Meyer: no: the person declined newsletter" in out
    assert "bounced (undeliverable)" in out and "needs prior express consent" in out
    assert "Key figures of " in out and "total revenue" in out and "quality score" in out


def test_demo_in_german(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--lang", "de", "--url", "memory://", "demo"])
    assert result.exit_code == 0
    assert "27 Unternehmen, 58 Personen und 53 Zugehörigkeiten" in result.output


def test_bad_input_is_one_line_and_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--url", "nosuch://x", "demo"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: no store for the URL scheme 'nosuch'")
    assert "Traceback" not in result.output
    result = runner.invoke(main, ["--lang", "de", "--url", "memory://", "show", "C00001"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "Fehler: Kontakt 'C00001' wurde nicht gefunden"
    assert "lokale Administration" in result.stdout
    result = runner.invoke(main, ["--url", "memory://", "lookup", "abc"])
    assert result.exit_code == 2 and "not a phone number" in result.stderr
    result = runner.invoke(main, ["--url", "memory://", "search", "--limit", "0"])
    assert result.exit_code == 2


def test_actor_from_options_and_a_denied_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--url", "memory://", "--as", "anna", "--role", "sales", "demo"])
    assert result.exit_code == 2
    assert "running as anna (sales)" in result.stdout
    assert result.stderr.strip() == "error: anna may not create contacts"


def test_demo_shows_two_actors_and_a_denial(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--url", "memory://", "demo"], env={"COLUMNS": "200"})
    assert "Anna (Vertrieb) sees 27 of 85 contacts" in result.output
    assert "may not archive contacts" in result.output
    assert "without the fields: notes" in result.output


def test_plugins_lists_the_builtins(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plugins"], terminal_width=200)
    assert result.exit_code == 0
    assert "crmkit.builtins" in result.output and "memory://" in result.output


# -- correspondence on the command line (a real SQLite file) ------------------------------------
# Commands are written as a user types them (split like a shell does).
WIDE = {"COLUMNS": "200"}
CALL = "--channel phone --direction inbound"


class Book(NamedTuple):
    db: Path
    company: str
    max: str
    erika: str


@pytest.fixture
def book(tmp_path: Path) -> Book:
    """A SQLite file with Muster GmbH, Max (working there) and Erika."""
    db = tmp_path / "crm.db"
    with crmkit.open(f"sqlite:///{db}") as crm:
        company = crm.contacts.add(
            Company(name="Muster GmbH", emails=[EmailAddress(address="info@muster.de")])
        )
        max_ = crm.contacts.add(
            Person(
                first_name="Max",
                last_name="Mustermann",
                emails=[EmailAddress(address="max.mustermann@muster.de")],
                phones=[PhoneNumber.parse("0170 1234567")],
            )
        )
        erika = crm.contacts.add(Person(first_name="Erika", last_name="Musterfrau"))
        crm.affiliations.link(max_, company, position="Geschäftsführer")
    assert company.number and max_.number and erika.number
    return Book(db, company.number, max_.number, erika.number)


def _run(
    runner: CliRunner, book: Book, command: str, *, lang: str = "en", input: str | None = None
) -> Result:
    args = ["--lang", lang, "--db", str(book.db), *shlex.split(command)]
    return runner.invoke(main, args, input=input, env=WIDE)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.stdout)


def _failed(result: Result) -> str:
    """The one line a bad command prints (exit status 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return str(result.stderr).strip()


def _stored(book: Book, ref: str) -> list[CorrespondenceEntry]:
    """The timeline of *ref* as the library reads it from the file."""
    with crmkit.open(f"sqlite:///{book.db}") as crm:
        return list(crm.correspondence.timeline(ref))


def _log(runner: CliRunner, book: Book, command: str, *, lang: str = "en") -> str:
    """Run ``crmkit log …`` and return the id of the new entry."""
    out = _ok(_run(runner, book, f"log {command}", lang=lang))
    match = re.search(r"(?:entry id|Eintrags-ID): ([0-9a-f]{32})$", out, re.MULTILINE)
    assert match, out
    return match.group(1)


def test_log_then_timeline_shows_it(runner: CliRunner, book: Book) -> None:
    out = _ok(
        _run(
            runner,
            book,
            f"log {book.max} {CALL} --subject 'Rückruf Angebot [Heizung]' "
            "--content 'Fragt nach dem Angebot.' --agreements 'Angebot bis Freitag' "
            "--next-steps 'Angebot schicken' --follow-up 2030-11-27 --assignee anna "
            "--at 2026-11-23T09:30 --tag Angebot",
        )
    )
    assert f"Recorded: Phone (inbound) with {book.max} Max Mustermann" in out
    assert "2026-11-23 09:30: Rückruf Angebot [Heizung]" in out  # no markup eaten
    assert "follow-up due 2030-11-27, assigned to anna" in out
    (entry,) = _stored(book, book.max)
    assert f"entry id: {entry.id}\n" in out
    # --at without a zone is Berlin time: 09:30 in November is 08:30 UTC
    assert entry.occurred_at == dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)
    assert (entry.channel, entry.direction, entry.internal) == ("phone", "inbound", False)
    assert entry.agreements == "Angebot bis Freitag" and entry.next_steps == "Angebot schicken"
    assert entry.follow_up is not None and entry.follow_up.due == dt.date(2030, 11, 27)
    assert entry.follow_up.assignee == "anna" and entry.tags == frozenset({"Angebot"})
    assert entry.author == "local-admin"

    out = _ok(_run(runner, book, f"timeline {book.max}"))
    assert f"History of {book.max} Max Mustermann" in out
    for text in (
        "2026-11-23 09:30", "Phone", "inbound", "Rückruf Angebot [Heizung]",
        "Fragt nach dem Angebot.", "Angebot bis Freitag", "→ Angebot schicken",
        "2030-11-27", "anna", "open", "local-admin", "1 entries, newest first",
    ):  # fmt: skip
        assert text in out, text

    out = _ok(_run(runner, book, f"timeline {book.max}", lang="de"))
    assert f"Verlauf von {book.max} Max Mustermann" in out
    for text in ("23.11.2026 09:30", "Telefon", "eingehend", "27.11.2030", "offen"):
        assert text in out, text


def test_log_without_at_uses_now_and_several_contacts(runner: CliRunner, book: Book) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = _ok(
        _run(
            runner,
            book,
            f"log {book.max} {book.company} --channel Termin --direction ausgehend "
            "--subject Jahresgespräch",
            lang="de",
        )
    )
    assert "Erfasst: Termin (ausgehend) mit" in out
    assert f"{book.max} Max Mustermann, {book.company} Muster GmbH" in out
    (entry,) = _stored(book, book.company)
    assert entry.channel == "meeting" and entry.direction == "outbound"
    assert set(entry.contact_ids) == {c.id for c in _contacts(book, book.max, book.company)}
    assert before <= entry.occurred_at <= dt.datetime.now(dt.UTC)


def _contacts(book: Book, *refs: str) -> list[crmkit.Contact]:
    with crmkit.open(f"sqlite:///{book.db}") as crm:
        return [crm.contacts.get(ref) for ref in refs]


def test_timeline_is_newest_first_and_labels_channels_in_german(
    runner: CliRunner, book: Book
) -> None:
    for channel, day in (("meeting", 20), ("email", 22), ("letter", 21), ("messenger", 19)):
        _log(
            runner,
            book,
            f"{book.max} --channel {channel} --direction outbound --subject 'Betreff {channel}' "
            f"--at 2026-11-{day}T10:00",
        )
    _log(runner, book, f"{book.max} --channel internal_note --subject 'Betreff internal_note'")
    _log(
        runner,
        book,
        f"{book.max} --channel Vereinsnotiz --subject 'Betreff association_note' --at 2026-11-18",
    )
    out = _ok(_run(runner, book, f"timeline {book.max}", lang="de"))
    newest_first = ("internal_note", "email", "letter", "meeting", "messenger", "association_note")
    order = [out.index(f"Betreff {c}") for c in newest_first]
    assert order == sorted(order)
    for label in (
        "Termin", "E-Mail", "Brief", "Messenger", "Interne Notiz", "Vereinsnotiz", "ausgehend",
        "intern", "6 Einträge, neueste zuerst",
    ):  # fmt: skip
        assert label in out, label
    notes = {e.channel: e for e in _stored(book, book.max)}
    assert notes["internal_note"].internal and notes["internal_note"].direction == "internal"
    # a bare day is midnight in Berlin
    assert notes["association_note"].occurred_at == dt.datetime(2026, 11, 17, 23, tzinfo=dt.UTC)


def test_content_dash_reads_a_multiline_note_from_stdin(runner: CliRunner, book: Book) -> None:
    note = "Gesprächsprotokoll:\n- Termin am Montag\n- Angebot [v2] folgt\n"
    command = f"log {book.max} --channel meeting --direction outbound --subject P --content -"
    _ok(_run(runner, book, command, input=note))
    (entry,) = _stored(book, book.max)
    assert entry.content == note.strip()
    out = _ok(_run(runner, book, f"timeline {book.max}"))
    assert "Gesprächsprotokoll: - Termin am Montag - Angebot [v2] folgt" in out


def test_company_flag_shows_a_persons_entry_on_the_company(runner: CliRunner, book: Book) -> None:
    _log(runner, book, f"{book.max} {CALL} --subject 'Anruf von Max'")
    out = _ok(_run(runner, book, f"timeline {book.company}"))
    assert "Anruf von Max" not in out
    assert f"No correspondence with {book.company} Muster GmbH yet" in out
    assert f"crmkit log {book.company} --channel phone" in out

    out = _ok(_run(runner, book, f"timeline {book.company} --company"))
    assert f"History of {book.company} Muster GmbH and its affiliated contacts" in out
    assert "Anruf von Max" in out
    assert f"with {book.max} Max Mustermann" in out

    out = _ok(_run(runner, book, f"timeline {book.company} --company", lang="de"))
    assert f"mit {book.max} Max Mustermann" in out and "verbundenen Kontakten" in out
    # Erika works nowhere: her timeline stays empty either way
    out = _ok(_run(runner, book, f"timeline {book.erika} --company", lang="de"))
    assert "Noch keine Korrespondenz mit" in out


def test_timeline_filters(runner: CliRunner, book: Book) -> None:
    _log(runner, book, f"{book.max} {CALL} --subject 'Rückruf Heizung' --at 2026-11-23T00:30")
    _log(runner, book, f"{book.max} {CALL} --subject 'Reklamation Dach' --at 2026-11-22T23:30")
    _log(
        runner,
        book,
        f"{book.max} --channel Brief --direction ausgehend --subject 'Angebot Heizung' "
        "--at '25.11.2026 10:00'",
    )
    everything = ["Rückruf Heizung", "Reklamation Dach", "Angebot Heizung"]

    def subjects(filters: str) -> list[str]:
        out = _ok(_run(runner, book, f"timeline {book.max} {filters}"))
        return [s for s in everything if s in out]

    assert subjects("") == everything
    assert subjects("--channel letter") == ["Angebot Heizung"]
    assert subjects("--channel brief") == ["Angebot Heizung"]  # German name
    assert subjects("--channel phone --channel letter") == everything
    # days are Berlin days: 00:30 on the 23rd is still the 22nd in UTC
    assert subjects("--since 2026-11-23 --until 23.11.2026") == ["Rückruf Heizung"]
    assert subjects("--until 2026-11-22") == ["Reklamation Dach"]
    assert subjects("--since 2026-11-24") == ["Angebot Heizung"]
    assert subjects("--text heiz") == ["Rückruf Heizung", "Angebot Heizung"]
    assert subjects("--text 'heizung rueckruf'") == ["Rückruf Heizung"]
    assert {e.subject: e.channel for e in _stored(book, book.max)}["Angebot Heizung"] == "letter"

    out = _ok(_run(runner, book, f"timeline {book.max} --text Kündigung"))
    assert f"No entries of {book.max} Max Mustermann match these filters." in out
    out = _ok(_run(runner, book, f"timeline {book.max} --channel meeting", lang="de"))
    assert "Keine Einträge von" in out and "passen zu diesen Filtern" in out


def test_followups_and_done(runner: CliRunner, book: Book) -> None:
    first = _log(
        runner,
        book,
        f"{book.max} {CALL} --subject 'Angebot nachfassen' --follow-up 2030-01-10 --assignee anna",
    )
    second = _log(
        runner,
        book,
        f"{book.company} {CALL} --subject 'Rechnung klären' --follow-up 5.1.2030 --assignee ben",
    )
    _log(runner, book, f"{book.max} {CALL} --subject 'Ohne Wiedervorlage'")

    out = _ok(_run(runner, book, "followups"))
    assert "Open follow-ups" in out and "2 open, 0 overdue" in out
    assert out.index("Rechnung klären") < out.index("Angebot nachfassen")  # soonest first
    assert f"{book.company} Muster GmbH" in out and f"{book.max} Max Mustermann" in out
    assert first[:8] in out and second[:8] in out and "Ohne Wiedervorlage" not in out

    out = _ok(_run(runner, book, "followups --assignee anna"))
    assert "Angebot nachfassen" in out and "Rechnung klären" not in out
    out = _ok(_run(runner, book, "followups --due-by 06.01.2030", lang="de"))
    assert "Rechnung klären" in out and "Angebot nachfassen" not in out
    assert "Offene Wiedervorlagen" in out and "05.01.2030" in out
    assert "No open follow-ups." in _ok(_run(runner, book, "followups --mine"))  # local-admin
    mine = ["--db", str(book.db), "--as", "ben", "followups", "--mine"]
    out = _ok(runner.invoke(main, mine, env=WIDE))
    assert "running as ben" in out and "Rechnung klären" in out and "Angebot" not in out

    # `done` takes the short id the list shows
    out = _ok(_run(runner, book, f"done {second[:8]} --note 'Gutschrift verschickt'"))
    assert f"Follow-up done: Rechnung klären ({book.company} Muster GmbH); entry {second}" in out
    (entry,) = _stored(book, book.company)
    assert entry.follow_up is not None and not entry.follow_up.is_open
    assert entry.follow_up.done_by == "local-admin"
    assert entry.follow_up.note == "Gutschrift verschickt" and entry.revision == 2

    out = _ok(_run(runner, book, "followups"))
    assert "Rechnung klären" not in out and "1 open" in out
    assert "erledigt" in _ok(_run(runner, book, f"timeline {book.company}", lang="de"))
    # done twice: one line, the follow-up is no longer open
    error = _failed(_run(runner, book, f"done {second}"))
    assert error == f"error: invalid input: follow_up: entry '{second}' has no open follow-up"
    _ok(_run(runner, book, f"done {first}"))
    assert "No open follow-ups." in _ok(_run(runner, book, "followups"))
    assert "Keine offenen Wiedervorlagen." in _ok(_run(runner, book, "followups", lang="de"))


def test_overdue_follow_ups_are_marked(runner: CliRunner, book: Book) -> None:
    _log(
        runner,
        book,
        f"{book.max} {CALL} --subject 'Längst fällig' --follow-up 2020-01-01 --assignee anna "
        "--at 2019-12-20T10:00",
    )
    _log(runner, book, f"{book.max} {CALL} --subject 'Noch Zeit' --follow-up 2099-01-01")

    out = _ok(_run(runner, book, "followups"))
    assert "2 open, 1 overdue" in out
    overdue, later = out.split("2020-01-01", 1)[1].split("2099-01-01", 1)
    assert "Längst fällig" in overdue and "overdue" in overdue
    assert "Noch Zeit" in later and "overdue" not in later.split("open,")[0]
    out = _ok(_run(runner, book, f"timeline {book.max}", lang="de"))
    assert "01.01.2020" in out and out.count("überfällig") == 1
    assert "01.01.2099" in out and "offen" in out


def test_bad_input_is_one_line_without_traceback(runner: CliRunner, book: Book) -> None:
    def error(command: str, lang: str = "en") -> str:
        return _failed(_run(runner, book, command, lang=lang))

    assert error(f"log C09999 {CALL} --subject x") == "error: contact 'C09999' was not found"
    assert error("timeline C09999", "de") == "Fehler: Kontakt 'C09999' wurde nicht gefunden"
    assert error(f"log {book.max} --channel phone --subject x") == (
        "error: invalid input: an entry on the channel 'phone' needs --direction "
        "(inbound or outbound)"
    )
    assert "Kanal 'Telefon' braucht --direction" in error(
        f"log {book.max} --channel Telefon --subject x", "de"
    )
    assert error(f"log {book.max} {CALL} --subject x --follow-up 31.02.2026") == (
        "error: invalid input: --follow-up: '31.02.2026' is not a date; "
        "write 2026-11-27 or 27.11.2026"
    )
    assert error(f"log {book.max} {CALL} --subject x --at gestern", "de").startswith(
        "Fehler: ungültige Eingabe: --at: 'gestern' ist kein Zeitpunkt"
    )
    assert "--since: '2026-13-01' is not a date" in error(f"timeline {book.max} --since 2026-13-01")
    assert "--due-by: 'bald' is not a date" in error("followups --due-by bald")
    assert "direction: 'sideways' is not one of inbound, outbound, internal" in error(
        f"log {book.max} --channel phone --direction sideways --subject x"
    )
    assert "an entry needs a subject, content, agreements or next steps" in error(
        f"log {book.max} {CALL}"
    )
    assert error(f"log {book.max} {CALL} --subject x --assignee anna") == (
        "error: invalid input: --assignee needs --follow-up DATE"
    )
    assert "either --mine or --assignee" in error("followups --mine --assignee anna")
    missing = "0123456789abcdef0123456789abcdef"
    assert error(f"done {missing}") == f"error: correspondence entry '{missing}' was not found"
    assert _stored(book, book.max) == []  # nothing was written


def test_done_with_an_ambiguous_prefix_names_the_candidates(runner: CliRunner, book: Book) -> None:
    ids = [
        _log(runner, book, f"{book.max} {CALL} --subject 'Aufgabe {i}' --follow-up 2030-01-01")
        for i in range(20)
    ]
    # of 20 random hex ids, at least two share their first digit
    prefix = next(i[0] for i in ids if sum(j.startswith(i[0]) for j in ids) > 1)
    error = _failed(_run(runner, book, f"done {prefix}"))
    assert f"'{prefix}' matches several open follow-ups" in error
    assert all(e.follow_up is not None and e.follow_up.is_open for e in _stored(book, book.max))


def test_import_mail(runner: CliRunner, book: Book, tmp_path: Path) -> None:
    mail = tmp_path / "anfrage.eml"
    mail.write_bytes(
        b"Message-ID: <anfrage-1@muster.de>\n"
        b"Date: Mon, 23 Nov 2026 09:15:00 +0100\n"
        b"From: Max Mustermann <Max.Mustermann@Muster.DE>\n"
        b"To: Vertrieb <vertrieb@meine-firma.de>\n"
        b"Subject: Anfrage Heizungswartung\n"
        b"Content-Type: text/plain; charset=utf-8\n\n"
        b"Sehr geehrte Damen und Herren,\nbitte um ein Angebot.\n"
    )
    out = _ok(_run(runner, book, f"import-mail {mail}"))
    assert "imported: 1, extended: 0, already there: 0" in out
    assert "vertrieb@meine-firma.de" in out  # reported as unmatched
    (entry,) = _stored(book, book.max)
    assert (entry.channel, entry.direction) == ("email", "inbound")
    assert entry.subject == "Anfrage Heizungswartung"
    assert "Anfrage Heizungswartung" in _ok(_run(runner, book, f"timeline {book.max}"))

    out = _ok(_run(runner, book, f"import-mail {mail}", lang="de"))
    assert "importiert: 0, ergänzt: 0, bereits vorhanden: 1" in out
    assert len(_stored(book, book.max)) == 1
    error = _failed(_run(runner, book, f"import-mail {tmp_path / 'fehlt.eml'}"))
    assert "is neither a file nor a folder" in error


def test_import_whatsapp(runner: CliRunner, book: Book, tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat mit Max Mustermann.txt"
    chat.write_text(
        "23.11.26, 09:15 - Max Mustermann: Ist das Angebot fertig?\n"
        "23.11.26, 09:20 - Anna Schmidt: Ja, kommt heute.\n"
        "24.11.26, 17:50 - Max Mustermann: Danke!\n",
        encoding="utf-8",
    )
    out = _ok(_run(runner, book, f"import-whatsapp '{chat}' --me 'Anna Schmidt'"))
    assert "imported: 2," in out
    entries = _stored(book, book.max)
    assert [e.subject for e in entries] == ["WhatsApp 2026-11-24", "WhatsApp 2026-11-23"]
    assert entries[1].occurred_at == dt.datetime(2026, 11, 23, 8, 15, tzinfo=dt.UTC)
    out = _ok(_run(runner, book, f"timeline {book.max} --channel messenger", lang="de"))
    assert "WhatsApp 2026-11-23" in out and "Messenger" in out and "eingehend" in out

    # on a given contact, with the times of another zone
    other = tmp_path / "WhatsApp Chat mit Erika.txt"
    other.write_text(
        "23.11.26, 09:15 - Erika: Guten Morgen!\n"
        "23.11.26, 09:20 - Anna Schmidt: Hallo Erika.\n"
        "24.11.26, 17:50 - Erika: Bis morgen.\n",
        encoding="utf-8",
    )
    command = f"import-whatsapp '{other}' --contact {book.erika} --me 'Anna Schmidt'"
    out = _ok(_run(runner, book, f"{command} --timezone Europe/London", lang="de"))
    assert "importiert: 2," in out
    (_later, earlier) = _stored(book, book.erika)
    assert earlier.occurred_at == dt.datetime(2026, 11, 23, 9, 15, tzinfo=dt.UTC)
    assert "Mars/Olymp" in _failed(_run(runner, book, f"{command} --timezone Mars/Olymp"))


def test_demo_then_demo_reset_shows_the_history_again(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    first = _ok(runner.invoke(main, ["--db", db, "demo"], env=WIDE))
    assert "Logged 7 correspondence entries" in first
    assert "History of C00001 Muster GmbH and its affiliated contacts" in first
    assert "Open follow-ups" in first and "4 open, 1 overdue" in first
    for text in (
        "Telefonnotiz: Skonto Rechnung R-2026-117", "Gesprächsprotokoll", "Bonität geprüft",
        "Preisanpassung", "overdue", "done", "with C00028 Małgorzata Böhm",
    ):  # fmt: skip
        assert text in first, text

    again = runner.invoke(main, ["--db", db, "demo"], env=WIDE)
    assert again.exit_code == 2 and "already holds 85 contacts" in again.stderr

    second = _ok(runner.invoke(main, ["--lang", "de", "--db", db, "demo", "--reset"], env=WIDE))
    assert "7 Korrespondenzeinträge erfasst" in second
    assert "Muster GmbH mit verbundenen Kontakten" in second
    assert "Telefonnotiz: Skonto Rechnung R-2026-117" in second and "überfällig" in second
    assert "Interne Notiz" in second and "Offene Wiedervorlagen" in second
    with crmkit.open(f"sqlite:///{db}") as crm:
        assert crm.contacts.count(include_archived=True) == 85
        entries = {e.id for c in crm.contacts.all() for e in crm.correspondence.timeline(c)}
        assert len(entries) == 7
        assert len(crm.correspondence.open_follow_ups()) == 4
        muster = next(c for c in crm.contacts.all() if c.display_name == "Muster GmbH")
        assert muster.number and f"Verlauf von {muster.number} Muster GmbH" in second
        assert len(crm.correspondence.timeline(muster, include_company=True)) == 5


def test_demo_fits_80_columns(runner: CliRunner) -> None:
    out = _ok(runner.invoke(main, ["--url", "memory://", "demo"], env={"COLUMNS": "80"}))
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "Telefonnotiz:" in out and "Try: crmkit timeline C00001 --company" in out


def test_internal_flag_marks_a_call_internal(runner: CliRunner, book: Book) -> None:
    _log(runner, book, f"{book.max} {CALL} --subject 'Vertraulich: Preisrahmen' --internal")
    (entry,) = _stored(book, book.max)
    assert entry.internal and entry.direction == "inbound"
    out = _ok(_run(runner, book, f"timeline {book.max}", lang="de"))
    assert "eingehend (intern)" in out and "Vertraulich: Preisrahmen" in out
