"""Appeals intake throughput: POST /v1/appeals with the outbox, as a ratio to raw single-row
PostgreSQL INSERT throughput measured on the same server in the same run.

    .venv/bin/python bench/appeals_intake.py [--duration 10] [--concurrency 64] [--rate 200]
                                             [--workers 2]

One run, loopback only, everything private and in a temporary folder: a PostgreSQL server
(fsync, synchronous_commit and full_page_writes on), a Kafka broker with the platform's
topics, and the `appeals` service as real processes (`--workers` uvicorn workers;
analytics is not started).

1. Raw ceiling. `--concurrency` asyncpg connections insert one row each per statement,
   autocommit (one transaction, one WAL flush per row), into an `appeals`-like table
   (text primary key, a few text columns, a timestamp index) in a scratch database, in a
   closed loop for `--duration` seconds: rows/s.
2. Intake. The same number of closed-loop workers POST valid appeals with the development
   operator key, each over its own keep-alive connection with the lean client of
   `bench/http_load.py` (httpx costs as much CPU per request as the service: on two
   cores it would halve the figure), for the same duration; only 201s count: appeals/s.
   Each 201 is an appeal, its dispatch and their events in the outbox, committed;
   concurrent requests share transactions (`minsheng.batching`). Then we wait until the
   relay has published the whole outbox (`published_at IS NULL` count = 0) and report
   that drain time, counted from the end of the intake phase. The CPU seconds of each
   process tree (service, PostgreSQL, Kafka, this load generator) are reported per appeal.
3. Latency. POSTs (the lean client, a connection per request in flight) on an open-loop
   schedule at `--rate` per second for `--duration` seconds (request i starts at
   t0 + i/rate): HTTP POST -> 201, p50/p90/p99/max.

The figure is `ratio = intake appeals/s / raw rows/s`; the target is >= 1,000 appeals/s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from bench.ceilings import SEED, insert_ceiling
from bench.cpu import own_cpu, tree_cpu
from bench.figures import ms, open_loop, per_second, summarize
from bench.figures import ticking as ticking  # what the notifications benchmark takes from here
from bench.harness import Cli, kafka_version, running_stack
from bench.http_load import Connection, HttpError, Pool, build_post
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.process import ManagedProcess
from minsheng.platform.services import ServiceProcess
from testkit.e2e.stack import Stack, random_appeals
from testkit.integration.helpers import eventually

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "appeals_intake.json"
TARGET = 1000.0  # appeals/s: the intake's target


@dataclass(frozen=True)
class BenchConfig:
    duration: float = 10.0  # seconds, for each of the three phases
    concurrency: int = 64  # connections (raw) and closed-loop workers (intake)
    rate: float = 200.0  # appeals/s of the open-loop latency phase
    workers: int = 2  # appeals server processes (MINSHENG_HTTP_WORKERS)
    warmup: int = 50  # appeals posted before the phases, left out of the figures
    outbox_poll_interval: float = 1.0
    drain_timeout: float = 300.0  # for the outbox to be fully published
    keep: bool = False  # keep the temporary folder (logs) instead of deleting it


class AppealsStack(Stack):
    """The platform's stack with the appeals service only."""

    @property
    def services(self) -> list[ServiceProcess]:
        return [self.appeals]

    @property
    def appeals_database(self) -> str:
        parts = urlsplit(self.env["MINSHENG_DATABASE_URL"])
        return urlunsplit(parts._replace(path=f"/appeals{self.env['MINSHENG_DATABASE_SUFFIX']}"))


def _pid(process: ManagedProcess | None) -> int:
    assert process is not None, "started above"
    return process.pid


# --- 2. intake throughput and outbox drain -------------------------------------------------


async def _db_counts(conn: asyncpg.Connection[Any]) -> dict[str, int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM appeals) AS appeals,"
        " (SELECT count(*) FROM outbox) AS events,"
        " (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished"
    )
    assert row is not None
    return {k: int(v) for k, v in row.items()}


