"""Analytics state at scale: how an analytics worker recovers, holds and serves the states
of many appeals, and GET /v1/counters beside the equivalent GROUP BY in PostgreSQL.

    .venv/bin/python bench/analytics_state.py [--states 10000000] [--sql-rows 1000000] [--out PATH]

One run, loopback only, in a temporary folder: a private Kafka broker with the platform's
topics and a private PostgreSQL (fsync on).

1. write: `--states` synthetic appeal states straight to the appeals table's changelog
   topic, as the workers write them (JSON key, compact value after its shape's record,
   the state on its partition), in whole batches per partition. The states are copies of
   states folded from a random, valid workload (testkit/unit/workload.py), so their
   figures are real ones, each with numbers of its own (sequence, instants).
2. recovery: one `minsheng-analytics` worker (a real process, fresh) starts on them:
   seconds from launch to /metrics answering, and to /v1/counters showing every state
   (`city.received`); states/s over the latter; the worker's resident memory (VmRSS)
   then. Target >= 50,000 states/s.
3. counters: sequential GET /v1/counters: p50/p99 (target p99 < 50 ms, whatever the
   number of appeals).
4. SQL: `--sql-rows` rows of the same appeals (district, category, status, deadline,
   resolution) in the appeals service's own `appeals` table (its migrations), and the
   GROUP BY by district that gives what /v1/counters gives by district (received, open,
   overdue, resolved, resolved on time): p50/p99.

ratio = SQL p50 / counters p50 (goal >= 100).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from analytics.app import PARTITIONS
from analytics.appeal_counting import apply_appeal
from analytics.counting import State
from analytics.parsing import parse
from analytics.state_codec import Codec
from bench.analytics_common import environment, private_broker
from bench.harness import Cli
from bench.http_load import Connection, build_get
from minsheng.db import open_database
from minsheng.kafka import KafkaAccess
from minsheng.partition_batches import send_records
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import APPEALS, ensure_topics, replicated
from testkit.e2e.analytics import Workers
from testkit.integration.helpers import free_port
from testkit.unit.workload import topic_of, workload

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "analytics_state.json"
APPEALS_MIGRATIONS = Path(__file__).resolve().parent.parent / "services/appeals/migrations"
CHANGELOG = "minsheng-analytics-appeal-state-changelog"  # the default app id's
TEMPLATES = 500  # appeals folded from the workload, copied over and over
CHUNK = 20_000  # records handed to Kafka per partition at a time
TARGET_RATE, TARGET_P99_MS, TARGET_RATIO = 50_000, 50.0, 100.0
COMPARED = ("received", "open", "overdue", "resolved", "resolved_on_time")
BY_DISTRICT = """
SELECT district,
       count(*) AS received,
       count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')) AS open,
       count(*) FILTER (WHERE status NOT IN ('resolved', 'closed') AND deadline < now())
           AS overdue,
       count(*) FILTER (WHERE on_time IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE on_time) AS resolved_on_time
