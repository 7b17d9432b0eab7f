"""HTTP routes of the actions on a project: milestones, progress, completion,
verification, residents' evaluations and accountability flags.

Each route runs one lifecycle action in one transaction: lock the project, replay its
history, decide, then write state, history, outbox and timers together (`store.journal`),
as `minsheng.commands.Commands` does for every service. Refusals become problem+json: an
illegal action or a milestone that cannot take that status 409 with the current state
and the allowed actions, other rejected arguments 422; a unit key on another unit's
project, or anyone but a supervisor on a closed year's project, 403.
"""

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from minsheng import auth
from minsheng.commands import ActionBody, Commands
from minsheng.db import Conn
from minsheng.events.fields import Note, Reason
from minsheng.events.projects import (
    FlagKind,
    MilestoneStatus,
    VerificationMethod,
    VerificationResult,
)
from minsheng.events.satisfaction import DissatisfactionReason, Rating, SatisfactionChannel
from minsheng.inputs import Text
from minsheng.problems import Problem
from minsheng.service import Guards
from minsheng.web import require_roles
from projects import ledger, lifecycle, store
from projects.columns import ProjectOut
from projects.lifecycle import ProjectState
from projects.store import journal

Principal = auth.Principal


class MilestoneIn(ActionBody):
    milestone_id: Text = Field(min_length=1)
    status: MilestoneStatus
    reason: Text | None = Field(default=None, max_length=2000)
    new_due: date | None = Field(default=None, description="For rescheduled (supervisor).")


class ProgressIn(ActionBody):
    progress: int = Field(ge=0, le=100)
    note: Note = ""


class CompleteIn(ActionBody):
    completed_on: date | None = Field(default=None, description="Today if omitted.")


class VerifyIn(ActionBody):
    method: VerificationMethod
    result: VerificationResult
    inspector: Text | None = Field(
        default=None, min_length=1, max_length=200, description="The key's holder if omitted."
    )
    notes: Note = ""


class EvaluationIn(ActionBody):
    rating: Rating
    comment: Note = ""
    channel: SatisfactionChannel = "interview"
    reason: DissatisfactionReason | None = None


class FlagIn(ActionBody):
    kind: FlagKind
    reason: Reason


def build_command_router(pool: Any, g: Guards) -> APIRouter:
    """The six action routes; `pool` returns the live pool."""
    router = APIRouter(prefix="/v1/projects/{project_id}")
    workers = require_roles(g.any_key, "unit", "operator", "supervisor", "system")
    inspectors = require_roles(g.any_key, "supervisor", "system")
    recorders = require_roles(g.any_key, "operator", "supervisor", "system")
    supervisor = require_roles(g.any_key, "supervisor")
    actions = Commands(
        router, pool, journal, "project", "project_id", _authorize, problem, ProjectOut
    )
    actions.action(
        "/milestones",
        lifecycle.milestone,
        guard=workers,
        body=MilestoneIn,
        name="milestones",
        extra=_approval,
        doc="""挂图作战: reached, at_risk or missed (with a reason); rescheduled needs a
        supervisor key, whose holder is recorded as approving it.""",
    )
    actions.action(
        "/progress",
        lifecycle.report_progress,
        guard=workers,
        body=ProgressIn,
        name="progress",
        doc="随时查账: percent done between milestones; the first report starts the project.",
    )
    actions.action(
        "/complete",
        lifecycle.complete,
        guard=workers,
        body=CompleteIn,
        doc="The unit declares it done; verification decides whether it counts.",
    )
    actions.action(
        "/verify",
        lifecycle.verify,
        guard=inspectors,
        body=VerifyIn,
        extra=lambda who, body: {"inspector": body.inspector or who.name},
        doc="实地查看 / 座谈访谈 / 动态调度: passed verifies; failed sends it back to work.",
    )
    actions.action(
        "/evaluations",
        lifecycle.evaluate,
        guard=recorders,
        body=EvaluationIn,
        name="evaluations",
        doc="满意度: a resident's rating of the result -> SatisfactionRecorded.",
    )
    actions.action(
        "/flags",
        lifecycle.flag,
        guard=supervisor,
        body=FlagIn,
        name="flags",
        doc="Accountability: 通报 (notice, once) or 约谈 (formal_talk).",
    )
    return router


async def require_open(who: Principal, conn: Conn, year: int) -> None:
    """After 年底交账 a year's projects change only with a supervisor key (403)."""
    refused = ledger.closed_to(who.role, year, await store.ledger_closed(conn, year))
    if refused is not None:
        raise Problem(403, "Ledger closed", refused, year=year)


async def _authorize(who: Principal, conn: Conn, state: ProjectState) -> None:
    """A unit key acts only on its unit's projects; a closed year needs a supervisor."""
    if who.role == "unit" and who.unit != state.unit:
        raise Problem(
            403, "Forbidden", f"project {state.id} belongs to {state.unit}, not {who.unit}"
        )
    await require_open(who, conn, state.year)


def _approval(who: Principal, body: MilestoneIn) -> dict[str, Any]:
    """A reschedule needs a supervisor key, whose holder is recorded as approving it."""
    if body.status == "rescheduled" and who.role != "supervisor":
        raise Problem(403, "Forbidden", "a reschedule needs a supervisor's approval")
    return {"approved_by": who.name if body.status == "rescheduled" else None}


def problem(state: ProjectState, exc: lifecycle.LifecycleError) -> Problem:
    """409 for what the state refuses, 422 for arguments; both name state and actions."""
    context: dict[str, Any] = {
        "current_state": state.status,
        "allowed_actions": lifecycle.allowed_actions(state),
    }
    if isinstance(exc, lifecycle.MilestoneConflict):
        context["milestone_state"] = exc.milestone.status
        context["allowed_milestone_statuses"] = list(exc.allowed)
    if isinstance(exc, lifecycle.IllegalTransition):
        return Problem(409, "Illegal transition", str(exc), **context)
    if isinstance(exc, lifecycle.Conflict):
        return Problem(409, "Conflict", str(exc), **context)
    return Problem(422, "Command rejected", str(exc), **context)
