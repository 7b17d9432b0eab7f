"""HTTP routes of the appeals service: receive, read, and the reference data.

The actions on a received appeal (dispatch, accept, ...) live in `api_commands`.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from appeals import domain, intake, journal
from appeals.serials import SerialBlocks
from minsheng import auth
from minsheng.batching import Batcher
from minsheng.clock import clock_of
from minsheng.problems import Problem
from minsheng.reference import categories, places, routing_table, units
from minsheng.service import Guards
from minsheng.web import direct


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

    @router.post(
        "/appeals",
        status_code=201,
        response_model=AppealOut,
        openapi_extra=_RECEIVE_DOC,
        responses={200: {"model": AppealOut, "description": "A replay of an earlier POST"}},
    )
    @direct
    async def receive_appeal(request: Request) -> Response:
        """受理 and, in the same transaction, 派单 by the routing rules.

        Concurrent requests share a transaction (`Batcher`): one statement, and the answer
        is built from what was written instead of read back. The route reads its request
        and writes its answer's bytes itself: FastAPI's parameter solving and response
        validation cost as much CPU as the rest of the request; the body is
        still `AppealIn` (in the docs too) and the answer still `AppealOut`. `direct`:
        the app's `DirectRoutes` calls it past the routing layers too.
        """
        await operator(request)
        at = clock_of(request)
        idempotency_key = request.headers.get("idempotency-key")
        if idempotency_key is not None and len(idempotency_key) > MAX_KEY:
            raise Problem(422, "Invalid request", f"Idempotency-Key: at most {MAX_KEY} characters")
        body = _appeal_in(await request.body())
        if idempotency_key is not None:  # a retry: answer it without writing anything
            earlier = await pool().fetchval(
                "SELECT appeal_id FROM idempotency_keys WHERE key = $1", idempotency_key
            )
            if earlier is not None:
                return await _replayed(pool(), earlier)
        cmd = domain.ReceiveAppeal(**body.model_dump())
        try:
            answer = await receipts.submit(intake.Receipt(cmd, at, idempotency_key))
        except domain.UnknownPlace as exc:
            raise Problem(422, "Unknown place", str(exc), valid=_valid_places()) from exc
        except intake.Replay as replay:
            return await _replayed(pool(), replay.appeal_id)
        return _json(answer.view, 201, {"Location": f"/v1/appeals/{answer.appeal_id}"})

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


async def _replayed(db: asyncpg.Pool, appeal_id: str) -> Response:
    async with db.acquire() as conn:
        row = await journal.view(conn, appeal_id)
    assert row is not None
    headers = {"Location": f"/v1/appeals/{appeal_id}", "Idempotent-Replayed": "true"}
    return _json(row, 200, headers)


MAX_KEY = 200  # characters of an Idempotency-Key
_RECEIVE_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": AppealIn.model_json_schema()}},
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_KEY},
            "description": "One appeal per key, for good: a retry answers 200 with it.",
        }
    ],
}
_VIEW = TypeAdapter(dict[str, Any])  # the view's values serialise as AppealOut's do


def _appeal_in(raw: bytes) -> AppealIn:
    """The body, validated; a 422 problem naming the fields, as FastAPI would answer."""
    try:
        return AppealIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors, body=raw) from None


def _json(view: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    """An appeal's view as JSON bytes, serialised once (no response model to re-validate)."""
    return Response(_VIEW.dump_json(view), status, headers, media_type="application/json")


def _valid_places() -> dict[str, dict[str, list[str]]]:
    return {
        d: {s: list(c) for s, c in streets.items()} for d, streets in places().districts.items()
    }
