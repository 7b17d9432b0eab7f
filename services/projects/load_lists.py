"""`minsheng-projects-load-lists`: load the shape of the articles' four lists and community
work days through the HTTP API.

The articles give the shape: 667 city units paired with 102 communities, each visiting
once a month (the pairings are the reference data's, `workdays.yaml`), and a county's
four lists (四项清单) of 348 items. This builds a deterministic plan of that shape for
2019 and drives it through the public API as units and community staff would:

* a visit a month for each pairing (all 667, or the first `--pairings`): 21 cadres,
  a Party lesson on every 28th visit, help pairings on three visits in eight, a
  volunteer service on every fifth, an appeal solved on the spot on every seventh and
  goods worth 3,000 yuan on every tenth (counted in the order of the plan);
* Taonan's (洮南市) lists: 348 items on twelve of its communities, 29 each (10 needs,
  8 resources, 6 projects, 5 responsibilities, from visits, forums and appeals in turn);
  in each community 8 needs matched with the resources and the 5 projects with the
  responsibilities, 6 and 4 of those pairs completed and the completed need or project
  rated by a resident, one unmatched need withdrawn.

Afterwards `GET /v1/counters` on analytics shows the visits and what they delivered,
and `GET /v1/lists?community=&year=2019` the lists, exactly as `figures()` says.

    minsheng-projects-load-lists --url http://127.0.0.1:8002 [--pairings 667] [--key KEY]
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from minsheng.reference import communities, pairings
from projects.load_2019 import _post, loader_args, loader_cli

YEAR = 2019
COUNTY = "洮南市"
LIST_COMMUNITIES, ITEMS_PER_COMMUNITY = 12, 29
KINDS = ("need",) * 10 + ("resource",) * 8 + ("project",) * 6 + ("responsibility",) * 5
SOURCES = ("visit", "forum", "appeal")
MATCHED = {"need": 8, "project": 5}  # pairs matched per community
COMPLETED = {"need": 6, "project": 4}  # of those, pairs completed
CADRES = 21  # per visit: 667 x 21 = 14,007, the articles' "about 14,000 cadres"


def visit_plan(count: int) -> list[tuple[str, dict[str, Any]]]:
    """(pairing id, visit body) for a visit a month of the first `count` pairings."""
    plan: list[tuple[str, dict[str, Any]]] = []
    for month in range(1, 13):
        for i, pairing in enumerate(list(pairings())[:count]):
            k = len(plan)
            services = {
                "party_lesson": int(k % 28 == 0),
                "help_pairing": int(k % 8 < 3),
                "volunteer_service": int(k % 5 == 0),
            }
            body = {
                "visited_on": date(YEAR, month, 5 + i % 20).isoformat(),
                "cadres": CADRES,
                "services": {kind: n for kind, n in services.items() if n},
                "appeals_solved": int(k % 7 == 0),
                "goods_value_yuan": 3000 if k % 10 == 0 else 0,
                "note": "社区工作日走访",
            }
            plan.append((pairing, body))
    return plan


def list_communities() -> list[str]:
    """The county's communities that have lists: the first twelve of workdays.yaml."""
    mine = [c.name for c in communities().values() if c.district == COUNTY]
    return mine[:LIST_COMMUNITIES]


def item_plan(community: str, first: int) -> list[dict[str, Any]]:
    """One community's 29 items, in the order they are posted."""
    street = communities()[community].street
    items = []
    for j, kind in enumerate(KINDS):
        n = first + j
        source = SOURCES[n % len(SOURCES)]
        items.append(
            {
                "year": YEAR,
                "district": COUNTY,
                **({"street": street} if street else {}),
                "community": community,
                "kind": kind,
                "source": source,
                **({"appeal_id": f"BC2019{n:010d}"} if source == "appeal" else {}),
                "title": f"{community}{kind}事项（{n + 1:03d}）",
            }
        )
    return items


