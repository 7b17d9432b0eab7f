"""The measured inputs of the sizing guide (docs/operations/sizing.md): what one appeal
costs in events, in Kafka's log on disk and in PostgreSQL, and what one appeals instance
takes per second, as a ratio to raw single-row INSERTs on the same server in the same run.

    .venv/bin/python bench/sizing_inputs.py [--duration 10] [--concurrency 16]
                                            [--workers 2] [--events 20000]

One run, loopback only, everything private and in a temporary folder: PostgreSQL
(fsync on), a Kafka broker with the platform's topics, and `appeals` as a real process
with `--workers` uvicorn processes (as compose runs one instance).

1. Raw ceiling: single-row autocommit INSERTs, `--concurrency` connections, `--duration`
   seconds (`insert_ceiling` of ceilings.py): rows/s.
2. Intake: the intake benchmark's closed loop (`measure_intake` of appeals_intake.py) for
   `--duration` seconds: appeals/s of one instance and its CPU per appeal; then the
   outbox drained by the relay.
3. PostgreSQL: every table of the appeals database with its indexes and TOAST
   (`pg_total_relation_size`) and its row count, once the relay has published the
   outbox: bytes per appeal, per outbox row, per history row.
4. Kafka, as the relay writes it: the `.log` segment bytes of the appeals topic's
   partitions over its records (each appeal here is AppealReceived and AppealDispatched).
5. Kafka, the whole story: the workload the analytics benchmarks fold (appeal, project
   and notification stories of testkit/unit/workload.py, `messages` of
   analytics_throughput.py, about `--events` events) written in partition batches to
   the domain topics: events per appeal, and the `.log` bytes it added per event.
6. Analytics state: the rebuild's fold (`Replay`, the workers' rules) of every domain
   topic, under tracemalloc: the memory its states hold per aggregate (a worker holds
   its partitions' states in memory, `store="memory://"`), and each state's JSON bytes
   (its changelog record).

ratio = intake appeals/s / raw rows/s, as appeals_intake.py reports it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from aiokafka import TopicPartition

from analytics.replay import domain_replay, read_until_end
from bench.analytics_throughput import TOPICS, Message, messages
from bench.analytics_throughput import BenchConfig as WorkloadConfig
from bench.appeals_intake import AppealsStack, _pid, measure_intake, warm_up
from bench.appeals_intake import BenchConfig as IntakeConfig
from bench.ceilings import insert_ceiling
from bench.harness import Cli, kafka_version, running_stack
from minsheng.kafka import KafkaAccess
from minsheng.partition_batches import send_keyed
from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import APPEALS, load_specs

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "sizing_inputs.json"


@dataclass(frozen=True)
class BenchConfig:
    duration: float = 10.0  # seconds, raw ceiling and intake each
    concurrency: int = 16  # connections (raw) and closed-loop workers (intake)
    workers: int = 2  # appeals server processes of the one instance
    warmup: int = 50
    events: int = 20_000  # about, of the workload written to Kafka
    seed: int = 2024
    drain_timeout: float = 300.0
    keep: bool = False


TABLES = """
SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY c.relname
"""


async def postgres_sizes(url: str) -> dict[str, dict[str, int]]:
    """Every table of the database: its bytes (with indexes and TOAST) and rows."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CHECKPOINT")  # sizes of what is on disk, not in the WAL only
        tables = await conn.fetch(TABLES)
        return {
            row["name"]: {
                "bytes": int(row["bytes"]),
                "rows": int(await conn.fetchval(f'SELECT count(*) FROM "{row["name"]}"')),
            }
            for row in tables
        }
    finally:
        await conn.close()


def log_bytes(kafka_dir: Path, topic: str) -> int:
    """The bytes of the topic's `.log` segments, all partitions: the records as stored."""
    return sum(path.stat().st_size for path in kafka_dir.glob(f"**/{topic}-[0-9]*/*.log"))


async def records(kafka: KafkaAccess, topic: str) -> int:
    """The records the topic holds: the sum of its partitions' end offsets."""
    [spec] = [spec for spec in load_specs() if spec.name == topic]
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(
            [TopicPartition(topic, p) for p in range(spec.partitions)]
        )
        return int(sum(ends.values()))
    finally:
        await consumer.stop()