FROM appeals GROUP BY district
"""


@dataclass(frozen=True)
class BenchConfig:
    states: int = 10_000_000
    sql_rows: int = 1_000_000
    requests: int = 500  # GET /v1/counters
    queries: int = 20  # GROUP BY
    seed: int = 2024
    timeout: float = 3600.0  # for the recovery
    keep: bool = False


def templates(seed: int) -> list[State]:
    """Appeal states as the fold leaves them, from a random valid workload (those received:
    each then counts once in `city.received`)."""
    w = workload(seed, TEMPLATES, 1, datetime.now(UTC), 1)
    states: dict[str, State] = {}
    for event in w.events:
        if topic_of(event) != APPEALS:
            continue
        parsed = parse(APPEALS, event.to_json(), [])
        new = apply_appeal(states.get(parsed.envelope.subject), parsed)
        if new is not None:
            states[parsed.envelope.subject] = new
    return [state for state in states.values() if "received" in state]


def shape_of(i: int, shapes: int) -> int:
    """Which shape the i-th appeal copies, in the changelog and in the SQL table alike."""
    return i // PARTITIONS % shapes


def changelog_records(n: int, shapes: list[State]) -> Iterator[tuple[int, bytes, bytes]]:
    """(partition, key, value) of `n` states, each a copy of one of `shapes` with numbers
    of its own (sequence, instants: as distinct as real appeals', so no two values are
    alike), in the workers' compact form, each shape's record before its first state."""
    written: list[set[int]] = [set() for _ in range(PARTITIONS)]
    for i in range(n):
        partition = i % PARTITIONS
        shape = shapes[shape_of(i, len(shapes))]
        state = {**shape, "partition": partition, "sequence": shape["sequence"] + i}
        state["received_at"] += (i % 1000) / 1000  # under a second: the same windows
        if state.get("deadline") is not None:
            state["deadline"] += (i % 1000) / 1000  # under a second: the SQL rows agree
        value, record = Codec.encode_for(state, written[partition])
        if record is not None:
            yield partition, *record
        yield partition, b'"S-%d"' % i, value


async def write_states(kafka: KafkaAccess, n: int, shapes: list[State]) -> dict[str, Any]:
    await ensure_topics(kafka, [replicated(CHANGELOG, PARTITIONS, {"cleanup.policy": "compact"})])
    producer = kafka.producer(acks=1, max_batch_size=1 << 20, linger_ms=50)
    await producer.start()
    started, written, size = time.perf_counter(), 0, 0
    try:
        chunks: dict[int, list[tuple[bytes, bytes | None]]] = {p: [] for p in range(PARTITIONS)}
        pending: list[Any] = []

        async def flush(partition: int) -> None:
            sent = await send_records(producer, CHANGELOG, partition, chunks[partition])
            pending.extend(delivery for _, delivery in sent)
            chunks[partition] = []

        for partition, key, value in changelog_records(n, shapes):
            chunks[partition].append((key, value))
            size += len(key) + len(value)
            if len(chunks[partition]) >= CHUNK:
                await flush(partition)
                written += CHUNK
                if len(pending) > 200:
                    await asyncio.gather(*pending)
                    pending.clear()
                    print(f"  written {written:>10,}/{n:,}", flush=True)
        for partition in range(PARTITIONS):
            await flush(partition)
        await asyncio.gather(*pending)
        print(flush=True)
    finally:
        await producer.stop()
    seconds = time.perf_counter() - started
    return {"records": n, "bytes": size, "seconds": round(seconds, 3), "rate": round(n / seconds)}


def rss_mb(pid: int) -> float:
    """The process's resident memory; 0 once it has exited (the caller then says so)."""
    status = Path(f"/proc/{pid}/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def measure_worker(
    kafka: KafkaAccess, folder: Path, n: int, config: BenchConfig
) -> dict[str, Any]:
    """Launch -> serving; launch -> every state counted; RSS; /v1/counters latency."""
    worker = Workers(kafka, folder).new()
    launched = time.perf_counter()
    await worker.process.start()
    serving = counted = None
    body: dict[str, Any] = {}
    peak = 0.0
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            deadline = launched + config.timeout
            while counted is None:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"not every state counted after {config.timeout} s")
                if not worker.process.running:
                    tail = worker.log_file.read_text()[-2000:] if worker.log_file else ""
                    raise RuntimeError(f"the worker exited; its log ends:\n{tail}")
                peak = max(peak, rss_mb(worker.process.pid))
                try:
                    if serving is None:
                        (await client.get(f"{worker.url}/metrics")).raise_for_status()
                        serving = time.perf_counter() - launched
                    response = await client.get(f"{worker.url}/v1/counters")
                    if response.status_code == 200 and response.json()["city"]["received"] >= n:
                        counted = time.perf_counter() - launched
                        body = response.json()
                except httpx.HTTPError:
                    pass
                if int(time.perf_counter() - launched) % 5 == 0:  # about every 5 s
                    elapsed = time.perf_counter() - launched
                    print(f"  recovering: {elapsed:6.1f} s, RSS {peak:,.0f} MB", flush=True)
                await asyncio.sleep(0.2)  # the read interval, not a synchronisation
            print(flush=True)
            rss = rss_mb(worker.process.pid)
            latencies = await counters_latencies(worker.url, config.requests)
            rss_after = rss_mb(worker.process.pid)
        finally:
            await worker.stop()
    return {
        "launch_to_metrics_seconds": round(serving or 0.0, 3),
        "launch_to_counted_seconds": round(counted, 3),
        "recovery_rate": round(n / counted),
        "rss_mb": rss,
        "rss_mb_after_requests": rss_after,
        "rss_peak_mb": max(peak, rss, rss_after),
        "rss_bytes_per_state": round(rss * 2**20 / n),
        "counters_ms": percentiles(latencies),
        **recovery_steps(worker.log_file),
        "by_district": {
            district: {figure: figures[figure] for figure in COMPARED}
            for district, figures in body["districts"].items()
        },
    }


