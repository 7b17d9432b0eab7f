"""Analytics rebuild: events per second `minsheng-analytics rebuild` folds from the first
offset of the domain topics, as a ratio to raw aiokafka consumption of the same topics in
the same run.

    .venv/bin/python bench/analytics_rebuild.py [--events 1000000] [--out PATH]

One run, loopback only, in a temporary folder: a private Kafka broker with the
platform's topics, written with a random, valid workload of about `--events` events
(appeal, project and notification stories from testkit/unit/workload.py, keyed by
aggregate id, six partitions each), a partition's records sent as whole batches.

1. raw ceiling: one aiokafka consumer assigned to every partition of the three topics
   reads them from the first offset to the end: records/s from the first record to the
   last (the same measure as bench/analytics_throughput.py).
2. rebuild: the rebuild's own read and fold (`read_until_end` into a `Replay`: parse and
   validate, sequence guard, apply, in this process), from its start to the last record
   folded; consumer start-up included. Every event must be folded, none rejected.

ratio = rebuild events/s / raw records/s. Targets: 1,000,000 events in under 30 s and a
ratio >= 0.25. Beside them, the CPU seconds of this process in each phase and the load
average after it (on a shared machine the wall-clock figures follow the load), and the
ratio of CPU seconds per record, raw / rebuild.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.main import TABLES
from analytics.rebuild import Replay, read_until_end
from bench.analytics_common import environment, private_broker
from bench.analytics_throughput import TOPICS, Message, measure_raw, messages
from bench.analytics_throughput import BenchConfig as WorkloadConfig
from bench.harness import Cli
from minsheng.kafka import KafkaAccess
from minsheng.partition_batches import send_keyed

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "analytics_rebuild.json"
TARGET_SECONDS_PER_MILLION, TARGET_RATIO = 30.0, 0.25


@dataclass(frozen=True)
class BenchConfig:
    events: int = 1_000_000  # about; the stories decide the exact count
    seed: int = 2024
    keep: bool = False


async def write(kafka: KafkaAccess, batch: list[Message]) -> float:
    """Writes `batch` to its topics, a partition's records as whole batches."""
    producer = kafka.producer(acks="all", max_batch_size=1 << 20)
    await producer.start()
    started = time.perf_counter()
    try:
        for topic in TOPICS:
            await send_keyed(producer, topic, [(k, v) for t, k, v in batch if t == topic])
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def measure_rebuild(kafka: KafkaAccess) -> dict[str, Any]:
    """The rebuild's read and fold of the domain topics, timed from its start."""
    replay = Replay({topic: fold for _, topic, _, fold, _ in TABLES})
    started, cpu = time.perf_counter(), time.process_time()
    events = await read_until_end(kafka, [topic for _, topic, _, _, _ in TABLES], replay.apply)
    seconds = time.perf_counter() - started
    return {
        "events": events,
        "rejected": replay.rejected,
        "states": sum(len(states) for states in replay.states.values()),
        "seconds": round(seconds, 3),
        "rate": round(events / seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "load_average": os.getloadavg()[0],
    }


async def measure_raw_cpu(kafka: KafkaAccess, total: int) -> dict[str, Any]:
    """`measure_raw`, with this process's CPU seconds and the load average after it."""
    cpu = time.process_time()
    raw = await measure_raw(kafka, total)
    return {
        **raw,
        "cpu_seconds": round(time.process_time() - cpu, 3),
        "load_average": os.getloadavg()[0],
    }


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    generating = time.perf_counter()
    batch = messages(WorkloadConfig(events=config.events, seed=config.seed))
    print(f"{len(batch)} events generated in {time.perf_counter() - generating:.1f} s", flush=True)
    async with private_broker(config.keep) as (broker, _):
        written = await write(broker.access(), batch)
        print(f"written in {written:.1f} s; raw consume ...", flush=True)
        raw = await measure_raw_cpu(broker.access(), len(batch))
        print("rebuild from the first offset ...", flush=True)
        rebuilt = await measure_rebuild(broker.access())
    if rebuilt["events"] != len(batch) or rebuilt["rejected"]:
        raise RuntimeError(f"the rebuild folded {rebuilt} of {len(batch)} valid events")
    ratio = rebuilt["rate"] / raw["rate"]
    per_million = 1_000_000 / rebuilt["rate"]
    # the same ratio in this process's CPU seconds per record: what a loaded machine's
    # other work takes from both runs does not count (the broker's CPU is not in either)
    cpu_ratio = (raw["cpu_seconds"] / raw["records"]) / (rebuilt["cpu_seconds"] / rebuilt["events"])
    return {
        "benchmark": "analytics_rebuild",
        "started_at": started_at.isoformat(),
        "config": asdict(config),
        "environment": environment(load_before),
        "events": len(batch),
        "write_seconds": round(written, 3),
        "raw": raw,
        "rebuild": rebuilt,
        "seconds_per_million": round(per_million, 2),
        "ratio": round(ratio, 4),
        "cpu_ratio": round(cpu_ratio, 4),
        "targets": {
            "seconds_per_million": TARGET_SECONDS_PER_MILLION,
            "ratio": TARGET_RATIO,
            "met": per_million < TARGET_SECONDS_PER_MILLION and ratio >= TARGET_RATIO,
        },
    }


def format_summary(result: dict[str, Any]) -> str:
    env, raw, rebuilt = result["environment"], result["raw"], result["rebuild"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    met = result["targets"]["met"]
    return "\n".join(
        [
            "",
            f"analytics rebuild: {result['events']} events on the domain topics, loopback; "
            f"{env['cpus']} CPUs, load average (1 min) {load}",
            f"  raw aiokafka consume        {raw['rate']:>10,.0f} records/s "
            f"({raw['records']} in {raw['seconds']} s, {raw['cpu_seconds']} s CPU; "
            f"load {raw['load_average']:.2f})",
            f"  rebuild (read + fold)       {rebuilt['rate']:>10,.0f} events/s "
            f"({rebuilt['events']} events in {rebuilt['seconds']} s, {rebuilt['cpu_seconds']} s "
            f"CPU, {rebuilt['states']} states; load {rebuilt['load_average']:.2f})",
            f"  seconds per million events  {result['seconds_per_million']:>10.1f}",
            f"  ratio rebuild / raw         {result['ratio']:>10.3f}",
            f"  the same in CPU per record  {result['cpu_ratio']:>10.3f}",
            f"  targets < 30 s per million and >= 0.25: {'met' if met else 'NOT met'}",
        ]
    )


def _invalid(args: argparse.Namespace) -> str | None:
    return "need --events >= 100" if args.events < 100 else None


OPTIONS = {"events": None, "seed": None}
CLI = Cli(__doc__, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(CLI.main())
