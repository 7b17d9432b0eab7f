"""The v1 catalogue is docs/contract.md's, and each generated schema agrees with its model."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from minsheng import contracts
from minsheng.events import (
    ALL_EVENTS,
    APPEAL_EVENTS,
    CATALOGUE,
    INTAKE_APPEAL_EVENTS,
    INTAKE_PROJECT_EVENTS,
    NOTIFICATION_EVENTS,
    PROJECT_EVENTS,
    EventData,
    EventTypes,
    InvalidEvent,
    NotificationDelivered,
)
from minsheng.events.appeals import MASKED_PHONE
from testkit.unit.events import NOTIFICATION, SAMPLES, document_with, encode, sample_document

# The contract, copied from docs/contract.md "Event catalogue (v1)" and "Topics".
DESIGN_APPEALS = [
    "AppealReceived",
    "AppealDispatched",
    "AppealAccepted",
    "AppealReturned",
    "AppealExtended",
    "AppealEscalated",
    "AppealResolved",
    "SatisfactionRecorded",
    "AppealReopened",
    "AppealClosed",
]
DESIGN_PROJECTS = [
    "ProjectClaimed",
    "ProjectMilestone",
    "ProjectProgressReported",
    "ProjectCompleted",
    "ProjectVerified",
    "ProjectFlagged",
    "SatisfactionRecorded",
    "ListItemPosted",
    "ListItemMatched",
    "ListItemCompleted",
    "ListItemWithdrawn",
    "WorkDayVisitRecorded",
    "WorkDayVisitMissed",
]
DESIGN_NOTIFICATIONS = ["NotificationDelivered", "NotificationFailed"]
DESIGN_INTAKE_APPEALS = ["AppealReceived", "SatisfactionRecorded"]
DESIGN_INTAKE_PROJECTS = ["ProjectMilestone", "SatisfactionRecorded"]

ALL = pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.event_name)


def _names(models: EventTypes) -> list[str]:
    return [m.event_name for m in models]


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        pytest.param(APPEAL_EVENTS, DESIGN_APPEALS, id="appeals"),
        pytest.param(PROJECT_EVENTS, DESIGN_PROJECTS, id="projects"),
        pytest.param(NOTIFICATION_EVENTS, DESIGN_NOTIFICATIONS, id="notifications"),
        pytest.param(INTAKE_APPEAL_EVENTS, DESIGN_INTAKE_APPEALS, id="intake-appeals"),
        pytest.param(INTAKE_PROJECT_EVENTS, DESIGN_INTAKE_PROJECTS, id="intake-projects"),
    ],
)
def test_each_topic_carries_the_designed_types(models: EventTypes, expected: list[str]) -> None:
    assert _names(models) == expected


def test_the_catalogue_is_every_designed_type_once() -> None:
    designed = dict.fromkeys(DESIGN_APPEALS + DESIGN_PROJECTS + DESIGN_NOTIFICATIONS)
    assert _names(ALL_EVENTS) == list(designed)
    assert all(f"minsheng.{name}.v1" in CATALOGUE for name in designed)
    assert set(SAMPLES) == set(ALL_EVENTS), "every type needs a sample in samples.py"


@ALL
def test_models_are_frozen_and_strict(model: type[EventData]) -> None:
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"
    assert model.__doc__, "say why the event exists"


@ALL
def test_no_event_can_carry_a_full_phone_number(model: type[EventData]) -> None:
    properties = model.model_json_schema()["properties"]
    for name, spec in properties.items():
        if "phone" in name:
            patterns = [s.get("pattern") for s in spec.get("anyOf", [spec])]
            assert MASKED_PHONE in patterns, name


@pytest.mark.parametrize("recipient", ["13812345678", "sms:13812345678", "+8613812345678", "a b"])
def test_a_notification_recipient_is_never_a_phone(recipient: str) -> None:
    with pytest.raises(InvalidEvent, match="recipient"):
        CATALOGUE.parse(encode(document_with(NotificationDelivered, data={"recipient": recipient})))
    for fine in ("138****5678", "oncall:primary", "unit:市交通运输局", "contact:c_1a2b3c4d"):
        assert NotificationDelivered(**{**NOTIFICATION, "recipient": fine})


def _validator(model: type[EventData]) -> Draft202012Validator:
    schema = contracts.event_schema(model)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@ALL
def test_schema_accepts_the_sample_event(model: type[EventData]) -> None:
    doc = sample_document(model)
    _validator(model).validate(doc)
    envelope = Draft202012Validator(contracts.envelope_schema())
    envelope.validate(doc)


def _broken(model: type[EventData], how: str) -> dict[str, Any]:
    """A sample event broken in one way, which the model refuses too (but other-type)."""
    required = model.model_json_schema()["required"]
    other = next(m for m in ALL_EVENTS if m is not model).event_type()
    changes: dict[str, dict[str, Any]] = {
        "missing-field": {"data": {required[-1]: None}},
        "extra-field": {"data": {"unexpected": 1}},
        "wrong-type": {"data": {required[0]: 12}},
        "other-type": {"type": other},
        "sequence-0": {"sequence": 0},
        "no-subject": {"subject": None},
    }
    return document_with(model, **changes[how])


@ALL
@pytest.mark.parametrize(
    "how", ["missing-field", "extra-field", "wrong-type", "other-type", "sequence-0", "no-subject"]
)
def test_schema_and_model_both_refuse_a_broken_event(model: type[EventData], how: str) -> None:
    broken = _broken(model, how)
    assert not _validator(model).is_valid(broken)
    if how != "other-type":  # a valid event of another type: the registry rightly accepts it
        with pytest.raises(InvalidEvent):
            CATALOGUE.parse(encode(broken))


@ALL
def test_schema_ids_are_the_published_urls(model: type[EventData]) -> None:
    schema = contracts.event_schema(model)
    assert schema["$id"] == model.schema_url()
    assert schema["properties"]["type"]["const"] == model.event_type()
    assert re.fullmatch(r"https://[^ ]+/minsheng\.[A-Za-z]+\.v1\.json", schema["$id"])
