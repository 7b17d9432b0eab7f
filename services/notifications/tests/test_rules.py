"""The rules file: validated at start (naming the rule and the field), and matching."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from notifications.messages import template_names
from notifications.rules import RulesError, facts, parse_rules
from notifications.settings import RULES_FILE
from testkit.unit.notifications import (
    DISPATCHED,
    ESCALATED,
    MILESTONE,
    REOPENED,
    SAMPLES,
    default_rules,
)

GOOD = """
version: 1
rules:
  - id: a
    event: AppealDispatched
    recipients: [unit]
    channels: [webhook]
    template: appeal_dispatched
"""


def bad(rule: str) -> str:
    return GOOD + rule


def refused(text: str) -> str:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, template_names())
    return str(caught.value)


def test_the_default_rules_are_valid() -> None:
    rules = parse_rules(RULES_FILE.read_text(), template_names())
    assert rules.version == 1
    assert len(rules.rules) >= 9


BASE = {
    "id": "broken",
    "event": "AppealDispatched",
    "recipients": ["unit"],
    "channels": ["webhook"],
    "template": "appeal_dispatched",
}


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"channels": ["fax"]}, "channels", "'webhook', 'email' or 'sms'"),
        ({"event": "AppealSent"}, "event", "unknown event 'AppealSent'"),
        ({"recipients": ["mayor"]}, "recipients", "Input should be"),
        ({"recipients": ["citizen"]}, "channels", "citizen is reached only by sms"),
        (
            {"when": {"milestone_status": ["missed"]}},
            "when.milestone_status",
            "AppealDispatched does not carry milestone_status",
        ),
        (
            {"event": "AppealEscalated", "when": {"escalation_level": ["late"]}},
            "when.escalation_level",
            "'reminder', 'overdue' or 'criticism'",
        ),
        ({"template": "nowhere"}, "template", "no template 'nowhere'"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        (
            {"event": "ProjectFlagged", "recipients": ["citizen"], "channels": ["sms"]},
            "recipients",
            "citizen is not a recipient of ProjectFlagged",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_rule_and_the_field(
    change: dict[str, Any], field: str, says: str
) -> None:
    rule = yaml.safe_dump([{**BASE, **change}], allow_unicode=True, default_flow_style=True)
    message = refused(bad(f"  - {rule.strip().removeprefix('[').removesuffix(']')}\n"))
    assert "rule 'broken'" in message
    assert f"field '{field}'" in message
    assert says in message


def test_a_rule_without_an_id_is_named_by_its_position() -> None:
    message = refused(
        bad("  - {event: AppealDispatched, recipients: [unit], channels: [x], template: t}\n")
    )
    assert "rule '#2'" in message
    assert "field 'id'" in message


def test_two_rules_with_one_id_and_a_wrong_version_are_refused() -> None:
    assert "used by two rules" in refused(GOOD + GOOD.split("rules:\n")[1])
    assert "field 'version'" in refused(GOOD.replace("version: 1", "version: 2"))
    assert "not YAML" in refused("rules: [")


def test_matching_by_event_and_conditions() -> None:
    rules = default_rules()
    assert [r.id for r in rules.matching("AppealDispatched", facts(DISPATCHED, None))] == [
        "dispatched-to-units",
        "dispatched-to-grid-chief",
    ]
    reminder = facts(ESCALATED["reminder"], None)
    overdue = facts(ESCALATED["overdue"], None)
    assert [r.id for r in rules.matching("AppealEscalated", reminder)] == ["escalated-to-unit"]
    assert [r.id for r in rules.matching("AppealEscalated", overdue)] == [
        "escalated-to-unit",
        "overdue-to-supervision",
        "overdue-to-grid-chain",
    ]
    assert rules.matching("ProjectMilestone", facts(MILESTONE["missed"], None))
    reached = facts(MILESTONE["missed"].model_copy(update={"status": "reached"}), None)
    assert rules.matching("ProjectMilestone", reached) == []


@pytest.mark.parametrize("unit", [None, "市住建局", "新华街道"])
def test_the_compiled_matching_agrees_with_each_rule_s_own(unit: str | None) -> None:
    rules = default_rules()
    for data in SAMPLES.values():
        found = facts(data, unit)
        expected = [r for r in rules.rules if r.matches(data.event_name, found)]
        assert rules.matching(data.event_name, found) == expected
        assert rules.addresses(data.event_name) == any(
            r.event == data.event_name for r in rules.rules
        )


def test_the_unit_condition_reads_the_remembered_unit() -> None:
    rule = parse_rules(
        bad(
            "  - {id: housing, event: AppealReopened, when: {unit: [市住建局]},"
            " recipients: [unit], channels: [email], template: appeal_reopened}\n"
        ),
        template_names(),
    ).rules[-1]
    assert rule.matches("AppealReopened", facts(REOPENED, "市住建局"))
    assert not rule.matches("AppealReopened", facts(REOPENED, "市交通运输局"))
    assert not rule.matches("AppealReopened", facts(REOPENED, None))


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"recipients": ["grid_chiefs"], "channels": ["email"]}, "grid_chiefs", "name the chiefs"),
        ({"grid_chiefs": ["grid"]}, "grid_chiefs", "grid_chiefs is not a recipient"),
        ({"recipients": ["grid_chiefs"], "grid_chiefs": ["grid"]}, "channels", "only by email"),
        (
            {"recipients": ["grid_chiefs"], "grid_chiefs": ["mayor"], "channels": ["email"]},
            "grid_chiefs",
            "'street', 'lane', 'grid', 'building' or 'unit'",
        ),
        (
            {
                "event": "ProjectFlagged",
                "recipients": ["grid_chiefs"],
                "grid_chiefs": ["grid"],
                "channels": ["email"],
            },
            "recipients",
            "grid_chiefs is not a recipient of ProjectFlagged",
        ),
    ],
)
def test_a_bad_grid_chiefs_rule_is_refused_naming_the_field(
    change: dict[str, Any], field: str, says: str
) -> None:
    test_a_bad_rule_is_refused_naming_the_rule_and_the_field(change, field, says)
