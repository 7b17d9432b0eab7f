"""Which aggregate an event is about, for the rules: appeals and projects only; the four
lists' items and the work-day pairings share the projects topic and are passed over."""

from __future__ import annotations

import pytest

from minsheng import events as ev
from minsheng.events import EventData
from notifications.memory import subject_of
from testkit.unit.events import sample


@pytest.mark.parametrize("model", [*ev.LIST_EVENTS, *ev.WORKDAY_EVENTS], ids=lambda m: m.__name__)
def test_list_and_work_day_events_have_no_subject_for_the_rules(model: type[EventData]) -> None:
    assert subject_of(sample(model)) is None


def test_a_rating_of_a_list_item_is_passed_over_and_one_of_a_project_is_not() -> None:
    rating = sample(ev.SatisfactionRecorded)
    item = rating.model_copy(update={"subject_type": "list_item", "subject_id": "QD-2019-000001"})
    project = rating.model_copy(update={"subject_type": "project", "subject_id": "P2019-0386"})
    assert subject_of(item) is None
    assert subject_of(project) == ("project", "P2019-0386")
