"""Reference data shipped with the code, versioned in the repo: places, categories,
handling units and the routing rules that pick a unit for an appeal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    working_days: int


@dataclass(frozen=True)
class Places:
    """District > street > community names, for validation and routing."""

    districts: dict[str, dict[str, tuple[str, ...]]]

    def knows(self, district: str, street: str | None = None, community: str | None = None) -> bool:
        streets = self.districts.get(district)
        if streets is None:
            return False
        if street is None:
            return community is None
        if street not in streets:
            return False
        return community is None or community in streets[street]

    def tree(self) -> dict[str, dict[str, list[str]]]:
        """The places as JSON, as a 422 for an unknown place lists the valid ones."""
        return {
            d: {s: list(c) for s, c in streets.items()} for d, streets in self.districts.items()
        }


def _load(name: str) -> Any:
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


@cache
def places() -> Places:
    doc = _load("places.yaml")
    return Places(
        {
            d["name"]: {s["name"]: tuple(s.get("communities", [])) for s in d.get("streets", [])}
            for d in doc["districts"]
        }
    )


@dataclass(frozen=True)
class CalendarYear:
    """A year's official exceptions to Monday-Friday (see calendar.yaml)."""

    holidays: frozenset[date]
    workdays: frozenset[date]


@cache
def calendar_supplement() -> dict[int, CalendarYear]:
    years = _load("calendar.yaml").get("years") or {}
    return {
        int(year): CalendarYear(
            frozenset(days.get("holidays") or ()), frozenset(days.get("workdays") or ())
        )
        for year, days in years.items()
    }


@cache
def categories() -> dict[str, Category]:
    return {c["code"]: Category(**c) for c in _load("categories.yaml")["categories"]}


@dataclass(frozen=True)
class HandlingUnit:
    """A unit appeals are dispatched to (承办单位); its name is its id."""

    name: str
    level: str
    kind: str
    district: str | None = None


@dataclass(frozen=True)
class RoutingRule:
    """category x place -> unit; `*` matches any category or the whole city."""

    category: str
    place: tuple[str, ...]  # () for the whole city, else district[, street[, community]]
    unit: str


@dataclass(frozen=True)
class RoutingTable:
    version: int
    default: str
    rules: tuple[RoutingRule, ...]


@cache
def units() -> dict[str, HandlingUnit]:
    return {u["name"]: HandlingUnit(**u) for u in _load("units.yaml")["units"]}


@cache
def routing_table() -> RoutingTable:
    doc = _load("routing.yaml")
    rules = tuple(
        RoutingRule(
            category=str(r["category"]),
            place=() if r["place"] == "*" else tuple(str(r["place"]).split("/")),
            unit=str(r["unit"]),
        )
        for r in doc["rules"]
    )
    return RoutingTable(version=int(doc["version"]), default=str(doc["default"]), rules=rules)


@dataclass(frozen=True)
class Community:
    """A community of the work days and the four lists (workdays.yaml)."""

    name: str
    district: str
    street: str | None = None


@dataclass(frozen=True)
class Pairing:
    """社区工作日: a city unit paired with a community, to visit it once a month."""

    id: str
    unit: str
    community: Community


@cache
def communities() -> dict[str, Community]:
    """The communities of workdays.yaml by name: those of places.yaml and the rest of the
    city's, for the work-day pairings and the four lists."""
    return {c["name"]: Community(**c) for c in _load("workdays.yaml")["communities"]}


@cache
def pairings() -> dict[str, Pairing]:
    """The work-day pairings by id, each with its community."""
    known = communities()
    return {
        p["id"]: Pairing(p["id"], p["unit"], known[p["community"]])
        for p in _load("workdays.yaml")["pairings"]
    }