async def counters_latencies(url: str, requests: int) -> list[float]:
    """Sequential GET /v1/counters on one keep-alive connection of the lean client (httpx
    would add about a millisecond of its own to each), in ms, as asyncpg times the SQL."""
    connection, request = Connection(url), build_get(url, "/v1/counters")
    latencies = []
    try:
        for _ in range(requests):
            started = time.perf_counter()
            status, body = await connection.send(request)
            latencies.append(1000 * (time.perf_counter() - started))
            if status != 200:
                raise RuntimeError(f"GET /v1/counters answered {status}: {body[:300]!r}")
    finally:
        await connection.close()
    return latencies


def recovery_steps(log: Path | None) -> dict[str, float | None]:
    """Seconds of the appeals table's bulk read and of its re-sum, from the worker's log
    (the store's "read ... in X s" line, and the time between it and "re-summed")."""
    read_at = read_seconds = summed_at = None
    for line in (log.read_text(errors="replace") if log else "").splitlines():
        if '"appeal-state: ' not in line:
            continue
        entry = json.loads(line)
        at = datetime.fromisoformat(entry["time"])
        if entry["message"].startswith("appeal-state: read "):
            read_at, read_seconds = at, float(entry["message"].split(" in ")[-1].split()[0])
        elif entry["message"].startswith("appeal-state: re-summed") and read_at is not None:
            summed_at = at
    resum = (summed_at - read_at).total_seconds() if summed_at and read_at else None
    return {"bulk_read_seconds": read_seconds, "resum_seconds": resum}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
        "samples": len(ordered),
    }


def appeal_rows(n: int, shapes: list[State]) -> Iterator[tuple[Any, ...]]:
    """Rows of the appeals table for `n` appeals copied from `shapes`, as the appeals
    service keeps them (status, deadline, resolution)."""
    now = datetime.now(UTC)
    rows = []
    for shape in shapes:
        status = shape.get("status")
        if status == "open":
            status = "dispatched" if shape.get("unit") else "received"
        deadline = shape.get("deadline")
        rows.append(
            (
                status,
                shape["sequence"],
                shape["category"],
                shape["district"],
                shape["received"][0][2],
                datetime.fromtimestamp(shape["received_at"], UTC),
                None if deadline is None else datetime.fromtimestamp(deadline, UTC),
                shape.get("unit"),
                shape.get("resolution"),
            )
        )
    for i in range(n):
        status, seq, category, district, channel, received, deadline, unit, on_time = rows[
            shape_of(i, len(rows))
        ]
        resolved_at = received + timedelta(days=1) if on_time is not None else None
        yield (
            f"S-{i}", status, seq, "bench", category, district, channel, f"ref-{i}",
            received, deadline, unit, resolved_at, on_time, now,
        )  # fmt: skip


