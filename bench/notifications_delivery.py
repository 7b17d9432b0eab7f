"""Notifications delivery: webhook deliveries per second as a ratio to raw HTTP POSTs per
second to the same sink in the same run, and event written to Kafka -> webhook received.

    .venv/bin/python bench/notifications_delivery.py [--events 20000] [--duration 10]
                                                     [--concurrency 16] [--rate 100]

One run, loopback only, everything private and in a temporary folder: a PostgreSQL server
(fsync on), a Kafka broker with the platform's topics, the dev sinks, and the appeals and
notifications services as real processes, wired as `make up` wires them
(`testkit/e2e/notifying.py`). Every event is an appeal dispatched to one street office
(`AppealReceived` then `AppealDispatched`; the default rule for it, webhooks only),
written straight to `minsheng.appeals.v1`; the sink checks each webhook's signature and appends
it to `webhooks.jsonl`, which the benchmark tails.

1. Raw ceiling. `--concurrency` keep-alive connections of this one process POST signed
   webhooks (the body of a real delivery, the recipient's secret) to the same sink path
   in a closed loop for `--duration` seconds: 200s per second.
2. Deliveries. `--events` appeals are written to Kafka at once; the rate is the distinct
   `webhook-id`s the sink accepted for them over the time from the first to the last
   one received. CPU seconds of the notifications service and the sink per delivery.
3. Latency. Appeals dispatched on an open-loop schedule at `--rate` per second for
   `--duration` seconds (event i is sent at t0 + i/rate): the time the dispatch is handed
   to the producer -> the time the sink received its webhook (both wall clocks of this
   machine), p50/p90/p99/max.

Targets: deliveries >= 30 % of the raw POST rate; p99 < 500 ms at 100 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench.appeals_intake import ticking
from bench.cpu import tree_cpu
from bench.harness import running_stack
from bench.http_load import Connection, HttpError, build_post
from bench.sink_receipts import RECIPIENT, UNIT, Deliveries
from bench.skeleton_latency import kafka_version, ms, open_loop, parse_bench_args, run_cli
from bench.skeleton_latency import summarize as summarize_ms
from minsheng.events import AppealDispatched, AppealReceived, CloudEvent, new_event
from minsheng.kafka import KafkaAccess
from minsheng.partition_batches import send_keyed
from minsheng.platform.sinks.signatures import sign
from minsheng.relay import BATCH_BYTES
from minsheng.topics import APPEALS, OWNERS
from notifications.settings import RULES_FILE as RULES
from testkit.e2e.notifying import NotifyingStack
from testkit.integration.helpers import eventually

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "notifications_delivery.json"
TARGET_RATIO, TARGET_P99_MS = 0.30, 500.0


@dataclass(frozen=True)
class BenchConfig:
    events: int = 20000  # appeals dispatched at once in the deliveries phase
    duration: float = 10.0  # seconds of the raw and the latency phases
    concurrency: int = 16  # raw POST connections
    rate: float = 100.0  # dispatches per second in the latency phase
    warmup: int = 20
    drain_timeout: float = 300.0
    keep: bool = False


def appeal_events(appeal_id: str) -> tuple[CloudEvent, CloudEvent]:
    """The appeal received, and dispatched to UNIT: what appeals would publish."""
    now = datetime.now(UTC)
    common = {"appeal_id": appeal_id, "district": "洮北区", "category": "help"}
    received = AppealReceived(**common, title="下水道堵塞", channel="app", received_at=now)
    dispatched = AppealDispatched(
        **common, unit=UNIT, deadline=now + timedelta(days=3), dispatched_by="router"
    )
    return (
        new_event(received, subject=appeal_id, sequence=1, source=OWNERS[APPEALS], time=now),
        new_event(dispatched, subject=appeal_id, sequence=2, source=OWNERS[APPEALS], time=now),
    )


class Dispatcher:
    """Writes appeals' events to the appeals topic, as the appeals relay would."""

    def __init__(self, kafka: KafkaAccess, run: str) -> None:
        self.producer = kafka.producer(
            acks="all", enable_idempotence=True, linger_ms=0, max_batch_size=BATCH_BYTES
        )
        self.run = run

    def ids(self, phase: str, n: int) -> list[str]:
        return [f"NB-{self.run}-{phase}-{i}" for i in range(n)]

    async def send(self, event: CloudEvent) -> None:
        await (await self.producer.send(APPEALS, event.to_json(), key=event.key))

    async def write(self, events: Sequence[CloudEvent]) -> None:
        """All of them, in as few batches as aiokafka makes, until all are acknowledged."""
        await self.write_records([(e.key, e.to_json()) for e in events])

    async def write_records(self, records: Sequence[tuple[bytes, bytes]]) -> None:
        # in batches per partition: the load generator should not compete for the CPUs
        await send_keyed(self.producer, APPEALS, records)

    @staticmethod
    def records(appeals: Sequence[str]) -> list[tuple[bytes, bytes]]:
        """Received and dispatched, for every appeal, serialised (before any clock runs)."""
        return [(e.key, e.to_json()) for appeal in appeals for e in appeal_events(appeal)]

    async def all_at_once(self, appeals: Sequence[str]) -> None:
        await self.write_records(self.records(appeals))


