"""The KPI recording rules give exactly the rates of GET /v1/counters.

A random history is folded by analytics' own rules and split between two workers; their
/metrics samples become a promtool test's input series, and the expected samples are
the rates `kpis.report` computes from the same figures (no sample where it says null).
Sums of integers and one division are exact in floating point, so equality is exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from analytics.aggregate import share
from analytics.collector import FiguresCollector
from analytics.counting import Figures
from analytics.kpis import aggregates, report
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS
from testkit.integration.monitoring import RECORDING, run_tool
from testkit.unit.analytics import consume
from testkit.unit.events import NOW
from testkit.unit.workload import workload

APPEAL_RATES = {  # recording rule's figure -> the key of /v1/counters
    "resolution": "resolution_rate",
    "on_time": "on_time_rate",
    "satisfaction": "satisfaction_rate",
    "callback": "callback_rate",
}


def series(figures: Figures, instance: str) -> list[dict[str, str]]:
    """One worker's /metrics samples as promtool input series."""
    found = []
    for family in FiguresCollector(lambda: figures).collect():
        for sample in family.samples:
            labels = {"job": "analytics", "instance": instance, **sample.labels}
            body = ",".join(f'{k}="{v}"' for k, v in labels.items())
            found.append({"series": f"{sample.name}{{{body}}}", "values": f"{sample.value:g}x2"})
    return found


def check(expr: str, samples: Sequence[tuple[dict[str, str], float | None]]) -> dict[str, Any]:
    def name(labels: dict[str, str]) -> str:
        body = ",".join(f'{k}="{v}"' for k, v in labels.items())
        return f"{expr}{{{body}}}" if labels else expr

    exp = [{"labels": name(labels), "value": v} for labels, v in samples if v is not None]
    return {"expr": expr, "eval_time": "1m", "exp_samples": exp}


def expected(answer: dict[str, Any], returned: Counter[str]) -> list[dict[str, Any]]:
    """The promql_expr_test cases: every rate of every scope, as /v1/counters has it."""
    districts = answer["districts"]
    tests = []
    for figure, key in APPEAL_RATES.items():
        tests.append(
            check(
                f"district:minsheng_appeals_{figure}:ratio",
                [({"district": d}, scope[key]) for d, scope in districts.items()],
            )
        )
        tests.append(check(f"city:minsheng_appeals_{figure}:ratio", [({}, answer["city"][key])]))

    def return_rate(scope: dict[str, Any], district: str | None) -> float | None:
        count = returned[district] if district else sum(returned.values())
        return count / scope["received"] if scope["received"] else None

    tests.append(
        check(
            "district:minsheng_appeals_return:ratio",
            [({"district": d}, return_rate(scope, d)) for d, scope in districts.items()],
        )
    )
    tests.append(
        check("city:minsheng_appeals_return:ratio", [({}, return_rate(answer["city"], None))])
    )

    def completion(scope: dict[str, Any], **labels: str) -> list[tuple[dict[str, str], float]]:
        return [
            ({**labels, "level": level, "year": year}, cell["completion_rate"])
            for year, levels in scope["projects"]["by_year"].items()
            for level, cell in levels.items()
        ]

    tests.append(
        check(
            "district_level_year:minsheng_projects_completion:ratio",
            [s for d, scope in districts.items() for s in completion(scope, district=d)],
        )
    )
    tests.append(check("level_year:minsheng_projects_completion:ratio", completion(answer["city"])))
    return tests


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kpi_rules_compute_what_analytics_answers(seed: int, tmp_path: Path) -> None:
    w = workload(seed, 60, 30, NOW, 5)
    states, _ = consume(w.events)
    halves = [
        share(aggregates(*(states[t][half::2] for t in (APPEALS, PROJECTS, NOTIFICATIONS))), NOW)
        for half in (0, 1)
    ]
    whole = halves[0] + halves[1]
    answer = report(whole, NOW)
    returned = Counter[str]()
    for (name, labels), value in whole.items():
        if name == "minsheng_appeals_returned":
            returned[labels[0]] += value
    doc = {
        "rule_files": [str(RECORDING / "kpis.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series(halves[0], "a:8004") + series(halves[1], "b:8004"),
                "promql_expr_test": expected(answer, returned),
            }
        ],
    }
    test_file = tmp_path / "kpis_exact_test.yml"
    test_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    run_tool("promtool", "test", "rules", str(test_file))
