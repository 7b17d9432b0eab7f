"""Every rule file passes `promtool check rules`, and every promtool test file passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.integration.monitoring import (
    PROMETHEUS,
    RECORDING,
    RULE_TESTS,
    RULES,
    load_yaml,
    run_tool,
)

RULE_FILES = sorted([*RULES.glob("*.yml"), *RECORDING.glob("*.yml")])
TEST_FILES = sorted(RULE_TESTS.glob("*.yml"))


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_accepts_the_rule_file(path: Path) -> None:
    run_tool("promtool", "check", "rules", str(path.relative_to(PROMETHEUS)), cwd=PROMETHEUS)


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_the_promtool_unit_tests_pass(path: Path) -> None:
    run_tool("promtool", "test", "rules", path.name, cwd=RULE_TESTS)


def test_every_rule_file_has_a_test_file_and_prometheus_loads_them_all() -> None:
    tested = {
        rule_file
        for path in TEST_FILES
        for rule_file in (RULE_TESTS / f for f in _rule_files_of(path))
    }
    assert {p.resolve() for p in RULE_FILES} <= {p.resolve() for p in tested}
    loaded = run_tool("promtool", "check", "config", "prometheus.yml", cwd=PROMETHEUS)
    for path in RULE_FILES:
        assert str(path.relative_to(PROMETHEUS)) in loaded


def _rule_files_of(test_file: Path) -> list[str]:
    return list(load_yaml(test_file)["rule_files"])
