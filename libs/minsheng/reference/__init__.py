"""Reference data shipped with the code, versioned in the repo: places down to the grid,
categories, handling units, the routing rules that pick a unit for an appeal, and the
grids' five-chief chains."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


CommunityPath = tuple[str, str, str]  # district, street, community


@dataclass(frozen=True)
class Places:
    """District > street > community > grid names, for validation and routing."""

    districts: dict[str, dict[str, tuple[str, ...]]]
    grids: dict[CommunityPath, tuple[str, ...]] = field(default_factory=dict)

    def knows(
        self,
        district: str,
        street: str | None = None,
        community: str | None = None,
        grid: str | None = None,
    ) -> bool:
        """Whether the place exists; each part counts only under the one above it."""
        streets = self.districts.get(district)
        if streets is None:
            return False
        if street is None:
            return community is None and grid is None
        if street not in streets:
            return False
        if community is None:
            return grid is None
        if community not in streets[street]:
            return False
        return grid is None or grid in self.grids.get((district, street, community), ())

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
    districts = {
        d["name"]: {s["name"]: tuple(s.get("communities", [])) for s in d.get("streets", [])}
        for d in doc["districts"]
    }
    chains = grid_chains()
    grids: dict[CommunityPath, tuple[str, ...]] = {}
    for district, street, community, grid in chains:
        grids[district, street, community] = (*grids.get((district, street, community), ()), grid)
    return Places(districts, grids)


# -- grids and their five-chief chains (网格, 五长) ---------------------------------------

GridPath = tuple[str, str, str, str]  # district, street, community, grid
CHIEF_LEVELS = ("street", "lane", "grid", "building", "unit")  # from the top of the chain
CHIEF_TITLES = {
    "street": "街长",
    "lane": "路(巷)长",
    "grid": "网格长",
    "building": "楼栋长",
    "unit": "单元长",
}
GRID_MAIL = "grids.baicheng.example"  # the development chiefs' e-mail domain
CODE = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class GridChief:
    """One person of a grid's chain: `id` names the recipient in deliveries."""

    id: str
    name: str
    level: str
    email: str


@dataclass(frozen=True)
class GridChain:
    """A grid's five chiefs (or more: several building and unit chiefs), by level."""

    path: GridPath
    chiefs: tuple[GridChief, ...]

    def at(self, levels: tuple[str, ...]) -> tuple[GridChief, ...]:
        """The chiefs of the given levels, top of the chain first."""
        return tuple(c for c in self.chiefs if c.level in levels)


class GridsError(ValueError):
    """grids.yaml is not valid; the message names the entry and the field."""


def grid_name(community: str, number: int) -> str:
    return f"{community}第{number}网格"


def community_grids(place: CommunityPath, code: str, grids: int, people: int) -> list[GridChain]:
    """A community's grids and chains, deterministically: one street, lane and grid chief
    each, then the rest of `people`, as evenly as they divide, a third (rounded up) as
    building chiefs and the others as unit chiefs."""
    rest, extra = divmod(people - 3 * grids, grids)
    chains = []
    for index in range(grids):
        number = index + 1
        others = rest + (1 if index < extra else 0)
        counts = {"street": 1, "lane": 1, "grid": 1, "building": (others + 2) // 3}
        counts["unit"] = others - counts["building"]
        name = grid_name(place[2], number)
        chiefs = tuple(
            GridChief(
                id=(ident := f"{code}-{number:03d}-{level}-{k}"),
                name=f"{name}{CHIEF_TITLES[level]}{k}",
                level=level,
                email=f"{ident}@{GRID_MAIL}",
            )
            for level in CHIEF_LEVELS
            for k in range(1, counts[level] + 1)
        )
        chains.append(GridChain((*place, name), chiefs))
    return chains


@cache
def grid_chains() -> dict[GridPath, GridChain]:
    """Every grid of grids.yaml with its chain; raises GridsError for a bad entry."""
    streets = {
        d["name"]: {s["name"]: tuple(s.get("communities", [])) for s in d.get("streets", [])}
        for d in _load("places.yaml")["districts"]
    }
    return parse_grids(_load("grids.yaml"), streets)


def parse_grids(
    doc: Any, districts: dict[str, dict[str, tuple[str, ...]]]
) -> dict[GridPath, GridChain]:
    """The grids a grids.yaml document makes, under the given districts' communities."""
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise GridsError("grids.yaml: field 'version': must be 1")
    chains: dict[GridPath, GridChain] = {}
    codes: set[str] = set()
    for number, entry in enumerate(doc.get("communities") or [], start=1):
        where = f"grids.yaml: communities #{number}"
        parts = tuple(str(entry.get("place", "")).split("/"))
        if len(parts) != 3 or parts[2] not in districts.get(parts[0], {}).get(parts[1], ()):
            raise GridsError(f"{where}: field 'place': not a community of places.yaml")
        code, grids, people = entry.get("code"), entry.get("grids"), entry.get("people")
        if not isinstance(code, str) or not CODE.match(code) or code in codes:
            raise GridsError(f"{where}: field 'code': a new lower-case slug, e.g. tn-gh")
        if not isinstance(grids, int) or grids < 1:
            raise GridsError(f"{where}: field 'grids': a whole number, at least 1")
        if not isinstance(people, int) or people < 5 * grids:
            raise GridsError(f"{where}: field 'people': at least five a grid ({5 * grids})")
        codes.add(code)
        place = (parts[0], parts[1], parts[2])
        chains.update((c.path, c) for c in community_grids(place, code, grids, people))
    return chains


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
    place: tuple[str, ...]  # () for the city, else district[, street[, community[, grid]]]
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
