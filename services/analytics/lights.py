"""Traffic lights of the handling units (绿灯率): green, yellow or red for each unit and
calendar month, from its on-time, satisfaction and return rates of that month (pure;
the thresholds are read once at start from versioned YAML, `lights.yaml`).

The inputs are the per-unit monthly figures of the appeal states (`appeal_counting`),
summed over every worker before any rate is taken, as for the city's KPIs: a worker's
share is never a rate. Every unit of the reference data gets a light each month; a rate
whose denominator is 0 holds nothing against the unit (see `light`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from analytics.appeal_counting import (
    DISPATCHED,
    ON_TIME,
    RESOLVED,
    RETURNED,
    UNIT_MONTH,
    UNIT_MONTH_OVERDUE,
)
from analytics.counting import Figures
from analytics.kpis import SATISFIED, rate
from minsheng.reference import units

Light = Literal["green", "yellow", "red"]
LIGHTS: tuple[Light, ...] = get_args(Light)
THRESHOLDS_FILE = Path(__file__).parent / "lights.yaml"
RATINGS = (*SATISFIED, "dissatisfied")
Rate = float | None


class ThresholdsError(ValueError):
    """The thresholds file is not valid; the message names the field."""


class Bounds(BaseModel):
    """What a light asks of a month: rates at least `on_time` and `satisfaction`, and a
    return rate at most `return_rate` (fractions, 0 to 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on_time: float = Field(ge=0, le=1)
    satisfaction: float = Field(ge=0, le=1)
    return_rate: float = Field(ge=0, le=1)

    def met(self, on_time: Rate, satisfaction: Rate, return_rate: Rate) -> bool:
        """Every rate within its bound; a rate that is None (nothing to divide by) is."""
        return (
            (on_time is None or on_time >= self.on_time)
            and (satisfaction is None or satisfaction >= self.satisfaction)
            and (return_rate is None or return_rate <= self.return_rate)
        )


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    green: Bounds
    yellow: Bounds

    @model_validator(mode="after")
    def _yellow_is_laxer(self) -> Thresholds:
        """A month that earns green must earn yellow too, or the order means nothing."""
        for field in ("on_time", "satisfaction"):
            if getattr(self.yellow, field) > getattr(self.green, field):
                raise ValueError(f"yellow.{field}: above green.{field}")
        if self.yellow.return_rate < self.green.return_rate:
            raise ValueError("yellow.return_rate: below green.return_rate")
        return self


def light(on_time: Rate, satisfaction: Rate, return_rate: Rate, thresholds: Thresholds) -> Light:
    """Green when every rate meets `green`, else yellow when every rate meets `yellow`,
    else red. A None rate counts against nothing: a unit with no closed appeals in the
    month is judged on its overdue work and its returns alone, green with neither."""
    if thresholds.green.met(on_time, satisfaction, return_rate):
        return "green"
    if thresholds.yellow.met(on_time, satisfaction, return_rate):
        return "yellow"
    return "red"


def parse_thresholds(text: str, source: str = "lights.yaml") -> Thresholds:
    """Validates a thresholds document; raises `ThresholdsError` naming the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ThresholdsError(f"{source}: not YAML: {exc}") from exc
    try:
        return Thresholds.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        field, _, tail = message.partition(": ")
        if not where and tail:
            where, message = field, tail
        raise ThresholdsError(f"{source}: field {where or '<root>'!r}: {message}") from exc


def load_thresholds(path: Path) -> Thresholds:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThresholdsError(f"{path}: {exc}") from exc
    return parse_thresholds(text, str(path))


@dataclass(frozen=True)
class UnitMonth:
    """A unit's inputs in one month, summed over every worker."""

    unit: str
    counts: Counter[str]

    def rates(self) -> tuple[Rate, Rate, Rate]:
        c = self.counts
        on_time = rate(c[ON_TIME], c[RESOLVED] + c["overdue"])
        satisfaction = rate(sum(c[r] for r in SATISFIED), sum(c[r] for r in RATINGS))
        return on_time, satisfaction, rate(c[RETURNED], c[DISPATCHED])

    def report(self, thresholds: Thresholds) -> dict[str, Any]:
        on_time, satisfaction, return_rate = self.rates()
        c = self.counts
        return {
            "unit": self.unit,
            "light": light(on_time, satisfaction, return_rate, thresholds),
            "on_time_rate": on_time,
            "satisfaction_rate": satisfaction,
            "return_rate": return_rate,
            "resolved": c[RESOLVED],
            "resolved_on_time": c[ON_TIME],
            "overdue": c["overdue"],
            "satisfaction_responses": sum(c[r] for r in RATINGS),
            "dispatched": c[DISPATCHED],
            "returned": c[RETURNED],
        }


def unit_months(figures: Figures, month: str) -> list[UnitMonth]:
    """Every unit of the reference data with its inputs of `month` ("2019-10")."""
    counts: dict[str, Counter[str]] = {unit: Counter() for unit in units()}
    for (name, labels), value in figures.items():
        if name == UNIT_MONTH and labels[1] == month and labels[0] in counts:
            counts[labels[0]][labels[2]] += value
        elif name == UNIT_MONTH_OVERDUE and labels[1] == month and labels[0] in counts:
            counts[labels[0]]["overdue"] += value
    return [UnitMonth(unit, c) for unit, c in counts.items()]


def lights_report(
    figures: Figures, month: str, thresholds: Thresholds, as_of: str
) -> dict[str, Any]:
    """The JSON of GET /v1/units/lights: each unit's light and inputs, and the count of
    units per light (the green rate is `green` over `units`)."""
    rows = [u.report(thresholds) for u in unit_months(figures, month)]
    tally = Counter(row["light"] for row in rows)
    return {
        "month": month,
        "as_of": as_of,
        "thresholds_version": thresholds.version,
        "units": len(rows),
        "lights": {colour: tally[colour] for colour in LIGHTS},
        "by_unit": rows,
    }
