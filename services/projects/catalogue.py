"""The five project categories (基层党建 ... 基础保障) with their Chinese names, from
`minsheng/reference/project_categories.yaml`; the codes are the event model's."""

from __future__ import annotations

from functools import cache
from typing import get_args

import yaml

from minsheng.events.projects import ProjectCategory
from minsheng.reference import HERE


@cache
def project_categories() -> list[dict[str, str]]:
    doc = yaml.safe_load((HERE / "project_categories.yaml").read_text(encoding="utf-8"))
    found: list[dict[str, str]] = [dict(c) for c in doc["categories"]]
    if [c["code"] for c in found] != list(get_args(ProjectCategory)):
        raise ValueError("project_categories.yaml and ProjectCategory disagree")
    return found
