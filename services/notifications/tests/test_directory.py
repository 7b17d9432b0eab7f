"""The directory: checked against the units and places, and who is on call when."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from minsheng.clock import CITY_TZ
from minsheng.reference import units
from notifications.directory import DirectoryError, load_directory
from notifications.settings import DIRECTORY_FILE
from notifications.tests.samples import directory

TUESDAY = datetime(2026, 12, 1, tzinfo=CITY_TZ)
SUNDAY = datetime(2026, 12, 6, tzinfo=CITY_TZ)


def test_every_unit_is_reachable() -> None:
    d = directory()
    assert {u.unit for u in d.doc.units} == set(units())
    assert all(d.unit(name) is not None for name in units())
    assert d.unit("不存在的单位") is None


def test_on_call_by_weekly_windows_in_city_time() -> None:
    d = directory()
    assert d.on_call(TUESDAY.replace(hour=9)).id == "oncall-zhang"
    assert d.on_call(TUESDAY.replace(hour=20)).id == "oncall-li"
    assert d.on_call(TUESDAY.replace(hour=7, minute=59)).id == "oncall-li"  # Monday's night
    assert d.on_call(SUNDAY.replace(hour=12)).id == "oncall-wang"
    assert d.on_call(SUNDAY.replace(hour=23)).id == "oncall-li"  # Sunday night into Monday
    assert d.chain(TUESDAY.replace(hour=9)) == ("oncall-zhang", "oncall-lead", "oncall-chief")


def test_secretaries_by_district_and_level() -> None:
    d = directory()
    assert d.secretary("洮北区", "county").id == "secretary-taobei"
    assert d.secretary("洮北区", "city").id == "secretary-city"
    assert d.secretary("白城经济开发区", "street").id == "secretary-city"


def altered(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "directory.yaml"
    text = DIRECTORY_FILE.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("{unit: 市交通运输局,", "{unit: 市交通局,", "unknown unit 市交通局"),
        ("{unit: 市交通运输局,", "{unit: 市住建局,", "no entry for 市交通运输局"),
        ("    镇赉县: {", "    镇赉区: {", "unknown district 镇赉区"),
        (
            'days: [sat, sun], from: "08:00"',
            'days: [sat], from: "08:00"',
            "nobody on call sun 08:00",
        ),
        ("escalation: [oncall-lead,", "escalation: [oncall-boss,", "unknown person oncall-boss"),
        ("id: unit-transport,", "id: unit-housing,", "id unit-housing used twice"),
        ('webhook: "http://127.0.0.1:8025/hooks/office-supervisors"', "locale: zh", "neither"),
        ("version: 1", "version: 3", "version"),
    ],
)
def test_a_bad_directory_refuses_to_load(tmp_path: Path, old: str, new: str, says: str) -> None:
    with pytest.raises(DirectoryError, match=says):
        load_directory(altered(tmp_path, old, new))