async def measure_sql(folder: Path, config: BenchConfig, shapes: list[State]) -> dict[str, Any]:
    postgres = PostgresServer(
        folder / "postgres", port=free_port(), fsync=True, log_file=folder / "postgres.log"
    )
    await postgres.start()
    try:
        url = postgres.url.rsplit("/", 1)[0] + "/appeals"
        pool = await open_database(url, "appeals", APPEALS_MIGRATIONS)
        started = time.perf_counter()
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(
                "appeals",
                records=appeal_rows(config.sql_rows, shapes),
                columns=[
                    "id", "status", "sequence", "title", "category", "district", "channel",
                    "contact_ref", "received_at", "deadline", "unit", "resolved_at", "on_time",
                    "updated_at",
                ],
            )  # fmt: skip
            await conn.execute("ANALYZE appeals")
            loaded = time.perf_counter() - started
            by_district = {  # and warms the cache
                r["district"]: {figure: r[figure] for figure in COMPARED}
                for r in await conn.fetch(BY_DISTRICT)
            }
            latencies = []
            for _ in range(config.queries):
                started = time.perf_counter()
                await conn.fetch(BY_DISTRICT)
                latencies.append(1000 * (time.perf_counter() - started))
        await pool.close()
    finally:
        await postgres.stop()
    return {
        "rows": config.sql_rows,
        "load_seconds": round(loaded, 3),
        "group_by_ms": percentiles(latencies),
        "by_district": by_district,
    }


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    load_before = os.getloadavg()
    started_at = datetime.now(UTC)
    shapes = templates(config.seed)
    async with private_broker(config.keep) as (broker, folder):
        print(f"writing {config.states:,} states to {CHANGELOG} ...", flush=True)
        written = await write_states(broker.access(), config.states, shapes)
        print(f"written in {written['seconds']} s; the worker recovers them ...", flush=True)
        worker = await measure_worker(broker.access(), folder, config.states, config)
        load_mid = os.getloadavg()
        print(f"{config.sql_rows:,} rows into PostgreSQL and GROUP BY ...", flush=True)
        sql = await measure_sql(folder, config, shapes)
    ratio = sql["group_by_ms"]["p50"] / worker["counters_ms"]["p50"]
    return {
        "benchmark": "analytics_state",
        "started_at": started_at.isoformat(),
        "config": asdict(config),
        "environment": environment(load_before),
        "load_average_after_worker": [round(x, 2) for x in load_mid],
        "write": written,
        "worker": worker,
        "sql": sql,
        "ratio_sql_to_counters_p50": round(ratio, 1),
        # the same figures, when both hold the same appeals (overdue: a second apart)
        "same_figures": worker["by_district"] == sql["by_district"]
        if config.states == config.sql_rows
        else None,
        "targets": {
            "recovery_rate": TARGET_RATE,
            "counters_p99_ms": TARGET_P99_MS,
            "ratio": TARGET_RATIO,
            "met": worker["recovery_rate"] >= TARGET_RATE
            and worker["counters_ms"]["p99"] < TARGET_P99_MS
            and ratio >= TARGET_RATIO,
        },
    }


def format_summary(result: dict[str, Any]) -> str:
    env, w, sql = result["environment"], result["worker"], result["sql"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    counters, group_by = w["counters_ms"], sql["group_by_ms"]
    return "\n".join(
        [
            "",
            f"analytics state: {result['config']['states']:,} appeal states, loopback; "
            f"{env['cpus']} CPUs, load average (1 min) {load}",
            f"  written to the changelog    {result['write']['rate']:>10,} states/s",
            f"  launch -> /metrics          {w['launch_to_metrics_seconds']:>10.1f} s",
            f"  launch -> all counted       {w['launch_to_counted_seconds']:>10.1f} s",
            f"  recovery                    {w['recovery_rate']:>10,} states/s "
            f"(bulk read {w['bulk_read_seconds']} s, re-sum {w['resum_seconds']} s)",
            f"  RSS after recovery          {w['rss_mb']:>10,.1f} MB "
            f"({w['rss_bytes_per_state']} bytes/state; peak {w['rss_peak_mb']:,.1f} MB)",
            f"  GET /v1/counters            p50 {counters['p50']:.2f} ms, "
            f"p99 {counters['p99']:.2f} ms",
            f"  GROUP BY over {sql['rows']:,} rows   p50 {group_by['p50']:.2f} ms, "
            f"p99 {group_by['p99']:.2f} ms",
            f"  ratio SQL / counters (p50)  {result['ratio_sql_to_counters_p50']:>10.1f}",
            f"  targets >= 50,000 states/s, p99 < 50 ms, ratio >= 100: "
            f"{'met' if result['targets']['met'] else 'NOT met'}",
        ]
    )


def _invalid(args: argparse.Namespace) -> str | None:
    if args.states < 1000 or args.sql_rows < 1000:
        return "need --states and --sql-rows >= 1000"
    return None


OPTIONS = {
    "states": "appeal states written to the changelog",
    "sql_rows": "rows in the appeals table for the GROUP BY",
    "requests": None,
    "queries": None,
    "seed": None,
    "timeout": None,
}
CLI = Cli(__doc__, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(CLI.main())
