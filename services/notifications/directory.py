"""The directory: who is reachable where, and who is on call when (pure, no I/O but the
file read at start).

Reference data in YAML (`minsheng/reference/directory.yaml`), loaded once and checked
as the units and routing rules are: every handling unit of `units.yaml` has exactly one
entry, every district named is a real one, ids are unique, each contact has somewhere to
send to, and the on-call rota covers every minute of the week, so "who is on call now"
always has an answer. A directory that fails a check refuses to start the service.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from minsheng.clock import CITY_TZ, require_aware
from minsheng.reference import GridChain, grid_chains, places, units

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
ID = r"^[a-z][a-z0-9-]*$"


class DirectoryError(ValueError):
    """The directory file is not valid; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Model):
    """Someone messages go to: an id, a name, and at least one address."""

    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    locale: Literal["zh", "en"] = "zh"


class UnitContact(Contact):
    unit: str
    name: str = ""  # the unit's name is its `unit`


class Offices(_Model):
    supervision_centre: Contact
    dispatch_centre: Contact
    organisation_department: Contact
    supervisors: Contact


class Secretaries(_Model):
    city: Contact
    districts: dict[str, Contact] = {}


class Window(_Model):
    person: str
    days: tuple[Day, ...] = Field(min_length=1)
    start: time = Field(alias="from")
    end: time = Field(alias="to")

    def spans(self) -> Iterator[tuple[int, int]]:
        """Minutes of the week [begin, end) this window covers (Monday 00:00 is 0)."""
        begin = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        length = end - begin if end > begin else end - begin + MINUTES_A_DAY
        for day in self.days:
            first = DAYS.index(day) * MINUTES_A_DAY + begin
            last = first + length
            if last <= MINUTES_A_WEEK:
                yield first, last
            else:  # Sunday night into Monday morning
                yield first, MINUTES_A_WEEK
                yield 0, last - MINUTES_A_WEEK


class OnCall(_Model):
    people: tuple[Contact, ...] = Field(min_length=1)
    rota: tuple[Window, ...] = Field(min_length=1)
    escalation: tuple[str, ...] = ()


class DirectoryFile(_Model):
    version: Literal[1]
    units: tuple[UnitContact, ...]
    offices: Offices
    secretaries: Secretaries
    oncall: OnCall


@dataclass(frozen=True)
class Directory:
    """The loaded directory, with the look-ups the rules and the pager need; the grids'
    chiefs come from the reference data of the grids (`minsheng.reference.grid_chains`)."""

    doc: DirectoryFile
    grids: dict[str, GridChain] = field(default_factory=dict)  # by district/street/...

    def unit(self, name: str) -> Contact | None:
        return next((u for u in self.doc.units if u.unit == name), None)

    def office(self, role: str) -> Contact:
        contact: Contact = getattr(self.doc.offices, role)
        return contact

    def secretary(self, district: str, level: str) -> Contact:
        """The secretaries' office of the project's district; the city's for city-level
        projects and districts without one."""
        if level == "city":
            return self.doc.secretaries.city
        return self.doc.secretaries.districts.get(district, self.doc.secretaries.city)

    def grid_chiefs(self, grid: str, levels: Iterable[str]) -> tuple[Contact, ...]:
        """The chiefs of the grid (a path district/street/community/grid) at `levels`,
        top of the chain first; none for a grid the reference data does not list."""
        chain = self.grids.get(grid)
        if chain is None:
            return ()
        return tuple(Contact(id=c.id, name=c.name, email=c.email) for c in chain.at(tuple(levels)))

    def person(self, person_id: str) -> Contact:
        return next(p for p in self.doc.oncall.people if p.id == person_id)

    def on_call(self, at: datetime) -> Contact:
        """Whoever's rota window holds `at` (the first listed, where windows overlap)."""
        local = require_aware(at).astimezone(CITY_TZ)
        minute = local.weekday() * MINUTES_A_DAY + local.hour * 60 + local.minute
        for window in self.doc.oncall.rota:
            if any(begin <= minute < end for begin, end in window.spans()):
                return self.person(window.person)
        raise AssertionError("the rota covers the week; checked at load")

    def chain(self, at: datetime) -> tuple[str, ...]:
        """Who a critical page goes to in turn: the person on call now, then the
        escalation chain (without paging anyone twice)."""
        first = self.on_call(at).id
        return (first, *(p for p in self.doc.oncall.escalation if p != first))

    def contacts(self) -> Iterator[Contact]:
        """Every contact of the directory, once."""
        yield from self.doc.units
        for role in Offices.model_fields:
            yield self.office(role)
        yield self.doc.secretaries.city
        yield from self.doc.secretaries.districts.values()
        yield from self.doc.oncall.people

    def webhook_recipients(self) -> list[str]:
        return [c.id for c in self.contacts() if c.webhook]


def load_directory(path: Path) -> Directory:
    """Reads and checks the directory; raises `DirectoryError` naming what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc = DirectoryFile.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DirectoryError(f"{path}: {where}: {first['msg']}") from exc
    directory = Directory(doc, {"/".join(path): chain for path, chain in grid_chains().items()})
    problems = check(directory)
    if problems:
        raise DirectoryError(f"{path}: " + "; ".join(problems))
    return directory


def check(directory: Directory) -> list[str]:
    """What is wrong with a well-formed directory, against the rest of the reference data."""
    doc = directory.doc
    problems = []
    listed = [u.unit for u in doc.units]
    known = set(units())
    problems += [f"units: unknown unit {u}" for u in listed if u not in known]
    problems += [f"units: no entry for {u}" for u in sorted(known - set(listed))]
    problems += [
        f"units: {u} listed twice" for u in sorted({u for u in listed if listed.count(u) > 1})
    ]
    districts = set(places().districts)
    problems += [
        f"secretaries: unknown district {d}"
        for d in doc.secretaries.districts
        if d not in districts
    ]
    chiefs = (chief.id for chain in directory.grids.values() for chief in chain.chiefs)
    ids = Counter([*(c.id for c in directory.contacts()), *chiefs])
    problems += [f"id {i} used twice" for i in sorted(i for i, n in ids.items() if n > 1)]
    problems += [
        f"{c.id}: neither webhook nor email"
        for c in directory.contacts()
        if not (c.webhook or c.email)
    ]
    people = {p.id for p in doc.oncall.people}
    named = [w.person for w in doc.oncall.rota] + list(doc.oncall.escalation)
    problems += [f"oncall: unknown person {p}" for p in named if p not in people]
    if not problems:
        problems += _gaps(doc.oncall)
    return problems


def _gaps(oncall: OnCall) -> list[str]:
    """The rota's uncovered stretches of the week, if any."""
    spans = sorted(s for w in oncall.rota for s in w.spans())
    gaps, reached = [], 0
    for begin, end in spans:
        if begin > reached:
            gaps.append((reached, begin))
        reached = max(reached, end)
    if reached < MINUTES_A_WEEK:
        gaps.append((reached, MINUTES_A_WEEK))
    return [f"oncall: nobody on call {_minute(a)} to {_minute(b)}" for a, b in gaps]


def _minute(of_week: int) -> str:
    day, minute = divmod(of_week % MINUTES_A_WEEK, MINUTES_A_DAY)
    return f"{DAYS[day]} {minute // 60:02d}:{minute % 60:02d}"
