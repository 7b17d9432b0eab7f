"""The platform with every HTTP service as several processes, each on its own port, on
one database per service and one consumer group per consumer: what a city runs behind
a load balancer. It runs on the broker or cluster it is given (`Brokers`).

    async with ScaledStack(folder, postgres.url, kafka=broker, instances=2) as stack:
        stack.replicas["appeals"]  # two processes of minsheng-appeals
"""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from minsheng.platform.services import ServiceProcess
from testkit.e2e.notifying import NotifyingStack
from testkit.e2e.stack import Brokers

SCALED = ("appeals", "projects", "notifications")


class ScaledStack(NotifyingStack):
    """`instances` processes each of appeals, projects and notifications (`replicas`),
    the dev sinks; analytics is left to `testkit.e2e.analytics.Workers`."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        *,
        kafka: Brokers,
        instances: int = 2,
        env: dict[str, str] | None = None,
        notifications: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            folder,
            database_url,
            kafka=kafka,
            env=env,
            notifications=notifications,
            also=("projects",),
        )
        first = {"appeals": self.appeals, "projects": self.others["projects"]}
        first["notifications"] = self.notifications
        self.replicas: dict[str, list[ServiceProcess]] = {
            name: [first[name], *(self.service(name) for _ in range(instances - 1))]
            for name in SCALED
        }

    @property
    def services(self) -> list[ServiceProcess]:
        return [process for processes in self.replicas.values() for process in processes]

    async def replace(self, name: str, index: int) -> ServiceProcess:
        """A new process in place of instance `index` of `name` (after a kill), started."""
        process = self.service(name)
        await process.start()
        self.replicas[name][index] = process
        return process


async def metric(url: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric on a process's /metrics, by their labels."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{url}/metrics")).text
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def leaders(processes: list[ServiceProcess]) -> list[bool]:
    """Whether each process's outbox relay is the one publishing now."""
    found = []
    for process in processes:
        samples = await metric(process.url, "minsheng_outbox_relay_leader")
        found.append(any(value == 1 for value in samples.values()))
    return found


async def partitions_held(processes: list[ServiceProcess], topic: str) -> list[set[int]]:
    """The partitions of `topic` each process consumes now: a consumer exports the lag
    of the partitions it holds, and only of those (`minsheng_consumer_lag`)."""
    held = []
    for process in processes:
        samples = await metric(process.url, "minsheng_consumer_lag")
        held.append({int(dict(k)["partition"]) for k in samples if dict(k)["topic"] == topic})
    return held
