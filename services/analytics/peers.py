"""City-wide figures on any worker: each worker holds the share of its partitions; the
one asked for GET /v1/counters fetches its peers' shares and adds them up.

Faust already tells every worker who its peers are and where their web servers listen
(the assignor's changelog distribution, by canonical URL). A share says which partitions
of each table it sums and whether its worker is between a rebalance and the end of its
recovery; the sum is complete only when every partition of every table is counted by
exactly one settled worker. Otherwise the caller answers 503 and the client retries:
a rebalance lasts seconds, and a wrong total is worse than a late one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx

from analytics.counting import Figures

SHARE_PATH = "/v1/counters/share"
Share = dict[str, Any]  # the JSON of one worker's share


def encode(
    url: str, figures: Figures, partitions: Mapping[str, Iterable[int]], settled: bool
) -> Share:
    return {
        "worker": url,
        "settled": settled,
        "partitions": {table: sorted(p) for table, p in partitions.items()},
        "figures": [[name, list(labels), value] for (name, labels), value in figures.items()],
    }


class Incomplete(Exception):
    """The shares do not (yet) cover every partition exactly once."""


def merge(shares: Iterable[Share], partitions: int) -> Figures:
    """The city's figures: the sum of shares that cover each table's `partitions`
    partitions exactly once; raises Incomplete (saying what is wrong) otherwise."""
    total = Figures()
    covered: dict[str, list[int]] = {}
    for share in shares:
        if not share["settled"]:
            raise Incomplete(f"{share['worker']} is rebalancing")
        for table, owned in share["partitions"].items():
            covered.setdefault(table, []).extend(owned)
        for name, labels, value in share["figures"]:
            total[name, tuple(labels)] += value
    for table, owned in covered.items():
        if sorted(owned) != list(range(partitions)):
            raise Incomplete(f"{table}: partitions {sorted(owned)} counted")
    return total


async def fetch_shares(client: httpx.AsyncClient, urls: Iterable[str], at: datetime) -> list[Share]:
    """The shares of the peers at `urls`, all as of the same instant `at`."""

    async def one(url: str) -> Share:
        try:
            response = await client.get(f"{url}{SHARE_PATH}", params={"at": at.isoformat()})
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise Incomplete(f"peer {url} did not answer: {error!r}") from error
        share: Share = response.json()
        return share

    return list(await asyncio.gather(*(one(url) for url in urls)))
