"""The duplicate benchmark's generator and runner still work (tiny sizes; figures in docs)."""

from __future__ import annotations

from bench.dedup_data import COLUMNS, generate, true_pair_count
from bench.dedup_run import run_crmkit

from crmkit.normalize import email, phone


def test_generator_is_seeded_and_has_ground_truth() -> None:
    data = generate(3000, seed=3)
    assert set(data) == set(COLUMNS)
    assert all(len(col) == 3000 for col in data.values())
    assert data == generate(3000, seed=3)
    assert data != generate(3000, seed=4)
    assert {"person", "company"} == set(data["kind"])
    assert true_pair_count(data["entity"]) > 300
    assert len(set(data["id"])) == 3000


def test_generated_values_are_what_the_model_stores() -> None:
    data = generate(1500, seed=5)
    for raw, e164 in zip(data["phone_raw"], data["phone"], strict=True):
        if e164:
            assert phone(raw) == e164, raw
    for address in data["email"]:
        if address:
            assert email(address).lower() == address.lower()


def test_crmkit_run_reports_quality_and_cost() -> None:
    result = run_crmkit(generate(3000, seed=3))
    assert 0.9 < result["completeness"] <= 1
    assert 0.8 < result["precision"] <= 1
    assert 0.5 < result["recall"] <= 1
    assert result["wall_s"] > 0 and result["peak_mb"] > 0
