"""The domain topics the analytics fold, each with its table, fold and figures: the one
list the workers (main.py) and the rebuild wire from. Apart from main.py so that the
rebuild's processes import the folds without the worker's web and Faust machinery."""

from __future__ import annotations

from collections.abc import Callable

from analytics.aggregate import FiguresOf
from analytics.appeal_counting import appeal_figures, apply_appeal
from analytics.counting import State
from analytics.notification_counting import apply_notification, notification_figures
from analytics.projects_topic import apply_projects_topic, topic_figures
from minsheng.events import ParsedEvent
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS

Apply = Callable[[State | None, ParsedEvent], State | None]

TABLES: tuple[tuple[str, str, str, Apply, FiguresOf], ...] = (
    # name, topic, table, fold, figures
    ("appeals", APPEALS, "appeal-state", apply_appeal, appeal_figures),
    ("projects", PROJECTS, "project-state", apply_projects_topic, topic_figures),
    (
        "notifications",
        NOTIFICATIONS,
        "notification-state",
        apply_notification,
        notification_figures,
    ),
)
