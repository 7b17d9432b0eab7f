"""Skeleton latency: how long after its HTTP 201 an appeal shows in the analytics counter,
as a ratio to the raw Kafka ceiling measured on the same machine in the same run.

    .venv/bin/python bench/skeleton_latency.py [--appeals 1000] [--rate 50] [--out PATH]

One run, loopback only, everything private and in a temporary folder: a PostgreSQL server
(fsync, synchronous_commit and full_page_writes on: production durability), a Kafka
broker with the platform's topics, and the `appeals` and `analytics` services as real
processes (outbox poll interval 1.0 s, the default; the relay is woken by NOTIFY anyway).

Raw ceiling. N small messages, keyed like appeals, on a scratch topic with as many
partitions as `minsheng.appeals.v1`, produced with aiokafka (`acks=all`, idempotent, as the
outbox relay does, but `linger_ms=0`) on the same open-loop schedule as the skeleton, and
consumed by an aiokafka consumer assigned to every partition. Latency of message i =
the moment the consumer hands it over − the moment just before `send` was called.

Skeleton. N appeals are POSTed on an open-loop schedule: request i starts at t0 + i/rate
whether or not earlier ones have answered. For each we keep the moment its 201 arrived
(its ack, A). One poller task reads GET /v1/counters (`city.received`) over one keep-alive
connection as often as it can, one request at a time, at most every `--poll-interval`,
recording for each poll j the moment it was sent (S_j), answered (R_j) and the count C_j.

Estimator of "visible". Sort the accepted appeals by A: A_1 <= A_2 <= ... <= A_M, and let
C0 be the count just before the first measured appeal was sent (after the warm-up was
counted). Then

    V_k = min { R_j : S_j >= A_k and C_j >= C0 + k },     latency_k = V_k − A_k.

- Why C0 + k: the counter is monotonic and only this benchmark writes. By A_k, k appeals
  had been acknowledged, so "the counter reflects appeal k" is read as "the counter
  reflects as many appeals as had been acknowledged when appeal k was". This is exact
  when appeals become visible in the order their 201s arrived. When the pipeline
  reorders them (six partitions, concurrent requests) it matches the k-th visibility to
  the k-th acknowledgement; the sum, hence the mean, of the latencies is unchanged by
  that matching, the quantiles are those of the matched pairs.
- Why S_j >= A_k: only a read that starts after the 201 arrived counts, as for a client
  that reads its own write. Every latency is therefore positive, even in the rare case
  where the counter already had the appeal before its 201 reached us.
- Poll quantisation. The first instant c_k after A_k at which the count is >= C0 + k lies
  after max(A_k, S_{j−1}) (poll j−1 did not qualify) and no later than R_j (poll j did),
  so V_k is an upper bound that overshoots by less than R_j − max(A_k, S_{j−1}): about
  one poll cycle (the interval between polls plus one round trip). The achieved poll
  cycle and this bound are reported, per appeal (median, max), and so is the matching
  lower bound max(A_k, S_{j−1}) − A_k: the true latency of each appeal lies between the
  two, and so do the true quantiles. The headline figures are the upper bounds.

All timestamps are `time.perf_counter()` in this one process. The poller itself loads the
analytics process (one request per poll cycle), which is part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiokafka
import httpx

from bench.ceilings import kafka_ceiling
from bench.figures import Poll, progress, visibility_latencies

# re-exported: the notifications benchmark takes these from here (they live in
# bench.figures and bench.harness, which every benchmark shares)
from bench.figures import ms as ms
from bench.figures import open_loop as open_loop
from bench.figures import summarize as summarize
from bench.harness import Cli, running_stack
from bench.harness import kafka_version as kafka_version
from bench.harness import parse_bench_args as parse_bench_args
from bench.harness import run_cli as run_cli
from testkit.e2e.stack import Stack, random_appeals
from testkit.integration.helpers import eventually

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "skeleton_latency.json"
SEED = 2024


@dataclass(frozen=True)
class BenchConfig:
    appeals: int = 1000
    rate: float = 50.0  # requests (and raw messages) started per second, open loop
    warmup: int = 10  # appeals / messages sent first and left out of the figures
    poll_interval: float = 0.005  # the poller's target interval between polls
    outbox_poll_interval: float = 1.0
    drain_timeout: float = 120.0  # for everything sent to become visible
    keep: bool = False  # keep the temporary folder (logs) instead of deleting it


# --- skeleton ------------------------------------------------------------------------------


class CounterPoller:
    """Reads city.received one request at a time, at most every `interval` seconds."""

    def __init__(self, client: httpx.AsyncClient, interval: float) -> None:
        self.client = client
        self.interval = interval
        self.polls: list[Poll] = []

    async def poll(self) -> Poll:
        sent = time.perf_counter()
        response = await self.client.get("/v1/counters")
        received = time.perf_counter()
        response.raise_for_status()
        return Poll(sent, received, int(response.json()["city"]["received"]))

    async def run(self) -> None:
        while True:
            poll = await self.poll()
            self.polls.append(poll)
            delay = poll.sent + self.interval - time.perf_counter()
            await asyncio.sleep(max(delay, 0.0))

    @property
    def count(self) -> int:
        return self.polls[-1].count if self.polls else -1


@dataclass
class Post:
    sent: float = 0.0
    acked: float | None = None
    status: int = 0  # HTTP status; -1 for a transport error


async def measure_skeleton(stack: Stack, config: BenchConfig) -> dict[str, Any]:
    bodies = random_appeals(config.warmup + config.appeals, seed=SEED)
    warm, measured = bodies[: config.warmup], bodies[config.warmup :]
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=100)
    writer = httpx.AsyncClient(
        base_url=stack.appeals.url, headers=stack.headers, timeout=30, limits=limits
    )
    reader = httpx.AsyncClient(base_url=stack.analytics.url, timeout=5)
    poller = CounterPoller(reader, config.poll_interval)
    posts = [Post() for _ in measured]

    async def post(i: int) -> None:
        posts[i].sent = time.perf_counter()
        try:
            response = await writer.post("/v1/appeals", json=measured[i])
        except httpx.HTTPError:
            posts[i].status = -1
            return
        posts[i].status = response.status_code
        if response.status_code == 201:
            posts[i].acked = time.perf_counter()

    async def counted(target: int, what: str, watch: asyncio.Task[None] | None) -> None:
        async def count() -> int:
            if watch is None:
                return (await poller.poll()).count
            if watch.done():
                watch.result()  # re-raises what stopped the poller
            return poller.count

        await eventually(
            count, lambda c: c >= target, timeout=config.drain_timeout, interval=0.01, what=what
        )

    watch: asyncio.Task[None] | None = None
    try:
        start_count = (await poller.poll()).count
        for body in warm:
            response = await writer.post("/v1/appeals", json=body)
            if response.status_code != 201:
                raise RuntimeError(
                    f"warm-up appeal refused: {response.status_code} {response.text}"
                )
        await counted(start_count + len(warm), "warm-up counted", None)

        watch = asyncio.create_task(poller.run())
        await counted(0, "first poll", watch)
        baseline = poller.count

        def status() -> tuple[int, str]:
            acked = sum(1 for p in posts if p.acked is not None)
            return sum(
                1 for p in posts if p.sent
            ), f"{acked} acked, counter +{poller.count - baseline}"

        async with progress("skeleton", config.appeals, status):
            pacing = await open_loop(config.appeals, config.rate, post)
            accepted = sum(1 for p in posts if p.acked is not None)
            await counted(baseline + accepted, f"{accepted} appeals counted", watch)
    finally:
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        await writer.aclose()
        await reader.aclose()

    acks = [p.acked for p in posts if p.acked is not None]
    latencies, bounds = visibility_latencies(acks, poller.polls, baseline)
    lower = [latency - bound for latency, bound in zip(latencies, bounds, strict=True)]
    http = ms([p.acked - p.sent for p in posts if p.acked is not None])
    first = min(p.sent for p in posts)
    during = [poll for poll in poller.polls if poll.sent >= first]
    intervals = ms([b.sent - a.sent for a, b in pairwise(during)])
    round_trips = ms([p.received - p.sent for p in during])
    return {
        "posted": len(posts),
        "accepted": len(acks),
        "refused": {str(s): sum(1 for p in posts if p.status == s) for s in _refusals(posts)},
        "counted": poller.count - baseline,
        "pacing": asdict(pacing),
        "visible_after_201_ms": summarize(ms(latencies)),
        "visible_after_201_lower_bound_ms": summarize(ms(lower)),
        "http_201_ms": summarize(http),
        "poll": {
            "target_interval_ms": config.poll_interval * 1000,
            "polls": len(during),
            "interval_ms": summarize(intervals),
            "round_trip_ms": summarize(round_trips),
            "overshoot_bound_ms": summarize(ms(bounds)),
        },
        "samples_ms": {"visible_after_201": ms(latencies), "http_201": http},
    }


def _refusals(posts: Sequence[Post]) -> list[int]:
    return sorted({p.status for p in posts if p.status != 201})


# --- the run -------------------------------------------------------------------------------


async def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    """Starts everything in a temporary folder, measures raw then skeleton, stops all."""

    def make_stack(folder: Path, url: str) -> Stack:
        return Stack(folder, url, outbox_poll_interval=config.outbox_poll_interval)

    async with running_stack("minsheng-bench-", make_stack, keep=config.keep) as run:
        stack = run.stack
        print(
            f"Kafka {kafka_version()} on {stack.kafka.bootstrap}; appeals {stack.appeals.url}, "
            f"analytics {stack.analytics.url} (outbox poll interval "
            f"{config.outbox_poll_interval:g}s)",
            flush=True,
        )
        print(f"raw ceiling: {config.appeals} messages at {config.rate:g}/s", flush=True)
        raw = await kafka_ceiling(
            stack.kafka.access(),
            messages=config.appeals,
            rate=config.rate,
            warmup=config.warmup,
            drain_timeout=config.drain_timeout,
        )
        print(f"skeleton: {config.appeals} appeals at {config.rate:g}/s", flush=True)
        skeleton = await measure_skeleton(stack, config)
    raw_ms, skeleton_ms = raw["latency_ms"], skeleton["visible_after_201_ms"]
    return {
        "benchmark": "skeleton_latency",
        "started_at": run.started_at.isoformat(),
        "config": asdict(config),
        "environment": run.environment(aiokafka=aiokafka.__version__, kafka=kafka_version()),
        "raw": raw,
        "skeleton": skeleton,
        "ratio": {
            "p50": round(skeleton_ms["median"] / raw_ms["median"], 2),
            "p99": round(skeleton_ms["p99"] / raw_ms["p99"], 2),
        },
    }


def format_summary(result: dict[str, Any]) -> str:
    config, env = result["config"], result["environment"]
    raw, skeleton, ratio = result["raw"], result["skeleton"], result["ratio"]
    poll = skeleton["poll"]
    columns = ("count", "median", "p90", "p99", "max")

    def row(label: str, figures: dict[str, float]) -> str:
        cells = [f"{figures['count']:>6}"] + [f"{figures[c]:>9.2f}" for c in columns[1:]]
        return f"{label:<34}" + "".join(cells)

    load = "{:.2f} -> {:.2f}".format(env["load_average_before"][0], env["load_average_after"][0])
    return "\n".join(
        [
            "",
            f"skeleton latency: {config['appeals']} appeals at {config['rate']:g}/s, open loop, "
            f"loopback; {env['cpus']} CPUs, load average (1 min) {load}",
            f"{'(milliseconds)':<34}{'n':>6}" + "".join(f"{c:>9}" for c in columns[1:]),
            row("raw Kafka produce -> consume", raw["latency_ms"]),
            row("skeleton 201 -> counter visible", skeleton["visible_after_201_ms"]),
            row("  lower bound (poll quantisation)", skeleton["visible_after_201_lower_bound_ms"]),
            row("HTTP POST /v1/appeals -> 201", skeleton["http_201_ms"]),
            f"{'ratio skeleton / raw':<34}{'':>6}{ratio['p50']:>8.2f}x{'':>9}{ratio['p99']:>8.2f}x"
            "   (p50, p99)",
            "",
            f"appeals posted {skeleton['posted']}, accepted (201) {skeleton['accepted']}, "
            f"counted {skeleton['counted']}; refused {skeleton['refused'] or 'none'}",
            f"offered rate: raw {raw['pacing']['offered_rate']:g}/s "
            f"(max start lag {raw['pacing']['max_start_lag_ms']:.1f} ms), skeleton "
            f"{skeleton['pacing']['offered_rate']:g}/s "
            f"(max start lag {skeleton['pacing']['max_start_lag_ms']:.1f} ms)",
            f"counter polls: {poll['polls']}, interval median {poll['interval_ms']['median']:.2f} "
            f"ms (p99 {poll['interval_ms']['p99']:.2f}, target {poll['target_interval_ms']:g}), "
            f"round trip median {poll['round_trip_ms']['median']:.2f} ms",
            f"visibility is an upper bound, over by less than "
            f"{poll['overshoot_bound_ms']['median']:.2f} ms (median; max "
            f"{poll['overshoot_bound_ms']['max']:.2f} ms); the truth is between the two rows",
        ]
    )


def _invalid(args: argparse.Namespace) -> str | None:
    if args.appeals < 2 or args.rate <= 0 or args.warmup < 0 or args.poll_interval < 0:
        return "need --appeals >= 2, --rate > 0, --warmup >= 0, --poll-interval >= 0"
    return None


OPTIONS = {"appeals": None, "rate": "per second", "warmup": None, "poll_interval": None}
CLI = Cli(__doc__, BenchConfig, DEFAULT_OUT, OPTIONS, _invalid, run_benchmark, format_summary)


if __name__ == "__main__":
    sys.exit(CLI.main())
