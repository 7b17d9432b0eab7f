"""Carries the simulated city's plan out over the platform's public HTTP APIs.

Everything the demo does, a hotline operator, a unit, a supervisor or a secretary could do
with a key: post appeals, accept, return, extend, resolve, call back, claim projects and
report milestones. The timers (reminders, overdue notices, missed milestones) are the
platform's own, running on the compressed clock.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import os
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from minsheng.demo import city
from minsheng.kafka import KafkaAccess
from minsheng.topics import INTAKE_APPEALS

Key = str


@dataclass(frozen=True)
class Urls:
    appeals: str = "http://127.0.0.1:8001"
    projects: str = "http://127.0.0.1:8002"
    analytics: str = "http://127.0.0.1:8004"


@dataclass(frozen=True)
class Keys:
    """Who acts: the dispatch centre (operator), units (system), a supervisor, per service."""

    operator: Key
    appeals_system: Key
    appeals_supervisor: Key
    projects_system: Key
    projects_supervisor: Key


async def create_key(service: str, role: str, env: dict[str, str] | None = None) -> Key:
    """A key made the way an operator makes one: the service's key CLI on its database."""
    binary = os.path.join(os.path.dirname(sys.executable), f"minsheng-{service}-keys")
    process = await asyncio.create_subprocess_exec(
        binary,
        *("create", "--role", role, "--name", f"demo {role}"),
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"{binary} failed: {err.decode().strip()}")
    return out.decode().strip()


async def bad_outside_event(kafka: KafkaAccess) -> None:
    """What a bureau's broken system might send: not a CloudEvent at all. The appeals intake
    dead-letters it and goes on, and the dead-letter panels and alert have something to show.
    Sent as an outside system: the intake topics are all such a principal may write."""
    producer = kafka.producer(acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(INTAKE_APPEALS, b'{"not": "a cloudevent"}', key=b"demo")
    finally:
        await producer.stop()


async def platform_ready(urls: Urls) -> list[str]:
    """The services that do not answer /readyz (empty when the platform is up)."""
    missing = []
    async with httpx.AsyncClient(timeout=3) as client:
        for name, url in (("appeals", urls.appeals), ("projects", urls.projects)):
            try:
                ok = (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.HTTPError:
                ok = False
            if not ok:
                missing.append(f"{name} ({url})")
    return missing


@dataclass
class Tally:
    """What the run did, for the progress bar and the summary."""

    appeals: int = 0
    projects: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # 4xx: e.g. already moved on
    failed: int = 0  # no answer, or 5xx
    clock_skew_seconds: float | None = None  # received_at of the first appeal - demo time


@dataclass(order=True)
class _Due:
    at: datetime
    order: int
    run: Callable[[], Any] = field(compare=False)


class City:
    """The simulated city on one platform: call `advance(now)` as simulated time passes."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: Urls,
        keys: Keys,
        *,
        seed: int,
        peak_rate: float,
        behaviour: city.Behaviour,
        concurrency: int = 8,
    ) -> None:
        self.client, self.urls, self.keys = client, urls, keys
        self.rng = random.Random(seed)
        self.peak_rate, self.behaviour = peak_rate, behaviour
        self.tally = Tally()
        self._due: list[_Due] = []
        self._order = itertools.count()
        self._limit = asyncio.Semaphore(concurrency)
        self._last: datetime | None = None

    def _schedule(self, at: datetime, run: Callable[[], Any]) -> None:
        heapq.heappush(self._due, _Due(at, next(self._order), run))

    async def _post(self, what: str, url: str, key: Key, body: dict[str, Any]) -> Any:
        """One request; a refusal (4xx) is counted and is no error of the demo."""
        async with self._limit:
            try:
                response = await self.client.post(
                    url, json=body, headers={"Authorization": f"Bearer {key}"}
                )
            except httpx.HTTPError:
                self.tally.failed += 1
                return None
        if response.status_code >= 500:
            self.tally.failed += 1
            return None
        if response.status_code >= 400:
            self.tally.refused[what] += 1
            return None
        self.tally.actions[what] += 1
        return response.json()

    async def claim_projects(self, start: datetime, days: float, count: int) -> None:
        for plan in city.projects(self.rng, start, days, count):
            claimed = await self._post(
                "claim", f"{self.urls.projects}/v1/projects", self.keys.operator, plan.claim
            )
            if claimed is None:
                continue
            self.tally.projects += 1
            for at, milestone in plan.reports:
                self._schedule(at, self._milestone(claimed["id"], milestone))
            url = f"{self.urls.projects}/v1/projects/{claimed['id']}/flags"
            for at, flag in plan.flags:
                post = functools.partial(
                    self._post, "flag", url, self.keys.projects_supervisor, flag
                )
                self._schedule(at, post)

    def _milestone(self, project_id: str, milestone: str) -> Callable[[], Any]:
        url = f"{self.urls.projects}/v1/projects/{project_id}/milestones"
        body = {"milestone_id": milestone, "status": "reached"}
        return lambda: self._post("milestone", url, self.keys.projects_system, body)

    def plan_surge(self, start: datetime) -> None:
        """The lagging district's burst of emergencies (see `city.surge`)."""
        for at, body in city.surge(self.rng, self.behaviour, start):
            self._schedule(at, functools.partial(self._receive, at, body))

    async def _receive(self, moment: datetime, body: dict[str, Any] | None = None) -> None:
        body = body or city.new_appeal(self.rng, moment, self.tally.appeals + 1)
        appeal = await self._post(
            "receive", f"{self.urls.appeals}/v1/appeals", self.keys.operator, body
        )
        if appeal is None:
            return
        self.tally.appeals += 1
        received = datetime.fromisoformat(appeal["received_at"])
        if self.tally.clock_skew_seconds is None:
            self.tally.clock_skew_seconds = (received - moment).total_seconds()
        if appeal.get("deadline") is None:
            return
        deadline = datetime.fromisoformat(appeal["deadline"])
        for step in city.handling(self.rng, self.behaviour, body["district"], received, deadline):
            self._schedule(step.at, self._step(appeal["id"], step))

    def _step(self, appeal_id: str, step: city.Step) -> Callable[[], Any]:
        key = {
            "dispatch": self.keys.operator,
            "callback": self.keys.operator,
            "extend": self.keys.appeals_supervisor,
        }.get(step.action, self.keys.appeals_system)
        url = f"{self.urls.appeals}/v1/appeals/{appeal_id}/{step.action}"
        return lambda: self._post(step.action, url, key, step.body)

    async def advance(self, now: datetime) -> None:
        """New callers since the last call, then every step that fell due, in time order."""
        work: list[Any] = []
        if self._last is not None:
            arriving = city.arrivals(self.rng, self._last, now, self.peak_rate)
            work += [self._receive(now) for _ in range(arriving)]
        self._last = now
        while self._due and self._due[0].at <= now:
            work.append(heapq.heappop(self._due).run())
        await asyncio.gather(*work)

    @property
    def pending(self) -> int:
        return len(self._due)
