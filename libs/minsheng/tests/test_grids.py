"""Grids (网格) as reference data: Taonan's shape exactly (243 grids, 5,088 people in
their five-chief chains), made the same every time, every chain complete, ids unique,
and a bad grids.yaml entry refused naming its field."""

from __future__ import annotations

from collections import Counter

import pytest

from minsheng.reference import (
    CHIEF_LEVELS,
    GridsError,
    community_grids,
    grid_chains,
    parse_grids,
    places,
)

TAONAN = "洮南市"


def test_taonan_has_the_shape_the_city_reports() -> None:
    chains = [c for path, c in grid_chains().items() if path[0] == TAONAN]
    assert len(chains) == 243
    assert sum(len(c.chiefs) for c in chains) == 5088


def test_every_chain_has_all_five_chiefs_top_first_and_every_id_is_unique() -> None:
    ids = [chief.id for chain in grid_chains().values() for chief in chain.chiefs]
    assert len(ids) == len(set(ids))
    for chain in grid_chains().values():
        levels = [chief.level for chief in chain.chiefs]
        assert set(levels) == set(CHIEF_LEVELS), chain.path
        assert levels == sorted(levels, key=CHIEF_LEVELS.index), chain.path
        assert Counter(levels)["grid"] == 1
        assert chain.at(("grid",))[0].name.endswith("网格长1")


def test_the_chains_are_made_the_same_every_time_and_split_as_evenly_as_they_divide() -> None:
    place = (TAONAN, "光明街道", "光华社区")
    first, again = community_grids(place, "x", 243, 5088), community_grids(place, "x", 243, 5088)
    assert first == again
    sizes = Counter(len(c.chiefs) for c in first)
    assert max(sizes) - min(sizes) == 1
    assert sum(size * n for size, n in sizes.items()) == 5088
    assert first[0].path == (*place, "光华社区第1网格")
    assert first[-1].path[-1] == "光华社区第243网格"


def test_places_go_down_to_the_grid() -> None:
    p = places()
    assert p.knows(TAONAN, "光明街道", "光华社区", "光华社区第243网格")
    assert not p.knows(TAONAN, "光明街道", "光华社区", "光华社区第244网格")
    assert not p.knows(TAONAN, "光明街道", None, "光华社区第1网格")  # only under its community
    assert not p.knows("洮北区", "长庆街道", "百福社区", "光华社区第1网格")
    assert p.knows("洮北区", "长庆街道", "百福社区", "百福社区第4网格")


DISTRICTS: dict[str, dict[str, tuple[str, ...]]] = {TAONAN: {"光明街道": ("光华社区",)}}


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"place": "洮南市/光明街道/无此社区", "code": "a", "grids": 1, "people": 5}, "'place'"),
        ({"place": "洮南市/光明街道/光华社区", "code": "A!", "grids": 1, "people": 5}, "'code'"),
        ({"place": "洮南市/光明街道/光华社区", "code": "a", "grids": 0, "people": 5}, "'grids'"),
        ({"place": "洮南市/光明街道/光华社区", "code": "a", "grids": 2, "people": 9}, "'people'"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(entry: dict[str, object], named: str) -> None:
    with pytest.raises(GridsError, match=f"communities #1: field {named}"):
        parse_grids({"version": 1, "communities": [entry]}, DISTRICTS)
