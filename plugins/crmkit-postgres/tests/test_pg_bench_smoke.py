"""The benchmark's PostgreSQL columns still run (tiny data; figures in docs/performance.md)."""

from __future__ import annotations

from collections.abc import Callable

from bench.store_run import run
from bench.writers import run as run_writers

from crmkit_postgres.testing import with_schema


def test_store_benchmark_runs_on_postgresql(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    result = run(400, with_schema(postgres_url, new_schema()), workers=2)
    assert (result["size"], result["url"], result["path"]) == (400, "postgresql", "prepared")
    for key in ("import_s", "floor_s", "number_p95_ms", "domain_p95_ms", "file_mb"):
        assert result[key] > 0, key


def test_concurrent_writers_benchmark_on_postgresql(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    result = run_writers(with_schema(postgres_url, new_schema()), writers=3, per_writer=20)
    assert (result["added"], result["stored"], result["refused"]) == (60, 60, 0)
