"""The phases of bench/analytics_rebuild.py (see its docstring): the workload, the raw
reads, the rebuilds, the summary. Apart from the script, which imports this only when
run, because `spawn` imports the main script again in every process the rebuild and the
raw reads start, and they should import what the rebuild's own processes import.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from analytics.fold_processes import CONTEXT, default_jobs, fold, split
from analytics.replay import Spans, spans_of
from analytics.tables import TABLES
from bench.analytics_common import environment, private_broker
from bench.analytics_throughput import TOPICS, Message, measure_raw, messages, read_raw
from bench.analytics_throughput import BenchConfig as WorkloadConfig
from bench.harness import Cli
from minsheng.kafka import KafkaAccess
from minsheng.partition_batches import send_keyed

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "analytics_rebuild.json"
TARGET_SECONDS_PER_MILLION, TARGET_RATIO = 30.0, 0.25


@dataclass(frozen=True)
class BenchConfig:
    events: int = 1_000_000  # about; the stories decide the exact count
    jobs: int = 0  # processes of the parallel rebuild; 0: the rebuild's default
    seed: int = 2024
    keep: bool = False


REBUILT = [topic for _, topic, _, _, _ in TABLES]


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


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


async def measure_rebuild(kafka: KafkaAccess, jobs: int) -> tuple[dict[str, Any], Any]:
    """The rebuild's fold of the domain topics in `jobs` processes, timed from its start;
    with the states it folded (to compare the folds)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    folded = await fold(kafka, await spans_of(kafka, REBUILT), jobs)
    seconds = time.perf_counter() - started
    replay, transfers = folded.replay, folded.transfers
    return {
        "jobs": jobs,
        "events": folded.events,
        "rejected": replay.rejected,
        "states": sum(len(states) for states in replay.states.values()),
        "seconds": round(seconds, 3),
        "rate": round(folded.events / seconds, 1),
        "cpu_seconds": round(cpu_seconds() - cpu, 3),
        "load_average": os.getloadavg()[0],
        # encode, pipe, decode and merge of each process's states, from its fold's end
        "transfer_bytes": sum(t.bytes for t in transfers),
        "transfer_seconds": round(max((t.seconds for t in transfers), default=0.0), 3),
        # each process: from the fold's start to its own (spawn, imports), its read and fold
        "start_seconds": [round(t.start_seconds, 3) for t in transfers],
        "fold_seconds": [round(t.fold_seconds, 3) for t in transfers],
    }, (replay.states, replay.last)


async def measure_raw_cpu(kafka: KafkaAccess, total: int) -> dict[str, Any]:
    """`measure_raw`, with this process's CPU seconds and the load average after it."""
    cpu = cpu_seconds()
    raw = await measure_raw(kafka, total)
    return {
        **raw,
        "cpu_seconds": round(cpu_seconds() - cpu, 3),
        "load_average": os.getloadavg()[0],
    }


def _raw_share(
    kafka: KafkaAccess, share: list[TopicPartition], total: int, go: Barrier, out: Any
) -> None:
    """A raw reader process: its share of the partitions, from when all are assigned."""
    out.put(asyncio.run(read_raw(kafka, share, total, go.wait)))