async def measure_intake(
    stack: AppealsStack, db: asyncpg.Connection[Any], config: BenchConfig, roots: dict[str, int]
) -> dict[str, Any]:
    requests = [
        build_post(stack.appeals.url, "/v1/appeals", body, stack.headers)
        for body in random_appeals(1000, seed=SEED + 1)
    ]
    statuses: Counter[int] = Counter()  # -1: transport error
    latencies: list[float] = []

    async def worker(w: int, deadline: float) -> None:
        connection = Connection(stack.appeals.url)
        i = w
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    status, _ = await connection.send(requests[i % len(requests)])
                except (HttpError, OSError):
                    statuses[-1] += 1
                else:
                    statuses[status] += 1
                    if status == 201:
                        latencies.append(time.perf_counter() - sent)
                i += config.concurrency
        finally:
            await connection.close()

    before = await _db_counts(db)
    cpu_before, client_before = tree_cpu(roots), own_cpu()
    start = time.perf_counter()
    deadline = start + config.duration
    async with ticking("intake", config.duration, lambda: f"{len(latencies)} accepted (201)"):
        await asyncio.gather(*(worker(w, deadline) for w in range(config.concurrency)))
    end = time.perf_counter()
    elapsed = end - start
    cpu_after, client_after = tree_cpu(roots), own_cpu()
    at_end = await _db_counts(db)
    spent = {name: cpu_after[name] - cpu_before[name] for name in roots}
    spent["load generator"] = client_after - client_before

    last = [at_end["unpublished"]]
    async with ticking("drain", 0, lambda: f"{last[0]} events unpublished"):

        async def probe() -> int:
            last[0] = (await _db_counts(db))["unpublished"]
            return last[0]

        await eventually(
            probe,
            lambda n: n == 0,
            timeout=config.drain_timeout,
            interval=0.05,
            what="outbox fully published",
        )
    drained = time.perf_counter()
    after = await _db_counts(db)
    accepted = len(latencies)
    return {
        "posted": sum(statuses.values()),
        "accepted": accepted,
        "refused": {str(s): n for s, n in sorted(statuses.items()) if s != 201},
        "seconds": round(elapsed, 3),
        "appeals_per_s": per_second(accepted, elapsed),
        "http_201_ms": summarize(ms(latencies)) if latencies else {},
        "appeals_stored": after["appeals"] - before["appeals"],
        "events_written": after["events"] - before["events"],
        "unpublished_at_end": at_end["unpublished"],
        "drain_s": round(drained - end, 3),
        "cpu_ms_per_appeal": {
            name: round(1000 * seconds / max(len(latencies), 1), 3)
            for name, seconds in spent.items()
        },
        "cpu_share": {name: round(seconds / elapsed, 3) for name, seconds in spent.items()},
    }


# --- 3. latency at a fixed rate ------------------------------------------------------------


async def measure_latency(stack: Stack, config: BenchConfig) -> dict[str, Any]:
    n = max(int(config.rate * config.duration), 2)
    requests = [
        build_post(stack.appeals.url, "/v1/appeals", body, stack.headers)
        for body in random_appeals(n, seed=SEED + 2)
    ]
    connections = Pool(stack.appeals.url)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def post(i: int) -> None:
        sent = time.perf_counter()
        try:
            status, _ = await connections.send(requests[i])
        except (HttpError, OSError):
            statuses[-1] += 1
            return
        statuses[status] += 1
        if status == 201:
            latencies.append(time.perf_counter() - sent)

    try:
        async with ticking(
            "latency", config.duration, lambda: f"{sum(statuses.values())}/{n} answered"
        ):
            pacing = await open_loop(n, config.rate, post)
    finally:
        await connections.close()
    return {
        "posted": n,
        "accepted": len(latencies),
        "refused": {str(s): c for s, c in sorted(statuses.items()) if s != 201},
        "pacing": asdict(pacing),
        "http_201_ms": summarize(ms(latencies)) if latencies else {},
    }


# --- the run -------------------------------------------------------------------------------


async def warm_up(stack: Stack, config: BenchConfig) -> None:
    async with httpx.AsyncClient(
        base_url=stack.appeals.url, headers=stack.headers, timeout=30
    ) as client:
        for body in random_appeals(config.warmup, seed=SEED + 3):
            response = await client.post("/v1/appeals", json=body)
            if response.status_code != 201:
                raise RuntimeError(
                    f"warm-up appeal refused: {response.status_code} {response.text}"
                )


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    """Starts everything in a temporary folder, runs the three phases, stops all."""

    def make_stack(folder: Path, url: str) -> AppealsStack:
        stack = AppealsStack(folder, url, outbox_poll_interval=config.outbox_poll_interval)
        stack.env["MINSHENG_HTTP_WORKERS"] = str(config.workers)
        return stack

    async with running_stack("minsheng-bench-intake-", make_stack, keep=config.keep) as run:
        stack, postgres = run.stack, run.postgres
        print(
            f"Kafka {kafka_version()} on {stack.kafka.bootstrap}; appeals {stack.appeals.url} "
            f"({config.workers} processes; outbox poll interval {config.outbox_poll_interval:g}s)",
            flush=True,
        )
        await warm_up(stack, config)
        db = await asyncpg.connect(stack.appeals_database)
        try:
            await eventually(
                lambda: _db_counts(db),
                lambda c: c["unpublished"] == 0,
                timeout=config.drain_timeout,
                what="warm-up published",
            )
            print(
                f"1/3 raw ceiling: single-row autocommit INSERTs, {config.concurrency} "
                f"connections, {config.duration:g} s",
                flush=True,
            )
            raw = await insert_ceiling(
                postgres.url,
                concurrency=config.concurrency,
                warmup=config.warmup,
                duration=config.duration,
            )
            print(
                f"2/3 intake: POST /v1/appeals closed loop, {config.concurrency} workers over "
                f"{config.concurrency} connections, {config.duration:g} s; "
                "then the outbox drain",
                flush=True,
            )
            assert isinstance(stack.kafka, KafkaBroker)  # the stack's default, one broker
            roots = {
                "appeals": stack.appeals.process.pid,
                "postgres": _pid(postgres.process),
                "kafka": _pid(stack.kafka.process),
            }
            intake = await measure_intake(stack, db, config, roots)
            print(
                f"3/3 latency: POST /v1/appeals open loop at {config.rate:g}/s, "
                f"{config.duration:g} s",
                flush=True,
            )
            latency = await measure_latency(stack, config)
        finally:
            await db.close()
    ratio = intake["appeals_per_s"] / raw["rows_per_s"] if raw["rows_per_s"] else 0.0
    return {
        "benchmark": "appeals_intake",
        "started_at": run.started_at.isoformat(),
        "config": asdict(config),
        "environment": run.environment(kafka=kafka_version(), appeals_workers=config.workers),
        "raw": raw,
        "intake": intake,
        "latency": latency,
        "ratio": round(ratio, 3),
        "target_appeals_per_s": TARGET,
        "target_met": intake["appeals_per_s"] >= TARGET,
    }


