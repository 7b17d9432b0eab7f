"""bench/analytics_rebuild.py measures what it says: a correctness smoke test on a tiny
run, not a timed one."""

from __future__ import annotations

import pytest

from bench.analytics_rebuild import BenchConfig, format_summary, run_benchmark


@pytest.mark.e2e
async def test_the_rebuild_benchmark_folds_every_event_and_reports_a_ratio() -> None:
    result = await run_benchmark(BenchConfig(events=600))
    assert result["raw"]["records"] == result["events"]
    assert result["rebuild"]["events"] == result["events"]
    assert result["rebuild"]["rejected"] == 0
    assert result["rebuild"]["states"] > 0
    assert 0 < result["ratio"] < 10
    assert result["seconds_per_million"] == pytest.approx(1e6 / result["rebuild"]["rate"], 0.01)
    assert result["rebuild"]["cpu_seconds"] > 0
    assert result["raw"]["cpu_seconds"] > 0
    assert 0 < result["cpu_ratio"] < 10
    summary = format_summary(result)
    assert "ratio rebuild / raw" in summary
    assert "load average" in summary
    assert ("targets < 30 s per million and >= 0.25: met" in summary) is result["targets"]["met"]