# --- 1. raw ceiling ----------------------------------------------------------------------


def webhook_secrets(data_dir: Path) -> dict[str, str]:
    """What notifications generated on its first start, and the sink verifies with."""
    secrets: dict[str, str] = json.loads((data_dir / "webhook-secrets.json").read_text())
    return secrets


async def measure_raw(stack: NotifyingStack, body: Any, config: BenchConfig) -> dict[str, Any]:
    secrets = webhook_secrets(stack.sinks.data_dir)
    stamp, payload = int(time.time()), json.dumps(body, ensure_ascii=False).encode()
    requests = []
    for i in range(256):  # signed like a delivery; the ids cycle, which the sink ignores
        msg_id = f"msg_raw_{i}"
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(secrets[RECIPIENT], msg_id, stamp, payload),
        }
        requests.append(build_post(stack.sinks.url, f"/hooks/{RECIPIENT}", body, headers))
    statuses: dict[int, int] = {}
    accepted = [0]

    async def worker(w: int, deadline: float) -> None:
        connection, i = Connection(stack.sinks.url), w
        try:
            while time.perf_counter() < deadline:
                try:
                    status, _ = await connection.send(requests[i % len(requests)])
                except (HttpError, OSError):
                    status = -1
                statuses[status] = statuses.get(status, 0) + 1
                accepted[0] += status == 200
                i += config.concurrency
        finally:
            await connection.close()

    start = time.perf_counter()
    async with ticking("raw", config.duration, lambda: f"{accepted[0]} accepted (200)"):
        deadline = start + config.duration
        await asyncio.gather(*(worker(w, deadline) for w in range(config.concurrency)))
    elapsed = time.perf_counter() - start
    return {
        "posted": sum(statuses.values()),
        "accepted": accepted[0],
        "refused": {str(s): n for s, n in sorted(statuses.items()) if s != 200},
        "seconds": round(elapsed, 3),
        "posts_per_s": round(accepted[0] / elapsed, 1),
    }


# --- 2. deliveries per second --------------------------------------------------------------


