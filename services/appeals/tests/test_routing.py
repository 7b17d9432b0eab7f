"""Routing rules: the most specific place wins, then the category, else the default."""

from __future__ import annotations

import pytest

from appeals.routing import problems, route
from minsheng.reference import (
    RoutingRule,
    RoutingTable,
    categories,
    places,
    routing_table,
    units,
)

TABLE = RoutingTable(
    version=1,
    default="热线中心",
    rules=(
        RoutingRule("complaint", (), "住建局"),
        RoutingRule("*", ("洮北区",), "区政府"),
        RoutingRule("complaint", ("洮北区",), "区住建"),
        RoutingRule("*", ("洮北区", "明仁街道"), "明仁街道办事处"),
        RoutingRule("help", ("洮北区", "明仁街道", "明仁社区"), "明仁社区居委会"),
        RoutingRule("*", ("洮北区", "明仁街道", "明仁社区", "明仁社区第2网格"), "第2网格"),
    ),
)
GRID = "明仁社区第2网格"


@pytest.mark.parametrize(
    ("category", "place", "unit"),
    [
        ("help", ("镇赉县", None, None), "热线中心"),  # nothing matches: the default
        ("complaint", ("镇赉县", None, None), "住建局"),  # city-wide category rule
        ("help", ("洮北区", None, None), "区政府"),  # the district beats the city
        ("complaint", ("洮北区", None, None), "区住建"),  # same place: the category wins
        ("complaint", ("洮北区", "明仁街道", None), "明仁街道办事处"),  # the street wins
        ("help", ("洮北区", "明仁街道", "明仁社区"), "明仁社区居委会"),
        ("complaint", ("洮北区", "明仁街道", "明仁社区"), "明仁街道办事处"),
        ("help", ("洮北区", None, "明仁社区"), "区政府"),  # no community without its street
        ("help", ("洮北区", "明仁街道", "明仁社区", GRID), "第2网格"),  # the grid wins
        ("complaint", ("洮北区", "明仁街道", "明仁社区", GRID), "第2网格"),  # over any category
        ("help", ("洮北区", "明仁街道", "明仁社区", "明仁社区第1网格"), "明仁社区居委会"),
        (
            "complaint",
            ("洮北区", "明仁街道", None, GRID),
            "明仁街道办事处",
        ),  # not without its community
        ("complaint", ("镇赉县", None, None, GRID), "住建局"),
    ],
)
def test_the_most_specific_rule_wins(
    category: str, place: tuple[str | None, ...], unit: str
) -> None:
    district, street, community, grid = (*place, None)[:4]
    assert district is not None
    found = route(
        TABLE, category=category, district=district, street=street, community=community, grid=grid
    )
    assert found == unit


def test_the_shipped_table_names_only_known_units_places_and_categories() -> None:
    assert problems(routing_table(), units(), places(), categories()) == []


def test_problems_are_named() -> None:
    bad = RoutingTable(
        version=1,
        default="nobody",
        rules=(
            RoutingRule("gossip", ("火星区",), "市住建局"),
            RoutingRule("*", ("洮北区",), "ghost"),
            RoutingRule("*", ("洮北区",), "市住建局"),
        ),
    )
    assert problems(bad, units(), places(), categories()) == [
        "default: unknown unit nobody",
        "gossip @ 火星区: unknown category",
        "gossip @ 火星区: unknown place",
        "* @ 洮北区: unknown unit ghost",
        "* @ 洮北区: two rules, no winner",
    ]


@pytest.mark.parametrize(
    ("category", "district", "street", "unit"),
    [
        ("help", "洮北区", "明仁街道", "明仁街道办事处"),
        ("complaint", "洮北区", None, "市住建局"),
        ("suggestion", "洮北区", None, "洮北区人民政府"),
        ("emergency", "洮北区", None, "市应急管理局"),
        ("emergency", "洮南市", None, "洮南市人民政府"),
        ("consultation", "洮北区", None, "市便民服务热线中心"),
    ],
)
def test_the_shipped_rules_route_baicheng(
    category: str, district: str, street: str | None, unit: str
) -> None:
    assert route(routing_table(), category=category, district=district, street=street) == unit


def test_every_place_unit_lies_in_a_known_district() -> None:
    assert {u.district for u in units().values() if u.district} <= set(places().districts)


def test_a_rule_may_name_a_grid_of_the_reference_data_and_no_other() -> None:
    community = ("洮南市", "光明街道", "光华社区")
    known = RoutingRule("*", (*community, "光华社区第243网格"), "光明街道办事处")
    unknown = RoutingRule("*", (*community, "光华社区第244网格"), "光明街道办事处")
    table = RoutingTable(version=1, default="市便民服务热线中心", rules=(known, unknown))
    assert problems(table, units(), places(), categories()) == [
        "* @ 洮南市/光明街道/光华社区/光华社区第244网格: unknown place"
    ]
    at = {"district": "洮南市", "street": "光明街道", "community": "光华社区"}
    assert route(table, category="help", **at, grid="光华社区第243网格") == "光明街道办事处"
    assert route(table, category="help", **at, grid="光华社区第1网格") == "市便民服务热线中心"
