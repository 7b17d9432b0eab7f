"""The committed Grafana dashboards are what libs/minsheng/dashboards renders, and every
panel tells its reader what it shows (a description) and in what (a unit)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from minsheng.dashboards import DASHBOARDS, FOLDER, rendered

SOURCE = "${datasource}"


def committed() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8")) for path in FOLDER.glob("*.json")
    }


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_the_committed_dashboards_are_the_rendered_ones() -> None:
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in FOLDER.glob("*.json")}
    assert on_disk == rendered(), "run `make dashboards` and commit deploy/grafana/dashboards"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_panel_has_a_description_a_unit_and_reads_the_chosen_datasource(
    name: str,
) -> None:
    board = committed()[name]
    assert board["uid"].startswith("minsheng-")
    assert board["description"]
    for panel in panels(board):
        where = f"{name}: {panel['title']}"
        assert panel.get("description"), where
        assert panel["fieldConfig"]["defaults"].get("unit"), where
        assert panel["datasource"]["uid"] == SOURCE, where
        assert panel["targets"], where
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == SOURCE, where
            assert target["expr"].strip(), where
    ids = [p["id"] for p in board["panels"]]
    assert len(set(ids)) == len(ids), f"{name}: panel ids repeat"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_a_datasource_variable_and_a_district_variable_where_figures_have_districts(
    name: str,
) -> None:
    board = committed()[name]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    uses_district = any("$district" in t["expr"] for p in panels(board) for t in p["targets"])
    assert uses_district == ("district" in variables), name
    if uses_district:
        assert variables["district"]["includeAll"]
        assert variables["district"]["allValue"] == ".*"
        for panel in panels(board):
            for target in panel["targets"]:
                if "city:" in target["expr"]:
                    assert 'district=~"$district"' in target["expr"], panel["title"]


def test_compose_grafana_provisions_this_folder() -> None:
    """What compose's Grafana loads is the folder `make dashboards` writes."""
    root = FOLDER.parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8"))
    providers = yaml.safe_load(
        (root / "deploy/grafana/provisioning/dashboards/minsheng.yml").read_text(encoding="utf-8")
    )["providers"]
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    inside = {p["options"]["path"] for p in providers}
    assert {(root / host).resolve() for host, path in mounts.items() if path in inside} == {FOLDER}
