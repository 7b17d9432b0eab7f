"""The four lists and community work days end to end, the services as real processes:
`minsheng-projects-load-lists` drives its plan through the projects API, and analytics
shows exactly the plan's figures on /v1/counters and /metrics, also after a `kill -9`
of the worker in the middle of the load and again after one at rest; the public listing
shows the 348 items."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from minsheng.platform.postgres import PostgresServer
from minsheng.platform.services import BIN
from minsheng.reference import pairings
from projects.load_lists import YEAR, figures, list_communities, visit_plan
from testkit.e2e.stack import Stack
from testkit.integration.helpers import eventually
from testkit.unit.counters import Samples, metric_samples

pytestmark = pytest.mark.e2e

PAIRINGS = 40  # of the 667: 480 visits, enough to kill the worker in the middle


@pytest.fixture
async def stack(tmp_path: Any, postgres: PostgresServer) -> AsyncIterator[Stack]:
    async with Stack(tmp_path, postgres.url, also=("projects",)) as s:
        await s.wait_ready()
        yield s


def expected_samples() -> Samples:
    """The work-day metrics the plan must produce, by (district, month[, kind])."""
    found: Samples = {
        name: Counter()
        for name in (
            "minsheng_workday_visits_total",
            "minsheng_workday_services_total",
            "minsheng_workday_appeals_solved_total",
            "minsheng_workday_goods_value_yuan_total",
        )
    }
    for pairing, body in visit_plan(PAIRINGS):
        at = (pairings()[pairing].community.district, body["visited_on"][:7])
        found["minsheng_workday_visits_total"][at] += 1
        for kind, n in body["services"].items():
            found["minsheng_workday_services_total"][(*at, kind)] += n
        if body["appeals_solved"]:
            found["minsheng_workday_appeals_solved_total"][at] += body["appeals_solved"]
        if body["goods_value_yuan"]:
            found["minsheng_workday_goods_value_yuan_total"][at] += body["goods_value_yuan"]
    return found


async def scrape(stack: Stack) -> Samples:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{stack.analytics.url}/metrics")).text
    return metric_samples(text_string_to_metric_families(text))


def exact(samples: Samples) -> bool:
    want = expected_samples()
    return all(samples[name] == counts for name, counts in want.items())


async def counters(stack: Stack) -> dict[str, Any]:
    try:
        return await stack.counters()
    except (httpx.HTTPError, ValueError):
        return {}  # restarting, or 503 while rebalancing


def all_counted(c: dict[str, Any]) -> bool:
    f = figures(PAIRINGS)
    city = c.get("city", {})
    return bool(
        city.get("workdays", {}).get("visits") == f["visits"]
        and city["lists"]["items"] == f["items"]
        and city["lists"]["satisfaction_responses"] == f["ratings"]
    )


async def check(stack: Stack) -> None:
    """Everything the plan says, on /v1/counters and /metrics."""
    f = figures(PAIRINGS)
    city = (await eventually(lambda: counters(stack), all_counted, timeout=60, what="loaded"))[
        "city"
    ]
    workdays = city["workdays"]
    assert {k: workdays[k] for k in ("services", "appeals_solved", "goods_value_yuan")} == {
        k: f[k] for k in ("services", "appeals_solved", "goods_value_yuan")
    }
    assert workdays["services_by_kind"] == f["services_by_kind"]
    assert workdays["missed"] == 0  # the pairings are watched from next month on
    assert [m["visits"] for m in workdays["by_month"].values()] == [PAIRINGS] * 12
    lists = city["lists"]["by_year"][str(YEAR)]
    assert {kind: v["items"] for kind, v in lists.items()} == f["items_by_kind"]
    statuses = Counter[str]()
    for v in lists.values():
        statuses.update({s: v[s] for s in f["items_by_status"]})
    assert dict(statuses) == f["items_by_status"]
    samples = await eventually(lambda: scrape(stack), exact, timeout=30, what="the metrics")
    by_status = Counter[str]()
    for (_, year, _, status), n in samples["minsheng_list_items"].items():
        assert year == str(YEAR)
        by_status[status] += n
    assert dict(by_status) == f["items_by_status"]
    rated = samples["minsheng_satisfaction_responses_total"]
    assert sum(n for (_, subject, _), n in rated.items() if subject == "list_item") == f["ratings"]
    assert samples["minsheng_workday_visits_missed_total"] == Counter()
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{stack.analytics.url}/metrics")).text
    dead = [
        s
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "minsheng_dead_letters_total" and s.value
    ]
    assert dead == [], "every list and work-day event has its place on the projects topic"


async def restart_analytics(stack: Stack) -> None:
    stack.analytics.kill()  # SIGKILL: no clean shutdown, no final commit
    await stack.analytics.process.wait()
    stack.analytics = stack.service("analytics")
    await stack.analytics.start()


async def test_the_loaded_lists_and_visits_are_counted_exactly_across_kill_9(stack: Stack) -> None:
    projects = stack.others["projects"]
    loader = await asyncio.create_subprocess_exec(
        str(BIN / "minsheng-projects-load-lists"),
        *("--url", projects.url, "--key", stack.api_key, "--pairings", str(PAIRINGS)),
        env={**os.environ, **stack.env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    await eventually(
        lambda: counters(stack),
        lambda c: c.get("city", {}).get("workdays", {}).get("visits", 0) > 0,
        timeout=60,
        what="the first visits counted",
    )
    assert loader.returncode is None, "the load ended before the kill: not mid-load"
    await restart_analytics(stack)
    out, _ = await asyncio.wait_for(loader.communicate(), timeout=300)
    assert loader.returncode == 0, out.decode()
    assert "the public lists show 348 items" in out.decode()
    await check(stack)

    await restart_analytics(stack)  # and at rest: the states come back from the changelog
    await check(stack)

    async with httpx.AsyncClient(base_url=projects.url, timeout=10) as public:  # no key
        listings = [
            (await public.get("/v1/lists", params={"community": c, "year": YEAR})).json()
            for c in list_communities()
        ]
    assert sum(listing["total"] for listing in listings) == figures(PAIRINGS)["items"] == 348
    statuses = Counter[str]()
    for listing in listings:
        statuses.update(listing["by_status"])
    assert dict(statuses) == figures(PAIRINGS)["items_by_status"]
