"""bench/analytics_throughput.py and bench/analytics_freshness.py measure what they say:
correctness smoke tests on tiny runs, not timed ones."""

from __future__ import annotations

import pytest

from bench.analytics_freshness import BenchConfig as FreshnessConfig
from bench.analytics_freshness import format_summary as freshness_summary
from bench.analytics_freshness import received
from bench.analytics_freshness import run_benchmark as freshness
from bench.analytics_throughput import BenchConfig as ThroughputConfig
from bench.analytics_throughput import format_summary as throughput_summary
from bench.analytics_throughput import messages
from bench.analytics_throughput import run_benchmark as throughput


def test_the_received_counter_is_summed_over_its_label_sets_only() -> None:
    text = "\n".join(
        [
            "# TYPE minsheng_appeals_received_total counter",
            'minsheng_appeals_received_total{channel="app",district="a",category="c"} 3.0',
            'minsheng_appeals_received_total{channel="web",district="b",category="c"} 4.0',
            'minsheng_appeals_received_created{channel="web",district="b",category="c"} 1.7e9',
            'minsheng_appeals_resolved_total{district="a",category="c",on_time="true"} 9.0',
        ]
    )
    assert received(text) == 7


def test_the_preload_is_about_the_size_asked_for_and_on_the_three_topics() -> None:
    batch = messages(ThroughputConfig(events=2000))
    assert 1000 < len(batch) < 3000
    assert {topic for topic, _, _ in batch} == {
        "minsheng.appeals.v1",
        "minsheng.projects.v1",
        "minsheng.notifications.v1",
    }


@pytest.mark.e2e
async def test_throughput_counts_every_preloaded_event_and_reports_a_ratio() -> None:
    result = await throughput(ThroughputConfig(events=600, poll_interval=0.05))
    assert result["raw"]["records"] == result["events"]
    assert result["analytics"]["events"] == result["events"]
    assert result["faust_ceiling"]["events"] == result["events"]
    assert result["analytics"]["rate"] > 0
    assert 0 < result["ratio"] < 10
    assert result["ratio_to_faust_ceiling"] > 0
    assert "ratio analytics / raw" in throughput_summary(result)
    assert "ratio analytics / Faust" in throughput_summary(result)


@pytest.mark.e2e
async def test_freshness_reports_a_latency_for_every_event() -> None:
    result = await freshness(FreshnessConfig(events=40, rate=40.0, warmup=3))
    ours = result["analytics"]["visible_after_ack_ms"]
    assert ours["count"] == 40
    assert 0 < ours["median"] <= ours["p99"] <= ours["max"]
    lower = result["analytics"]["visible_after_ack_lower_bound_ms"]
    assert 0 <= lower["median"] <= ours["median"]
    assert result["raw"]["received"] == 40
    assert "written (ack) -> on /metrics" in freshness_summary(result)