async def measure_deliveries(
    stack: NotifyingStack, dispatcher: Dispatcher, seen: Deliveries, config: BenchConfig
) -> dict[str, Any]:
    appeals = dispatcher.ids("load", config.events)
    roots = {"notifications": stack.notifications.process.pid, "sinks": stack.sinks.process.pid}
    records = dispatcher.records(appeals)
    before = seen.lines()
    cpu_before = tree_cpu(roots)
    written_at = time.time()
    await dispatcher.write_records(records)
    written = time.time() - written_at
    async with ticking("deliver", 0, lambda: f"{seen.lines() - before} received"):
        # the sink stamps each receipt: count lines cheaply until enough are there, then
        # read them once (parsing them as they come would compete for the CPUs)
        await eventually(
            lambda: asyncio.sleep(0, seen.lines() - before),
            lambda lines: lines >= len(appeals),
            timeout=config.drain_timeout,
            what="a line per delivery",
        )
        await seen.wait_for(appeals, config.drain_timeout)
    cpu = tree_cpu(roots)
    times = sorted(seen.received[a] for a in appeals)
    span = times[-1] - times[0]
    twice = sum(len(seen.webhook_ids[a]) > 1 for a in appeals)
    return {
        "events": config.events,
        "written_s": round(written, 3),
        "delivered": len(times),
        "delivered_twice": twice,
        "seconds": round(span, 3),
        "deliveries_per_s": round((len(times) - 1) / span, 1) if span > 0 else 0.0,
        "from_first_write_s": round(times[-1] - written_at, 3),
        "cpu_ms_per_delivery": {
            name: round(1000 * (cpu[name] - cpu_before[name]) / len(times), 3) for name in roots
        },
    }


# --- 3. latency at a fixed rate ------------------------------------------------------------


async def measure_latency(
    dispatcher: Dispatcher, seen: Deliveries, config: BenchConfig
) -> dict[str, Any]:
    n = max(int(config.rate * config.duration), 2)
    appeals = dispatcher.ids("rate", n)
    pairs = [appeal_events(a) for a in appeals]
    await dispatcher.write([received for received, _ in pairs])  # beforehand: not timed
    sent: dict[str, float] = {}

    async def dispatch(i: int) -> None:
        sent[appeals[i]] = time.time()
        await dispatcher.send(pairs[i][1])

    async with ticking("latency", config.duration, lambda: f"{seen.read()} received"):
        pacing = await open_loop(n, config.rate, dispatch)
        await seen.wait_for(appeals, config.drain_timeout)
    latencies = [seen.received[a] - sent[a] for a in appeals]
    return {
        "events": n,
        "pacing": asdict(pacing),
        "received_ms": summarize_ms(ms(latencies)),
        "samples_ms": ms(latencies),
    }


# --- the run -------------------------------------------------------------------------------


def webhook_rules(folder: Path) -> Path:
    """The committed rules for AppealDispatched that send webhooks, webhooks only: one
    delivery per event, so the figure is webhook deliveries (the units' e-mail would share
    the sink's CPU; the grid chiefs' rule is e-mail only)."""
    committed = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    kept = [
        {**rule, "channels": ["webhook"]}
        for rule in committed["rules"]
        if rule["event"] == "AppealDispatched" and "webhook" in rule["channels"]
    ]
    path = folder / "rules.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({**committed, "rules": kept}, allow_unicode=True))
    return path


