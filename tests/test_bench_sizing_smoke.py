"""bench/sizing_inputs.py measures what it says: a correctness smoke test on a tiny run,
not a timed one."""

from __future__ import annotations

import pytest

from bench.sizing_inputs import BenchConfig, format_summary, run_benchmark


@pytest.mark.e2e
async def test_the_sizing_inputs_add_up() -> None:
    result = await run_benchmark(BenchConfig(duration=1.0, concurrency=4, warmup=5, events=600))
    intake, pg = result["intake"], result["postgres"]
    assert intake["accepted"] > 0
    assert result["ratio"] == pytest.approx(
        intake["appeals_per_s"] / result["raw"]["rows_per_s"], abs=1e-3
    )
    # every appeal the run posted (warm-up included) is a row; its events are in the
    # outbox and the history, and the relay published each of them to the appeals topic
    tables = pg["tables"]
    assert pg["appeals"] == tables["appeals"]["rows"] == intake["accepted"] + 5
    assert tables["outbox"]["rows"] == tables["appeal_events"]["rows"] >= 2 * pg["appeals"]
    assert result["kafka_relayed"]["records"] == tables["outbox"]["rows"]
    total = sum(t["bytes"] for t in tables.values())
    assert pg["bytes_per_appeal"] == pytest.approx(total / pg["appeals"], rel=1e-3)
    assert pg["bytes_per_row"]["outbox"] == pytest.approx(
        tables["outbox"]["bytes"] / tables["outbox"]["rows"], rel=1e-3
    )
    # a record on disk holds at least its value, and not many times it
    relayed = result["kafka_relayed"]
    assert relayed["bytes_per_record"] == pytest.approx(relayed["bytes"] / relayed["records"], 0.01)
    work = result["workload"]
    assert sum(work["per_topic"].values()) == work["events"]
    assert work["events_per_appeal"] == pytest.approx(work["events"] / work["appeal_stories"], 1e-3)
    assert work["events_per_appeal"] > work["appeal_events_per_appeal"] >= 1
    assert work["value_bytes_mean"] < work["log_bytes_per_event"] < 3 * work["value_bytes_mean"]
    # the fold holds one state per aggregate: each appeal posted, each story written
    states = result["analytics_states"]
    assert states["rejected"] == 0
    assert states["events"] == relayed["records"] + work["events"]
    assert states["per_topic"]["minsheng.appeals.v1"] == pg["appeals"] + work["appeal_stories"]
    assert states["memory_bytes_per_state"] > 0
    assert states["json_bytes_per_state"] > 0
    assert "ratio intake / raw" in format_summary(result)
