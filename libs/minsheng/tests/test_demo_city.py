"""The simulated city's rules: rhythm, seasons, valid bodies, handling, projects."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from minsheng.clock import CITY_TZ
from minsheng.demo import city
from minsheng.demo.cli import start_of_demo
from minsheng.reference import categories, places

TUESDAY_10 = datetime(2026, 12, 1, 10, tzinfo=CITY_TZ)


def test_office_hours_are_busier_than_nights_and_weekends() -> None:
    night = TUESDAY_10.replace(hour=3)
    saturday = TUESDAY_10 + timedelta(days=4)
    peak = city.arrivals_per_hour(TUESDAY_10, 40)
    assert peak == 40
    assert city.arrivals_per_hour(night, 40) < peak / 10
    assert city.arrivals_per_hour(saturday, 40) == peak * city.RESTING_DAY


def test_arrivals_average_the_rate() -> None:
    rng = random.Random(3)
    hour = timedelta(hours=1)
    total = sum(city.arrivals(rng, TUESDAY_10, TUESDAY_10 + hour / 60, 60) for _ in range(3000))
    assert 2700 < total < 3300  # 3000 minutes at one a minute


def test_seasons_change_what_people_call_about() -> None:
    assert "暖气不热" in {t for t, _, _ in city.subjects(12)}
    assert "暖气不热" not in {t for t, _, _ in city.subjects(7)}
    assert "小区积水严重" in {t for t, _, _ in city.subjects(7)}


def test_every_body_names_known_places_and_categories() -> None:
    rng = random.Random(1)
    bodies = [city.new_appeal(rng, TUESDAY_10, i) for i in range(300)]
    for body in bodies:
        assert body["category"] in categories()
        place = (body.get("street"), body.get("community"), body.get("grid"))
        assert places().knows(body["district"], *place)
    assert any("grid" in body for body in bodies)  # some in a grid, for its chiefs


def test_handling_is_in_time_order_and_mostly_on_time() -> None:
    rng = random.Random(2)
    behaviour = city.Behaviour()
    deadline = TUESDAY_10 + timedelta(days=3)
    on_time = late = 0
    for _ in range(500):
        steps = city.handling(rng, behaviour, "洮北区", TUESDAY_10, deadline)
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        assert steps[-1].action == "callback"
        extended = any(s.action == "extend" for s in steps)
        resolved = next(s.at for s in steps if s.action == "resolve")
        if resolved <= deadline + timedelta(days=2 if extended else 0):
            on_time += 1
        else:
            late += 1
    assert 0.8 < on_time / 500 < 0.95


def test_the_lagging_district_mostly_stays_silent_and_is_late_otherwise() -> None:
    rng = random.Random(4)
    behaviour = city.Behaviour(late_district="镇赉县")
    deadline = TUESDAY_10 + timedelta(days=1)
    plans = [city.handling(rng, behaviour, "镇赉县", TUESDAY_10, deadline) for _ in range(400)]
    silent = sum(1 for p in plans if not p)
    assert 0.6 < silent / 400 < 0.8
    for plan in filter(None, plans):
        assert next(s.at for s in plan if s.action == "resolve") > deadline


def test_projects_have_a_milestone_due_each_day_and_some_left_to_miss() -> None:
    plans = city.projects(random.Random(5), TUESDAY_10, 3, 30)
    late = [p for p in plans if p.claim["planned_end"] == "2026-12-01"]  # past it soon
    assert len(late) == 6
    assert all([m["due"] for m in p.claim["milestones"]] == ["2026-12-01"] for p in late)
    assert all(
        [m["due"] for m in p.claim["milestones"]] == ["2026-12-01", "2026-12-02", "2026-12-03"]
        for p in plans
        if p not in late
    )
    assert {f["kind"] for p in plans for _, f in p.flags} == {"notice", "formal_talk"}
    reported = sum(len(p.reports) for p in plans)
    due = sum(len(p.claim["milestones"]) for p in plans)
    assert due == 24 * 3 + 6
    assert 0.6 * due < reported < 0.95 * due


def test_the_demo_starts_in_office_hours_of_a_working_day() -> None:
    assert start_of_demo(TUESDAY_10) == TUESDAY_10
    night = datetime(2026, 12, 1, 22, tzinfo=UTC)  # Wednesday 06:00 in the city
    assert start_of_demo(night) == datetime(2026, 12, 2, 8, tzinfo=CITY_TZ)
    friday_evening = datetime(2026, 12, 4, 18, tzinfo=CITY_TZ)
    assert start_of_demo(friday_evening) == datetime(2026, 12, 7, 8, tzinfo=CITY_TZ)


def test_the_surge_is_emergencies_of_the_lagging_district_in_one_hour() -> None:
    behaviour = city.Behaviour(late_district="镇赉县", surge=12)
    burst = city.surge(random.Random(6), behaviour, TUESDAY_10)
    assert len(burst) == 12
    assert {b["district"] for _, b in burst} == {"镇赉县"}
    assert {b["category"] for _, b in burst} == {"emergency"}
    assert all(
        TUESDAY_10 + timedelta(hours=2) <= at < TUESDAY_10 + timedelta(hours=3) for at, _ in burst
    )


def test_every_milestone_is_due_within_its_project_for_any_length_of_demo() -> None:
    """The projects service refuses a claim with a milestone outside its planned dates."""
    for days in (0.2, 1, 3, 7):
        for p in city.projects(random.Random(1), TUESDAY_10, days, 10):
            start, end = p.claim["planned_start"], p.claim["planned_end"]
            assert p.claim["milestones"]
            assert all(start <= m["due"] <= end for m in p.claim["milestones"]), (days, p.claim)
            assert {m for _, m in p.reports} <= {m["milestone_id"] for m in p.claim["milestones"]}
