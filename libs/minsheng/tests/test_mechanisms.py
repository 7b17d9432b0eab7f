"""The library's shared mechanisms, without a service: the fold, the declared action
routes, the WHERE builder and the key CLI's entry point."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request

from minsheng import keys_cli
from minsheng.aggregate import CommandRejected, Fold, IllegalTransition, required
from minsheng.auth import Principal
from minsheng.commands import ActionBody, Commands
from minsheng.events import AppealAccepted, AppealReceived, EventData, SatisfactionRecorded
from minsheng.querying import Where
from minsheng.tests.samples import NOW, sample


@dataclass(frozen=True)
class Toy:
    id: str
    district: str
    status: str = "received"
    sequence: int = 1
    history: tuple[str, ...] = ("AppealReceived",)


def _changes(state: Toy, data: EventData) -> dict[str, Any]:
    if isinstance(data, AppealAccepted):
        return {"status": "accepted"}
    if isinstance(data, SatisfactionRecorded):
        return {}
    raise ValueError(f"{data.event_name} is not a toy event")


FOLD = Fold("appeal", AppealReceived, lambda e: Toy(e.appeal_id, e.district), _changes)


def test_the_fold_numbers_events_and_refuses_what_does_not_follow() -> None:
    received, accepted = sample(AppealReceived), sample(AppealAccepted)
    state, emitted = FOLD.open(received)
    assert [e.sequence for e in emitted] == [1]
    after, more = FOLD.commit(state, [accepted, FOLD.satisfaction(state, NOW, **_rated())])
    assert (after.sequence, after.status, [e.sequence for e in more]) == (3, "accepted", [2, 3])
    assert after.history == ("AppealReceived", "AppealAccepted", "SatisfactionRecorded")
    assert FOLD.replay([received, accepted]) == replace(
        after, sequence=2, history=after.history[:2]
    )
    with pytest.raises(ValueError, match="an appeal's history starts with AppealReceived"):
        FOLD.replay([accepted])
    with pytest.raises(ValueError, match="does not follow appeal"):
        FOLD.apply(state, accepted.model_copy(update={"appeal_id": "BC-other"}))
    with pytest.raises(ValueError, match="does not follow"):
        FOLD.apply(state, received)


def _rated() -> dict[str, Any]:
    return {"rating": "satisfied", "comment": "", "channel": "callback", "reason": None}


def test_checks_and_required_text_refuse_with_lifecycle_errors() -> None:
    state = FOLD.open(sample(AppealReceived))[0]
    with pytest.raises(IllegalTransition, match="cannot close an appeal that is received"):
        FOLD.check(state, "close", ["dispatch"])
    FOLD.check(state, "dispatch", ["dispatch"])
    assert required("理由", "reason") == "理由"
    for blank in (None, "", "  "):
        with pytest.raises(CommandRejected, match="reason is required"):
            required(blank, "reason")


class NoteIn(ActionBody):
    note: str


async def _anyone(request: Request) -> Principal:
    return Principal("tester", "operator")


def test_a_declared_action_is_a_route_like_a_written_one() -> None:
    def close(state: Toy, *, now: datetime, note: str) -> Any:
        """Closes the toy."""
        raise AssertionError("not called: the route is only declared here")

    router = APIRouter(prefix="/v1/toys/{toy_id}")

    async def authorize(who: Principal, conn: Any, state: Toy) -> None:
        return None

    unused: Any = None  # neither the pool, the journal nor the refusal is reached here
    commands: Commands[Toy] = Commands(router, unused, unused, "toy", "toy_id", authorize, unused)
    commands.action("/close", close, guard=_anyone, body=NoteIn)
    app = FastAPI()
    app.include_router(router)
    operation = app.openapi()["paths"]["/v1/toys/{toy_id}/close"]["post"]
    assert operation["operationId"] == "close_v1_toys__toy_id__close_post"
    assert operation["description"] == "Closes the toy."
    assert [p["name"] for p in operation["parameters"]] == ["toy_id"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/NoteIn"}


def test_where_numbers_its_parameters_and_skips_filters_not_given() -> None:
    where = Where()
    where.equal(district="洮北区", unit=None)
    where.any_of("status", [])
    where.any_of("status", ["received"])
    where.add("(received_at, id) < ($1, $2)", NOW, "BC1")
    assert where.sql() == (
        "district = $1 AND status = ANY($2::text[]) AND (received_at, id) < ($3, $4)"
    )
    assert where.params == ["洮北区", ["received"], NOW, "BC1"]
    assert Where().sql() == "true"


def test_the_key_cli_entry_point_runs_only_as_a_script() -> None:
    main = keys_cli.entry_point("toys", Path("migrations"), __name__)  # not __main__: no run
    assert main.__name__ == "service_main"
