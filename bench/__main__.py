"""Run the benchmarks and print a table: ``python -m bench [--sizes 100000 1000000]``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

COLUMNS = [
    ("size", "contacts", "{:,}"),
    ("url", "store", "{}"),
    ("import_s", "import s", "{:.1f}"),
    ("import_per_s", "contacts/s", "{:,.0f}"),
    ("floor_s", "floor s", "{:.1f}"),
    ("ratio", "import/floor", "{:.2f}x"),
    ("import_cpu_s", "import CPU s", "{:.1f}"),
    ("floor_cpu_s", "floor CPU s", "{:.1f}"),
    ("cpu_ratio", "CPU import/floor", "{:.2f}x"),
    ("number_p95_ms", "number p95 ms", "{:.2f}"),
    ("email_p95_ms", "e-mail p95 ms", "{:.2f}"),
    ("phone_p95_ms", "phone p95 ms", "{:.2f}"),
    ("name_p50_ms", "name p50 ms", "{:.2f}"),
    ("name_p95_ms", "name p95 ms", "{:.2f}"),
    ("prefix_p95_ms", "prefix p95 ms", "{:.2f}"),
    ("domain_p95_ms", "domain p95 ms", "{:.2f}"),
    ("dupcheck_p95_ms", "dup-check p95 ms", "{:.1f}"),
    ("worklist_s", "worklist s", "{:.1f}"),
    ("worklist_items", "worklist items", "{:,}"),
    ("segment_region_s", "segment s", "{:.2f}"),
    ("segment_region_members", "segment members", "{:,}"),
    ("segment_either_s", "segment (or/not) s", "{:.2f}"),
    ("file_mb", "file MB", "{:.0f}"),
    ("peak_mb", "peak MB", "{:.0f}"),
    ("worker_peak_mb", "worker peak MB", "{:.0f}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--stores", nargs="+", default=["sqlite"], choices=["sqlite", "memory"])
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for store in args.stores:
                url = f"sqlite:///{tmp}/bench-{size}.db" if store == "sqlite" else "memory://"
                out = subprocess.run(
                    [sys.executable, "-m", "bench.store_run", "--size", str(size), "--url", url],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(f"done: {store} {size:,}", file=sys.stderr)
    table = Table(title="crmkit store benchmark")
    for _key, title, _fmt in COLUMNS:
        table.add_column(title, justify="right")
    for r in results:
        table.add_row(*(fmt.format(r[key]) if key in r else "—" for key, _t, fmt in COLUMNS))
    Console(width=250).print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
