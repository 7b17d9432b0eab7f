"""Three analytics workers share the six partitions: the merged /v1/counters on each is
the ground truth (and one worker's figures), and the recording rules that the real
Prometheus evaluates over their /metrics give exactly the city figures one worker
gives, before and after a rebalance (a worker stopped, then one added)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.monitoring import PrometheusServer
from minsheng.platform.services import ServiceProcess
from testkit.e2e.analytics import Workers, exact, publish
from testkit.integration.fixtures import start_kafka
from testkit.integration.helpers import eventually, free_port
from testkit.unit.workload import with_redeliveries, workload

pytestmark = pytest.mark.e2e

# every series the recording rules make of the analytics figures (deploy/prometheus/recording)
RECORDED = '{__name__=~"(city|district|district_level_year|level_year):.+"}'
Figures = dict[tuple[str, frozenset[tuple[str, str]]], str]


@pytest.fixture(scope="module")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KafkaBroker]:
    broker = await start_kafka(tmp_path_factory.mktemp("scale-out-analytics") / "kafka")
    yield broker
    await broker.stop()


async def recorded(prometheus: PrometheusServer) -> Figures:
    """Every recorded series Prometheus holds now, without its instance, by name."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{prometheus.url}/api/v1/query", params={"query": RECORDED})
    answer: dict[str, Any] = response.json()
    assert answer["status"] == "success", answer
    found: Figures = {}
    for series in answer["data"]["result"]:
        labels = dict(series["metric"])
        name = labels.pop("__name__")
        labels.pop("instance", None)
        found[name, frozenset(labels.items())] = series["value"][1]  # text: NaN == NaN
    return found


async def scraped(prometheus: PrometheusServer) -> int:
    """How many analytics targets Prometheus scrapes successfully now."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{prometheus.url}/api/v1/query", params={"query": 'sum(up{job="analytics"})'}
        )
    result = response.json()["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


async def same_city_figures(shared: PrometheusServer, alone: PrometheusServer, up: int) -> None:
    """The rules over the workers sharing the partitions (`up` of them scraped) give what
    they give over one worker holding them all."""
    await eventually(lambda: scraped(shared), lambda n: n == up, timeout=30, what=f"{up} up")

    async def both() -> tuple[Figures, Figures]:
        return await recorded(shared), await recorded(alone)

    many, _ = await eventually(
        both, lambda b: bool(b[0]) and b[0] == b[1], timeout=60, interval=1, what="same figures"
    )
    assert any(name.startswith("city:") for name, _ in many)


async def test_three_workers_give_one_workers_figures_through_a_rebalance(
    broker: KafkaBroker, tmp_path: Path
) -> None:
    w = workload(seed=41, appeals=300, projects=60, now=datetime.now(UTC), notifications=30)
    deliveries = with_redeliveries(random.Random(7), w.events, p=0.1)
    workers = Workers(broker.access(), tmp_path / "shared")
    solo = Workers(
        broker.access(),
        tmp_path / "solo",
        env={"MINSHENG_ANALYTICS_APP_ID": "minsheng-analytics-solo"},  # a group of its own
    )
    ports = [free_port() for _ in range(4)]  # three workers, and the one added later
    solo_port = free_port()
    shared = PrometheusServer(
        tmp_path / "prometheus-shared",
        free_port(),
        ports={"analytics": ports},
        interval="1s",
        log_file=tmp_path / "prometheus-shared.log",
    )
    alone = PrometheusServer(
        tmp_path / "prometheus-alone",
        free_port(),
        ports={"analytics": [solo_port]},
        interval="1s",
        log_file=tmp_path / "prometheus-alone.log",
    )
    running: list[ServiceProcess] = []
    try:
        one, *three = running = [solo.new(solo_port), *(workers.new(p) for p in ports[:3])]
        await asyncio.gather(*(process.start() for process in running))
        await asyncio.gather(shared.start(), alone.start())
        await publish(broker.access(), deliveries)
        await exact(w, [one.url])
        await exact(w, [p.url for p in three], timeout=90)  # merged on each: the truth
        await same_city_figures(shared, alone, up=3)

        await three[0].stop()  # a worker leaves: two share the six partitions
        await exact(w, [p.url for p in three[1:]], timeout=90)
        added = workers.new(ports[3])  # and one joins
        running.append(added)
        await added.start()
        now_three = [*three[1:], added]
        await exact(w, [p.url for p in now_three], timeout=90)
        await same_city_figures(shared, alone, up=3)
    finally:
        for process in running:
            await process.stop()
        for prometheus in (shared, alone):
            await prometheus.stop()
