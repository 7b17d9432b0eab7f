"""HTTP routes of the actions on a project: milestones, progress, completion,
verification, residents' evaluations and accountability flags.

Each route runs one lifecycle action in one transaction: lock the project, replay its
history, decide, then write state, history, outbox and timers together (`journal`).
Refusals become problem+json: an illegal action or a milestone that cannot take that
status 409 with the current state and the allowed actions, other rejected arguments
422; a unit key on another unit's project, or anyone but a supervisor on a closed
year's project, 403.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from minsheng import auth
from minsheng.clock import now
from minsheng.commands import ActionBody, run_action
from minsheng.db import Conn
from minsheng.events.projects import (
    FlagKind,
    MilestoneStatus,
    VerificationMethod,
    VerificationResult,
)
from minsheng.events.satisfaction import DissatisfactionReason, Rating, SatisfactionChannel
from minsheng.problems import Problem
from minsheng.service import Guards
from minsheng.web import require_roles
from projects import journal, lifecycle
from projects.api import ProjectOut, closed_to
from projects.lifecycle import Outcome, ProjectState

Principal = auth.Principal
Act = Callable[[ProjectState], Outcome]


class MilestoneIn(ActionBody):
    milestone_id: str = Field(min_length=1)
    status: MilestoneStatus
    reason: str | None = Field(default=None, max_length=2000)
    new_due: date | None = Field(default=None, description="For rescheduled (supervisor).")


class ProgressIn(ActionBody):
    progress: int = Field(ge=0, le=100)
    note: str = Field(default="", max_length=2000)


class CompleteIn(ActionBody):
    completed_on: date | None = Field(default=None, description="Today if omitted.")


class VerifyIn(ActionBody):
    method: VerificationMethod
    result: VerificationResult
    inspector: str | None = Field(
        default=None, min_length=1, max_length=200, description="The key's holder if omitted."
    )
    notes: str = Field(default="", max_length=2000)


class EvaluationIn(ActionBody):
    rating: Rating
    comment: str = Field(default="", max_length=2000)
    channel: SatisfactionChannel = "interview"
    reason: DissatisfactionReason | None = None


class FlagIn(ActionBody):
    kind: FlagKind
    reason: str = Field(min_length=1, max_length=2000)


def build_command_router(pool: Any, g: Guards) -> APIRouter:
    """The six action routes; `pool` returns the live pool."""
    router = APIRouter(prefix="/v1/projects/{project_id}")
    workers = require_roles(g.any_key, "unit", "operator", "supervisor", "system")
    inspectors = require_roles(g.any_key, "supervisor", "system")
    recorders = require_roles(g.any_key, "operator", "supervisor", "system")
    supervisor = require_roles(g.any_key, "supervisor")
    When = Annotated[datetime, Depends(now)]

    async def run(project_id: str, who: Principal, at: datetime, act: Act) -> dict[str, Any]:
        async def authorize(conn: Conn, state: ProjectState) -> None:
            if who.role == "unit" and who.unit != state.unit:
                raise Problem(
                    403, "Forbidden", f"project {state.id} belongs to {state.unit}, not {who.unit}"
                )
            await closed_to(who, conn, state.year)

        return await run_action(
            pool(),
            journal,
            project_id,
            what="project",
            at=at,
            act=act,
            authorize=authorize,
            refusal=problem,
        )

    @router.post("/milestones", response_model=ProjectOut)
    async def milestones(
        project_id: str, body: MilestoneIn, who: Annotated[Principal, Depends(workers)], at: When
    ) -> dict[str, Any]:
        """挂图作战: reached, at_risk or missed (with a reason); rescheduled needs a
        supervisor key, whose holder is recorded as approving it."""
        if body.status == "rescheduled" and who.role != "supervisor":
            raise Problem(403, "Forbidden", "a reschedule needs a supervisor's approval")
        approved_by = who.name if body.status == "rescheduled" else None
        return await run(
            project_id,
            who,
            at,
            lambda s: lifecycle.milestone(s, now=at, approved_by=approved_by, **dict(body)),
        )

    @router.post("/progress", response_model=ProjectOut)
    async def progress(
        project_id: str, body: ProgressIn, who: Annotated[Principal, Depends(workers)], at: When
    ) -> dict[str, Any]:
        """随时查账: percent done between milestones; the first report starts the project."""
        return await run(
            project_id, who, at, lambda s: lifecycle.report_progress(s, now=at, **dict(body))
        )

    @router.post("/complete", response_model=ProjectOut)
    async def complete(
        project_id: str, body: CompleteIn, who: Annotated[Principal, Depends(workers)], at: When
    ) -> dict[str, Any]:
        """The unit declares it done; verification decides whether it counts."""
        return await run(project_id, who, at, lambda s: lifecycle.complete(s, now=at, **dict(body)))

    @router.post("/verify", response_model=ProjectOut)
    async def verify(
        project_id: str, body: VerifyIn, who: Annotated[Principal, Depends(inspectors)], at: When
    ) -> dict[str, Any]:
        """实地查看 / 座谈访谈 / 动态调度: passed verifies; failed sends it back to work."""
        args = {**dict(body), "inspector": body.inspector or who.name}
        return await run(project_id, who, at, lambda s: lifecycle.verify(s, now=at, **args))

    @router.post("/evaluations", response_model=ProjectOut)
    async def evaluations(
        project_id: str, body: EvaluationIn, who: Annotated[Principal, Depends(recorders)], at: When
    ) -> dict[str, Any]:
        """满意度: a resident's rating of the result -> SatisfactionRecorded."""
        return await run(project_id, who, at, lambda s: lifecycle.evaluate(s, now=at, **dict(body)))

    @router.post("/flags", response_model=ProjectOut)
    async def flags(
        project_id: str, body: FlagIn, who: Annotated[Principal, Depends(supervisor)], at: When
    ) -> dict[str, Any]:
        """Accountability: 通报 (notice, once) or 约谈 (formal_talk)."""
        return await run(project_id, who, at, lambda s: lifecycle.flag(s, now=at, **dict(body)))

    return router


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
