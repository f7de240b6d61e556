"""Duplicate-detection benchmark: crmkit against splink and recordlinkage, one table.

::

    uv run --group bench --all-packages python -m bench.dedup --sizes 100000 1000000

Each tool and size runs in its own process (``bench.dedup_run``), so peak
memory is its own.  splink and recordlinkage come from the ``bench``
dependency group; a tool that is not installed is reported as such.
recordlinkage runs only up to ``--recordlinkage-max`` contacts (default
100,000): at a million it needs minutes and several GB (see
``docs/duplicates.md``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

COLUMNS = [
    ("size", "contacts", "{:,}"),
    ("tool", "tool", "{}"),
    ("candidates", "pairs compared", "{:,}"),
    ("completeness", "pair completeness", "{:.4f}"),
    ("precision", "precision", "{:.4f}"),
    ("recall", "recall", "{:.4f}"),
    ("f1", "F1", "{:.4f}"),
    ("matches", "matches", "{:,}"),
    ("review", "review queue", "{:,}"),
    ("wall_s", "wall s", "{:.1f}"),
    ("peak_mb", "peak MB", "{:,.0f}"),
]


def run_one(tool: str, size: int, seed: int) -> dict[str, Any]:
    """One run in a subprocess; its JSON result or an error note."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.dedup_run", "--tool", tool, "--size", str(size),
         "--seed", str(seed)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"tool": tool, "size": size, "error": tail}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--tools", nargs="+", default=["crmkit", "splink", "recordlinkage"])
    parser.add_argument("--recordlinkage-max", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    for size in args.sizes:
        # Make the data once, outside any timed run.
        subprocess.run(
            [sys.executable, "-c",
             f"from bench.dedup_run import dataset; dataset({size}, {args.seed})"],
            check=True,
        )  # fmt: skip
        for tool in args.tools:
            if tool == "recordlinkage" and size > args.recordlinkage_max:
                results.append({"tool": tool, "size": size, "error": "skipped (too slow)"})
                continue
            result = run_one(tool, size, args.seed)
            results.append(result)
            print(f"done: {tool} {size:,}", file=sys.stderr)
    table = Table(title="crmkit duplicate detection benchmark")
    for _key, title, _fmt in COLUMNS:
        table.add_column(title, justify="right")
    for r in results:
        if "error" in r:
            row = [f"{r['size']:,}", r["tool"], r["error"]] + [""] * (len(COLUMNS) - 3)
        else:
            row = [
                fmt.format(r[key]) if r.get(key) not in (None, -1) else "—"
                for key, _t, fmt in COLUMNS
            ]
        table.add_row(*row)
    Console(width=200).print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