def format_summary(result: dict[str, Any]) -> str:
    config, env = result["config"], result["environment"]
    raw, intake, latency = result["raw"], result["intake"], result["latency"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    columns = ("median", "p90", "p99", "max")

    def row(label: str, figures: dict[str, float]) -> str:
        if not figures:
            return f"{label:<36}{'-':>7}"
        cells = [f"{figures['count']:>7}"] + [f"{figures[c]:>9.2f}" for c in columns]
        return f"{label:<36}" + "".join(cells)

    met = "met" if result["target_met"] else "NOT met"
    return "\n".join(
        [
            "",
            f"appeals intake: {config['concurrency']} concurrent, {config['duration']:g} s "
            f"per phase, loopback; {env['cpus']} CPUs, load average (1 min) {load}",
            f"{'(throughput)':<36}{'count':>7}{'seconds':>9}{'per s':>11}",
            f"{'raw INSERT, autocommit (rows)':<36}{raw['rows']:>7}{raw['seconds']:>9.2f}"
            f"{raw['rows_per_s']:>11.1f}",
            f"{'intake POST -> 201 (appeals)':<36}{intake['accepted']:>7}"
            f"{intake['seconds']:>9.2f}{intake['appeals_per_s']:>11.1f}",
            f"{'ratio intake / raw':<36}{'':>16}{result['ratio']:>10.3f}x",
            f"{'target':<36}{'':>16}{result['target_appeals_per_s']:>11.0f}   ({met})",
            "",
            "CPU per appeal (ms), share of one core: "
            + ", ".join(
                f"{name} {ms_:.2f} ({intake['cpu_share'][name]:.0%})"
                for name, ms_ in intake["cpu_ms_per_appeal"].items()
            ),
            "",
            f"{'(milliseconds)':<36}{'n':>7}" + "".join(f"{c:>9}" for c in columns),
            row("raw INSERT (closed loop)", raw["insert_ms"]),
            row("intake POST -> 201 (closed loop)", intake["http_201_ms"]),
            row(f"POST -> 201 at {config['rate']:g}/s (open loop)", latency["http_201_ms"]),
            "",
            f"intake: posted {intake['posted']}, accepted {intake['accepted']}, stored "
            f"{intake['appeals_stored']}, events {intake['events_written']}; refused "
            f"{intake['refused'] or 'none'}",
            f"outbox: {intake['unpublished_at_end']} events unpublished at the end of intake, "
            f"fully published {intake['drain_s']:.2f} s later",
            f"latency phase: posted {latency['posted']}, accepted {latency['accepted']}, "
            f"refused {latency['refused'] or 'none'}; offered "
            f"{latency['pacing']['offered_rate']:g}/s (max start lag "
            f"{latency['pacing']['max_start_lag_ms']:.1f} ms)",
        ]
    )


def _invalid(args: argparse.Namespace) -> str | None:
    if args.duration <= 0 or args.concurrency < 1 or args.rate <= 0 or args.workers < 1:
        return "need --duration > 0, --concurrency >= 1, --rate > 0, --workers >= 1"
    if args.warmup < 1:
        return "need --warmup >= 1"
    return None


OPTIONS = {
    "duration": "s per phase",
    "concurrency": None,
    "rate": "latency phase, /s",
    "workers": "server processes",
    "warmup": None,
}
CLI = Cli(__doc__, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(CLI.main())
