"""Rendering messages from templates (Jinja2), in Chinese (primary) and English.

A template is `templates/<name>.<locale>.j2`; it sets `title` with `{% set title %}` and
its body is the rest. Templates see the event's payload as `data`, the appeal number,
the deadline (format it with the `zh_time` / `en_time` filters: city time, Asia/Shanghai),
the working days left until it on the official calendar, and labels for the codes.
A missing variable is an error (StrictUndefined), not a silent blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from jinja2.environment import TemplateModule
from jinja2.runtime import new_context

from minsheng.clock import CITY_TZ, local_day
from minsheng.workdays import working_days_between

TEMPLATES = Path(__file__).parent / "templates"
Locale = Literal["zh", "en"]
LOCALES: tuple[Locale, ...] = ("zh", "en")

LABELS: dict[Locale, dict[str, str]] = {
    "zh": {
        "reminder": "催办",
        "overdue": "超期督办",
        "criticism": "通报批评",
        "missed": "逾期未完成",
        "at_risk": "存在延误风险",
        "reached": "已完成",
        "rescheduled": "已调整",
        "notice": "通报",
        "formal_talk": "约谈",
        "callback": "回访不满意",
        "supervisor": "督查决定",
        "critical": "严重",
        "warning": "警告",
    },
    "en": {
        "reminder": "reminder",
        "overdue": "overdue notice",
        "criticism": "public criticism",
        "missed": "missed",
        "at_risk": "at risk",
        "reached": "reached",
        "rescheduled": "rescheduled",
        "notice": "public notice",
        "formal_talk": "formal talk",
        "callback": "a dissatisfied call-back",
        "supervisor": "a supervisor's decision",
        "critical": "critical",
        "warning": "warning",
    },
}


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def zh_time(moment: datetime | None) -> str:
    if moment is None:
        return "未定"
    local = moment.astimezone(CITY_TZ)  # fields, not strftime: asked for every message
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def en_time(moment: datetime | None) -> str:
    if moment is None:
        return "not set"
    return f"{moment.astimezone(CITY_TZ):%Y-%m-%d %H:%M} (Beijing time)"


def working_days_left(now: datetime, deadline: datetime | None) -> int | None:
    """Working days after today up to the deadline's day; negative once it has passed."""
    if deadline is None:
        return None
    return _working_days(local_day(now), local_day(deadline))


@lru_cache(maxsize=4096)  # deadlines fall on a few days: one count per pair of days
def _working_days(today: date, deadline: date) -> int:
    return working_days_between(today, deadline)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,  # plain text: SMS, e-mail text parts, webhook JSON strings
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: no stat() per message
    )
    env.filters.update(zh_time=zh_time, en_time=en_time)
    return env


def template_names() -> set[str]:
    """Templates that exist in every locale (what a rule may name)."""
    found: dict[str, set[str]] = {}
    for path in TEMPLATES.glob("*.j2"):
        name, _, locale = path.stem.rpartition(".")
        found.setdefault(name, set()).add(locale)
    return {name for name, locales in found.items() if locales >= set(LOCALES)}


@cache
def _globals(template: Template) -> dict[str, Any]:
    return dict(template.globals)


def render(name: str, locale: Locale, context: dict[str, Any]) -> Message:
    template = environment().get_template(f"{name}.{locale}.j2")
    # what `make_module` does, but with the globals merged into one dict here rather than
    # copied (from a ChainMap, twice) into every context: templates import nothing
    names = {**_globals(template), **context, "label": LABELS[locale]}
    ctx = new_context(template.environment, template.name, template.blocks, names, shared=True)
    module = TemplateModule(template, ctx)
    title = str(getattr(module, "title", "")).strip()
    if not title:
        raise ValueError(f"template {name}.{locale}.j2 sets no title")
    return Message(title=title, body=str(module).strip())
