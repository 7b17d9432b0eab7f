"""The simulated city: when appeals arrive, about what, and how units and citizens answer.

Pure functions of a seeded random generator and simulated moments, so a demo run is
reproducible and its rules can be tested without a platform. The rhythm follows a working
day in Asia/Shanghai (busy office hours, quiet nights, a third of it at weekends and on
holidays); the subjects follow the season (heating in winter, flooding in summer); one
district is made to fall behind on purpose, so that its overdue appeals raise an alert.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from minsheng.clock import CITY_TZ, local_day
from minsheng.reference import places, units
from minsheng.workdays import is_working_day

Action = Literal["accept", "return", "dispatch", "extend", "resolve", "callback"]

# Relative weight of each local hour of a working day (index = hour, 0..23).
HOURLY = (
    *(0.03,) * 6,
    0.1, 0.4, 1.0, 1.0, 1.0, 0.9, 0.5, 0.6, 1.0, 1.0, 0.9, 0.7, 0.4, 0.3, 0.2, 0.1,
    0.05, 0.03,
)  # fmt: skip
RESTING_DAY = 0.35  # share of a working day's calls on weekends and holidays

# (title, category, weight) by season; every season also has the all-year subjects.
ALL_YEAR = (
    ("路灯不亮", "complaint", 3),
    ("噪音扰民", "complaint", 2),
    ("垃圾清运不及时", "complaint", 2),
    ("医保政策咨询", "consultation", 3),
    ("公交线路优化建议", "suggestion", 1),
    ("独居老人需要帮扶", "help", 1),
)
WINTER = (
    ("暖气不热", "complaint", 6),
    ("供暖管道漏水", "emergency", 2),
    ("楼道积雪结冰", "help", 2),
    ("取暖费缴纳咨询", "consultation", 2),
)
SUMMER = (
    ("小区积水严重", "emergency", 3),
    ("雨水井堵塞", "help", 3),
    ("蚊虫滋生", "complaint", 2),
)
DISTRICT_WEIGHTS = {"洮北区": 35, "洮南市": 18, "大安市": 17, "镇赉县": 12, "通榆县": 12}
CHANNELS = (("hotline", 6), ("app", 3), ("web", 1), ("window", 1), ("grid", 1))
RATINGS = (("satisfied", 72), ("basically_satisfied", 18), ("dissatisfied", 10))


@dataclass(frozen=True)
class Behaviour:
    """How the city's units answer; the lagging district's units mostly stay silent."""

    late_district: str = "镇赉县"
    silent_share_when_late: float = 0.7  # of the lagging district's appeals: nobody acts
    surge: int = 20  # a heating outage there, two hours in: emergencies its units cannot meet
    late_share: float = 0.12  # elsewhere: resolved after the deadline
    return_share: float = 0.04  # returned as not theirs (then dispatched again)
    extend_share: float = 0.05  # time limit extended by the supervisor


@dataclass(frozen=True)
class Step:
    """One action on an appeal, due at a simulated moment."""

    at: datetime
    action: Action
    body: dict[str, Any] = field(default_factory=dict)


def arrivals_per_hour(moment: datetime, peak_rate: float) -> float:
    """Expected appeals per simulated hour at `moment`, `peak_rate` at the busiest hour."""
    local = moment.astimezone(CITY_TZ)
    rate = peak_rate * HOURLY[local.hour]
    return rate if is_working_day(local.date()) else rate * RESTING_DAY


def arrivals(rng: random.Random, start: datetime, end: datetime, peak_rate: float) -> int:
    """How many appeals arrive in [start, end): Poisson at the rate of the interval's start."""
    hours = (end - start).total_seconds() / 3600
    expected = arrivals_per_hour(start, peak_rate) * hours
    count, threshold = 0, rng.random()
    # Knuth's method, fine for the small means of one tick.
    limit = pow(2.718281828459045, -expected)
    while threshold > limit:
        count += 1
        threshold *= rng.random()
    return count


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...] | list[tuple[str, int]]) -> str:
    names, weights = zip(*weighted, strict=True)
    choice: str = rng.choices(names, weights)[0]
    return choice


def subjects(month: int) -> tuple[tuple[str, str, int], ...]:
    """What people call about in this month."""
    if month in (11, 12, 1, 2, 3):
        return ALL_YEAR + WINTER
    if month in (6, 7, 8):
        return ALL_YEAR + SUMMER
    return ALL_YEAR


def new_appeal(rng: random.Random, moment: datetime, serial: int) -> dict[str, Any]:
    """The body of POST /v1/appeals for one caller."""
    options = subjects(moment.astimezone(CITY_TZ).month)
    title, category, _ = rng.choices(options, [w for _, _, w in options])[0]
    districts = [(d, DISTRICT_WEIGHTS.get(d, 4)) for d in places().districts]
    district = _pick(rng, districts)
    body: dict[str, Any] = {
        "title": title,
        "description": f"市民来电反映:{title}。(演示数据 {serial})",
        "category": category,
        "district": district,
        "channel": _pick(rng, CHANNELS),
        "phone": f"139{rng.randrange(10**8):08d}",
    }
    streets = places().districts[district]
    if streets and rng.random() < 0.6:
        street = rng.choice(sorted(streets))
        body["street"] = street
        if streets[street] and rng.random() < 0.5:
            community = rng.choice(streets[street])
            body["community"] = community
            grids = places().grids.get((district, street, community), ())
            if grids and rng.random() < 0.5:  # the grid's chiefs hear of it
                body["grid"] = rng.choice(grids)
    return body


