"""HTTP routes of the appeals service: receive, read, and the reference data.

`routers` assembles the service's routes: these, the actions on a received appeal
(`commands`: dispatch, accept, ...), the lists (`queries`) and the Open311 facade
(`open311`).
"""

from dataclasses import asdict
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from appeals.api.commands import build_command_router
from appeals.api.contacts import build_contacts_router
from appeals.api.open311 import build_open311_router
from appeals.api.queries import build_query_router
from appeals.columns import AppealOut
from appeals.receiving import ReceiveAppeal, UnknownPlace
from appeals.store import journal, receipts
from appeals.store.serials import SerialBlocks
from minsheng import auth
from minsheng.batching import Batcher
from minsheng.clock import clock_of
from minsheng.commands import read
from minsheng.edge import TokenBucket
from minsheng.events.appeals import Channel
from minsheng.events.fields import PHONE, Description
from minsheng.inputs import NO_NUL, Text
from minsheng.openapi import guarded
from minsheng.problems import Problem
from minsheng.reference import categories, places, routing_table, units
from minsheng.service import Guards
from minsheng.web import direct


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text = Field(min_length=1, max_length=200)
    description: Description = ""
    category: Text
    district: Text
    street: Text | None = None
    community: Text | None = None
    grid: Text | None = Field(
        default=None, description="The grid (网格) of the community, e.g. 百福社区第1网格."
    )
    channel: Channel = "hotline"
    phone: str | None = Field(default=None, pattern=PHONE)
    contact_name: Text | None = Field(default=None, max_length=100)

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


def routers(
    pool: Any, g: Guards, *, callback_after_days: int, open311_posts: TokenBucket
) -> list[APIRouter]:
    """Every route of the service; `pool` returns the live pool, `g` holds the
    role-checking dependencies, resolved appeals join the call-back queue after
    `callback_after_days` working days, `open311_posts` limits each key's Open311 POSTs."""
    return [
        build_router(pool, g),
        build_command_router(pool, g),
        build_open311_router(pool, g.identify, open311_posts),
        build_query_router(pool, g, callback_after_days),
        build_contacts_router(pool, g),
    ]


def build_router(pool: Any, g: Guards, *, max_batch: int = 64) -> APIRouter:
    """`pool` returns the live pool; `g` holds the role-checking dependencies."""
    router = APIRouter(prefix="/v1")
    operator, viewer = g.operator, g.viewer

    serials = SerialBlocks()

    async def flush(batch: list[receipts.Receipt]) -> list[receipts.ReceiveAnswer]:
        async with pool().acquire() as conn:  # one statement: no BEGIN and COMMIT needed
            return await receipts.receive_many(conn, batch, serials)

    # 4 transactions in flight per worker: with 2 the CPUs idled while requests waited
    batcher: Batcher[receipts.Receipt, receipts.Received] = Batcher(
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
    @guarded
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
        if idempotency_key is not None and (
            len(idempotency_key) > MAX_KEY or "\x00" in idempotency_key
        ):
            raise Problem(
                422, "Invalid request", f"Idempotency-Key: at most {MAX_KEY} characters, no NUL"
            )
        body = _appeal_in(await request.body())
        if idempotency_key is not None:  # a retry: answer it without writing anything
            earlier = await receipts.holder(pool(), idempotency_key)
            if earlier is not None:
                return await _replayed(pool(), earlier)
        cmd = ReceiveAppeal(**body.model_dump())
        try:
            answer = await batcher.submit(receipts.Receipt(cmd, at, idempotency_key))
        except UnknownPlace as exc:
            raise Problem(422, "Unknown place", str(exc), valid=places().tree()) from exc
        except receipts.Replay as replay:
            return await _replayed(pool(), replay.appeal_id)
        return _json(answer.view, 201, {"Location": f"/v1/appeals/{answer.appeal_id}"})

    @router.get("/appeals/{appeal_id}", response_model=AppealOut)
    async def get_appeal(
        appeal_id: Text, who: Annotated[auth.Principal, Depends(viewer)]
    ) -> dict[str, Any]:
        return await read(pool(), journal, appeal_id, what="appeal")

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
    row = await read(db, journal, appeal_id, what="appeal")
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
            "schema": {"type": "string", "maxLength": MAX_KEY, "pattern": NO_NUL},
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
