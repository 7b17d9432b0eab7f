"""Notification rules: which event, under which conditions, goes to whom, by which
channels, with which template (pure; the file is read once at start).

The rules are versioned YAML (`rules.yaml`, `version: 1`) validated with Pydantic when
the service starts: an unknown event, condition, recipient, channel or template, a
condition the event cannot carry, or a recipient the channels cannot reach refuses to
start the service with an error naming the rule and the field. Every condition given
must hold (AND); within one condition, any of the values listed (OR). Facts an event
does not carry itself (an appeal's unit on AppealReopened) come from what the consumer
remembered of earlier events.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from minsheng.events import APPEAL_EVENTS, PROJECT_EVENTS, EventData
from minsheng.events.appeals import AppealEvent, EscalationLevel
from minsheng.events.projects import FlagKind, Level, MilestoneStatus, ProjectEvent
from minsheng.events.satisfaction import Rating

RecipientKind = Literal[
    "unit",
    "assisting_units",
    "dispatch_centre",
    "supervision_centre",
    "supervisors",
    "organisation_department",
    "citizen",
    "secretary",
    "grid_chiefs",
]
# The five chiefs of a grid's chain (街长、路(巷)长、网格长、楼栋长、单元长), top first.
ChiefLevel = Literal["street", "lane", "grid", "building", "unit"]
ChannelName = Literal["webhook", "email", "sms"]
CHANNELS: tuple[str, ...] = get_args(ChannelName)
# Citizens are reached by SMS only (their number stays with appeals), grid chiefs by
# e-mail (the grids' reference data gives them no webhook); everyone else by the
# addresses of the directory.
REACHABLE_BY: dict[str, frozenset[str]] = {
    kind: frozenset({"webhook", "email"}) for kind in get_args(RecipientKind)
} | {"citizen": frozenset({"sms"}), "grid_chiefs": frozenset({"email"})}
MODELS: dict[str, type[EventData]] = {m.event_name: m for m in APPEAL_EVENTS + PROJECT_EVENTS}
APPEAL_ONLY = {"citizen", "assisting_units", "dispatch_centre", "grid_chiefs"}
PROJECT_ONLY = {"secretary"}


class RulesError(ValueError):
    """The rules file is not valid; the message names the rule and the field."""


class Conditions(BaseModel):
    """Facts an event must show; absent means any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: tuple[str, ...] | None = None
    district: tuple[str, ...] | None = None
    unit: tuple[str, ...] | None = None
    level: tuple[Level, ...] | None = Field(default=None, description="The secretary's level.")
    escalation_level: tuple[EscalationLevel, ...] | None = None
    rating: tuple[Rating, ...] | None = None
    milestone_status: tuple[MilestoneStatus, ...] | None = None
    flag_kind: tuple[FlagKind, ...] | None = None

    def given(self) -> dict[str, tuple[str, ...]]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


# Which events carry each fact: by the payload's field, or (unit) remembered.
FACT_FIELD = {
    "category": "category",
    "district": "district",
    "level": "level",
    "escalation_level": "level",
    "rating": "rating",
    "milestone_status": "status",
    "flag_kind": "kind",
}


@cache  # per event type and fact, asked for every event consumed
def carries(model: type[EventData], fact: str) -> bool:
    if fact == "unit":
        return issubclass(model, AppealEvent | ProjectEvent)
    if fact in ("level", "escalation_level"):
        project = issubclass(model, ProjectEvent)
        return project if fact == "level" else model.event_name == "AppealEscalated"
    return FACT_FIELD[fact] in model.model_fields


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    event: str
    when: Conditions = Conditions()
    recipients: tuple[RecipientKind, ...] = Field(min_length=1)
    grid_chiefs: tuple[ChiefLevel, ...] = Field(
        default=(), description="Which chiefs of the appeal's grid `grid_chiefs` reaches."
    )
    channels: tuple[ChannelName, ...] = Field(min_length=1)
    template: str = Field(pattern=r"^[a-z][a-z0-9_]*$")

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        model = MODELS.get(self.event)
        if model is None:
            raise ValueError(f"event: unknown event {self.event!r}; one of {', '.join(MODELS)}")
        for fact in self.when.given():
            if not carries(model, fact):
                raise ValueError(f"when.{fact}: {self.event} does not carry {fact}")
        appeal, project = issubclass(model, AppealEvent), issubclass(model, ProjectEvent)
        for kind in self.recipients:
            if (kind in APPEAL_ONLY and project) or (kind in PROJECT_ONLY and appeal):
                raise ValueError(f"recipients: {kind} is not a recipient of {self.event}")
            if not REACHABLE_BY[kind] & set(self.channels):
                raise ValueError(
                    f"channels: {kind} is reached only by {', '.join(sorted(REACHABLE_BY[kind]))}"
                )
        chiefs = "grid_chiefs" in self.recipients
        if chiefs and not self.grid_chiefs:
            levels = ", ".join(get_args(ChiefLevel))
            raise ValueError(f"grid_chiefs: name the chiefs to reach, of {levels}")
        if self.grid_chiefs and not chiefs:
            raise ValueError("grid_chiefs: given, but grid_chiefs is not a recipient")
        return self

    def matches(self, event_name: str, facts: dict[str, str | None]) -> bool:
        if event_name != self.event:
            return False
        return all(facts.get(fact) in allowed for fact, allowed in self.when.given().items())


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    rules: tuple[Rule, ...] = Field(min_length=1)


