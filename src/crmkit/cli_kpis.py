"""``crmkit report``, ``snapshot`` and ``revenue-import``: key figures on the command line.

``report`` prints the KPI report of a period (:meth:`crmkit.kpis_api.Kpis.report`)
as a table, or as JSON or CSV (``--format json|csv``, CSV cells formula-safe)
for scripts and spreadsheets.
"""

from __future__ import annotations

import click
from rich.table import Table

from crmkit.cli import Context, _parse_date
from crmkit.kpis import Period

FORMATS = ("table", "json", "csv")


@click.command(name="report")
@click.option("--period", default=None, metavar="PERIOD",
              help="2026-Q3, 2026-09, 2026-H1, 2026 or 2026-07-01..2026-09-30 "
                   "(default: the current quarter).")  # fmt: skip
@click.option("--today", "today_text", metavar="DATE", help="As of this day (default: today).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def report_command(obj: Context, period: str | None, today_text: str | None, fmt: str) -> None:
    """Key figures of a period: leads, customers, revenue, data quality."""
    day = _parse_date("--today", today_text) if today_text else None
    chosen = Period.parse(period) if period is not None else None
    with obj.crm(announce=fmt == "table") as crm:
        report = crm.kpis.report(chosen, today=day)
    if fmt == "json":
        click.echo(report.to_json())
        return
    if fmt == "csv":
        click.echo(report.to_csv(), nl=False)
        return
    table = Table(
        title=obj.say(
            "cli.report.title",
            period=str(report.period),
            start=report.period.start.isoformat(),
            end=report.period.end.isoformat(),
        ),
        caption=obj.say("cli.report.as_of", today=report.today.isoformat()),
    )
    for key in ("cli.col.section", "cli.col.figure", "cli.col.value"):
        table.add_column(obj.say(key))
    table.columns[2].justify = "right"
    previous = ""
    for section, figure, value in report.labelled_rows(obj.lang):
        table.add_row(section if section != previous else "", figure, value)
        previous = section
    obj.console.print(table)


@click.command(name="snapshot")
@click.option("--today", "today_text", metavar="DATE", help="As of this day (default: today).")
@click.pass_obj
def snapshot_command(obj: Context, today_text: str | None) -> None:
    """Record today's data quality (score, legal basis, open work) for the trend."""
    day = _parse_date("--today", today_text) if today_text else None
    with obj.crm() as crm:
        snap = crm.kpis.snapshot(day)
    obj.console.print(
        obj.say(
            "cli.snapshot.recorded",
            day=snap.day.isoformat(),
            score=f"{snap.quality_score:.0%}",
            basis="—" if snap.legal_basis_share is None else f"{snap.legal_basis_share:.0%}",
            items=sum(snap.open_items.values()),
        ),
        markup=False,
        highlight=False,
    )


@click.command(name="revenue-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.pass_obj
def revenue_import_command(obj: Context, path: str, dry_run: bool) -> None:
    """Import revenue from an ERP or invoicing CSV (all rows or none; re-runs add nothing)."""
    with obj.crm() as crm:
        report = crm.revenue.import_csv(path, dry_run=dry_run)
    for line in report.lines(obj.lang):
        obj.console.print(line, markup=False, highlight=False)
    if not report.ok:
        raise SystemExit(1)


__all__ = ["report_command", "revenue_import_command", "snapshot_command"]
