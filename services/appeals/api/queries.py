"""`GET /v1/appeals`: the lists operators, units and call-back staff work from.

Filters combine with AND. Pages are keyset-paginated on (received_at, id), newest first:
`next_cursor` is an opaque token of the last row's key, so a page never repeats or skips
an appeal however many arrive meanwhile. "Now" (for `overdue` and `awaiting_callback`)
is the app's injectable clock. A unit key sees only the appeals its unit leads or
assists on.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from appeals import store
from appeals.columns import AppealSummary
from appeals.lifecycle import Status
from minsheng import auth
from minsheng.clock import Now
from minsheng.inputs import Instant, Text
from minsheng.service import Guards
from minsheng.workdays import callback_cutoff

MAX_LIMIT = 200


class AppealFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[Status] = Field(default=[], description="Any of these statuses (repeatable).")
    district: Text | None = None
    category: Text | None = None
    unit: Text | None = Field(default=None, description="The lead unit.")
    overdue: bool | None = Field(
        default=None, description="Still open (not resolved or closed) past the deadline."
    )
    awaiting_callback: bool | None = Field(
        default=None,
        description="The call-back queue: resolved, not called back for the configured "
        "number of working days.",
    )
    received_from: Instant | None = Field(default=None, description="Inclusive.")
    received_to: Instant | None = Field(default=None, description="Exclusive.")
    cursor: Text | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)


class AppealPage(BaseModel):
    items: list[AppealSummary]
    next_cursor: str | None = Field(description="Absent on the last page.")


def build_query_router(pool: Any, g: Guards, callback_after_days: int) -> APIRouter:
    """`pool` returns the live pool; resolved appeals join the call-back queue after
    `callback_after_days` working days."""
    router = APIRouter(prefix="/v1")

    @router.get("/appeals", response_model=AppealPage)
    async def list_appeals(
        filters: Annotated[AppealFilters, Query()],
        who: Annotated[auth.Principal, Depends(g.viewer)],
        at: Now,
    ) -> dict[str, Any]:
        awaiting = filters.awaiting_callback
        async with pool().acquire() as conn:
            return await store.list_appeals(
                conn,
                statuses=filters.status,
                district=filters.district,
                category=filters.category,
                unit=filters.unit,
                overdue_at=None if filters.overdue is None else (filters.overdue, at),
                uncalled_before=None
                if awaiting is None
                else (awaiting, callback_cutoff(at, callback_after_days)),
                received_from=filters.received_from,
                received_to=filters.received_to,
                seen_by=who,
                cursor=filters.cursor,
                limit=filters.limit,
            )

    return router
