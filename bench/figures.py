"""The figures every benchmark reports and the load it paces them with: latency
quantiles, an open-loop schedule, the visibility estimator, the progress lines."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from bench.harness import every_second


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); q in [0, 1]."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "count": len(values_ms),
        "min": round(min(values_ms), 3),
        "median": round(percentile(values_ms, 0.5), 3),
        "p90": round(percentile(values_ms, 0.9), 3),
        "p99": round(percentile(values_ms, 0.99), 3),
        "max": round(max(values_ms), 3),
        "mean": round(sum(values_ms) / len(values_ms), 3),
    }


def ms(seconds: Sequence[float]) -> list[float]:
    return [round(s * 1000, 3) for s in seconds]


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


@dataclass(frozen=True)
class Poll:
    sent: float
    received: float
    count: int


def visibility_latencies(
    acks: Sequence[float], polls: Sequence[Poll], baseline: int
) -> tuple[list[float], list[float]]:
    """(latency_k, overshoot bound_k) in seconds for the acks in time order; see the
    estimator in the docstring of bench/skeleton_latency.py. Raises if the polls never
    show some appeal."""
    latencies: list[float] = []
    bounds: list[float] = []
    j = 0
    for k, ack in enumerate(sorted(acks), start=1):
        # the first poll qualifying for k+1 also qualifies for k: j never moves back
        while j < len(polls) and (polls[j].sent < ack or polls[j].count < baseline + k):
            j += 1
        if j == len(polls):
            raise ValueError(f"appeal {k} of {len(acks)} never visible in {len(polls)} polls")
        before = polls[j - 1].sent if j > 0 else polls[j].sent
        latencies.append(polls[j].received - ack)
        bounds.append(polls[j].received - max(ack, before))
    return latencies, bounds


# --- pacing and progress -----------------------------------------------------------------


@dataclass(frozen=True)
class Pacing:
    offered_rate: float  # starts per second actually achieved
    max_start_lag_ms: float  # worst lateness of a start against its schedule


async def open_loop(
    n: int, rate: float, action: Callable[[int], Coroutine[Any, Any, None]]
) -> Pacing:
    """Starts action(i) at t0 + i/rate, whether or not earlier ones finished; waits all."""
    tasks: list[asyncio.Task[None]] = []
    start = last = time.perf_counter()
    lag = 0.0
    try:
        for i in range(n):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            last = time.perf_counter()
            lag = max(lag, last - due)
            tasks.append(asyncio.create_task(action(i)))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    offered = (n - 1) / (last - start) if n > 1 and last > start else float(rate)
    return Pacing(round(offered, 2), round(lag * 1000, 3))


def progress(
    label: str, total: int, status: Callable[[], tuple[int, str]]
) -> contextlib.AbstractAsyncContextManager[None]:
    """Prints `label done/total rate/s extra` every second while the block runs."""
    start = time.perf_counter()

    def line() -> str:
        done, extra = status()
        rate = done / max(time.perf_counter() - start, 1e-9)
        return f"  {label:<9} {done:>6}/{total:<6} {rate:7.1f}/s  {extra}"

    return every_second(line)


def ticking(
    label: str, duration: float, status: Callable[[], str]
) -> contextlib.AbstractAsyncContextManager[None]:
    """Prints `label elapsed/duration status` every second while the block runs."""
    start = time.perf_counter()

    def line() -> str:
        of = f"/{duration:g}" if duration > 0 else ""
        return f"  {label:<8} {time.perf_counter() - start:5.1f}{of} s  {status()}"

    return every_second(line)
