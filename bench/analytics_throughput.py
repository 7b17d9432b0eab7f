"""Analytics throughput: events per second one analytics worker folds from pre-loaded
topics, as a ratio to raw aiokafka consumption of the same topics in the same run.

    .venv/bin/python bench/analytics_throughput.py [--events 100000] [--out PATH]

One run, loopback only, in a temporary folder: a private Kafka broker with the
platform's topics, pre-loaded with a random, valid workload of about `--events` events
(appeal, project and notification stories from testkit/unit/workload.py, each
on its own topic, keyed by aggregate id, six partitions each).

1. raw ceiling: one aiokafka consumer assigned to every partition of the three topics
   reads them from the first offset to the end: records/s from the first record to the
   last. Beside it, in this process, the CPU cost of parsing and validating the same
   values (the event catalogue), the floor of any validating consumer in Python.
2. analytics: one worker (`minsheng-analytics`, a real process, fresh consumer group and
   tables) starts on the loaded topics. /metrics is read every 100 ms; the rate is the
   events applied over the time from the last read that showed none to the first that
   showed all (start-up and partition assignment left out; at most one read interval of
   idle time counted in).

ratio = analytics events/s / raw records/s, and beside it Faust's own ceiling in the same
run: a worker of the same Faust settings whose agents take the same batches and only
count them (bench/faust_ceiling.py). Target: analytics keeps >= 80% of that ceiling (the
live path stays on Faust, so what can be won is our own work per event).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from aiokafka import TopicPartition

from analytics.app import PARTITIONS
from bench.analytics_common import environment, private_broker
from bench.cpu import tree_cpu
from bench.harness import Cli
from minsheng.events import CATALOGUE
from minsheng.kafka import KafkaAccess
from minsheng.platform.process import ManagedProcess
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS
from testkit.e2e.analytics import Workers, plumbing
from testkit.integration.helpers import free_port
from testkit.unit.workload import topic_of, workload

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "analytics_throughput.json"
CEILING_SCRIPT = Path(__file__).resolve().parent / "faust_ceiling.py"
TOPICS = (APPEALS, PROJECTS, NOTIFICATIONS)
TARGET_TO_FAUST = 0.80  # of the count-only ceiling measured in the same run
Message = tuple[str, bytes, bytes]  # topic, key, value


@dataclass(frozen=True)
class BenchConfig:
    events: int = 100_000  # about; the stories decide the exact count
    seed: int = 2024
    poll_interval: float = 0.1
    timeout: float = 600.0
    keep: bool = False


def messages(config: BenchConfig) -> list[Message]:
    """About `config.events` events: ~7 per appeal story, ~5 per project story."""
    appeals = max(1, config.events * 80 // 100 // 7)
    projects = max(1, config.events * 15 // 100 // 5)
    notifications = max(1, config.events * 5 // 100)
    w = workload(config.seed, appeals, projects, datetime.now(UTC), notifications)
    return [(topic_of(e), e.key, e.to_json()) for e in w.events]


async def preload(kafka: KafkaAccess, batch: list[Message]) -> float:
    producer = kafka.producer(acks="all", linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    started = time.perf_counter()
    try:
        for topic, key, value in batch:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def read_raw(
    kafka: KafkaAccess,
    partitions: list[TopicPartition],
    total: int,
    ready: Callable[[], object] | None = None,
) -> tuple[int, float, float]:
    """One consumer reads `total` records of `partitions` from the first offset (after
    `ready` returns, when given): the records, and the perf_counter of the first and of
    the last."""
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        if ready is not None:
            ready()
        count, first, last = 0, 0.0, 0.0
        while count < total:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                if records and not first:
                    first = time.perf_counter()
                count += len(records)
            last = time.perf_counter()
    finally:
        await consumer.stop()
    return count, first, last


async def measure_raw(kafka: KafkaAccess, total: int) -> dict[str, Any]:
    """Records/s of one consumer reading the three topics from the first offset."""
    partitions = [TopicPartition(t, p) for t in TOPICS for p in range(PARTITIONS)]
    count, first, last = await read_raw(kafka, partitions, total)
    return {
        "records": count,
        "seconds": round(last - first, 3),
        "rate": round(count / (last - first), 1),
    }


def measure_parse(batch: list[Message]) -> dict[str, Any]:
    """Events/s of the catalogue's parse and validation alone, in this process."""
    started = time.perf_counter()
    for _, _, value in batch:
        CATALOGUE.parse(value)
    seconds = time.perf_counter() - started
    return {
        "events": len(batch),
        "seconds": round(seconds, 3),
        "rate": round(len(batch) / seconds, 1),
    }


async def measure_analytics(
    kafka: KafkaAccess, folder: Path, total: int, config: BenchConfig
) -> dict[str, Any]:
    """One worker from the first offset; the rate from /metrics reads (see the docstring)."""
    worker = Workers(kafka, folder).new()

    async def done() -> int:
        counts = await plumbing(worker.url)
        return counts["minsheng_events_processed_total"] + counts["minsheng_events_duplicate_total"]

    return await measure_process("analytics", worker.process, done, total, config)


async def measure_ceiling(
    kafka: KafkaAccess, folder: Path, total: int, config: BenchConfig
) -> dict[str, Any]:
    """Faust's own ceiling (bench/faust_ceiling.py), on the same topics, as a process."""
    port = free_port()
    process = ManagedProcess(
        "faust-ceiling",
        [sys.executable, str(CEILING_SCRIPT)],
        env={
            **kafka.env(),
            "MINSHENG_HTTP_PORT": str(port),
            "MINSHENG_ANALYTICS_APP_ID": "bench-faust-ceiling",
            "MINSHENG_DATA_DIR": str(folder / "ceiling"),
        },
        log_file=folder / "faust-ceiling.log",
    )

    async def done() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            taken: int = (await client.get(f"http://127.0.0.1:{port}/count")).json()["events"]
        return taken

    return await measure_process("faust ceiling", process, done, total, config)


