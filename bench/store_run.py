"""One store benchmark run in its own process (so peak memory is its own).

``python -m bench.store_run --size 100000 --url sqlite:////tmp/b.db`` prints JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import attrs

import crmkit
from bench.data import convert_chunk, dataset, floor_chunk, prepare_chunk, read_chunks
from crmkit.ids import new_id
from crmkit.model import Contact
from crmkit.segments import Segment
from crmkit.store import PreparedContact

#: Rows per worker task (the floor and the import alike).
CHUNK = 2_000
#: Prepared contacts per store transaction: ten worker chunks.  Fewer, larger
#: commits write each randomly placed index page (the ids) less often.
WRITE_BATCH = 20_000


def _pipelined(
    pool: ProcessPoolExecutor, fn: Callable[[list[dict[str, str]]], Any], path: Path, window: int
) -> Iterator[Any]:
    """Results of *fn* over the file's chunks, in order, with a bounded number in flight."""
    pending: deque[Future[Any]] = deque()
    for chunk in read_chunks(path, CHUNK):
        pending.append(pool.submit(fn, chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _cpu_seconds(pool: ProcessPoolExecutor) -> float:
    """CPU time (user + system) used so far by this process and the pool's workers.

    Unlike wall time it hardly depends on what else runs on the machine, so
    ``import_cpu_s / floor_cpu_s`` is a steadier ratio on a shared machine.
    Workers are read from ``/proc`` (Linux); elsewhere only this process counts.
    """
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _percentiles(samples: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49] * 1000, qs[94] * 1000


def run(size: int, url: str, workers: int) -> dict[str, Any]:
    path = dataset(size)
    result: dict[str, Any] = {"size": size, "url": url.split("://")[0], "workers": workers}
    with ProcessPoolExecutor(workers) as pool:
        # Floor: phonenumbers + email-validator alone, same chunks, same pool.
        t0, cpu0 = time.perf_counter(), _cpu_seconds(pool)
        for _ in _pipelined(pool, floor_chunk, path, 2 * workers):
            pass
        result["floor_s"] = time.perf_counter() - t0
        result["floor_cpu_s"] = _cpu_seconds(pool) - cpu0

        crm = crmkit.open(url)
        t0, cpu0 = time.perf_counter(), _cpu_seconds(pool)
        sample: list[Contact] = []
        rng = random.Random(7)
        # A store with the bulk_prepared capability takes rows the workers
        # serialised and keyed; others take the validated contacts.  With the
        # bulk_load capability the load runs in its bulk_load() block, whose
        # end (rebuilding the lookup indexes) is part of the import time.
        add_prepared = getattr(crm.store, "add_prepared", None)
        bulk_load = getattr(crm.store, "bulk_load", None)
        bulk: AbstractContextManager[Any] = nullcontext()
        if "bulk_load" in crm.store.capabilities and bulk_load is not None:
            bulk = bulk_load()
        if "bulk_prepared" in crm.store.capabilities and add_prepared is not None:
            result["path"] = "prepared"
            picked: list[str] = []
            batch: list[PreparedContact] = []
            with bulk:
                # A wider window than the floor's keeps the workers busy while
                # the writer commits a batch.
                for prepared in _pipelined(pool, prepare_chunk, path, 8 * workers):
                    batch.extend(prepared)
                    picked.extend(p.id for p in rng.sample(prepared, min(5, len(prepared))))
                    if len(batch) >= WRITE_BATCH:
                        add_prepared(batch)
                        batch = []
                if batch:
                    add_prepared(batch)
            result["import_s"] = time.perf_counter() - t0
            result["import_cpu_s"] = _cpu_seconds(pool) - cpu0
            sample = [crm.store.get_contact(i) for i in picked]
        else:
            result["path"] = "contacts"
            for contacts in _pipelined(pool, convert_chunk, path, 2 * workers):
                stored = crm.store.add_contacts(contacts)
                sample.extend(rng.sample(stored, min(5, len(stored))))
            result["import_s"] = time.perf_counter() - t0
            result["import_cpu_s"] = _cpu_seconds(pool) - cpu0
    # Peak resident memory of this process up to the end of the import (the
    # look-ups and the worklist below hold their own results).
    result["import_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["import_per_s"] = size / result["import_s"]
    result["ratio"] = result["import_s"] / result["floor_s"]
    result["cpu_ratio"] = result["import_cpu_s"] / result["floor_cpu_s"]
    if not url.startswith("memory:"):
        # Look up from a freshly opened store, as another process would: the
        # picks were read above, and the SQLite store keeps what it read.
        crm.close()
        crm = crmkit.open(url)
    result.update(_lookups(crm, sample))
    result.update(_worklist(crm))
    result.update(_segments(crm))
    crm.close()
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        result["file_mb"] = (
            sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file()) / 2**20
        )
    elif url.startswith(("postgresql://", "postgres://")):
        result["file_mb"] = pg_schema_mb(url)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["worker_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def pg_schema_mb(url: str) -> float:
    """The size of the crmkit schema named in *url* (tables, indexes, TOAST) in MiB."""
    import urllib.parse

    import psycopg

    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    schema = query.pop("schema", ["crmkit"])[0]
    conninfo = urllib.parse.urlunsplit(
        parts._replace(query=urllib.parse.urlencode(query, doseq=True))
    )
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
            (schema,),
        ).fetchone()
    return float(row[0] if row else 0) / 2**20


def _lookups(crm: crmkit.CRM, sample: list[Contact]) -> dict[str, Any]:
    """p50/p95 of each kind of look-up, each over its own 300 random picks.

    Own picks per kind (and warm-up calls on other contacts), so that no
    timed call finds its contact already loaded by an earlier one — the
    SQLite store keeps recently loaded contacts.
    """
    rng = random.Random(11)
    n = min(300, len(sample))
    cases: dict[str, Callable[[Contact], Any]] = {
        "number": lambda c: crm.search(c.number or ""),
        "email": lambda c: crm.search(c.emails[0].address),
        "phone": lambda c: crm.lookup_phone(c.phones[0].e164),
        "name": lambda c: crm.search(c.display_name),
        "prefix": lambda c: crm.search(c.display_name.split()[-1][:4]),
        "domain": lambda c: crm.search("@" + c.emails[0].domain),
        # "Search before you create": a new contact with this one's name and e-mail.
        "dupcheck": lambda c: crm.find_duplicates(attrs.evolve(c, id=new_id(), number=None)),
    }
    out: dict[str, Any] = {}
    for name, fn in cases.items():
        chosen = rng.sample(sample, min(len(sample), n + 20))
        split = min(20, len(chosen) // 2)  # a small sample: half of it warms up
        warm, picks = chosen[:split], chosen[split:]
        for c in warm:
            fn(c)  # warm up
        times = []
        for c in picks:
            t0 = time.perf_counter()
            found = fn(c)
            times.append(time.perf_counter() - t0)
            assert found, (name, c)
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = _percentiles(times)
    return out


def _worklist(crm: crmkit.CRM) -> dict[str, Any]:
    """The whole worklist once (every built-in source), and how many items it had."""
    t0 = time.perf_counter()
    items = crm.worklist(dt.date(2026, 11, 23))
    return {"worklist_s": time.perf_counter() - t0, "worklist_items": len(items)}


#: The segments timed: a region's persons with e-mail, and a city or a postal area.
SEGMENTS: dict[str, Segment] = {
    "region": Segment(kind="person", postal_code_prefix="7", has_email=True),
    "either": Segment(city="Berlin") | ~Segment(postal_code_prefix="0"),
}


def _segments(crm: crmkit.CRM) -> dict[str, Any]:
    """Each segment of :data:`SEGMENTS` evaluated in the store (3 runs, the median)."""
    out: dict[str, Any] = {}
    for name, segment in SEGMENTS.items():
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            found = crm.segments.ids(segment)
            times.append(time.perf_counter() - t0)
        out[f"segment_{name}_s"] = statistics.median(times)
        out[f"segment_{name}_members"] = len(found)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    print(json.dumps(run(args.size, args.url, args.workers)))


if __name__ == "__main__":
    main()
