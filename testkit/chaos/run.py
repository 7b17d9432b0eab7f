"""One run of the fault suite: the platform up, the demo's city as the load, every fault
in turn with load before, during and after it, then the checks at quiescence.

The load is `minsheng.demo`'s simulated city over the public HTTP APIs, on the demo's
compressed clock: appeals arrive at a bounded rate (`rate` per simulated hour at the
busiest hour, `speed` simulated seconds per second) and are walked through their
lifecycles by the units, the dispatch centre and the supervisor; projects are claimed
and report their milestones. Every request is recorded (when, what, the status).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from minsheng.clock import Anchor, read_anchor, write_anchor
from minsheng.demo import city
from minsheng.demo.cli import TICK, start_of_demo
from minsheng.demo.driver import City, Keys, Urls, create_key
from minsheng.platform.kafka import KafkaCluster
from minsheng.platform.services import ServiceProcess
from testkit.chaos import checks, cluster
from testkit.chaos.platform import Platform
from testkit.chaos.report import (
    CLUSTER_KINDS,
    Fault,
    Findings,
    Kind,
    Request,
    Row,
    Window,
    attribute,
    cluster_plan,
    plan,
    rows,
)
from testkit.integration.helpers import eventually

CREATED = ("/v1/appeals", "/v1/projects")


@dataclass(frozen=True)
class Options:
    folder: Path
    calm: float = 20.0  # seconds of load before the first fault and after each recovery
    broker_outage: float = 60.0
    postgres_outage: float = 5.0
    speed: float = 720.0  # simulated seconds per second
    rate: float = 12.0  # appeals per simulated hour at the peak hour
    projects: int = 10
    seed: int = 1
    recover_timeout: float = 180.0
    quiesce_timeout: float = 240.0
    log: Callable[[str], None] = print
    brokers: int = 1  # more: a cluster, and its broker faults instead of the others
    cluster_faults: tuple[Kind, ...] = CLUSTER_KINDS


class Recorder(httpx.AsyncBaseTransport):
    """The load's transport: records every request, and the ids its 201s created."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.clock = clock
        self.requests: list[Request] = []
        self.created: dict[str, list[str]] = {path: [] for path in CREATED}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        try:
            response = await self.inner.handle_async_request(request)
        except Exception:
            self.requests.append(Request(self.clock(), request.method, path, 0))
            raise
        self.requests.append(Request(self.clock(), request.method, path, response.status_code))
        if response.status_code == 201 and request.method == "POST" and path in CREATED:
            body = await response.aread()
            self.created[path].append(json.loads(body)["id"])
            return httpx.Response(201, headers=response.headers, content=body)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Outcome:
    table: list[Row]
    findings: Findings
    windows: list[Window]
    requests: list[Request] = field(default_factory=list)
    created: dict[str, list[str]] = field(default_factory=dict)  # POST path -> ids


