"""The benchmark code still runs (on a tiny data set; the figures live in docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.data import contact_from_row, dataset, read_chunks
from bench.store_run import run


def test_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    result = run(600, f"sqlite:///{tmp_path}/bench.db", workers=2)
    assert result["size"] == 600
    for key in ("import_s", "floor_s", "ratio", "number_p95_ms", "domain_p95_ms", "file_mb"):
        assert result[key] > 0, key


@pytest.mark.parametrize("n", [300])
def test_benchmark_rows_are_valid_german_contacts(n: int) -> None:
    rows = [r for chunk in read_chunks(dataset(n), 100) for r in chunk]
    assert len(rows) == n
    contacts = [contact_from_row(r) for r in rows]
    assert {c.kind for c in contacts} == {"person", "company"}
    assert all(c.phones and c.emails for c in contacts)


def test_concurrent_writers_benchmark_loses_nothing(tmp_path: Path) -> None:
    from bench.writers import run as run_writers

    result = run_writers(f"sqlite:///{tmp_path}/writers.db", writers=2, per_writer=25)
    assert (result["added"], result["stored"], result["refused"]) == (50, 50, 0)
    assert result["per_s"] > 0 and result["p95_ms"] >= result["p50_ms"] > 0
