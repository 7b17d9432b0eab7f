"""Building blocks of the list endpoints: a WHERE clause built filter by filter, and
opaque keyset cursors on (instant, id), so a page never repeats or skips a row however
many arrive meanwhile."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any

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
