"""The Grafana dashboards, as code (grafana-foundation-sdk), rendered into the JSON that
Grafana provisions from deploy/grafana/dashboards. `make dashboards` writes them; a test
fails when the committed files differ from what this package renders.

The SDK is a development dependency: nothing at run time imports this package.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from minsheng.dashboards import appeals, city, health, projects

FOLDER = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "dashboards"
DASHBOARDS: dict[str, Callable[[], Dashboard]] = {
    "city-overview.json": city.dashboard,
    "appeals-operations.json": appeals.dashboard,
    "projects-ledger.json": projects.dashboard,
    "platform-health.json": health.dashboard,
}


def render(make: Callable[[], Dashboard]) -> str:
    """The dashboard's JSON, with panels numbered in order (Grafana wants unique ids)."""
    built = make().build()
    for number, panel in enumerate(built.panels or (), start=1):
        panel.id_val = number
    return json.dumps(built, cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name -> JSON of every dashboard."""
    return {name: render(make) for name, make in DASHBOARDS.items()}


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
