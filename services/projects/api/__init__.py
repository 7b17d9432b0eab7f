"""HTTP routes of the projects service: claim, read, list, and the year's ledger.

`routers` assembles the service's routes: these and the actions on a claimed project
(`commands`: milestones, progress, ...).
Unknown reference values (category, level, place, unit) are 422 problems that list the
valid ones, so a client can correct itself without reading our code.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from minsheng import auth
from minsheng.clock import local_day, now
from minsheng.events import Milestone, ProjectClaimed
from minsheng.events.fields import Year
from minsheng.events.projects import Level, ProjectCategory
from minsheng.inputs import Text
from minsheng.problems import Problem
from minsheng.reference import places, units
from minsheng.service import Guards
from minsheng.web import require_roles
from projects import ledger, lifecycle, store
from projects.api.commands import build_command_router, require_open
from projects.api.lists import build_lists_router
from projects.catalogue import project_categories
from projects.columns import ProjectOut, ProjectSummary
from projects.lifecycle import Status
from projects.store import journal

MAX_LIMIT = 200
LEVELS: tuple[str, ...] = get_args(Level)
CATEGORY_CODES: tuple[str, ...] = get_args(ProjectCategory)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecretaryIn(_Body):
    name: Text = Field(min_length=1, max_length=100)
    organisation: Text = Field(min_length=1, max_length=200)
    level: Text = Field(description="city | county | street | community | department")


class MilestoneIn(_Body):
    milestone_id: Text | None = Field(
        default=None, min_length=1, max_length=50, description="m1, m2, ... if omitted."
    )
    title: Text = Field(min_length=1, max_length=200)
    due: date
    weight: float = Field(default=1.0, gt=0, le=1000)


class ClaimIn(_Body):
    secretary: SecretaryIn
    year: Year
    title: Text = Field(min_length=1, max_length=200)
    category: Text = Field(description="One of the five project categories (GET /v1/categories).")
    district: Text
    street: Text | None = None
    community: Text | None = None
    unit: Text = Field(description="The responsible unit (承办单位).")
    planned_start: date
    planned_end: date
    milestones: list[MilestoneIn] = Field(default=[], max_length=50)


class ProjectFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year | None = None
    status: list[Status] = Field(default=[], description="Any of these statuses (repeatable).")
    district: Text | None = None
    level: Text | None = None
    category: Text | None = None
    unit: Text | None = None
    flagged: bool | None = Field(default=None, description="Named (通报) or talked to (约谈).")
    overdue: bool | None = Field(
        default=None, description="Not completed and past its planned end (the city's today)."
    )
    cursor: Text | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)


class ProjectPage(BaseModel):
    items: list[ProjectSummary]
    next_cursor: str | None = Field(description="Absent on the last page.")


def _require(value: str, valid: list[str], what: str) -> None:
    if value not in valid:
        raise Problem(422, f"Unknown {what}", f"unknown {what} {value!r}", valid=valid)


def _claimed(body: ClaimIn, project_id: str) -> ProjectClaimed:
    """The claim as its event, after the reference checks (422 with the valid values)."""
    _require(body.category, list(CATEGORY_CODES), "category")
    _require(body.secretary.level, list(LEVELS), "level")
    _require(body.unit, list(units()), "unit")
    if not places().knows(body.district, body.street, body.community):
        raise Problem(
            422,
            "Unknown place",
            f"unknown place {body.district} > {body.street or '-'} > {body.community or '-'}",
            valid=places().tree(),
        )
    return ProjectClaimed(
        project_id=project_id,
        district=body.district,
        level=body.secretary.level,  # checked above
        year=body.year,
        secretary_name=body.secretary.name,
        secretary_organisation=body.secretary.organisation,
        title=body.title,
        category=body.category,  # checked above
        street=body.street,
        community=body.community,
        unit=body.unit,
        planned_start=body.planned_start,
        planned_end=body.planned_end,
        milestones=tuple(
            Milestone(
                milestone_id=m.milestone_id or f"m{i}", title=m.title, due=m.due, weight=m.weight
            )
            for i, m in enumerate(body.milestones, start=1)
        ),
    )


_LEDGER_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The ledger as JSON, or as CSV with `format=csv`",
        "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
    }
}


def routers(pool: Any, g: Guards) -> list[APIRouter]:
    """Every route of the service; `pool` returns the live pool, `g` holds the
    role-checking dependencies."""
    return [build_router(pool, g), build_command_router(pool, g), build_lists_router(pool, g)]


def build_router(pool: Any, g: Guards) -> APIRouter:
    """`pool` returns the live pool; `g` holds the role-checking dependencies."""
    router = APIRouter(prefix="/v1")
    claimers = require_roles(g.any_key, "operator", "supervisor", "system", "unit")
    supervisor = require_roles(g.any_key, "supervisor")

    @router.post("/projects", status_code=201, response_model=ProjectOut)
    async def claim_project(
        body: ClaimIn,
        response: Response,
        who: Annotated[auth.Principal, Depends(claimers)],
        at: Annotated[datetime, Depends(now)],
    ) -> dict[str, Any]:
        """年初立账: a secretary claims a project, with the project book's milestones."""
        if who.role == "unit" and who.unit != body.unit:
            raise Problem(403, "Forbidden", f"{who.unit} cannot claim for {body.unit}")
        async with pool().acquire() as conn:
            async with conn.transaction():
                await require_open(who, conn, body.year)
                serial = await store.next_serial(conn)
                claimed = _claimed(body, f"XM-{body.year}-{serial:06d}")
                try:
                    state, emitted = lifecycle.claim(claimed)
                except lifecycle.CommandRejected as exc:
                    raise Problem(422, "Claim rejected", str(exc)) from exc
                await store.insert_project(conn, claimed, at)
                await journal.record(conn, state, emitted, at)
            row = await journal.view(conn, state.id)
        response.headers["Location"] = f"/v1/projects/{state.id}"
        assert row is not None
        return row

    @router.get("/projects/{project_id}", response_model=ProjectOut)
    async def get_project(
        project_id: Text, who: Annotated[auth.Principal, Depends(g.viewer)]
    ) -> dict[str, Any]:
        async with pool().acquire() as conn:
            row = await journal.view(conn, project_id)
        if row is None:
            raise Problem(404, "Not Found", f"no project {project_id}")
        return row

    @router.get("/projects", response_model=ProjectPage)
    async def list_projects(
        filters: Annotated[ProjectFilters, Query()],
        who: Annotated[auth.Principal, Depends(g.viewer)],
        at: Annotated[datetime, Depends(now)],
    ) -> dict[str, Any]:
        """Newest claims first, keyset-paginated; a unit key sees its unit's projects."""
        overdue = filters.overdue
        async with pool().acquire() as conn:
            return await store.list_projects(
                conn,
                **filters.model_dump(exclude={"overdue"}),
                overdue_on=None if overdue is None else (overdue, local_day(at)),
                seen_by=who,
            )

    @router.get("/ledger", response_model=None, responses=_LEDGER_DOC)
    async def get_ledger(
        who: Annotated[auth.Principal, Depends(g.viewer)],
        year: Annotated[Year, Query()],
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ) -> Response | dict[str, Any]:
        """台账: claimed, in progress, completed (on time), verified, flagged, completion
        rate, for the city, per level and per district; `format=csv` for 年底交账."""
        async with pool().acquire() as conn:
            rows = await store.ledger_rows(conn, year)
            closed = await store.ledger_closed(conn, year)
        summary = ledger.summarise(year, rows)
        if format == "csv":
            return Response(
                "\ufeff" + ledger.to_csv(summary),  # BOM: spreadsheets then read UTF-8
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="ledger-{year}.csv"'},
            )
        return {"status": "closed" if closed else "open", **(closed or {}), **summary}

    @router.post("/ledger/{year}/{action}")
    async def settle_ledger(
        year: Year,
        action: Literal["close", "reopen"],
        who: Annotated[auth.Principal, Depends(supervisor)],
        at: Annotated[datetime, Depends(now)],
    ) -> dict[str, Any]:
        """年底交账: a supervisor closes the year (or reopens it to correct it)."""
        async with pool().acquire() as conn:
            if action == "close":
                await store.set_ledger(conn, year, who.name, at)
            else:
                await store.set_ledger(conn, year, None, None)
            closed = await store.ledger_closed(conn, year)
        return {"year": year, "status": "closed" if closed else "open", **(closed or {})}

    @router.get("/categories")
    async def list_categories(
        who: Annotated[auth.Principal, Depends(g.any_key)],
    ) -> dict[str, Any]:
        """The five project categories and the secretaries' levels."""
        return {"categories": project_categories(), "levels": list(LEVELS)}

    return router
