"""bench/appeals_intake.py measures what it says: a correctness smoke test, not a timed one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.appeals_intake import BenchConfig, format_summary, run_benchmark
from bench.harness import write_result

FIGURES = {"count", "min", "median", "p90", "p99", "max", "mean"}


@pytest.mark.e2e
async def test_the_intake_benchmark_reports_consistent_counts(tmp_path: Path) -> None:
    config = BenchConfig(duration=1.0, concurrency=4, rate=20.0, workers=1, warmup=5)
    result = await run_benchmark(config)

    assert {
        "benchmark",
        "started_at",
        "config",
        "environment",
        "raw",
        "intake",
        "latency",
        "ratio",
        "target_appeals_per_s",
        "target_met",
    } <= set(result)
    raw, intake, latency = result["raw"], result["intake"], result["latency"]
    assert raw["rows"] > 0
    assert raw["rows_per_s"] == pytest.approx(raw["rows"] / raw["seconds"], rel=0.01)
    assert set(raw["insert_ms"]) == FIGURES
    assert raw["insert_ms"]["count"] == raw["rows"]

    assert intake["accepted"] > 0
    assert intake["refused"] == {}
    assert intake["posted"] == intake["accepted"] == intake["appeals_stored"]
    assert intake["events_written"] >= intake["accepted"]  # received (+ dispatched) each
    assert intake["appeals_per_s"] == pytest.approx(
        intake["accepted"] / intake["seconds"], rel=0.01
    )
    assert intake["drain_s"] >= 0
    assert intake["unpublished_at_end"] >= 0
    assert set(intake["http_201_ms"]) == FIGURES
    assert intake["http_201_ms"]["count"] == intake["accepted"]

    assert latency["posted"] == latency["accepted"] == 20
    assert latency["refused"] == {}
    assert set(latency["http_201_ms"]) == FIGURES
    figures = latency["http_201_ms"]
    assert 0 < figures["min"] <= figures["median"] <= figures["p99"] <= figures["max"]

    assert result["ratio"] == pytest.approx(intake["appeals_per_s"] / raw["rows_per_s"], abs=1e-3)
    assert result["target_appeals_per_s"] == 1000
    assert result["target_met"] == (intake["appeals_per_s"] >= 1000)
    assert result["environment"]["postgres"]["fsync"] == "on"

    out = tmp_path / "results" / "appeals_intake.json"
    write_result(result, out)
    assert json.loads(out.read_text()) == result
    assert "ratio intake / raw" in format_summary(result)