def surge(
    rng: random.Random, behaviour: Behaviour, start: datetime
) -> list[tuple[datetime, dict[str, Any]]]:
    """A burst of emergencies in the lagging district within an hour, two hours into the
    run: due the same day, mostly left alone, so the district is soon overdue."""
    district = behaviour.late_district
    moments = sorted(start + timedelta(hours=2 + rng.random()) for _ in range(behaviour.surge))
    return [
        (
            at,
            {
                "title": "小区集中停暖",
                "description": f"{district}多个小区暖气停供,居民家中温度过低。",
                "category": "emergency",
                "district": district,
                "channel": "hotline",
                "phone": f"139{rng.randrange(10**8):08d}",
            },
        )
        for at in moments
    ]


def handling(
    rng: random.Random,
    behaviour: Behaviour,
    district: str,
    received: datetime,
    deadline: datetime,
) -> list[Step]:
    """What happens to one appeal after its dispatch: accept, maybe return or extension,
    resolution on time or late, and the call-back with the citizen's rating."""
    lagging = district == behaviour.late_district
    if lagging and rng.random() < behaviour.silent_share_when_late:
        return []
    steps: list[Step] = []
    at = received + timedelta(minutes=rng.uniform(10, 180))
    if rng.random() < behaviour.return_share:
        steps.append(Step(at, "return", {"reason": "不属于本单位职责"}))
        at += timedelta(minutes=rng.uniform(20, 90))
        steps.append(Step(at, "dispatch"))
        at += timedelta(minutes=rng.uniform(10, 60))
    steps.append(Step(at, "accept"))
    if rng.random() < behaviour.extend_share:
        at += timedelta(minutes=rng.uniform(30, 240))
        steps.append(Step(at, "extend", {"reason": "需协调多个部门", "days": 2}))
        deadline += timedelta(days=2)
    window = max((deadline - at).total_seconds(), 60.0)
    if lagging or rng.random() < behaviour.late_share:
        at = max(at, deadline) + timedelta(hours=rng.uniform(1, 20))
    else:
        at += timedelta(seconds=rng.uniform(0.1, 0.9) * window)
    steps.append(Step(at, "resolve", {"resolution": "已现场处理,问题解决。"}))
    rating = _pick(rng, RATINGS)
    callback: dict[str, Any] = {"rating": rating}
    if rating == "dissatisfied":
        callback["reason"] = "handling"
    steps.append(Step(at + timedelta(hours=rng.uniform(2, 20)), "callback", callback))
    return steps


@dataclass(frozen=True)
class ProjectPlan:
    """A secretary project of the demo: its claim and which milestones get reported."""

    claim: dict[str, Any]
    reports: list[tuple[datetime, str]]  # (when, milestone id) reported reached
    flags: list[tuple[datetime, dict[str, Any]]]  # (when, body of a 通报 or 约谈)


def projects(rng: random.Random, start: datetime, days: float, count: int) -> list[ProjectPlan]:
    """Secretary projects with a milestone due on each day of the demo (to its planned
    end); most are reported reached the day they fall due, a few are left to be missed."""
    first = local_day(start)
    span = max(1, int(days + 0.999))
    city_units = sorted(u.name for u in units().values() if u.level == "city")
    districts = sorted(DISTRICT_WEIGHTS)
    plans = []
    for i in range(count):
        district = districts[i % len(districts)]
        local_units = sorted(u.name for u in units().values() if u.district == district)
        # every fifth is due to end on the first day, and runs past its planned end; a
        # milestone is never due after its project's planned end (the service refuses it)
        late = i % 5 == 0
        planned_end = first if late else first + timedelta(days=span + 30)
        milestones = [
            {
                "milestone_id": f"m{d + 1}",
                "title": f"第{d + 1}阶段",
                "due": str(first + timedelta(days=d)),
            }
            for d in range(1 if late else span)
        ]
        reports = [
            (start + timedelta(hours=rng.uniform(1, 10) + 24 * d), f"m{d + 1}")
            for d in range(len(milestones))
            if rng.random() < 0.8
        ]
        claim = {
            "secretary": {
                "name": f"书记{i + 1}",
                "organisation": f"{district}党委",
                "level": "county",
            },
            "year": first.year,
            "title": f"{district}民生实事{i + 1}",
            "category": ("public_services", "community_governance", "basic_support")[i % 3],
            "district": district,
            "unit": (local_units or city_units)[0],
            "planned_start": str(first),
            "planned_end": str(planned_end),
            "milestones": milestones,
        }
        flags = [
            (start + timedelta(hours=hours), {"kind": kind, "reason": "未按期推进"})
            for hours, kind, every, at in ((30, "notice", 7, 3), (50, "formal_talk", 10, 9))
            if i % every == at and hours < days * 24
        ]
        plans.append(ProjectPlan(claim, reports, flags))
    return plans
