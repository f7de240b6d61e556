"""Concurrent writers: N processes adding contacts one transaction each, on one store.

``python -m bench.writers --url URL --writers 4 --per-writer 1000`` prints JSON:
what a team sees when several people and apps create contacts at once (each
``crm.contacts.add`` is its own transaction that takes a contact number).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from multiprocessing.synchronize import Barrier
from typing import Any

import crmkit
from bench.data import contact_from_row, dataset, read_chunks
from crmkit.errors import ConflictError, StoreError


def _writer(url: str, rows: list[dict[str, str]], barrier: Barrier, out: Any) -> None:
    """Add *rows* one by one after every writer is ready; report times and refusals."""
    contacts = [contact_from_row(r) for r in rows]
    crm = crmkit.open(url)
    try:
        barrier.wait()
        times: list[float] = []
        refused = 0
        start = time.perf_counter()
        for contact in contacts:
            t0 = time.perf_counter()
            try:
                crm.contacts.add(contact)
            except (ConflictError, StoreError):
                refused += 1
            times.append(time.perf_counter() - t0)
        out.put({"start": start, "end": time.perf_counter(), "times": times, "refused": refused})
    finally:
        crm.close()


def run(url: str, writers: int, per_writer: int) -> dict[str, Any]:
    """*writers* processes add *per_writer* contacts each; throughput and latency."""
    chunks = read_chunks(dataset(writers * per_writer, seed=3), per_writer)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(writers)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, next(chunks), barrier, out)) for _ in range(writers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    times = sorted(t for r in results for t in r["times"])
    qs = statistics.quantiles(times, n=100, method="inclusive")
    added = writers * per_writer - sum(r["refused"] for r in results)
    with crmkit.open(url) as crm:
        stored = crm.contacts.count()
    return {
        "url": url.split("://")[0],
        "writers": writers,
        "added": added,
        "stored": stored,
        "refused": sum(r["refused"] for r in results),
        "wall_s": wall,
        "per_s": added / wall,
        "p50_ms": qs[49] * 1000,
        "p95_ms": qs[94] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--per-writer", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.writers, args.per_writer)))


if __name__ == "__main__":
    main()