async def write_workload(kafka: KafkaAccess, batch: list[Message]) -> None:
    """The workload on its topics, each partition's records in whole batches."""
    producer = kafka.producer(acks="all", max_batch_size=1 << 20)
    await producer.start()
    try:
        for topic in TOPICS:
            await send_keyed(producer, topic, [(k, v) for t, k, v in batch if t == topic])
    finally:
        await producer.stop()


def workload_counts(batch: list[Message]) -> dict[str, Any]:
    """Events per topic, and per appeal story (an appeal's events share its key)."""
    per_topic = Counter(topic for topic, _, _ in batch)
    appeals = len({key for topic, key, _ in batch if topic == APPEALS})
    return {
        "events": len(batch),
        "per_topic": dict(per_topic),
        "appeal_stories": appeals,
        "appeal_events_per_appeal": round(per_topic[APPEALS] / appeals, 3),
        "events_per_appeal": round(len(batch) / appeals, 3),
        "value_bytes_mean": round(sum(len(v) for _, _, v in batch) / len(batch), 1),
    }


def per_row(tables: dict[str, dict[str, int]], name: str) -> float | None:
    table = tables.get(name)
    if not table or not table["rows"]:
        return None
    return round(table["bytes"] / table["rows"], 1)


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    """Starts everything in a temporary folder, runs the six parts, stops all."""
    intake_config = IntakeConfig(
        duration=config.duration,
        concurrency=config.concurrency,
        workers=config.workers,
        warmup=config.warmup,
        drain_timeout=config.drain_timeout,
    )

    def make_stack(folder: Path, url: str) -> AppealsStack:
        stack = AppealsStack(folder, url, outbox_poll_interval=1.0)
        stack.env["MINSHENG_HTTP_WORKERS"] = str(config.workers)
        return stack

    async with running_stack("minsheng-bench-sizing-", make_stack, keep=config.keep) as run:
        stack, postgres = run.stack, run.postgres
        await warm_up(stack, intake_config)
        print(f"1/6 raw ceiling: single-row INSERTs, {config.duration:g} s", flush=True)
        raw = await insert_ceiling(
            postgres.url,
            concurrency=config.concurrency,
            warmup=config.warmup,
            duration=config.duration,
        )
        print(f"2/6 intake: {config.concurrency} closed-loop workers", flush=True)
        broker = stack.kafka
        assert isinstance(broker, KafkaBroker)  # one broker: its process and its disk
        db = await asyncpg.connect(stack.appeals_database)
        try:
            roots = {
                "appeals": stack.appeals.process.pid,
                "postgres": _pid(postgres.process),
                "kafka": _pid(broker.process),
            }
            intake = await measure_intake(stack, db, intake_config, roots)
        finally:
            await db.close()
        print("3/6 PostgreSQL: the appeals database's tables", flush=True)
        tables = await postgres_sizes(stack.appeals_database)
        print("4/6 Kafka: the appeals topic as the relay wrote it", flush=True)
        kafka, kafka_dir = broker.access(), broker.data_dir
        relayed = {"records": await records(kafka, APPEALS), "bytes": log_bytes(kafka_dir, APPEALS)}
        print(f"5/6 Kafka: the analytics workload (about {config.events} events)", flush=True)
        batch = messages(WorkloadConfig(events=config.events, seed=config.seed))
        before = {topic: log_bytes(kafka_dir, topic) for topic in TOPICS}
        written = time.perf_counter()
        await write_workload(kafka, batch)
        # acknowledged by the broker (acks=all): appended to its segments' files
        workload_bytes = _grown(kafka_dir, before)
        write_s = time.perf_counter() - written
        print("6/6 analytics: the states the domain topics fold into", flush=True)
        states = await state_sizes(kafka)
    appeals_rows = tables["appeals"]["rows"]
    counts = workload_counts(batch)
    ratio = intake["appeals_per_s"] / raw["rows_per_s"] if raw["rows_per_s"] else 0.0
    return {
        "benchmark": "sizing_inputs",
        "started_at": run.started_at.isoformat(),
        "config": asdict(config),
        "environment": run.environment(kafka=kafka_version(), appeals_workers=config.workers),
        "raw": {k: raw[k] for k in ("rows", "seconds", "rows_per_s")},
        "intake": {
            k: intake[k]
            for k in (
                "accepted",
                "seconds",
                "appeals_per_s",
                "events_written",
                "drain_s",
                "cpu_ms_per_appeal",
            )
        },
        "ratio": round(ratio, 3),
        "postgres": {
            "tables": tables,
            "appeals": appeals_rows,
            "bytes_per_appeal": round(sum(t["bytes"] for t in tables.values()) / appeals_rows, 1),
            "bytes_per_row": {name: per_row(tables, name) for name in tables},
        },
        "kafka_relayed": {
            **relayed,
            "bytes_per_record": round(relayed["bytes"] / max(relayed["records"], 1), 1),
        },
        "workload": {
            **counts,
            "log_bytes": workload_bytes,
            "log_bytes_per_event": round(workload_bytes / counts["events"], 1),
            "write_s": round(write_s, 3),
        },
        "analytics_states": states,
    }


