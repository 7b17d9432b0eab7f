"""bench/analytics_rebuild.py measures what it says: a correctness smoke test on a tiny
run, not a timed one; the rebuild in one process and in two, the raw reads beside."""

from __future__ import annotations

import pytest

from bench.analytics_rebuild_phases import BenchConfig, format_summary, run_benchmark


@pytest.mark.e2e
async def test_the_rebuild_benchmark_folds_every_event_and_reports_a_ratio() -> None:
    result = await run_benchmark(BenchConfig(events=600, jobs=2))
    assert result["jobs"] == 2
    assert result["raw"]["records"] == result["events"]
    assert result["raw_parallel"]["records"] == result["events"]
    assert result["raw_parallel"]["processes"] == 2
    for name in ("rebuild", "rebuild_parallel"):  # their states are equal, or it raises
        assert result[name]["events"] == result["events"]
        assert result[name]["rejected"] == 0
        assert result[name]["states"] > 0
        assert result[name]["cpu_seconds"] > 0
    assert result["rebuild"]["jobs"] == 1
    assert result["rebuild_parallel"]["jobs"] == 2
    assert result["rebuild_parallel"]["transfer_bytes"] > 0
    assert result["rebuild"]["transfer_bytes"] == 0
    assert len(result["rebuild_parallel"]["fold_seconds"]) == 2
    assert (
        set(result["ratios"])
        == set(result["cpu_ratios"])
        == {
            "rebuild_1/raw_1",
            "rebuild_1/raw_n",
            "rebuild_n/raw_1",
            "rebuild_n/raw_n",
        }
    )
    for name, (rebuilt, raw) in {
        "rebuild_1/raw_1": ("rebuild", "raw"),
        "rebuild_n/raw_n": ("rebuild_parallel", "raw_parallel"),
    }.items():  # at 600 events a ratio can round to a few ten-thousandths
        expected = result[rebuilt]["rate"] / result[raw]["rate"]
        assert result["ratios"][name] == pytest.approx(expected, abs=1e-4)
        assert 0 < expected < 10
    per_million = 1e6 / result["rebuild_parallel"]["rate"]
    assert result["seconds_per_million"] == pytest.approx(per_million, 0.01)
    assert result["raw"]["cpu_seconds"] > 0
    summary = format_summary(result)
    assert "ratio rebuild_2/raw_1" in summary
    assert "ratio rebuild_1/raw_2" in summary
    assert "raw aiokafka, 2 processes" in summary
    assert "load average" in summary
    met = "targets < 30 s per million and >= 0.25 of raw_1 (--jobs 2): met" in summary
    assert met is result["targets"]["met"]
