"""``crmkit survey``: send, report, import and serve through the plugin CLI hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

import crmkit
from crmkit.cli import main
from crmkit_survey.testing import SECRET, Inbox, free_port, http, link_in

pytest_plugins = ["crmkit_survey.fixtures"]


def _config(tmp_path: Path, inbox: Inbox, port: int) -> Path:
    path = tmp_path / "survey.toml"
    path.write_text(
        f"""
base_url = "http://127.0.0.1:{port}"
record_user_agent = false

[controller]
name = "Muster GmbH"
address = "Musterstraße 1, 70173 Stuttgart"
email = "datenschutz@muster.de"
privacy_url = "https://muster.de/datenschutz"

[smtp]
host = "127.0.0.1"
port = {inbox.port}
sender = "einwilligung@muster.de"

[[texts]]
purpose = "newsletter"
version = "nl-1"
de = "Ja, ich möchte den Newsletter erhalten."
en = "Yes, I would like to receive the newsletter."
label_de = "Newsletter"
label_en = "newsletter"
""",
        encoding="utf-8",
    )
    return path


def test_send_report_import_and_serve(tmp_path: Path, inbox: Inbox) -> None:
    url = f"sqlite:///{tmp_path}/crm.db"
    port = free_port()
    config = _config(tmp_path, inbox, port)
    with crmkit.open(url) as crm:
        for first, mail in (
            ("Anna", "anna@muster.de"),
            ("Bernd", "bernd@muster.de"),
            ("Olga", "olga@other.example"),
        ):
            crm.contacts.add(crmkit.Person(first_name=first, last_name="Muster", emails=[mail]))
    env = {"CRMKIT_SURVEY_SECRET": SECRET.decode(), "CRMKIT_LANG": "de"}
    runner = CliRunner()
    base = ["--url", url, "survey", "--config", str(config)]

    dry = runner.invoke(
        main,
        [*base, "send", "--purpose", "newsletter", "--query", "@muster.de", "--dry-run"],
        env=env,
    )
    assert dry.exit_code == 0, dry.output
    assert "Anna Muster" in dry.output and "Olga" not in dry.output and inbox.messages == []

    sent = runner.invoke(
        main, [*base, "send", "--purpose", "newsletter", "--query", "@muster.de"], env=env
    )
    assert sent.exit_code == 0, sent.output
    assert "2 Anfrage(n) zu newsletter gestartet, 0 nicht zustellbar" in sent.output
    assert len(inbox.messages) == 2
    again = runner.invoke(main, [*base, "send", "--purpose", "newsletter"], env=env)
    assert "1 Anfrage(n)" in again.output  # only Olga was still unasked

    out = runner.invoke(main, ["--url", url, "survey", "report", "--format", "json"], env=env)
    counts = json.loads(out.output)
    assert (counts["requests"], counts["sent"], counts["open"]) == (3, 3, 3)

    answers = tmp_path / "answers.csv"
    answers.write_text(
        "email,answer,time\nbernd@muster.de,nein,2026-11-24T10:00:00Z\n", encoding="utf-8"
    )
    imported = runner.invoke(main, ["--url", url, "survey", "import", str(answers)], env=env)
    assert "1 Antwort(en) gespeichert, 0 Zeile(n) übersprungen" in imported.output

    schedule = runner.invoke(main, [*base, "schedule"], env=env)
    assert schedule.exit_code == 0 and inbox.messages[3:] == []  # nothing due yet

    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from crmkit.cli import main; main()",
            *base,
            "serve",
            "--port",
            str(port),
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        link = link_in(inbox.to("anna@muster.de")[0])
        for _ in range(300):  # up to 30 s on a busy machine
            try:
                page = http(link)
                break
            except OSError:
                time.sleep(0.1)
        assert page.status == 200 and "Zustimmen" in page.text
        assert http(link_in(inbox.to("bernd@muster.de")[0])).status == 409
    finally:
        server.terminate()
        server.wait(10)
        assert server.stdout is not None and server.stderr is not None
        server.stdout.close()
        server.stderr.close()


def test_without_configuration_the_command_says_so(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["--url", f"sqlite:///{tmp_path}/crm.db", "survey", "send", "--purpose", "newsletter"],
        env={"CRMKIT_SURVEY_CONFIG": None, "CRMKIT_LANG": "en"},
    )
    assert result.exit_code == 2
    assert "The survey provider is not configured" in result.output
    assert "Traceback" not in result.output