class Load:
    """The city, advanced every TICK until stopped."""

    def __init__(self, platform: Platform, keys: Keys, options: Options, clock: Any) -> None:
        self.recorder = Recorder(clock)
        self.client = httpx.AsyncClient(transport=self.recorder, timeout=10)
        services = platform.services
        urls = Urls(services["appeals"].url, services["projects"].url, services["analytics"].url)
        self.town = City(
            self.client,
            urls,
            keys,
            seed=options.seed,
            peak_rate=options.rate,
            behaviour=city.Behaviour(),
            concurrency=8,
        )
        self.clock_file = platform.clock_file
        start = start_of_demo(datetime.now(UTC))
        self.anchor = Anchor(time.time(), start, options.speed)
        write_anchor(self.clock_file, self.anchor)
        self.start, self.options = start, options
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def begin(self) -> None:
        await self.town.claim_projects(self.start, days=30, count=self.options.projects)
        self._task = asyncio.create_task(self._drive(), name="chaos-load")

    async def _drive(self) -> None:
        while not self._stop.is_set():
            await self.town.advance(self.anchor.at(time.time()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK):  # pacing the city to its clock
                    await self._stop.wait()

    async def end(self) -> None:
        """Stops the load; the platform's clock runs at normal speed from where it got."""
        self._stop.set()
        if self._task is not None:
            await self._task
        write_anchor(self.clock_file, Anchor(time.time(), self.anchor.at(time.time()), 1.0))
        await self.client.aclose()


async def keys_for(platform: Platform) -> Keys:
    env = platform.stack.env
    return Keys(
        operator=platform.stack.api_key,
        appeals_system=await create_key("appeals", "system", env),
        appeals_supervisor=await create_key("appeals", "supervisor", env),
        projects_system=await create_key("projects", "system", env),
        projects_supervisor=await create_key("projects", "supervisor", env),
    )


async def inject(platform: Platform, fault: Fault, window: Window, loop_time: Any) -> None:
    """The fault itself; `window.ended` when the service is dead or the server back."""
    if fault.kind in CLUSTER_KINDS:
        await cluster.inject(platform, _cluster(platform), fault, window, loop_time)
        return
    if fault.kind == "kill":
        service = platform.services[fault.target]
        pid = service.process.pid
        service.kill()
        await eventually(
            lambda: _restarted(service, pid),
            bool,
            timeout=60,
            interval=0.1,
            what=f"{fault.target} restarted by its supervisor",
        )
    elif fault.kind == "broker":
        await platform.broker_outage(fault.outage)
    else:
        await platform.postgres_restart(fault.outage)
    window.ended = loop_time()


def _cluster(platform: Platform) -> KafkaCluster:
    kafka = platform.stack.kafka
    assert isinstance(kafka, KafkaCluster), "cluster faults need Options(brokers=3)"
    return kafka


def faults_of(platform: Platform, options: Options) -> list[Fault]:
    if options.brokers > 1:
        return cluster_plan(options.brokers, options.broker_outage, options.cluster_faults)
    return plan(list(platform.services), options.broker_outage, options.postgres_outage)


async def _restarted(service: ServiceProcess, pid: int) -> bool:
    """The supervisor started a new process (not yet ready, maybe)."""
    proc = service.process.proc
    return proc is not None and proc.pid != pid


async def run(options: Options) -> Outcome:
    loop = asyncio.get_running_loop()
    wall_offset = time.time() - loop.time()
    platform = Platform(options.folder, options.brokers)
    await platform.start()
    windows: list[Window] = []
    try:
        if options.brokers > 1:
            await cluster.prepare(_cluster(platform))
        load = Load(platform, await keys_for(platform), options, loop.time)
        await load.begin()
        faults = faults_of(platform, options)
        try:
            for fault in faults:
                await _calm(options.calm)
                options.log(f"fault: {fault.name}")
                window = Window(fault, injected=loop.time())
                windows.append(window)
                await inject(platform, fault, window, loop.time)
                assert window.ended is not None
                ended = datetime.fromtimestamp(window.ended + wall_offset, UTC)
                await eventually(
                    lambda ended=ended: platform.recovered(ended),  # type: ignore[misc]
                    bool,
                    timeout=options.recover_timeout,
                    interval=0.2,
                    what=f"recovered from {fault.name}",
                )
                window.recovered = loop.time()
                options.log(f"  recovered in {window.recovery_seconds:.1f} s")
                if fault.kind in CLUSTER_KINDS:
                    await cluster.restore(_cluster(platform), fault, window, loop.time)
                    options.log(f"  {window.note}")
            await _calm(options.calm)
        finally:
            await load.end()
        options.log("load stopped; waiting for quiescence and checking")
        kills = [
            w.injected + wall_offset
            for w in windows
            if w.fault.kind == "kill" and w.fault.target == "notifications"
        ]
        findings, created = await quiesce_and_check(platform, load, options, kills)
        requests = load.recorder.requests
        table = rows(windows, requests)
        in_loop = {k: v.timestamp() - wall_offset for k, v in created.items()}
        attribute(table, windows, in_loop, findings)
        broker = [w for w in windows if w.fault.kind in ("broker", *CLUSTER_KINDS)]
        for w in broker:
            during = [r for r in requests if w.holds(r.at)]
            if any(r.failed for r in during) or not any(r.accepted for r in during):
                findings.fail(f"the APIs did not answer throughout the {w.fault.name}")
            if w.unsafe:
                findings.fail(f"{w.unsafe} writes acknowledged without a quorum: {w.note}")
        return Outcome(table, findings, windows, requests, load.recorder.created)
    finally:
        await platform.stop()


async def _calm(seconds: float) -> None:
    await asyncio.sleep(seconds)  # load running without a fault: the length of a phase


async def quiesce_and_check(
    platform: Platform, load: Load, options: Options, kills: Sequence[float]
) -> tuple[Findings, dict[str, datetime]]:
    """Waits until nothing is left to publish and analytics equals the truth, then checks
    every invariant once more. Returns what it found, and when each event and delivery
    was written (to charge a loss or a duplicate to the fault it happened under)."""
    f = Findings()
    await eventually(
        platform.backlog, lambda n: n == 0, timeout=options.quiesce_timeout, what="outboxes empty"
    )
    url = platform.services["analytics"].url

    async def compared() -> tuple[bool, str]:
        rows = await checks.outbox(platform)
        expected, metrics = checks.truth(rows, _platform_now(platform, datetime.now(UTC)))
        seen, samples = await checks.analytics_views(url)
        sql = await checks.received_by_sql(platform)
        got = await platform.stack.received_metric()
        problems = []
        if seen != expected:
            problems.append(f"/v1/counters differ: {_diff(seen or {}, expected)}")
        if samples != metrics:
            names = set(samples) | set(metrics)
            differ = sorted(n for n in names if samples.get(n) != metrics.get(n))
            problems.append(f"/metrics differ from the truth: {differ}")
        if +got != +sql:
            problems.append(f"received_total differs from SQL: {got - sql} / {sql - got}")
        return not problems, "; ".join(problems)

    try:
        await eventually(
            compared, lambda r: r[0], timeout=options.quiesce_timeout, interval=1.0, what="exact"
        )
    except AssertionError:
        f.fail((await compared())[1])
    rows = await checks.outbox(platform)
    copies = await checks.topic_copies(platform.stack.kafka.access())
    checks.check_events(f, rows, copies, load.recorder.created)
    await checks.check_stored(f, platform, load.recorder.created)
    await eventually(
        lambda: _deliveries_due(platform),
        lambda n: n == 0,
        timeout=options.quiesce_timeout,
        what="no delivery due",
    )
    written = await checks.check_deliveries(f, platform, kills)
    return f, {**{r.event_id: r.created_at for r in rows}, **written}


def _platform_now(platform: Platform, now: datetime) -> datetime:
    """The platform's time (the load's clock file, now at normal speed)."""
    anchor = read_anchor(platform.clock_file)
    return anchor.at(now.timestamp()) if anchor else now


async def _deliveries_due(platform: Platform) -> int:
    rows = await platform.fetch(
        "notifications",
        "SELECT count(*) AS n FROM deliveries WHERE status = 'pending'"
        " AND coalesce(deferred_until, next_attempt_at) < now() + interval '10 seconds'",
    )
    return int(rows[0]["n"])


def _diff(seen: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (seen.get(k), expected.get(k))
        for k in set(seen) | set(expected)
        if seen.get(k) != expected.get(k)
    }
