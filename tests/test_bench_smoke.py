"""bench/skeleton_latency.py measures what it says: a correctness smoke test, not a timed one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from bench import notifications_delivery as notifications_bench
from bench.skeleton_latency import (
    BenchConfig,
    Poll,
    format_summary,
    run_benchmark,
    run_cli,
    visibility_latencies,
    write_result,
)

FIGURES = {"count", "min", "median", "p90", "p99", "max", "mean"}


def test_visibility_is_the_first_poll_sent_after_the_201_that_counts_that_many() -> None:
    polls = [Poll(0.0, 0.1, 5), Poll(1.0, 1.1, 6), Poll(2.0, 2.1, 6), Poll(3.0, 3.1, 8)]
    # baseline 5: the 1st ack needs 6, the 2nd and 3rd need 7 and 8
    latencies, bounds = visibility_latencies([1.5, 0.5, 2.5], polls, baseline=5)
    # 0.5 -> poll 1 (count 6); 1.5 -> poll 3 (count 8, the first >= 7); 2.5 -> poll 3
    assert latencies == pytest.approx([0.6, 1.6, 0.6])
    assert bounds == pytest.approx([0.6, 1.1, 0.6])  # R_j - max(A_k, S_{j-1})
    # a poll sent before the 201 does not count, even if it already shows the appeal
    assert visibility_latencies([0.05], polls, baseline=4)[0] == pytest.approx([1.05])
    with pytest.raises(ValueError, match="never visible"):
        visibility_latencies([0.5, 0.6, 0.7, 0.8], polls, baseline=5)


@pytest.mark.e2e
async def test_the_benchmark_reports_every_figure_for_every_appeal(tmp_path: Path) -> None:
    result = await run_benchmark(BenchConfig(appeals=20, rate=20.0, warmup=3))

    assert {"benchmark", "started_at", "config", "environment", "raw", "skeleton", "ratio"} <= set(
        result
    )
    raw, skeleton = result["raw"], result["skeleton"]
    assert raw["sent"] == raw["received"] == 20
    assert skeleton["posted"] == skeleton["accepted"] == skeleton["counted"] == 20
    assert skeleton["refused"] == {}
    measured = [raw["latency_ms"], skeleton["visible_after_201_ms"], skeleton["http_201_ms"]]
    lower = skeleton["visible_after_201_lower_bound_ms"]
    for figures in [*measured, lower]:
        assert set(figures) == FIGURES
        assert figures["count"] == 20
        assert figures["min"] <= figures["median"] <= figures["p99"] <= figures["max"]
    assert all(figures["min"] > 0 for figures in measured)
    upper = skeleton["visible_after_201_ms"]
    assert all(0 <= lower[f] <= upper[f] for f in FIGURES - {"count"})
    samples = [raw["samples_ms"], *skeleton["samples_ms"].values()]
    assert all(len(s) == 20 and all(v > 0 for v in s) for s in samples)
    poll = skeleton["poll"]
    assert poll["polls"] > 0
    assert {"interval_ms", "round_trip_ms", "overshoot_bound_ms"} <= set(poll)
    assert result["ratio"]["p50"] > 0
    assert result["ratio"]["p99"] > 0
    assert result["environment"]["postgres"]["fsync"] == "on"

    out = tmp_path / "results" / "skeleton_latency.json"
    write_result(result, out)
    assert json.loads(out.read_text()) == result
    assert "ratio skeleton / raw" in format_summary(result)


def test_sigterm_stops_a_benchmark_as_ctrl_c_does(tmp_path: Path) -> None:
    """Its cleanup runs (the brokers and workers it started are children that would
    outlive it), it writes no result, and says it was interrupted (exit status 130)."""
    cleaned: list[str] = []

    async def bench(config: None) -> dict[str, Any]:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.Event().wait()  # until the signal stops it
            return {}
        finally:
            cleaned.append("stopped what it started")

    out = tmp_path / "result.json"
    assert run_cli(None, out, bench, str) == 130
    assert cleaned == ["stopped what it started"]
    assert not out.exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.e2e
async def test_the_notifications_benchmark_delivers_every_event_once() -> None:
    """A short run of bench/notifications_delivery.py: every figure, every event."""
    config = notifications_bench.BenchConfig(
        events=20, duration=1.0, concurrency=2, rate=20.0, warmup=3
    )
    result = await notifications_bench.run_benchmark(config)

    raw, deliveries, latency = result["raw"], result["deliveries"], result["latency"]
    assert raw["accepted"] > 0
    assert raw["refused"] == {}
    assert deliveries["delivered"] == deliveries["events"] == 20
    assert deliveries["delivered_twice"] == 0
    assert deliveries["deliveries_per_s"] > 0
    figures = latency["received_ms"]
    assert set(figures) == FIGURES
    assert figures["count"] == latency["events"] == 20
    assert 0 < figures["min"] <= figures["median"] <= figures["p99"] <= figures["max"]
    assert result["ratio"] == pytest.approx(
        deliveries["deliveries_per_s"] / raw["posts_per_s"], abs=1e-3
    )
    assert result["p99_met"] == (figures["p99"] < 500)
    assert "ratio deliveries / raw" in notifications_bench.format_summary(result)