async def measure_process(
    label: str,
    process: ManagedProcess,
    done: Callable[[], Awaitable[int]],
    total: int,
    config: BenchConfig,
) -> dict[str, Any]:
    """Starts `process` and reads `done()` every poll interval until it reaches `total`."""
    launched = time.perf_counter()
    await process.start()
    reads: list[tuple[float, int, float]] = []  # when, events done, process CPU seconds
    try:
        deadline = launched + config.timeout
        while not reads or reads[-1][1] < total:
            if time.perf_counter() > deadline:
                raise TimeoutError(
                    f"{label}: {reads[-1][1] if reads else 0} of {total} after {config.timeout} s"
                )
            if not process.running:
                raise RuntimeError(f"{label} exited")
            with contextlib.suppress(httpx.HTTPError):
                count = await done()
                cpu = tree_cpu({"worker": process.pid})["worker"]
                reads.append((time.perf_counter(), count, cpu))
                print(f"\r  {label} {count:>8}/{total}", end="", flush=True)
            await asyncio.sleep(config.poll_interval)  # the read interval, not a synchronisation
        print(flush=True)
    finally:
        await process.stop()
    # from the last read that showed none (the reads before are start-up) to the end
    first = max(next(i for i, (_, count, _) in enumerate(reads) if count > 0) - 1, 0)
    (t0, c0, cpu0), (t1, c1, cpu1) = reads[first], reads[-1]
    return {
        "worker_cpu_seconds": round(cpu1 - cpu0, 3),
        "worker_cpu_utilisation": round((cpu1 - cpu0) / (t1 - t0), 3) if t1 > t0 else None,
        "worker_cpu_ms_per_event": round(1000 * (cpu1 - cpu0) / max(c1 - c0, 1), 4),
        "events": c1,
        "measured_events": c1 - c0,
        "seconds": round(t1 - t0, 3),
        "rate": round((c1 - c0) / (t1 - t0), 1) if t1 > t0 else None,
        "launch_to_all_seconds": round(t1 - launched, 3),
        "reads": len(reads),
    }


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    batch = messages(config)
    print(f"{len(batch)} events generated", flush=True)
    async with private_broker(config.keep) as (broker, folder):
        loaded = await preload(broker.access(), batch)
        print(f"pre-loaded in {loaded:.1f} s; raw consume ...", flush=True)
        raw = await measure_raw(broker.access(), len(batch))
        parse = measure_parse(batch)
        print("Faust's ceiling: agents that only count, from the first offset ...", flush=True)
        ceiling = await measure_ceiling(broker.access(), folder, len(batch), config)
        print("analytics worker from the first offset ...", flush=True)
        analytics = await measure_analytics(broker.access(), folder, len(batch), config)
    rate = analytics["rate"] or 0.0
    return {
        "benchmark": "analytics_throughput",
        "started_at": started_at.isoformat(),
        "config": asdict(config),
        "environment": environment(load_before),
        "events": len(batch),
        "preload_seconds": round(loaded, 3),
        "raw": raw,
        "parse_only": parse,
        "faust_ceiling": ceiling,
        "analytics": analytics,
        "ratio": round(rate / raw["rate"], 4),
        "ratio_to_faust_ceiling": round(rate / (ceiling["rate"] or 1.0), 4),
        "targets": {
            "ratio_to_faust_ceiling": TARGET_TO_FAUST,
            "met": rate / (ceiling["rate"] or 1.0) >= TARGET_TO_FAUST,
        },
    }


def format_summary(result: dict[str, Any]) -> str:
    env, raw, parse = result["environment"], result["raw"], result["parse_only"]
    a, targets, ceiling = result["analytics"], result["targets"], result["faust_ceiling"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    return "\n".join(
        [
            "",
            f"analytics throughput: {result['events']} pre-loaded events, loopback; "
            f"{env['cpus']} CPUs, load average (1 min) {load}",
            f"  raw aiokafka consume        {raw['rate']:>10,.0f} events/s",
            f"  parse + validate only       {parse['rate']:>10,.0f} events/s (in-process)",
            f"  Faust agents that only count{ceiling['rate'] or 0:>10,.0f} events/s "
            f"(worker CPU {ceiling['worker_cpu_ms_per_event']:.3f} ms/event)",
            f"  analytics worker            {a['rate'] or 0:>10,.0f} events/s "
            f"({a['measured_events']} events in {a['seconds']} s; worker CPU "
            f"{a['worker_cpu_ms_per_event']:.3f} ms/event, "
            f"{a['worker_cpu_utilisation']:.0%} of a core)",
            f"  ratio analytics / raw       {result['ratio']:>10.3f}",
            f"  ratio analytics / Faust     {result['ratio_to_faust_ceiling']:>10.3f}",
            f"  target analytics / Faust >= {TARGET_TO_FAUST:.2f}: "
            f"{'met' if targets['met'] else 'NOT met'}",
        ]
    )


def _invalid(args: argparse.Namespace) -> str | None:
    return "need --events >= 100" if args.events < 100 else None


OPTIONS = {"events": None, "seed": None, "poll_interval": None, "timeout": None}
CLI = Cli(__doc__, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(CLI.main())
