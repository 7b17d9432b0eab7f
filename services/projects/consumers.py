"""Intake from other systems: `minsheng.intake.projects.v1`.

Bureaus' own project systems report milestones (ProjectMilestone) and residents'
evaluations (SatisfactionRecorded, subject_type project) for projects of our ledger, by
our project id. Each event applies once for good, keyed by its CloudEvents identity
(source, id) in `intake_seen`, through the shared `EventConsumer` (which also drops
redelivered sequences). An event for an unknown project, with labels (district, level,
year) that disagree with the ledger, for a closed year, or that breaks a rule of the
lifecycle, goes to the dead-letter topic with the reason. What applies becomes our own
canonical event on `minsheng.projects.v1`, with the progress our roll-up computes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from minsheng.clock import Clock
from minsheng.db import Conn
from minsheng.events import (
    INTAKE_PROJECT_EVENTS,
    InvalidEvent,
    ParsedEvent,
    ProjectMilestone,
    Registry,
    SatisfactionRecorded,
)
from minsheng.jobs import consumer_job, first_sighting
from minsheng.service import Job
from projects import ledger, lifecycle, store
from projects.lifecycle import Outcome, ProjectState
from projects.store import journal
from projects.store.intake import note_project

GROUP = "projects-intake"
REGISTRY = Registry(INTAKE_PROJECT_EVENTS)


async def apply(conn: Conn, event: ParsedEvent, at: datetime) -> str | None:
    """Applies one intake event in the caller's transaction; returns the project id, or
    None for an event seen before. Raises `InvalidEvent` to dead-letter it."""
    if not await first_sighting(conn, "intake_seen", event):
        return None
    match event.data:
        case ProjectMilestone() as data:
            state = await _project(conn, data.project_id, data.district)
            _same_labels(state, data)
            outcome = _decide(
                state,
                lambda s: lifecycle.milestone(
                    s,
                    milestone_id=data.milestone_id,
                    status=data.status,
                    now=at,
                    reason=data.reason,
                    new_due=data.new_due,
                    approved_by=data.approved_by,
                ),
            )
        case SatisfactionRecorded() as rated if rated.subject_type == "project":
            state = await _project(conn, rated.subject_id, rated.district)
            outcome = _decide(
                state,
                lambda s: lifecycle.evaluate(
                    s,
                    rating=rated.rating,
                    now=at,
                    comment=rated.comment,
                    channel=rated.channel,
                    reason=rated.reason,
                ),
            )
        case other:
            raise InvalidEvent("rejected", f"{other.event_name} is not about a project")
    await journal.record(conn, *outcome, at)
    await note_project(conn, event, state.id)
    return state.id


async def _project(conn: Conn, project_id: str, district: str) -> ProjectState:
    state = await journal.load_state(conn, project_id)
    if state is None:
        raise InvalidEvent("rejected", f"unknown project {project_id}")
    if state.district != district:
        raise InvalidEvent(
            "rejected", f"project {project_id} is in {state.district}, not {district}"
        )
    refused = ledger.closed_to(None, state.year, await store.ledger_closed(conn, state.year))
    if refused is not None:
        raise InvalidEvent("rejected", refused)
    return state


def _same_labels(state: ProjectState, data: ProjectMilestone) -> None:
    if (data.level, data.year) != (state.level, state.year):
        raise InvalidEvent(
            "rejected",
            f"project {state.id} is level {state.level}, year {state.year};"
            f" the event says {data.level}, {data.year}",
        )


def _decide(state: ProjectState, act: Callable[[ProjectState], Outcome]) -> Outcome:
    try:
        return act(state)
    except lifecycle.LifecycleError as exc:
        raise InvalidEvent("rejected", f"project {state.id}: {exc}") from exc


def consumer(clock: Clock, *, topic: str, group: str = GROUP) -> Job:
    """The Runtime job consuming the intake topic; `clock` stamps what it records."""

    async def handle(conn: Conn, event: ParsedEvent) -> None:
        await apply(conn, event, clock())

    return consumer_job(topic=topic, group=group, registry=REGISTRY, handler=handle)
