"""The projects topic carries three kinds of aggregate: secretary projects, the four
lists' items and the community work-day pairings. They share the topic's table (a state
per subject, each remembering its kind); this sends each event to its kind's fold and
each state to its kind's figures."""

from __future__ import annotations

from analytics.aggregate import Deadlines
from analytics.counting import Figures, Shared, State
from analytics.project_counting import apply_project, planned_end_of, project_figures
from analytics.workday_counting import apply_item, apply_pairing, item_figures, pairing_figures
from minsheng.events import ParsedEvent

PROJECTS_TOPIC = Shared(
    (apply_project, apply_item, apply_pairing),
    {"project": project_figures, "list_item": item_figures, "pairing": pairing_figures},
)


def topic_figures(state: State) -> Figures:
    return PROJECTS_TOPIC.figures_of(state)


def topic_deadlines(state: State) -> Deadlines:
    """Only a project has a deadline: its planned end."""
    return planned_end_of(state) if PROJECTS_TOPIC.kind_of(state) == "project" else ()


def apply_projects_topic(state: State | None, event: ParsedEvent) -> State | None:
    """The topic's fold: the event's kind's (`Shared.fold`)."""
    return PROJECTS_TOPIC.fold(state, event)
