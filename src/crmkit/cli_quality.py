"""``crmkit check``, ``worklist``, ``merge`` and ``unmerge``: data care on the command line.

Both print a rich table by default, or every row as JSON or CSV
(``--format json|csv``) for scripts and spreadsheets.  CSV cells that start
with ``= + - @`` are prefixed with ``'`` so a spreadsheet never runs them as
formulas.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from crmkit.cli import Context, _parse_date
from crmkit.errors import ValidationError
from crmkit.exporting import FORMATS as EXPORT_FORMATS
from crmkit.exporting import safe_cell
from crmkit.messages import Lang

FORMATS = ("table", "json", "csv")
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def _emit_rows(obj: Context, rows: Sequence[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(list(rows), ensure_ascii=False, indent=2))
        return
    out = io.StringIO()
    fields = list(rows[0]) if rows else []
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    if fields:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
    click.echo(out.getvalue(), nl=False)


def _severity(obj: Context, severity: str) -> Text:
    label = obj.say(f"cli.severity.{severity}")
    return Text(label, style=_SEVERITY_STYLE.get(severity, ""))


@click.command(name="check")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--severity",
    type=click.Choice(["error", "warning", "info"]),
    default="info",
    show_default=True,
    help="Show findings of this severity and worse.",
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="Most rows in the table (JSON and CSV have all).")  # fmt: skip
@click.pass_obj
def check_command(obj: Context, fmt: str, severity: str, limit: int) -> None:
    """Check every contact against the quality and role rules; print the findings."""
    keep = {"error": {"error"}, "warning": {"error", "warning"}}.get(
        severity, {"error", "warning", "info"}
    )
    with obj.crm(announce=fmt == "table") as crm:
        report = crm.check()
        lang: Lang = obj.lang
        rows = [r for r in report.rows(lang) if r["severity"] in keep]
        if fmt != "table":
            _emit_rows(obj, rows, fmt)
            return
        counts = report.by_severity()
        table = Table(
            title=obj.say("cli.check.title", total=report.total, score=f"{report.score:.1%}"),
            caption=obj.say("cli.check.counts", **counts),
        )
        for key in ("cli.col.severity", "cli.col.contact", "cli.col.finding", "cli.col.action"):
            table.add_column(obj.say(key))
        order = {"error": 0, "warning": 1, "info": 2}
        rows.sort(key=lambda r: (order[r["severity"]], r["contact_number"], r["code"]))
        for row in rows[:limit]:
            table.add_row(
                _severity(obj, row["severity"]),
                Text(row["contact_number"]),
                Text(row["message"]),
                Text(row["action"]),
            )
        obj.console.print(table)
        if len(rows) > limit:
            obj.console.print(obj.say("cli.more_rows", count=len(rows) - limit))


@click.command(name="worklist")
@click.option("--today", "today_text", metavar="DATE", help="As of this day (default: today).")
@click.option("--owner", metavar="ID", help="Only the items of this actor.")
@click.option("--mine", is_flag=True, help="Only my items (the actor given with --as).")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (prefixes work: lead.).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="Most rows in the table (JSON and CSV have all).")  # fmt: skip
@click.pass_obj
def worklist_command(
    obj: Context,
    today_text: str | None,
    owner: str | None,
    mine: bool,
    kinds: tuple[str, ...],
    fmt: str,
    limit: int,
) -> None:
    """The work queue: what needs doing, most urgent first (overdue in red)."""
    day = _parse_date("--today", today_text) if today_text else None
    with obj.crm(announce=fmt == "table") as crm:
        who = crm.actor.id if mine else owner
        worklist = crm.worklist(day, owner=who)
        items = worklist.of_kind(*kinds) if kinds else list(worklist)
        lang: Lang = obj.lang
        if fmt != "table":
            _emit_rows(obj, [i.as_row(lang) for i in items], fmt)
            return
        today = worklist.today
        if not items:
            obj.console.print(obj.say("cli.worklist.empty", today=today.isoformat()))
            return
        counts = ", ".join(f"{k} {v}" for k, v in sorted(worklist.counts().items()))
        table = Table(
            title=obj.say("cli.worklist.title", count=len(items), today=today.isoformat()),
            caption=counts,
        )
        for key in ("cli.col.due", "cli.col.contact", "cli.col.reason", "cli.col.action"):
            table.add_column(obj.say(key))
        for item in items[:limit]:
            overdue = item.due is not None and item.due < today
            due = Text(
                item.due.isoformat() if item.due else "—", style="bold red" if overdue else ""
            )
            due.append("\n")
            due.append_text(_severity(obj, item.severity))
            contact = Text(f"{item.contact_number} {item.contact_name}".strip() or "—")
            if item.owner:
                contact.append(f"\n→ {item.owner}", style="dim")
            table.add_row(due, contact, Text(item.reason(lang)), Text(item.suggestion(lang)))
        obj.console.print(table)
        if len(items) > limit:
            obj.console.print(obj.say("cli.more_rows", count=len(items) - limit))


@click.command(name="merge")
@click.argument("survivor")
@click.argument("others", nargs=-1, required=True)
@click.option("--choose", "choices", multiple=True, metavar="FIELD=REF",
              help="Take FIELD from contact REF (repeatable), e.g. name=C00002.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@click.pass_obj
def merge_command(
    obj: Context, survivor: str, others: tuple[str, ...], choices: tuple[str, ...], dry_run: bool
) -> None:
    """Merge duplicates into SURVIVOR (numbers or ids); nothing is lost, and it can be undone."""
    choose: dict[str, str] = {}
    for item in choices:
        field, sep, ref = item.partition("=")
        if not sep or not field.strip() or not ref.strip():
            raise ValidationError.single("--choose", "cli.merge.bad_choose", value=item)
        choose[field.strip()] = ref.strip()
    with obj.crm() as crm:
        result = crm.merge(survivor, *others, choose=choose, dry_run=dry_run)
        plan = result.plan
        table = Table(title=obj.say("cli.merge.title", number=plan.survivor.number or "",
                                    name=plan.survivor.display_name))  # fmt: skip
        table.add_column(obj.say("cli.col.field"))
        table.add_column(obj.say("cli.col.value"))
        table.add_column(obj.say("cli.col.from"))
        numbers: dict[str, str] = {c.id: c.number or c.id for c in (plan.survivor, *plan.merged)}
        for field, source in sorted(plan.sources.items()):
            value = getattr(plan.survivor, field)
            shown = ", ".join(map(str, value)) if isinstance(value, (tuple, frozenset)) else value
            if shown in (None, "", ()):
                continue
            origin = ", ".join(numbers.get(i, i) for i in source.split(",") if i)
            table.add_row(field, Text(str(shown)), origin)
        obj.console.print(table)
        moved = sum(1 for c in plan.affiliations if c.after is not None)
        folded = sum(1 for c in plan.affiliations if c.after is None)
        code = "cli.merge.preview" if dry_run else "cli.merge.done"
        obj.console.print(obj.say(code, affiliations=moved, folded=folded,
                                  entries=len(plan.entries)))  # fmt: skip


@click.command(name="unmerge")
@click.argument("ref")
@click.pass_obj
def unmerge_command(obj: Context, ref: str) -> None:
    """Undo the latest merge into REF (a contact number or id, or a merge id)."""
    with obj.crm() as crm:
        survivor = crm.unmerge(ref)
        obj.console.print(obj.say("cli.unmerge.done", number=survivor.number or "",
                                  name=survivor.display_name))  # fmt: skip


@click.command(name="duplicates")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True,
              help="Most pairs in the table (JSON and CSV have all).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def duplicates_command(obj: Context, limit: int, fmt: str) -> None:
    """Suspected duplicates in the whole store, best first, with why they look alike."""
    with obj.crm(announce=fmt == "table") as crm:
        report = crm.find_duplicates()
        numbers: dict[str, str] = {}

        def label(contact_id: str) -> str:
            if contact_id not in numbers:
                c = crm.contacts.get(contact_id)
                numbers[contact_id] = f"{c.number} {c.display_name}"
            return numbers[contact_id]

        pairs = list(report.pairs)
        rows = [
            {
                "left": label(p.left_id),
                "right": label(p.right_id),
                "verdict": p.verdict,
                "probability": round(p.probability, 4),
                "agreeing": ", ".join(p.explanation.agreeing),
                "disagreeing": ", ".join(p.explanation.disagreeing),
                "left_id": p.left_id,
                "right_id": p.right_id,
            }
            for p in (pairs if fmt != "table" else pairs[:limit])
        ]
        if fmt != "table":
            _emit_rows(obj, rows, fmt)
            return
        table = Table(title=report.summary(obj.lang))
        for key in ("cli.col.pair", "cli.col.verdict", "cli.col.agreeing"):
            table.add_column(obj.say(key))
        for row in rows:
            verdict = obj.say(f"dedup.verdict.{row['verdict']}")
            table.add_row(
                Text(f"{row['left']}\n{row['right']}"),
                Text(f"{verdict}\n{row['probability']:.1%}"),
                Text(f"{row['agreeing']}\n≠ {row['disagreeing']}" if row["disagreeing"]
                     else str(row["agreeing"])),
            )  # fmt: skip
        obj.console.print(table)
        if len(pairs) > limit:
            obj.console.print(obj.say("cli.more_rows", count=len(pairs) - limit))
        if pairs:
            obj.console.print(obj.say("cli.duplicates.try"))


_SUFFIX_FORMATS = {".vcf": "vcard", ".vcard": "vcard", ".json": "json", ".xlsx": "xlsx"}


@click.command(name="import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["auto", "csv", "xlsx", "json", "vcard"]),
              default="auto", show_default=True,
              help="File format (auto: by the file name's ending, else CSV).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing (CSV, xlsx).")
@click.option("--on-duplicate", type=click.Choice(["skip", "flag", "merge"]), default="skip",
              show_default=True, help="A row matching a stored contact.")  # fmt: skip
@click.option("--map", "maps", multiple=True, metavar="HEADER=FIELD",
              help="Read the column HEADER as FIELD (repeatable).")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--progress/--no-progress", default=None,
              help="Progress bar (default: when the terminal shows it).")  # fmt: skip
@click.pass_obj
def import_command(
    obj: Context, path: str, fmt: str, dry_run: bool, on_duplicate: str, maps: tuple[str, ...],
    batch_size: int, progress: bool | None,
) -> None:  # fmt: skip
    """Import contacts from CSV or xlsx (German or English Excel export), vCard or crmkit JSON."""
    mapping: dict[str, str] = {}
    for item in maps:
        header, sep, field = item.partition("=")
        if not sep or not header.strip() or not field.strip():
            raise ValidationError.single("--map", "cli.import.bad_map", value=item)
        mapping[header.strip()] = field.strip()
    if fmt == "auto":
        fmt = _SUFFIX_FORMATS.get(Path(path).suffix.lower(), "csv")
    with obj.crm() as crm:
        if fmt == "json":
            counts = str(crm.import_json(path))
            obj.console.print(Text(obj.say("cli.import.json_done", counts=counts), style="bold"))
            return
        if fmt == "vcard":
            report = crm.import_vcard(path)
        else:
            report = crm.import_csv(path, mapping or None, dry_run=dry_run,
                                    on_duplicate=on_duplicate, batch_size=batch_size,
                                    progress=progress)  # fmt: skip
        first, *rest = report.lines(obj.lang)
        obj.console.print(Text(first, style="bold"))
        for line in rest:
            obj.console.print(Text("  • " + line))
        if not getattr(report, "ok", not report.problems):
            raise SystemExit(1)


@click.command(name="export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="csv, json or vcard (default: by the file's ending, else csv).")  # fmt: skip
@click.option("--query", default=None, help="Only the contacts this search finds.")
@click.option("--include-archived", is_flag=True, help="Archived contacts too (JSON always).")
@click.pass_obj
def export_command(
    obj: Context, path: str, fmt: str | None, query: str | None, include_archived: bool
) -> None:
    """Export contacts as CSV for German Excel, lossless JSON, or vCard 4.0 (- for stdout)."""
    if fmt is None:
        fmt = {".json": "json", ".vcf": "vcard", ".vcard": "vcard"}.get(
            Path(path).suffix.lower(), "csv"
        )
    with obj.crm(announce=path != "-") as crm:
        if path == "-":
            out = sys.stdout
            crm.export(out, fmt, query=query, include_archived=include_archived)
            return
        count = crm.export(path, fmt, query=query, include_archived=include_archived)
        obj.console.print(obj.say("cli.export.done", count=count, path=path, format=fmt))


__all__ = [
    "check_command",
    "duplicates_command",
    "export_command",
    "import_command",
    "merge_command",
    "safe_cell",
    "unmerge_command",
    "worklist_command",
]
