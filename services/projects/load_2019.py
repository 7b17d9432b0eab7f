"""`minsheng-projects-load-2019`: load Baicheng's 2019 ledger shape through the HTTP API.

The articles give the shape, not the projects: 474 secretary projects claimed in 2019,
280 done by September and 386 by early October (2019-10-10). This builds a deterministic
plan of that shape — across the five districts and all five levels and categories, each
with a two-step project book — and drives it through the public API exactly as units
would: claim, report progress, and complete with the day the work was done. Afterwards
`GET /v1/ledger?year=2019` shows 474 claimed, 386 completed, completion rate 81.4%.

    minsheng-projects-load-2019 --url http://127.0.0.1:8002 [--key KEY] [--concurrency 8]

The key defaults to `$MINSHENG_API_KEY`, else the development key `make up` wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, get_args

import httpx

from minsheng.events.projects import Level, ProjectCategory
from minsheng.reference import places, units

YEAR = 2019
CLAIMED, DONE_BY_SEPTEMBER, DONE_BY_OCTOBER = 474, 280, 386
AS_OF = date(2019, 10, 10)  # "early October": the day the 386 were counted
DISTRICTS = ("洮北区", "镇赉县", "通榆县", "洮南市", "大安市")
LEVELS: tuple[Level, ...] = get_args(Level)
CATEGORIES: tuple[ProjectCategory, ...] = get_args(ProjectCategory)
CITY_UNITS = ("市交通运输局", "市住建局", "市委宣传部", "市妇联", "市委组织部")
SUBJECTS = ("社区活动中心改造", "下水管网改造", "道路维修", "红色物业党支部", "社区读书中心")


@dataclass(frozen=True)
class Planned:
    """One project of the plan and what happened to it by 2019-10-10."""

    claim: dict[str, Any]
    completed_on: date | None  # None: not completed by AS_OF
    started: bool  # reported progress (in progress) by AS_OF


def _place_and_unit(i: int, district: str, level: Level) -> tuple[dict[str, Any], str]:
    streets = places().districts[district]
    local = [u.name for u in units().values() if u.district == district]
    offices = [u.name for u in units().values() if u.district == district and u.level == "street"]
    place: dict[str, Any] = {"district": district}
    if level in ("street", "community") and streets:
        street = sorted(streets)[i % len(streets)]
        place["street"] = street
        communities = streets[street]
        if level == "community" and communities:
            place["community"] = communities[i % len(communities)]
    if level in ("city", "department"):
        return place, CITY_UNITS[i % len(CITY_UNITS)]
    office = f"{place.get('street', '')}办事处"  # 明仁街道 -> 明仁街道办事处
    return place, office if office in offices else local[0]


def plan() -> list[Planned]:
    """The 474 projects, deterministic: the first 280 done by 2019-08-31, the next 106 by
    2019-10-10, of the remaining 88 two thirds under way and the rest not yet started."""
    projects = []
    for i in range(CLAIMED):
        district = DISTRICTS[i % len(DISTRICTS)]
        level = LEVELS[(i // len(DISTRICTS)) % len(LEVELS)]
        category = CATEGORIES[(i // 3) % len(CATEGORIES)]
        start = date(YEAR, 3, 1) + timedelta(days=i % 45)
        end = date(YEAR, 7, 31) + timedelta(days=(i * 7) % 150)  # 2019-07-31 .. 2019-12-27
        place, unit = _place_and_unit(i, district, level)
        claim = {
            "secretary": {
                "name": f"书记{i + 1:03d}",
                "organisation": f"{unit}党组织",
                "level": level,
            },
            "year": YEAR,
            "title": f"{district}{SUBJECTS[i % len(SUBJECTS)]}（{i + 1:03d}）",
            "category": category,
            **place,
            "unit": unit,
            "planned_start": start.isoformat(),
            "planned_end": end.isoformat(),
            "milestones": [
                {
                    "title": "方案与启动",
                    "due": (start + timedelta(days=30)).isoformat(),
                    "weight": 1,
                },
                {"title": "完工交付", "due": end.isoformat(), "weight": 3},
            ],
        }
        if i < DONE_BY_SEPTEMBER:
            done: date | None = min(date(YEAR, 5, 1) + timedelta(days=i % 120), date(YEAR, 8, 31))
        elif i < DONE_BY_OCTOBER:
            done = date(YEAR, 9, 1) + timedelta(days=i % 40)  # up to 2019-10-10
        else:
            done = None
        projects.append(Planned(claim, done, started=done is not None or i % 3 != 0))
    return projects


@dataclass(frozen=True)
class Loaded:
    claimed: int
    completed: int
    seconds: float
    requests: int


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    if response.status_code >= 300:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
    found: dict[str, Any] = response.json()
    return found


async def load(client: httpx.AsyncClient, concurrency: int = 8) -> Loaded:
    """Drives the plan through the API of `client` (base URL and key set); one project's
    calls run in order, `concurrency` projects at a time."""
    gate = asyncio.Semaphore(concurrency)
    requests = 0

    async def one(item: Planned) -> bool:
        nonlocal requests
        async with gate:
            project = await _post(client, "/v1/projects", item.claim)
            requests += 1
            if not item.started:
                return False
            path = f"/v1/projects/{project['id']}"
            await _post(client, f"{path}/progress", {"progress": 60, "note": "按计划推进"})
            requests += 1
            if item.completed_on is None:
                return False
            await _post(client, f"{path}/complete", {"completed_on": item.completed_on.isoformat()})
            requests += 1
            return True

    started = time.perf_counter()
    results = await asyncio.gather(*(one(item) for item in plan()))
    return Loaded(CLAIMED, sum(results), time.perf_counter() - started, requests)


def _default_key() -> str | None:
    path = Path(os.environ.get("MINSHENG_DATA_DIR", ".data")) / "dev-api-key"
    return os.environ.get("MINSHENG_API_KEY") or (
        path.read_text().strip() if path.exists() else None
    )


async def _main(url: str, key: str, concurrency: int) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        done = await load(client, concurrency)
        ledger = (await client.get("/v1/ledger", params={"year": YEAR})).json()["total"]
    print(
        f"loaded {done.claimed} projects ({done.completed} completed) with {done.requests}"
        f" requests in {done.seconds:.1f}s; ledger {YEAR}: {ledger['claimed']} claimed,"
        f" {ledger['completed']} completed, completion rate {ledger['completion_rate']}%"
    )
    return 0


def loader_cli(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The options every loader takes: the projects service, the API key, concurrency."""
    cli = argparse.ArgumentParser(prog=prog, description=description)
    cli.add_argument("--url", default="http://127.0.0.1:8002")
    cli.add_argument("--key", default=_default_key())
    cli.add_argument("--concurrency", type=int, default=8)
    return cli


def loader_args(cli: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed options, refused without an API key."""
    args = cli.parse_args(argv)
    if not args.key:
        cli.error("no API key: give --key or set MINSHENG_API_KEY")
    return args


def main(argv: list[str] | None = None) -> int:
    args = loader_args(loader_cli("minsheng-projects-load-2019", __doc__), argv)
    return asyncio.run(_main(args.url, args.key, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
