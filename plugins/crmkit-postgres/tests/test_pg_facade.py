"""The whole facade on PostgreSQL: a command-line session gives what it gives on SQLite."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmkit.cli import main
from crmkit_postgres.testing import with_schema

COMMANDS = [
    ["demo"],
    ["search", "Muster"],
    ["search", "mü"],
    ["search", "@muster.de"],
    ["lookup", "+49 711 781937-12"],
    ["show", "C00003"],
    ["log", "C00003", "--channel", "phone", "--direction", "inbound", "--subject",
     "Rückruf wegen Angebot", "--follow-up", "2026-12-01"],
    ["timeline", "C00003", "--text", "rückruf"],
    ["followups"],
    ["worklist"],
    ["check"],
]  # fmt: skip
# Not "duplicates": the order inside a pair varies from run to run on every store.


_TIMES = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_IDS = re.compile(r"\b[0-9a-f]{8}(?:[0-9a-f]{24})?\b")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_cli_session_agrees_with_the_sqlite_store(
    postgres_url: str, new_schema: Callable[[], str], tmp_path: Path, lang: str
) -> None:
    runner = CliRunner()
    pg_url = with_schema(postgres_url, new_schema())
    sqlite_url = f"sqlite:///{tmp_path}/crm.db"
    outputs: dict[str, list[str]] = {}
    for url in (sqlite_url, pg_url):
        results = []
        for command in COMMANDS:
            args = ["--lang", lang, "--url", url, *command]
            result = runner.invoke(main, args, env={"COLUMNS": "200"})
            assert result.exit_code == 0, (command, result.output)
            # Entry ids are random: compare everything else.
            # The session runs on the wall clock: times of day may differ by a minute.
            shown = _TIMES.sub("<time>", _IDS.sub("<id>", result.output.replace(url, "<url>")))
            results.append(shown)
        outputs[url] = results
    pg = {" ".join(c[:2]): out for c, out in zip(COMMANDS, outputs[pg_url], strict=True)}
    assert "Muster GmbH" in pg["search Muster"]
    assert "Rückruf wegen Angebot" in pg["timeline C00003"]
    for command, mine, theirs in zip(COMMANDS, outputs[sqlite_url], outputs[pg_url], strict=True):
        # Rows that tie on every shown field are ordered by their random ids: compare
        # the lines, not their order.
        assert sorted(theirs.splitlines()) == sorted(mine.splitlines()), command
