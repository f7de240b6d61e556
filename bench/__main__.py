"""Run the benchmarks and print tables.

``python -m bench [--sizes 100000 1000000] [--stores sqlite postgresql] [--writers 1 4]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    ("import_peak_mb", "import peak MB", "{:.0f}"),
    ("peak_mb", "peak MB", "{:.0f}"),
    ("worker_peak_mb", "worker peak MB", "{:.0f}"),
]


WRITER_COLUMNS = [
    ("url", "store", "{}"),
    ("writers", "writers", "{}"),
    ("added", "contacts added", "{:,}"),
    ("stored", "stored after", "{:,}"),
    ("wall_s", "wall s", "{:.1f}"),
    ("per_s", "contacts/s", "{:,.0f}"),
    ("p50_ms", "add p50 ms", "{:.1f}"),
    ("p95_ms", "add p95 ms", "{:.1f}"),
    ("refused", "refused", "{:,}"),
]

#: Where ``--stores postgresql`` runs: this server, else a throwaway cluster.
PG_URL_VARIABLE = "CRMKIT_BENCH_POSTGRES_URL"


@contextlib.contextmanager
def _postgres() -> Iterator[str]:
    """The URL of a PostgreSQL server: ``CRMKIT_BENCH_POSTGRES_URL`` or a throwaway
    cluster with the server's safe defaults (fsync on), stopped at the end."""
    given = os.environ.get(PG_URL_VARIABLE)
    if given:
        yield given
        return
    from crmkit_postgres.testing import Cluster, find_bin_dir

    bindir = find_bin_dir()
    if bindir is None:
        sys.exit(
            f"no PostgreSQL server binaries: apt-get install postgresql, or set {PG_URL_VARIABLE}"
        )
    cluster = Cluster(bindir)
    try:
        yield cluster.start(durable=True)
    finally:
        cluster.stop()


def _url(store: str, name: str, tmp: str, pg: str | None) -> str:
    if store == "sqlite":
        return f"sqlite:///{tmp}/{name}.db"
    if store == "postgresql":
        assert pg is not None
        from crmkit_postgres.testing import with_schema

        return with_schema(pg, name)
    return "memory://"


def _run(module: str, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", module, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _table(title: str, columns: list[tuple[str, str, str]], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for _key, head, _fmt in columns:
        table.add_column(head, justify="right")
    for r in rows:
        table.add_row(*(fmt.format(r[key]) if key in r else "—" for key, _t, fmt in columns))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--stores", nargs="+", default=["sqlite"], choices=["sqlite", "memory", "postgresql"]
    )
    parser.add_argument("--writers", type=int, nargs="*", default=[1, 4],
                        help="Concurrent-writer runs (process counts); none to skip.")  # fmt: skip
    parser.add_argument("--per-writer", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    writers: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        pg = stack.enter_context(_postgres()) if "postgresql" in args.stores else None
        for size in args.sizes:
            for store in args.stores:
                url = _url(store, f"bench_{size}", tmp, pg)
                results.append(_run("bench.store_run", "--size", str(size), "--url", url))
                print(f"done: {store} {size:,}", file=sys.stderr)
        for store in (s for s in args.stores if s != "memory"):
            for n in args.writers:
                url = _url(store, f"writers_{n}", tmp, pg)
                writers.append(_run("bench.writers", "--url", url, "--writers", str(n),
                                    "--per-writer", str(args.per_writer)))  # fmt: skip
                print(f"done: {store} {n} writers", file=sys.stderr)
    console = Console(width=250)
    console.print(_table("crmkit store benchmark", COLUMNS, results))
    if writers:
        console.print(_table("concurrent writers (one transaction per contact)", WRITER_COLUMNS,
                             writers))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"stores": results, "writers": writers}, indent=2))


if __name__ == "__main__":
    main()
