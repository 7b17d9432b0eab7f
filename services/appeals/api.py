"""HTTP routes of the appeals service: receive, read, and the reference data.

The actions on a received appeal (dispatch, accept, ...) live in `api_commands`.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from appeals import domain, intake, journal
from appeals.serials import SerialBlocks
from minsheng import auth
from minsheng.batching import Batcher
from minsheng.clock import now
from minsheng.problems import Problem
from minsheng.reference import categories, places, routing_table, units
from minsheng.service import Guards


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    category: str
    district: str
    street: str | None = None
    community: str | None = None
    channel: domain.Channel = "hotline"
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9\- ]{6,19}$")
    contact_name: str | None = Field(default=None, max_length=100)

    @field_validator("category")
    @classmethod
    def known_category(cls, value: str) -> str:
        if value not in categories():
            raise ValueError(f"unknown category; valid: {', '.join(categories())}")
        return value

    @field_validator("district")
    @classmethod
    def known_district(cls, value: str) -> str:
        if value not in places().districts:
            raise ValueError(f"unknown district; valid: {', '.join(places().districts)}")
        return value


class HistoryEntry(BaseModel):
    """One event of the appeal's history, as it went to `minsheng.appeals.v1`."""

    sequence: int
    type: str
    time: datetime
    data: dict[str, Any]


class AppealSummary(BaseModel):
    """An appeal's columns, as lists show it."""

    id: str
    status: str
    sequence: int
    title: str
    description: str
    category: str
    district: str
    street: str | None
    community: str | None
    channel: str
    contact_ref: str
    received_at: datetime
    deadline: datetime | None
    unit: str | None = None
    assisting_units: list[str] = []
    resolved_at: datetime | None = None
    on_time: bool | None = None
    rating: str | None = None
    outcome: str | None = None
    updated_at: datetime | None = None


class AppealOut(AppealSummary):
    allowed_actions: list[str] = []
    history: list[HistoryEntry] = []


def build_router(pool: Any, g: Guards, *, max_batch: int = 64) -> APIRouter:
    """`pool` returns the live pool; `g` holds the role-checking dependencies."""
    router = APIRouter(prefix="/v1")
    operator, viewer = g.operator, g.viewer

    serials = SerialBlocks()

    async def flush(receipts: list[intake.Receipt]) -> list[intake.ReceiveAnswer]:
        async with pool().acquire() as conn:  # one statement: no BEGIN and COMMIT needed
            return await intake.receive_many(conn, receipts, serials)

    # 4 transactions in flight per worker: with 2 the CPUs idled while requests waited
    receipts: Batcher[intake.Receipt, intake.Received] = Batcher(
        flush, max_batch=max_batch, parallel=4
    )

    @router.post("/appeals", status_code=201, response_model=AppealOut)
    async def receive_appeal(
        body: AppealIn,
        response: Response,
        who: Annotated[auth.Principal, Depends(operator)],
        at: Annotated[datetime, Depends(now)],
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> dict[str, Any]:
        """受理 and, in the same transaction, 派单 by the routing rules.

        Concurrent requests share a transaction (`Batcher`): one commit, a few multi-row
        statements, and the answer is built from what was written instead of read back.
        """
        if idempotency_key is not None:  # a retry: answer it without writing anything
            earlier = await pool().fetchval(
                "SELECT appeal_id FROM idempotency_keys WHERE key = $1", idempotency_key
            )
            if earlier is not None:
                return await _replayed(pool(), earlier, response)
        cmd = domain.ReceiveAppeal(**body.model_dump())
        try:
            answer = await receipts.submit(intake.Receipt(cmd, at, idempotency_key))
        except domain.UnknownPlace as exc:
            raise Problem(422, "Unknown place", str(exc), valid=_valid_places()) from exc
        except intake.Replay as replay:
            return await _replayed(pool(), replay.appeal_id, response)
        response.headers["Location"] = f"/v1/appeals/{answer.appeal_id}"
        return answer.view

    @router.get("/appeals/{appeal_id}", response_model=AppealOut)
    async def get_appeal(
        appeal_id: str, who: Annotated[auth.Principal, Depends(viewer)]
    ) -> dict[str, Any]:
        async with pool().acquire() as conn:
            row = await journal.view(conn, appeal_id)
        if row is None:
            raise Problem(404, "Not Found", f"no appeal {appeal_id}")
        return row

    @router.get("/units")
    async def list_units(who: Annotated[auth.Principal, Depends(g.any_key)]) -> dict[str, Any]:
        """The handling units, and the routing rules' version and default unit."""
        table = routing_table()
        return {
            "version": table.version,
            "default_unit": table.default,
            "units": [asdict(unit) for unit in units().values()],
        }

    @router.get("/categories")
    async def list_categories(
        who: Annotated[auth.Principal, Depends(g.any_key)],
    ) -> dict[str, Any]:
        """The categories and their time limits in working days (0: the same day)."""
        return {"categories": [asdict(category) for category in categories().values()]}

    return router


async def _replayed(db: asyncpg.Pool, appeal_id: str, response: Response) -> dict[str, Any]:
    async with db.acquire() as conn:
        row = await journal.view(conn, appeal_id)
    assert row is not None
    response.status_code = 200
    response.headers["Location"] = f"/v1/appeals/{appeal_id}"
    response.headers["Idempotent-Replayed"] = "true"
    return row


def _valid_places() -> dict[str, dict[str, list[str]]]:
    return {
        d: {s: list(c) for s, c in streets.items()} for d, streets in places().districts.items()
    }
