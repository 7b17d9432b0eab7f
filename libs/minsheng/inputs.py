"""The types of what a request or an intake event may carry: text PostgreSQL can store,
integers its `integer` columns hold, instants UTC and the city's zone can show.

PostgreSQL refuses text with NUL characters, integers past 32 bits in an `integer`
column and instants Python cannot convert; left to the database, each was a 500.
Every request model and event payload uses these types (and routes that parse their
input themselves, `check_text` and `parse_instant`), so bad input is a 4xx at the edge,
and the OpenAPI documents and JSON Schemas say what is accepted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

NO_NUL = r"^[^\x00]*$"  # a JSON Schema pattern: any text but NUL characters
Text = Annotated[str, Field(pattern=NO_NUL)]
"""Text as PostgreSQL stores it: no NUL character (\\u0000). Add limits beside it:
`Annotated[Text, Field(max_length=200)]` or `title: Text = Field(max_length=200)`."""

Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
"""An integer an `integer` column holds (tighter bounds beside it where the domain has them)."""

# What both UTC and the city's zone (+08:00) can show: Alertmanager's "no end" is Go's
# zero time, 0001-01-01T00:00:00Z, so the range starts there
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)


def check_text(value: str, name: str = "text") -> str:
    """The value if PostgreSQL can store it; else a ValueError naming `name`."""
    if "\x00" in value:
        raise ValueError(f"{name}: NUL characters (\\u0000) are not allowed")
    return value


def in_range(moment: datetime) -> datetime:
    """The instant if UTC and the city's zone can show it; else a ValueError."""
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(f"{moment.isoformat()} is out of range (years 1 to 9999)")
    return moment


# RFC 3339's date-time (the OpenAPI `date-time`), its offset optional for `parse_instant`
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def iso(value: object, name: str = "time") -> object:
    """RFC 3339 text as a datetime; other values as they are, but numbers: pydantic
    would take them, and numeric text, for Unix times, which no document says."""
    if isinstance(value, int | float):
        raise ValueError(f"{name}: an ISO 8601 time, not a number")
    if not isinstance(value, str):
        return value
    try:
        if not RFC3339.fullmatch(value):
            raise ValueError(value)
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{name}: not an ISO 8601 time: {value!r}") from exc


Instant = Annotated[AwareDatetime, BeforeValidator(iso), AfterValidator(in_range)]
"""An RFC 3339 date-time with its UTC offset, within what UTC and the city's zone show."""


def parse_instant(text: str, naive: tzinfo | None = None, name: str = "time") -> datetime:
    """ISO 8601 text as an `Instant`: one without an offset is in `naive`'s zone (refused
    if None); a ValueError naming `name` says what is wrong."""
    moment = iso(text, name)
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        if naive is None:
            raise ValueError(f"{name}: needs a UTC offset (e.g. +08:00): {text!r}")
        moment = moment.replace(tzinfo=naive)
    try:
        return in_range(moment)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
