"""bench/analytics_state.py measures what it says: a correctness smoke test on a tiny
run, not a timed one."""

from __future__ import annotations

import pytest

from bench.analytics_state import BenchConfig, format_summary, run_benchmark


@pytest.mark.e2e
async def test_the_state_benchmark_counts_every_state_and_agrees_with_sql() -> None:
    result = await run_benchmark(BenchConfig(states=3000, sql_rows=3000, requests=20, queries=3))
    worker = result["worker"]
    assert sum(d["received"] for d in worker["by_district"].values()) == 3000
    assert result["same_figures"], (worker["by_district"], result["sql"]["by_district"])
    assert worker["rss_mb"] > 0
    assert worker["bulk_read_seconds"] is not None
    assert worker["resum_seconds"] is not None
    assert result["ratio_sql_to_counters_p50"] > 0
    assert "ratio SQL / counters" in format_summary(result)
