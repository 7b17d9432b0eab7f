"""The four lists' items and the work-day pairings, folded on the projects topic beside
the projects: their states, their figures and what GET /v1/counters shows of them."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from analytics.counting import State
from analytics.kpis import city_counters
from analytics.projects_topic import apply_projects_topic, topic_figures
from minsheng import events as ev
from minsheng.events import EventData, InvalidEvent
from testkit.unit.analytics import fold, parsed, payload, samples
from testkit.unit.events import NOW, sample

DISTRICT = "洮南市"  # the samples' list item and pairing


def pairing(*events: EventData) -> State:
    return fold(apply_projects_topic, events)


def visit(month: str, **changes: object) -> ev.WorkDayVisitRecorded:
    day = date(int(month[:4]), int(month[5:]), 15)
    return payload(ev.WorkDayVisitRecorded, month=month, visited_on=day, **changes)


def test_visits_add_up_by_district_and_month_with_services_by_kind() -> None:
    state = pairing(
        visit("2019-03"),
        visit("2019-03", services={"help_pairing": 2}, appeals_solved=0, goods_value_yuan=0),
        visit("2019-04", appeals_solved=1, appeal_ids=()),
        payload(ev.WorkDayVisitMissed, month="2019-05"),
    )
    assert state["aggregate"] == "pairing"
    march, april = (DISTRICT, "2019-03"), (DISTRICT, "2019-04")
    assert samples([state], "minsheng_workday_visits") == Counter({march: 2, april: 1})
    assert samples([state], "minsheng_workday_services") == Counter(
        {
            (*march, "party_lesson"): 1,
            (*march, "help_pairing"): 7,
            (*april, "party_lesson"): 1,
            (*april, "help_pairing"): 5,
        }
    )
    assert samples([state], "minsheng_workday_appeals_solved") == Counter({march: 2, april: 1})
    assert samples([state], "minsheng_workday_goods_value_yuan") == Counter(
        {march: 3600, april: 3600}
    )
    assert samples([state], "minsheng_workday_visits_missed") == Counter({(DISTRICT, "2019-05"): 1})


def test_a_list_item_is_a_gauge_by_its_standing_status_and_its_ratings_count() -> None:
    rating = payload(
        ev.SatisfactionRecorded,
        subject_type="list_item",
        subject_id="QD-2019-000001",
        district=DISTRICT,
        reason=None,
        rating="satisfied",
    )
    posted = fold(apply_projects_topic, [sample(ev.ListItemPosted)])
    labels = (DISTRICT, "2019", "need")
    assert samples([posted], "minsheng_list_items") == Counter({(*labels, "posted"): 1})
    done = fold(
        apply_projects_topic,
        [sample(ev.ListItemMatched), sample(ev.ListItemCompleted), rating],
        posted,
    )
    assert samples([done], "minsheng_list_items") == Counter({(*labels, "completed"): 1})
    assert samples([done], "minsheng_satisfaction_responses") == Counter(
        {(DISTRICT, "list_item", "satisfied"): 1}
    )


def test_an_event_for_a_subject_of_another_kind_is_rejected() -> None:
    item = fold(apply_projects_topic, [sample(ev.ListItemPosted)])
    other = payload(ev.WorkDayVisitMissed, pairing_id="QD-2019-000001")
    with pytest.raises(InvalidEvent, match="is a list_item, not a pairing"):
        apply_projects_topic(item, parsed(other, 2))


def test_a_project_state_of_before_is_still_a_project() -> None:
    state = fold(apply_projects_topic, [sample(ev.ProjectClaimed)])
    del state["aggregate"]  # as states written before the topic had other kinds
    assert topic_figures(state)["minsheng_projects_active", ("洮北区", "community")] == 1


def test_the_counters_show_the_lists_and_the_work_days() -> None:
    visited = pairing(visit("2019-03"), payload(ev.WorkDayVisitMissed, month="2019-04"))
    item = fold(apply_projects_topic, [sample(ev.ListItemPosted)])
    city = city_counters([], [visited, item], NOW)["city"]
    assert city["workdays"] == {
        "visits": 1,
        "services": 6,
        "appeals_solved": 2,
        "goods_value_yuan": 3600,
        "missed": 1,
        "services_by_kind": {"help_pairing": 5, "party_lesson": 1},
        "by_month": {
            "2019-03": {
                "visits": 1,
                "services": 6,
                "appeals_solved": 2,
                "goods_value_yuan": 3600,
                "missed": 0,
                "services_by_kind": {"help_pairing": 5, "party_lesson": 1},
            },
            "2019-04": {
                "visits": 0,
                "services": 0,
                "appeals_solved": 0,
                "goods_value_yuan": 0,
                "missed": 1,
                "services_by_kind": {},
            },
        },
    }
    assert city["lists"] == {
        "items": 1,
        "satisfaction_responses": 0,
        "satisfaction_rate": None,
        "by_year": {
            "2019": {
                "need": {"items": 1, "posted": 1, "matched": 0, "completed": 0, "withdrawn": 0}
            }
        },
    }
