"""The sync benchmark still runs (on a small size; the figures live in docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

from bench.m365_sync import run


def test_the_sync_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    result = run(60, tmp_path)
    assert result["remote_contacts"] == 60
    assert result["first"]["created_remote"] == 60 and result["first"]["batches"] == 3
    assert result["nothing"].get("updated_remote", 0) == 0
    assert result["throttled"]["retries"] >= 1
    assert result["throttled"]["updated_remote"] == 1