def figures(count: int) -> dict[str, Any]:
    """What the plan leaves, for the counters and the listing to show."""
    visits = visit_plan(count)
    services: Counter[str] = Counter()
    for _, body in visits:
        services.update(body["services"])
    per_pair = {kind: MATCHED[kind] for kind in MATCHED}
    completed = 2 * sum(COMPLETED.values())
    matched = 2 * sum(per_pair.values()) - completed
    unmatched = ITEMS_PER_COMMUNITY - 2 * sum(per_pair.values())
    by_status = {
        "posted": (unmatched - 1) * LIST_COMMUNITIES,
        "matched": matched * LIST_COMMUNITIES,
        "completed": completed * LIST_COMMUNITIES,
        "withdrawn": LIST_COMMUNITIES,
    }
    return {
        "visits": len(visits),
        "services": sum(services.values()),
        "services_by_kind": dict(sorted(services.items())),
        "appeals_solved": sum(body["appeals_solved"] for _, body in visits),
        "goods_value_yuan": sum(body["goods_value_yuan"] for _, body in visits),
        "cadres": CADRES * count,
        "items": LIST_COMMUNITIES * ITEMS_PER_COMMUNITY,
        "items_by_kind": {k: n * LIST_COMMUNITIES for k, n in Counter(KINDS).items()},
        "items_by_status": by_status,
        "ratings": sum(COMPLETED.values()) * LIST_COMMUNITIES,
    }


@dataclass
class Loaded:
    requests: int = 0
    seconds: float = 0.0
    ids: dict[str, list[str]] = field(default_factory=dict)  # community -> item ids


async def _community(client: httpx.AsyncClient, community: str, first: int, done: Loaded) -> None:
    """Posts, matches, completes, rates and withdraws one community's items, in order."""
    ids: dict[str, list[str]] = {kind: [] for kind in dict.fromkeys(KINDS)}
    for body in item_plan(community, first):
        ids[body["kind"]].append((await _post(client, "/v1/lists/items", body))["id"])
        done.requests += 1
    for kind, counterpart in (("need", "resource"), ("project", "responsibility")):
        for p in range(MATCHED[kind]):
            path = f"/v1/lists/items/{ids[kind][p]}"
            due = date(YEAR, 10 + p % 3, 28).isoformat()
            match = {"with_item": ids[counterpart][p], "claimed_by": "结对单位", "due": due}
            await _post(client, f"{path}/match", match)
            done.requests += 1
            if p >= COMPLETED[kind]:
                continue
            on = date(YEAR, 6 + p % 4, 18).isoformat()
            for item in (ids[kind][p], ids[counterpart][p]):
                await _post(client, f"/v1/lists/items/{item}/complete", {"completed_on": on})
            rating = "basically_satisfied" if p % 5 == 4 else "satisfied"
            await _post(client, f"{path}/evaluations", {"rating": rating, "channel": "interview"})
            done.requests += 3
    withdrawn = ids["need"][MATCHED["need"]]
    await _post(client, f"/v1/lists/items/{withdrawn}/withdraw", {"reason": "已由社区自行解决"})
    done.requests += 1
    done.ids[community] = [i for kind in ids.values() for i in kind]


async def load(client: httpx.AsyncClient, count: int = 667, concurrency: int = 8) -> Loaded:
    """Drives the plan through the API of `client` (base URL and key set): the visits
    `concurrency` at a time, each community's lists in order beside them."""
    gate = asyncio.Semaphore(concurrency)
    done = Loaded()

    async def visit(pairing: str, body: dict[str, Any]) -> None:
        async with gate:
            await _post(client, f"/v1/workdays/pairings/{pairing}/visits", body)
            done.requests += 1

    async def lists(n: int, community: str) -> None:
        async with gate:
            await _community(client, community, n * ITEMS_PER_COMMUNITY, done)

    started = time.perf_counter()
    await asyncio.gather(
        *(lists(n, c) for n, c in enumerate(list_communities())),
        *(visit(p, body) for p, body in visit_plan(count)),
    )
    done.seconds = time.perf_counter() - started
    return done


async def _main(url: str, key: str, count: int, concurrency: int) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        done = await load(client, count, concurrency)
        listed = 0
        for community in list_communities():
            query: dict[str, str | int] = {"community": community, "year": YEAR}
            listed += (await client.get("/v1/lists", params=query)).json()["total"]
    f = figures(count)
    print(
        f"loaded {f['visits']} visits of {count} pairings and {f['items']} list items with"
        f" {done.requests} requests in {done.seconds:.1f}s; the public lists show {listed}"
        f" items. Expect on /v1/counters: {f['visits']} visits, {f['services']} services"
        f" {f['services_by_kind']}, {f['appeals_solved']} appeals solved, goods"
        f" {f['goods_value_yuan']} yuan; lists {f['items_by_status']}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    cli = loader_cli("minsheng-projects-load-lists", __doc__)
    cli.add_argument("--pairings", type=int, default=len(pairings()), help="visit this many")
    args = loader_args(cli, argv)
    if not 0 <= args.pairings <= len(pairings()):
        cli.error(f"--pairings is 0 to {len(pairings())}")
    return asyncio.run(_main(args.url, args.key, args.pairings, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
