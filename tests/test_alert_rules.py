"""Every alert is complete: labels, annotations, `for:`, a runbook listed in the index,
and promtool test cases that see it fire and see it not fire (without Prometheus)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest

from testkit.integration.monitoring import ROOT, RULE_TESTS, RULES, RUNBOOKS, load_yaml, rules_of

ALERTS = [rule for rule in rules_of(RULES) if "alert" in rule]
NAMES = sorted({rule["alert"] for rule in ALERTS})
SEVERITIES = {"critical", "warning"}
AGGREGATED_BY_SERVICE = re.compile(r"\bby \([^)]*\bservice\b")


def cases() -> dict[str, dict[str, set[bool]]]:
    """alert name -> severity (or "" when a case expects nothing) -> whether it fired."""
    seen: dict[str, dict[str, set[bool]]] = defaultdict(lambda: defaultdict(set))
    for path in RULE_TESTS.glob("*.yml"):
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", ()):
                expected = case.get("exp_alerts") or []
                for alert in expected:
                    seen[case["alertname"]][alert["exp_labels"].get("severity", "")].add(True)
                if not expected:
                    seen[case["alertname"]][""].add(False)
    return seen


def test_there_are_the_alerts_on_call_staff_and_supervisors_rely_on() -> None:
    assert {
        "AppealsOverdueHigh",
        "AppealsOverdueGrowing",
        "OnTimeRateBudgetBurn",
        "SatisfactionRateLow",
        "ProjectMilestonesMissed",
        "ProjectsPastPlannedEnd",
        "IntakeStalled",
        "DeadLettersGrowing",
        "OutboxBacklog",
        "ConsumerLagHigh",
        "AnalyticsStale",
        "NotificationsFailing",
        "ServiceDown",
        "TargetMissing",
    } <= set(NAMES)


def test_every_scrape_job_has_an_absent_alert() -> None:
    config = load_yaml(ROOT / "deploy" / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    absent = {
        match.group(1)
        for rule in ALERTS
        if (match := re.fullmatch(r'absent\(up\{job="([^"]+)"\}\)', rule["expr"].strip()))
    }
    assert absent == jobs


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: f"{r['alert']}-{r['labels']['severity']}")
def test_the_alert_has_severity_service_for_annotations_and_its_runbook(
    rule: dict[str, Any],
) -> None:
    labels, notes = rule["labels"], rule["annotations"]
    assert labels["severity"] in SEVERITIES
    assert "service" in labels or AGGREGATED_BY_SERVICE.search(rule["expr"]), (
        "a `service` label, for the inhibition by ServiceDown"
    )
    assert re.fullmatch(r"\d+[smh]", rule["for"])
    assert notes["summary"].strip()
    assert notes["description"].strip()
    assert notes["runbook_url"] == f"docs/runbooks/{rule['alert']}.md"
    assert (ROOT / notes["runbook_url"]).is_file()


@pytest.mark.parametrize("name", NAMES)
def test_the_alert_is_seen_firing_at_each_severity_and_not_firing(name: str) -> None:
    seen = cases()[name]
    for severity in {rule["labels"]["severity"] for rule in ALERTS if rule["alert"] == name}:
        assert True in seen[severity], f"{name} never fires at {severity} in a promtool test"
    assert False in seen[""], f"no promtool test case of {name} expects it not to fire"


def test_every_runbook_is_an_alert_and_the_index_lists_each_with_its_severities() -> None:
    pages = {path.stem for path in RUNBOOKS.glob("*.md")} - {"README"}
    assert pages == set(NAMES)
    index = (RUNBOOKS / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in index.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3:
            rows[cells[0]] = (cells[1], cells[2])
    for name in NAMES:
        severities, page = rows[name]
        assert page == f"[{name}.md]({name}.md)"
        for severity in {rule["labels"]["severity"] for rule in ALERTS if rule["alert"] == name}:
            assert severity in severities, f"{name}: {severity} missing from the index"
