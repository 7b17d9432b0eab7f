"""Analytics freshness: how long after an event is written to Kafka it shows on /metrics,
at a steady 500 events/s, beside the raw Kafka produce -> consume latency of the same run.

    .venv/bin/python bench/analytics_freshness.py [--events 10000] [--rate 500] [--out PATH]

One run, loopback only, in a temporary folder: a private Kafka broker with the
platform's topics and one analytics worker (a real process). After a warm-up:

1. raw ceiling: `kafka_ceiling` of bench/ceilings.py (aiokafka produce, acks=all,
   idempotent -> a consumer on every partition of a scratch topic), same count and rate.
2. analytics: `--events` AppealReceived events of new appeals, produced on an open-loop
   schedule at `--rate` (event i is sent at t0 + i/rate whatever happened before), each
   written when the broker acknowledges it (acks=all). One poller reads /metrics back to
   back (at most every `--poll-interval`) and sums minsheng_appeals_received_total. The
   latency of the k-th acknowledged event is the answer time of the first poll sent after
   that acknowledgement that shows at least k more appeals than before the run: the
   estimator of bench/skeleton_latency.py (`visibility_latencies`), an upper bound by
   less than one poll cycle, whose lower bound is reported too.

Target: p99 < 250 ms at 2,000 events/s (`--rate 2000 --events 20000`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.analytics_common import environment, private_broker
from bench.ceilings import kafka_ceiling
from bench.figures import Poll, ms, open_loop, summarize, visibility_latencies
from bench.harness import Cli
from minsheng.events import AppealReceived, new_event
from minsheng.kafka import KafkaAccess
from minsheng.topics import APPEALS, OWNERS
from testkit.e2e.analytics import Workers
from testkit.integration.helpers import eventually

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "analytics_freshness.json"
RECEIVED = "minsheng_appeals_received_total{"
TARGET_P99_MS = 250  # freshness at 2,000 events/s


@dataclass(frozen=True)
class BenchConfig:
    events: int = 10_000
    rate: float = 500.0
    warmup: int = 20
    poll_interval: float = 0.005
    drain_timeout: float = 120.0
    keep: bool = False


def received(metrics_text: str) -> int:
    """The sum of minsheng_appeals_received_total over its label sets (cheap to parse)."""
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in metrics_text.splitlines()
        if line.startswith(RECEIVED)
    )


def appeal(i: int, run: str) -> tuple[bytes, bytes]:
    now = datetime.now(UTC)
    data = AppealReceived(
        appeal_id=f"F{run}-{i}",
        title="路灯不亮",
        category="complaint",
        district="洮北区",
        channel="hotline",
        received_at=now,
    )
    event = new_event(data, subject=data.appeal_id, sequence=1, source=OWNERS[APPEALS], time=now)
    return event.key, event.to_json()


class MetricsPoller:
    """Reads /metrics one request at a time, at most every `interval` seconds."""

    def __init__(self, client: httpx.AsyncClient, interval: float) -> None:
        self.client, self.interval = client, interval
        self.polls: list[Poll] = []

    async def count(self) -> int:
        return received((await self.client.get("/metrics")).text)

    async def run(self) -> None:
        while True:
            sent = time.perf_counter()
            count = await self.count()
            self.polls.append(Poll(sent, time.perf_counter(), count))
            await asyncio.sleep(max(0.0, sent + self.interval - time.perf_counter()))  # pacing


async def measure_analytics(kafka: KafkaAccess, url: str, config: BenchConfig) -> dict[str, Any]:
    producer = kafka.producer(acks="all", enable_idempotence=True, linger_ms=0)
    await producer.start()
    acks: dict[int, float] = {}

    async def send(i: int, run: str) -> None:
        key, value = appeal(i, run)
        await (await producer.send(APPEALS, value, key=key))
        acks[i] = time.perf_counter()

    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        poller = MetricsPoller(client, config.poll_interval)
        try:
            for i in range(config.warmup):
                await send(i, "warm")
            await eventually(poller.count, lambda c: c >= config.warmup, what="warm-up counted")
            baseline = await poller.count()
            acks.clear()
            polling = asyncio.create_task(poller.run())
            try:
                pacing = await open_loop(config.events, config.rate, lambda i: send(i, "run"))
                await eventually(
                    lambda: asyncio.sleep(0, poller.polls[-1].count if poller.polls else 0),
                    lambda c: c >= baseline + config.events,
                    timeout=config.drain_timeout,
                    what="every event visible",
                )
            finally:
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
        finally:
            await producer.stop()
    latencies, bounds = visibility_latencies(list(acks.values()), poller.polls, baseline)
    lower = [latency - bound for latency, bound in zip(latencies, bounds, strict=True)]
    cycle = [b.sent - a.sent for a, b in itertools.pairwise(poller.polls)]
    return {
        "events": config.events,
        "pacing": asdict(pacing),
        "visible_after_ack_ms": summarize(ms(latencies)),
        "visible_after_ack_lower_bound_ms": summarize(ms(lower)),
        "polls": len(poller.polls),
        "poll_cycle_ms": summarize(ms(cycle)),
        "samples_ms": ms(latencies),
    }


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    async with private_broker(config.keep) as (broker, folder):
        print(f"raw ceiling: {config.events} messages at {config.rate:g}/s", flush=True)
        raw = await kafka_ceiling(
            broker.access(),
            messages=config.events,
            rate=config.rate,
            warmup=config.warmup,
            drain_timeout=config.drain_timeout,
        )
        worker = await Workers(broker.access(), folder).start()
        try:
            print(f"analytics: {config.events} events at {config.rate:g}/s", flush=True)
            analytics = await measure_analytics(broker.access(), worker.url, config)
        finally:
            await worker.stop()
    raw_ms, ours = raw["latency_ms"], analytics["visible_after_ack_ms"]
    return {
        "benchmark": "analytics_freshness",
        "started_at": started_at.isoformat(),
        "config": asdict(config),
        "environment": environment(load_before),
        "raw": {k: v for k, v in raw.items() if k != "samples_ms"},
        "analytics": analytics,
        "ratio": {
            "p50": round(ours["median"] / raw_ms["median"], 2),
            "p99": round(ours["p99"] / raw_ms["p99"], 2),
        },
        "target_p99_ms": TARGET_P99_MS,
        "met": ours["p99"] < TARGET_P99_MS,
    }


def format_summary(result: dict[str, Any]) -> str:
    env, raw, a, ratio = result["environment"], result["raw"], result["analytics"], result["ratio"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    columns = ("median", "p90", "p99", "max")

    def row(label: str, figures: dict[str, float]) -> str:
        return f"{label:<36}{figures['count']:>6}" + "".join(f"{figures[c]:>9.2f}" for c in columns)

    return "\n".join(
        [
            "",
            f"analytics freshness: {a['events']} events at {result['config']['rate']:g}/s, "
            f"open loop, loopback; {env['cpus']} CPUs, load average (1 min) {load}",
            f"{'(milliseconds)':<36}{'n':>6}" + "".join(f"{c:>9}" for c in columns),
            row("raw Kafka produce -> consume", raw["latency_ms"]),
            row("written (ack) -> on /metrics", a["visible_after_ack_ms"]),
            row("  lower bound (poll quantisation)", a["visible_after_ack_lower_bound_ms"]),
            f"ratio analytics / raw: p50 {ratio['p50']}x, p99 {ratio['p99']}x",
            f"offered rate {a['pacing']['offered_rate']:g}/s; {a['polls']} polls, cycle median "
            f"{a['poll_cycle_ms']['median']:.2f} ms",
            f"target p99 < {TARGET_P99_MS} ms (at 2,000 events/s): "
            f"{'met' if result['met'] else 'NOT met'}",
        ]
    )


def _invalid(args: argparse.Namespace) -> str | None:
    if args.events < 2 or args.rate <= 0 or args.warmup < 1:
        return "need --events >= 2, --rate > 0, --warmup >= 1"
    return None


OPTIONS = {
    "events": None,
    "rate": "per second",
    "warmup": None,
    "poll_interval": None,
    "drain_timeout": None,
}
CLI = Cli(__doc__, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(CLI.main())