Compiled = tuple[tuple[Rule, tuple[tuple[str, tuple[str, ...]], ...]], ...]


@dataclass(frozen=True)
class RuleSet:
    version: int
    rules: tuple[Rule, ...]
    # per event type, its rules in file order with their conditions as (fact, allowed)
    # pairs: compiled once, where `Rule.matches` would dump the conditions for every event
    _by_event: dict[str, Compiled] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_event: dict[str, list[tuple[Rule, tuple[tuple[str, tuple[str, ...]], ...]]]] = {}
        for rule in self.rules:
            given = tuple(rule.when.given().items())
            by_event.setdefault(rule.event, []).append((rule, given))
        object.__setattr__(self, "_by_event", {k: tuple(v) for k, v in by_event.items()})

    def addresses(self, event_name: str) -> bool:
        """Whether any rule is about this event type (most events ask for nothing)."""
        return event_name in self._by_event

    def matching(self, event_name: str, facts: dict[str, str | None]) -> list[Rule]:
        """The rules of this event type whose every condition the facts meet, in order
        (the same as `Rule.matches` on each rule)."""
        return [
            rule
            for rule, given in self._by_event.get(event_name, ())
            if all(facts.get(fact) in allowed for fact, allowed in given)
        ]


def facts(data: EventData, unit: str | None) -> dict[str, str | None]:
    """What the conditions test, from the payload and the remembered `unit`."""
    found: dict[str, str | None] = {"unit": data.get("unit") or unit}
    for fact, name in FACT_FIELD.items():
        if carries(type(data), fact):
            found[fact] = data.get(name)
    return found


def parse_rules(text: str, templates: Collection[str], source: str = "rules.yaml") -> RuleSet:
    """Validates a rules document; `templates` are the template names that exist."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not YAML: {exc}") from exc
    try:
        doc = RulesFile.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(f"{source}: {_describe(exc, raw)}") from exc
    ids = [r.id for r in doc.rules]
    for index, rule in enumerate(doc.rules):
        if ids.index(rule.id) != index:
            raise RulesError(f"{source}: rule {rule.id!r}: field 'id': used by two rules")
        if rule.template not in templates:
            raise RulesError(
                f"{source}: rule {rule.id!r}: field 'template': no template {rule.template!r}"
            )
    return RuleSet(doc.version, doc.rules)


def load_rules(path: Path, templates: Collection[str]) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: {exc}") from exc
    return parse_rules(text, templates, str(path))


def _describe(exc: ValidationError, raw: Any) -> str:
    """The first error, as `rule '<id>': field '<field>': <message>` where it is a rule's."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = raw.get("rules") if isinstance(raw, dict) else None
        entry = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        name = entry.get("id") if isinstance(entry, dict) and entry.get("id") else f"#{loc[1] + 1}"
        rest = [str(p) for p in loc[2:]]
        head, _, tail = message.partition(": ")
        if not rest and tail and head.split(".")[0] in Rule.model_fields:
            field, message = head, tail
        else:
            field = ".".join(p for p in rest if not p.isdigit()) or "<rule>"
        return f"rule {name!r}: field {field!r}: {message}"
    return f"field {'.'.join(str(p) for p in loc) or '<root>'!r}: {message}"
