"""HTTP routes of the appeals service."""

from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from appeals import domain, store
from minsheng import auth, outbox
from minsheng.db import Conn
from minsheng.events import new_event
from minsheng.problems import Problem
from minsheng.reference import categories, places
from minsheng.topics import APPEALS

SOURCE = "minsheng/appeals"


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


class AppealOut(BaseModel):
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


def build_router(pool: Any, operator: Any, viewer: Any) -> APIRouter:
    """`pool` returns the live pool; `operator`/`viewer` are role-checking dependencies."""
    router = APIRouter(prefix="/v1")

    @router.post("/appeals", status_code=201, response_model=AppealOut)
    async def receive_appeal(
        body: AppealIn,
        request: Request,
        response: Response,
        who: Annotated[auth.Principal, Depends(operator)],
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> dict[str, Any]:
        cmd = domain.ReceiveAppeal(**body.model_dump())
        db: asyncpg.Pool = pool()
        async with db.acquire() as conn:
            if idempotency_key is not None:
                earlier = await conn.fetchval(
                    "SELECT appeal_id FROM idempotency_keys WHERE key = $1", idempotency_key
                )
                if earlier is not None:
                    return await _replayed(conn, earlier, response)
            try:
                async with conn.transaction():
                    serial = await store.next_serial(conn)
                    try:
                        appeal, data = domain.receive(cmd, serial=serial, now=datetime.now(UTC))
                    except domain.UnknownPlace as exc:
                        raise Problem(
                            422, "Unknown place", str(exc), valid=_valid_places()
                        ) from exc
                    await store.insert_appeal(conn, appeal)
                    if idempotency_key is not None:
                        owner = await store.claim_idempotency_key(conn, idempotency_key, appeal.id)
                        if owner is not None:
                            raise _Replay(owner)
                    await outbox.append(
                        conn,
                        APPEALS,
                        new_event(data, subject=appeal.id, sequence=appeal.sequence, source=SOURCE),
                    )
            except _Replay as replay:
                return await _replayed(conn, replay.appeal_id, response)
            row = await store.get_appeal(conn, appeal.id)
        response.headers["Location"] = f"/v1/appeals/{appeal.id}"
        assert row is not None
        return row

    @router.get("/appeals/{appeal_id}", response_model=AppealOut)
    async def get_appeal(
        appeal_id: str, who: Annotated[auth.Principal, Depends(viewer)]
    ) -> dict[str, Any]:
        row = await store.get_appeal(pool(), appeal_id)
        if row is None:
            raise Problem(404, "Not Found", f"no appeal {appeal_id}")
        return row

    return router


class _Replay(Exception):
    """Another request with the same Idempotency-Key won the race: answer with its appeal."""

    def __init__(self, appeal_id: str) -> None:
        super().__init__(appeal_id)
        self.appeal_id = appeal_id


async def _replayed(conn: Conn, appeal_id: str, response: Response) -> dict[str, Any]:
    row = await store.get_appeal(conn, appeal_id)
    assert row is not None
    response.status_code = 200
    response.headers["Location"] = f"/v1/appeals/{appeal_id}"
    response.headers["Idempotent-Replayed"] = "true"
    return row


def _valid_places() -> dict[str, dict[str, list[str]]]:
    return {
        d: {s: list(c) for s, c in streets.items()} for d, streets in places().districts.items()
    }
