"""Analytics workers as real processes against a real broker, for the integration tests
and benchmarks: publish a workload, read /metrics and /v1/counters, wait for the truth."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from minsheng.events import CONTENT_TYPE, CloudEvent
from minsheng.kafka import KafkaAccess
from minsheng.platform.services import ServiceProcess
from testkit.integration.helpers import eventually, free_port, publish_values
from testkit.unit.counters import Samples, expected_counters, metric_samples
from testkit.unit.workload import Workload, topic_of

PLUMBING = ("minsheng_events_processed_total", "minsheng_events_duplicate_total")


class Workers:
    """Starts analytics workers of one app (one consumer group) on a broker."""

    def __init__(self, kafka: KafkaAccess, folder: Path, env: dict[str, str] | None = None) -> None:
        self.kafka, self.folder = kafka, folder
        self.env = env or {}  # more settings of every worker
        self.started = 0

    def new(self, port: int | None = None) -> ServiceProcess:
        """A worker on `port` (a free one if None), not started."""
        self.started += 1
        port = port or free_port()
        env = {
            **self.kafka.env(),
            "MINSHENG_DATA_DIR": str(self.folder / "data"),
            "MINSHENG_ANALYTICS_ADVERTISED_URL": f"http://127.0.0.1:{port}",
            **self.env,
        }
        log = self.folder / f"analytics-{self.started}.log"
        return ServiceProcess("analytics", port, env, log_file=log)

    async def start(self, port: int | None = None) -> ServiceProcess:
        worker = self.new(port)
        await worker.start()
        return worker


async def publish(
    kafka: KafkaAccess, events: Iterable[CloudEvent], *, per_second: float | None = None
) -> None:
    """Each event to its domain topic, keyed by its subject, optionally paced."""
    producer = kafka.producer(acks="all", enable_idempotence=True)
    await producer.start()
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for i, event in enumerate(events):
            if per_second is not None:
                await asyncio.sleep(max(0.0, started + i / per_second - loop.time()))  # pacing
            await producer.send(
                topic_of(event),
                event.to_json(),
                key=event.key,
                headers=[("content-type", CONTENT_TYPE.encode())],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def poison(kafka: KafkaAccess, topic: str) -> None:
    """A record that is no JSON on `topic`: the workers dead-letter it, nothing counts it."""
    await publish_values(kafka, topic, [b"{not json"])


async def scrape(url: str) -> Samples:
    """The analytics metrics of docs/contract.md on one worker's /metrics."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{url}/metrics")).text
    return metric_samples(text_string_to_metric_families(text))


async def plumbing(url: str) -> Counter[str]:
    """Events applied and events skipped as not newer, in this process's life."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{url}/metrics")).text
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in PLUMBING:
                found[sample.name] += int(sample.value)
    return found


async def states_held(url: str) -> Counter[str]:
    """table -> the per-aggregate states the worker at `url` holds in memory."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{url}/metrics")).text
    return Counter(
        {
            sample.labels["table"]: int(sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "minsheng_analytics_states"
        }
    )


async def counters(url: str) -> dict[str, Any] | None:
    """GET /v1/counters without `as_of`, or None while the workers rebalance (503)."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/v1/counters")
    if response.status_code == 503:
        return None
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    body.pop("as_of", None)
    return body


async def summed(urls: Sequence[str]) -> Samples:
    """What `sum without(instance)` shows in Prometheus over these workers."""
    total: Samples = {}
    for samples in await asyncio.gather(*(scrape(url) for url in urls)):
        for name, values in samples.items():
            total.setdefault(name, Counter()).update(values)
    return total


async def exact(w: Workload, urls: Sequence[str], timeout: float = 60) -> None:
    """Waits until the workers' metrics add up to the workload's truth, then checks that
    /v1/counters on every one of them is the city's truth."""
    try:
        await eventually(
            lambda: summed(urls), lambda m: m == w.metrics, timeout=timeout, what="exact metrics"
        )
    except AssertionError as timed_out:
        seen = await summed(urls)
        differences = _differences(seen, w.metrics)
        raise AssertionError(f"metrics differ from the truth: {differences}") from timed_out
    expected = expected_counters(w)
    for url in urls:
        await eventually(
            lambda url=url: counters(url),  # type: ignore[misc]
            lambda c: c == expected,
            timeout=timeout,
            what=f"exact /v1/counters on {url}",
        )


def _differences(seen: Any, truth: Any) -> dict[str, Any]:
    """metric -> {labels: (seen, truth)} where they differ: what a failure should show."""
    return {
        name: {
            labels: (seen.get(name, {}).get(labels, 0), truth.get(name, {}).get(labels, 0))
            for labels in set(seen.get(name, {})) | set(truth.get(name, {}))
            if seen.get(name, {}).get(labels, 0) != truth.get(name, {}).get(labels, 0)
        }
        for name in set(seen) | set(truth)
        if seen.get(name) != truth.get(name)
    }


async def counted(workers: Workers, w: Workload, deliveries: Sequence[CloudEvent]) -> None:
    """A worker starts, the deliveries are published, the worker counts them exactly,
    and it stops (cleanly): the state the next step starts from."""
    worker = await workers.start()
    try:
        await publish(workers.kafka, deliveries)
        await exact(w, [worker.url])
    finally:
        await worker.stop()


async def load_under_way(
    workers: Workers, url: str, deliveries: Sequence[CloudEvent], per_second: float, part: int
) -> asyncio.Task[None]:
    """Starts publishing the deliveries at `per_second`; returns once the worker at `url`
    has applied more than 1/`part` of them (the load still running)."""
    load = asyncio.create_task(publish(workers.kafka, deliveries, per_second=per_second))
    await eventually(
        lambda: plumbing(url),
        lambda p: p["minsheng_events_processed_total"] > len(deliveries) // part,
        timeout=30,
        what=f"1/{part} of the load applied",
    )
    return load