async def state_sizes(kafka: KafkaAccess) -> dict[str, Any]:
    """The fold's states of every domain topic: how many, their memory, their JSON."""
    replay = domain_replay()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        events = await read_until_end(kafka, list(replay.folds), replay.apply)
        held = sum(
            stat.size_diff
            for stat in tracemalloc.take_snapshot().compare_to(before, "filename")
            if stat.size_diff > 0
        )
    finally:
        tracemalloc.stop()
    count = sum(len(table) for table in replay.states.values())
    json_bytes = sum(
        len(json.dumps(state).encode())
        for table in replay.states.values()
        for state in table.values()
    )
    return {
        "events": events,
        "rejected": replay.rejected,
        "states": count,
        "per_topic": {topic: len(table) for topic, table in replay.states.items()},
        "memory_bytes_per_state": round(held / max(count, 1), 1),
        "json_bytes_per_state": round(json_bytes / max(count, 1), 1),
    }


def _grown(kafka_dir: Path, before: dict[str, int]) -> int:
    return sum(log_bytes(kafka_dir, topic) - size for topic, size in before.items())


def format_summary(result: dict[str, Any]) -> str:
    env, raw, intake = result["environment"], result["raw"], result["intake"]
    pg, relayed, work = result["postgres"], result["kafka_relayed"], result["workload"]
    states = result["analytics_states"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    rows = [
        f"  {name:<28}{t['rows']:>9} rows {t['bytes']:>12,} bytes"
        + (f"  {pg['bytes_per_row'][name]:>8,.0f} per row" if t["rows"] else "")
        for name, t in pg["tables"].items()
    ]
    return "\n".join(
        [
            "",
            f"sizing inputs: {env['cpus']} CPUs, load average (1 min) {load}",
            f"  raw INSERT, autocommit        {raw['rows_per_s']:>10,.1f} rows/s",
            f"  intake, one instance          {intake['appeals_per_s']:>10,.1f} appeals/s "
            f"({result['config']['workers']} processes; appeals CPU "
            f"{intake['cpu_ms_per_appeal']['appeals']:.2f} ms/appeal, PostgreSQL "
            f"{intake['cpu_ms_per_appeal']['postgres']:.2f}, Kafka "
            f"{intake['cpu_ms_per_appeal']['kafka']:.2f})",
            f"  ratio intake / raw            {result['ratio']:>10.3f}x",
            "",
            f"PostgreSQL, appeals database after the relay: {pg['appeals']} appeals, "
            f"{pg['bytes_per_appeal']:,.0f} bytes per appeal (all tables, indexes)",
            *rows,
            "",
            f"Kafka, as the relay writes: {relayed['records']} records, "
            f"{relayed['bytes_per_record']:,.1f} log bytes per record",
            f"Kafka, the analytics workload: {work['events']} events, "
            f"{work['events_per_appeal']:.2f} per appeal story "
            f"({work['appeal_events_per_appeal']:.2f} on the appeals topic), "
            f"{work['log_bytes_per_event']:,.1f} log bytes per event "
            f"(values {work['value_bytes_mean']:,.0f} bytes)",
            f"Analytics: {states['states']} states of {states['events']} events, "
            f"{states['memory_bytes_per_state']:,.0f} bytes of memory and "
            f"{states['json_bytes_per_state']:,.0f} bytes of JSON each",
        ]
    )


def _invalid(args: argparse.Namespace) -> str | None:
    if args.duration <= 0 or args.concurrency < 1 or args.workers < 1 or args.events < 100:
        return "need --duration > 0, --concurrency >= 1, --workers >= 1, --events >= 100"
    return None


OPTIONS = {
    "duration": "s, raw ceiling and intake each",
    "concurrency": None,
    "workers": "appeals server processes",
    "events": "about, of the workload",
    "seed": None,
}
CLI = Cli(__doc__, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(CLI.main())
