"""``crmkit sync PROVIDER [--dry-run]``: one sync round with a registered provider.

Shows a progress bar per phase (pull, scan, push) on a terminal and prints
the provider's report: created, updated, unchanged, skipped without e-mail,
conflicts and errors per mailbox; the exit status is 1 when any contact or
mailbox failed.  The provider reads its own configuration (``crmkit-m365``:
``CRMKIT_M365_CONFIG``).
"""

from __future__ import annotations

import inspect
from typing import Any

import click
from rich.progress import Progress

from crmkit.cli import Context


@click.command("sync")
@click.argument("provider")
@click.option("--dry-run", is_flag=True, help="Read both sides, report, change nothing.")
@click.pass_obj
def sync_command(obj: Context, provider: str, dry_run: bool) -> None:
    """Sync contacts with PROVIDER (e.g. m365) and print the summary."""
    with obj.crm() as crm:
        providers = crm.sync.providers()
        if provider not in providers:
            crm.sync.run(provider, dry_run=dry_run)  # raises the clear error
        chosen = providers[provider]
        accepts = "progress" in inspect.signature(chosen.sync).parameters
        with Progress(console=obj.console, transient=True,
                      disable=not obj.console.is_terminal) as bar:  # fmt: skip
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            report = crm.sync.run(provider, dry_run=dry_run, progress=progress if accepts else None)
        lines = report.lines(obj.lang) if hasattr(report, "lines") else [str(report)]
        for line in lines:
            obj.console.print(line, markup=False, soft_wrap=True)
        errors = report.total("errors") if hasattr(report, "total") else 0
    if errors:
        raise SystemExit(1)  # for cron and timers: something needs a look


__all__ = ["sync_command"]
