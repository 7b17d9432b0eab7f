"""Building blocks of the list endpoints: a WHERE clause built filter by filter, and
keyset pages: newest first on (instant, id), with opaque cursors, so a page never
repeats or skips a row however many arrive meanwhile."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from minsheng.db import Conn
from minsheng.problems import Problem

_PARAM = re.compile(r"\$(\d+)")


class Where:
    """The WHERE clause and its positional parameters, built condition by condition."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *values: Any) -> None:
        """`condition` names its values $1, $2, ... in order; they are renumbered here."""
        offset = len(self.params)
        self.conditions.append(_PARAM.sub(lambda m: f"${int(m[1]) + offset}", condition))
        self.params.extend(values)

    def equal(self, **values: Any) -> None:
        """`column = value` for each value given (not None)."""
        for column, value in values.items():
            if value is not None:
                self.add(f"{column} = $1", value)

    def any_of(self, column: str, values: Sequence[str]) -> None:
        """`column` is one of `values`, if any are given."""
        if values:
            self.add(f"{column} = ANY($1::text[])", list(values))

    def sql(self) -> str:
        return " AND ".join(self.conditions) or "true"


def maybe_not(condition: str, wanted: bool) -> str:
    """The condition, or its negation (NULL columns count as not matching)."""
    return f"({condition})" if wanted else f"(({condition}) IS NOT TRUE)"


def encode_cursor(moment: datetime, row_id: str) -> str:
    raw = json.dumps([moment.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The key a cursor names; a 422 problem if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None or not isinstance(row_id, str):
            raise ValueError("not a cursor")
    except (binascii.Error, ValueError, TypeError) as exc:
        raise Problem(
            422, "Invalid cursor", "cursor must be the next_cursor of a previous page"
        ) from exc
    return at, row_id


@dataclass(frozen=True)
class Keyset:
    """The pages of one table's list, newest first by (`instant`, id)."""

    table: str  # "appeals"
    columns: str  # the selected columns, with `instant` and id among them
    instant: str  # "received_at"

    async def page(
        self,
        conn: Conn | asyncpg.Pool,
        where: Where,
        cursor: str | None,
        limit: int,
        row: Callable[[asyncpg.Record], dict[str, Any]] = dict,
    ) -> dict[str, Any]:
        """Up to `limit` rows matching `where` after `cursor` (a 422 problem if it is not
        one of ours), and the cursor of the next page (None on the last)."""
        if cursor is not None:
            where.add(f"({self.instant}, id) < ($1, $2)", *decode_cursor(cursor))
        rows = await conn.fetch(
            f"""SELECT {self.columns} FROM {self.table} WHERE {where.sql()}
                ORDER BY {self.instant} DESC, id DESC LIMIT ${len(where.params) + 1}""",
            *where.params,
            limit + 1,
        )
        items = [row(r) for r in rows[:limit]]
        last = items[-1] if items and len(rows) > limit else None
        following = encode_cursor(last[self.instant], last["id"]) if last else None
        return {"items": items, "next_cursor": following}
