"""``crmkit survey``: send requests, run the schedule, serve the answer page, report, import.

The configuration is a TOML file (``--config`` or ``CRMKIT_SURVEY_CONFIG``),
secrets may come from ``CRMKIT_SURVEY_SECRET`` and
``CRMKIT_SURVEY_SMTP_PASSWORD``.  See ``docs/survey.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from crmkit.cli import Context, pass_context
from crmkit.consent import state
from crmkit.crm import CRM
from crmkit.model import Contact
from crmkit_survey.config import SurveyConfig
from crmkit_survey.importer import import_answers, read_rows
from crmkit_survey.report import report as build_report
from crmkit_survey.survey import PROVIDER, Survey, configure, deliveries
from crmkit_survey.web import make_survey_server


def _survey(crm: CRM, config: str | None) -> Survey:
    from crmkit_survey.survey import survey_for

    if config:
        return configure(crm, SurveyConfig.from_toml(config))
    return survey_for(crm)


def _unclear(crm: CRM, contacts: list[Contact], purpose: str) -> list[Contact]:
    """Contacts with a deliverable address, never asked (or expired) and no open case."""
    out = []
    for contact in contacts:
        if not any(not e.undeliverable for e in contact.emails):
            continue
        events = crm.consents.events(contact)
        if any(e.kind == "objected" for e in events):
            continue
        found = crm.consents.case(contact, purpose)
        if found is not None and found.stage == "open":
            continue
        if state(events, purpose).status in ("none", "expired"):
            out.append(contact)
    return out


@click.group("survey")
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False),
    envvar="CRMKIT_SURVEY_CONFIG",
    help="The survey configuration (TOML).",
)
@click.pass_context
def survey(ctx: click.Context, config: str | None) -> None:
    """Double-opt-in consent requests by e-mail, with the answer page."""
    ctx.meta["crmkit_survey.config"] = config


def _config(ctx: click.Context) -> str | None:
    value = ctx.meta.get("crmkit_survey.config")
    return value if isinstance(value, str) else None


@survey.command("send")
@click.option("--purpose", required=True, help="The purpose to ask for (newsletter …).")
@click.option("--query", default="", help="Search text choosing the contacts (default: all).")
@click.option("--tag", "tags", multiple=True, help="Only contacts with this tag (repeatable).")
@click.option("--version", "version", default=None, help="The consent text version.")
@click.option("--dry-run", is_flag=True, help="Only list who would be asked.")
@pass_context
@click.pass_context
def send(
    ctx: click.Context, obj: Context, purpose: str, query: str, tags: tuple[str, ...],
    version: str | None, dry_run: bool,
) -> None:  # fmt: skip
    """Ask every unclear contact (matching --query/--tag) for consent to --purpose."""
    with obj.crm() as crm:
        found = (crm.search(query, tags=tags or None, limit=10_000) if query or tags
                 else list(crm.contacts.all()))  # fmt: skip
        targets = _unclear(crm, found, purpose)
        if dry_run:
            for contact in targets:
                obj.console.print(f"  • {contact.number} {contact.display_name}")
            return
        events = _survey(crm, _config(ctx)).request(targets, purpose, version=version)
        failed = 0
        for event in events:
            mails = deliveries(crm.consents.events(event.contact_id), event.request_id)
            failed += bool(mails) and mails[-1].kind == "send_failed"
        obj.console.print(obj.say("survey.cli.sent", count=len(events), purpose=purpose,
                                  failed=failed))  # fmt: skip


@survey.command("schedule")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day to run for (default: today).")  # fmt: skip
@pass_context
@click.pass_context
def schedule(ctx: click.Context, obj: Context, today: dt.datetime | None) -> None:
    """Send the reminders that are due and close cases past the deadline (run daily)."""
    with obj.crm() as crm:
        _survey(crm, _config(ctx))
        done = crm.consents.run_schedule(today.date() if today else None, provider=PROVIDER)
        for event in done:
            obj.console.print(f"  • {event.kind} {event.purpose} {event.contact_id}")


@survey.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port to listen on.")
@pass_context
@click.pass_context
def serve(ctx: click.Context, obj: Context, host: str, port: int) -> None:
    """Run the answer page stand-alone (behind a TLS-terminating proxy in production)."""
    with obj.crm() as crm:
        server = make_survey_server(_survey(crm, _config(ctx)).app(), host, port)
        obj.console.print(obj.say("survey.cli.serving", host=host, port=server.server_port))
        try:
            server.serve_forever()
        except KeyboardInterrupt:  # pragma: no cover - interactive
            pass
        finally:
            server.server_close()


@survey.command("report")
@click.option("--purpose", default=None, help="Only this purpose.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")  # fmt: skip
@pass_context
def report_command(obj: Context, purpose: str | None, fmt: str) -> None:
    """Requests sent, answered, reminded, bounced (from the consent ledger)."""
    with obj.crm(announce=fmt == "text") as crm:
        counts = build_report(crm, purpose).as_dict()
    if fmt == "json":
        click.echo(json.dumps(counts, sort_keys=True))
        return
    for key, value in counts.items():
        obj.console.print(f"  {key:<12} {value:>6}")


@survey.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default=None, help="Name of the survey tool (kept as proof).")
@pass_context
def import_command(obj: Context, file: Path, source: str | None) -> None:
    """Record answers exported from another survey tool (CSV or JSON)."""
    rows = read_rows(file)
    with obj.crm() as crm:
        first = 1 if file.suffix.lower() == ".json" else 2
        result = import_answers(crm, rows, source=source or file.name, first_line=first)
    for line in result.lines(obj.lang):
        obj.console.print(line)


__all__ = ["survey"]
