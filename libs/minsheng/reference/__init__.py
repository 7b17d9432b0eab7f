"""Reference data shipped with the code: places and categories, versioned in the repo."""

from __future__ import annotations

from dataclasses import dataclass
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


@cache
def categories() -> dict[str, Category]:
    return {c["code"]: Category(**c) for c in _load("categories.yaml")["categories"]}
