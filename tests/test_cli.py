"""The command line on memory:// (the SQLite plugin's tests cover the default store)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crmkit.cli import main


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
    assert "Created 26 companies, 55 persons and 52 affiliations" in result.output
    assert "phone.unassigned" not in result.output  # messages, not codes
    assert "no assigned number range" in result.output


def test_demo_in_german(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--lang", "de", "--url", "memory://", "demo"])
    assert result.exit_code == 0
    assert "26 Unternehmen, 55 Personen und 52 Zugehörigkeiten" in result.output


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
    assert "Anna (Vertrieb) sees 26 of 81 contacts" in result.output
    assert "may not archive contacts" in result.output
    assert "without the fields: notes" in result.output


def test_plugins_lists_the_builtins(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plugins"], terminal_width=200)
    assert result.exit_code == 0
    assert "crmkit.builtins" in result.output and "memory://" in result.output