def make_stack(folder: Path, database_url: str) -> NotifyingStack:
    rules = {"MINSHENG_NOTIFICATIONS_RULES_FILE": str(webhook_rules(folder))}
    return NotifyingStack(folder, database_url, notifications=rules)


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    """Starts everything in a temporary folder, runs the three phases, stops all."""
    async with running_stack("minsheng-bench-notifications-", make_stack, keep=config.keep) as run:
        stack = run.stack
        print(
            f"Kafka {kafka_version()} on {stack.kafka.bootstrap}; notifications "
            f"{stack.notifications.url}; sinks {stack.sinks.url}",
            flush=True,
        )
        dispatcher = Dispatcher(stack.kafka.access(), uuid.uuid4().hex[:6])
        await dispatcher.producer.start()
        try:
            seen = Deliveries(stack.sinks.tail("webhooks.jsonl"))
            warm = dispatcher.ids("warm", config.warmup)
            await dispatcher.all_at_once(warm)
            await seen.wait_for(warm, config.drain_timeout)
            print(f"1/3 raw ceiling: signed POSTs, {config.concurrency} connections", flush=True)
            raw = await measure_raw(stack, seen.bodies[0], config)
            print(f"2/3 deliveries: {config.events} appeals dispatched at once", flush=True)
            deliveries = await measure_deliveries(stack, dispatcher, seen, config)
            print(f"3/3 latency: dispatches at {config.rate:g}/s", flush=True)
            latency = await measure_latency(dispatcher, seen, config)
        finally:
            await dispatcher.producer.stop()
    ratio = deliveries["deliveries_per_s"] / raw["posts_per_s"] if raw["posts_per_s"] else 0.0
    p99 = latency["received_ms"]["p99"]
    return {
        "benchmark": "notifications_delivery",
        "started_at": run.started_at.isoformat(),
        "config": asdict(config),
        "environment": run.environment(kafka=kafka_version()),
        "raw": raw,
        "deliveries": deliveries,
        "latency": latency,
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "target_p99_ms": TARGET_P99_MS,
        "ratio_met": ratio >= TARGET_RATIO,
        "p99_met": p99 < TARGET_P99_MS,
    }


def format_summary(result: dict[str, Any]) -> str:
    config, env = result["config"], result["environment"]
    raw, d, latency = result["raw"], result["deliveries"], result["latency"]
    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    figures = latency["received_ms"]
    columns = ("median", "p90", "p99", "max")

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return "\n".join(
        [
            "",
            f"notifications delivery: loopback; {env['cpus']} CPUs, load average (1 min) {load}",
            f"{'(throughput)':<40}{'count':>7}{'seconds':>9}{'per s':>10}",
            f"{'raw signed POST -> 200':<40}{raw['accepted']:>7}{raw['seconds']:>9.2f}"
            f"{raw['posts_per_s']:>10.1f}",
            f"{'Kafka event -> webhook delivered':<40}{d['delivered']:>7}{d['seconds']:>9.2f}"
            f"{d['deliveries_per_s']:>10.1f}",
            f"{'ratio deliveries / raw':<40}{'':>16}{result['ratio']:>10.3f}   "
            f"(target >= {result['target_ratio']:.2f}: {met(result['ratio_met'])})",
            "CPU per delivery (ms): "
            + ", ".join(f"{k} {v:.2f}" for k, v in d["cpu_ms_per_delivery"].items())
            + f"; delivered twice: {d['delivered_twice']}",
            "",
            f"{'(milliseconds)':<40}{'n':>7}" + "".join(f"{c:>9}" for c in columns),
            f"{'event -> webhook at ' + format(config['rate'], 'g') + '/s':<40}"
            f"{figures['count']:>7}" + "".join(f"{figures[c]:>9.1f}" for c in columns),
            f"target p99 < {result['target_p99_ms']:.0f} ms: {met(result['p99_met'])}; offered "
            f"{latency['pacing']['offered_rate']:g}/s (max start lag "
            f"{latency['pacing']['max_start_lag_ms']:.1f} ms)",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> tuple[BenchConfig, Path]:
    def options(parser: argparse.ArgumentParser, defaults: BenchConfig) -> None:
        parser.add_argument("--events", type=int, default=defaults.events)
        parser.add_argument("--duration", type=float, default=defaults.duration)
        parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
        parser.add_argument("--rate", type=float, default=defaults.rate, help="per second")
        parser.add_argument("--warmup", type=int, default=defaults.warmup)

    def invalid(args: argparse.Namespace) -> str | None:
        sizes = (args.events >= 2, args.concurrency >= 1, args.warmup >= 1)
        if not all(sizes) or args.duration <= 0 or args.rate <= 0:
            return (
                "need --events >= 2, --concurrency >= 1, --warmup >= 1, --duration > 0, --rate > 0"
            )
        return None

    return parse_bench_args(argv, __doc__, BenchConfig, DEFAULT_OUT, options, invalid)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(*parse_args(argv), run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(main())