async def measure_raw_processes(kafka: KafkaAccess, jobs: int) -> dict[str, Any]:
    """Records/s of `jobs` processes reading side by side, the partitions split as the
    rebuild splits them: all records over the first record's time to the last's."""
    shares: list[Spans] = [share for share in split(await spans_of(kafka, REBUILT), jobs) if share]
    go, out = CONTEXT.Barrier(len(shares) + 1), CONTEXT.SimpleQueue()
    cpu = cpu_seconds()
    processes = [
        CONTEXT.Process(
            target=_raw_share,
            args=(kafka, list(share), sum(end - start for start, end in share.values()), go, out),
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    try:
        await asyncio.to_thread(go.wait, 120)  # every consumer started and assigned
        read = [await asyncio.to_thread(out.get) for _ in processes]
    finally:
        for process in processes:
            process.join(60)
    count = sum(records for records, _, _ in read)
    seconds = max(last for _, _, last in read) - min(first for _, first, _ in read)
    return {
        "processes": len(processes),
        "records": count,
        "seconds": round(seconds, 3),
        "rate": round(count / seconds, 1),
        "cpu_seconds": round(cpu_seconds() - cpu, 3),
        "load_average": os.getloadavg()[0],
    }


RATIOS = {  # name -> rebuild, raw
    "rebuild_1/raw_1": ("rebuild", "raw"),
    "rebuild_1/raw_n": ("rebuild", "raw_parallel"),
    "rebuild_n/raw_1": ("rebuild_parallel", "raw"),
    "rebuild_n/raw_n": ("rebuild_parallel", "raw_parallel"),
}


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    generating = time.perf_counter()
    batch = messages(WorkloadConfig(events=config.events, seed=config.seed))
    print(f"{len(batch)} events generated in {time.perf_counter() - generating:.1f} s", flush=True)
    async with private_broker(config.keep) as (broker, _):
        kafka = broker.access()
        written = await write(kafka, batch)
        jobs = config.jobs or default_jobs(await spans_of(kafka, REBUILT))
        print(f"written in {written:.1f} s; raw consume, 1 and {jobs} processes ...", flush=True)
        phases = {"raw": await measure_raw_cpu(kafka, len(batch))}
        phases["raw_parallel"] = await measure_raw_processes(kafka, jobs)
        print(f"rebuild from the first offset, --jobs 1 and --jobs {jobs} ...", flush=True)
        phases["rebuild"], alone = await measure_rebuild(kafka, 1)
        phases["rebuild_parallel"], side_by_side = await measure_rebuild(kafka, jobs)
    for name in ("rebuild", "rebuild_parallel"):
        if phases[name]["events"] != len(batch) or phases[name]["rejected"]:
            raise RuntimeError(f"the rebuild folded {phases[name]} of {len(batch)} valid events")
    if alone != side_by_side:
        raise RuntimeError(f"the rebuild in {jobs} processes folded other states than in one")
    ratios = {
        name: round(phases[rebuilt]["rate"] / phases[raw]["rate"], 4)
        for name, (rebuilt, raw) in RATIOS.items()
    }
    # the same ratios in CPU seconds per record (this process and its children): what a
    # loaded machine's other work takes from the runs does not count (nor the broker's)
    cpu_ratios = {
        name: round(
            (phases[raw]["cpu_seconds"] / phases[raw]["records"])
            / (phases[rebuilt]["cpu_seconds"] / phases[rebuilt]["events"]),
            4,
        )
        for name, (rebuilt, raw) in RATIOS.items()
    }
    per_million = 1_000_000 / phases["rebuild_parallel"]["rate"]
    return {
        "benchmark": "analytics_rebuild",
        "started_at": started_at.isoformat(),
        "config": asdict(config),
        "environment": environment(load_before),
        "events": len(batch),
        "jobs": jobs,
        "write_seconds": round(written, 3),
        **phases,
        "seconds_per_million": round(per_million, 2),
        "seconds_per_million_1": round(1_000_000 / phases["rebuild"]["rate"], 2),
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "targets": {
            "seconds_per_million": TARGET_SECONDS_PER_MILLION,
            "ratio": TARGET_RATIO,
            "met": per_million < TARGET_SECONDS_PER_MILLION
            and ratios["rebuild_n/raw_1"] >= TARGET_RATIO,
        },
    }


def format_summary(result: dict[str, Any]) -> str:
    env, n = result["environment"], result["jobs"]
    raw, raw_n = result["raw"], result["raw_parallel"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    lines = [
        "",
        f"analytics rebuild: {result['events']} events on the domain topics, loopback; "
        f"{env['cpus']} CPUs, load average (1 min) {load}",
        f"  raw aiokafka, 1 consumer    {raw['rate']:>10,.0f} records/s "
        f"({raw['records']} in {raw['seconds']} s, {raw['cpu_seconds']} s CPU; "
        f"load {raw['load_average']:.2f})",
        f"  raw aiokafka, {n} processes  {raw_n['rate']:>10,.0f} records/s "
        f"({raw_n['records']} in {raw_n['seconds']} s, {raw_n['cpu_seconds']} s CPU; "
        f"load {raw_n['load_average']:.2f})",
    ]
    for name, jobs in (("rebuild", 1), ("rebuild_parallel", n)):
        r = result[name]
        lines.append(
            f"  rebuild --jobs {jobs:<12} {r['rate']:>10,.0f} events/s "
            f"({r['events']} events in {r['seconds']} s, {r['cpu_seconds']} s CPU, "
            f"{r['states']} states; load {r['load_average']:.2f})"
        )
    transfer = result["rebuild_parallel"]
    lines += [
        f"  its {n} processes started after {transfer['start_seconds']} s, folded in "
        f"{transfer['fold_seconds']} s; states back: "
        f"{transfer['transfer_bytes'] / 1e6:,.1f} MB in {transfer['transfer_seconds']} s at most",
        f"  seconds per million events  {result['seconds_per_million_1']:>10.1f} (--jobs 1), "
        f"{result['seconds_per_million']:.1f} (--jobs {n})",
    ]
    for name, ratio in result["ratios"].items():
        shown, cpu = name.replace("_n", f"_{n}"), result["cpu_ratios"][name]
        lines.append(f"  ratio {shown:<21} {ratio:>10.3f}  (CPU per record: {cpu:.3f})")
    met = result["targets"]["met"]
    lines.append(
        f"  targets < 30 s per million and >= 0.25 of raw_1 (--jobs {n}): "
        f"{'met' if met else 'NOT met'}"
    )
    return "\n".join(lines)


def _invalid(args: argparse.Namespace) -> str | None:
    return "need --events >= 100" if args.events < 100 else None


OPTIONS = {
    "events": None,
    "jobs": "processes of the parallel rebuild (0: one per CPU, at most one per partition)",
    "seed": None,
}


def cli(doc: str | None) -> Cli[BenchConfig]:
    """The benchmark's command line, with the script's docstring as its help."""
    return Cli(doc, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)
