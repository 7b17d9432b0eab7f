"""The compressed clock of a demo platform, and the setting that refuses it in production."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from minsheng.clock import Anchor, CompressedClock, clock_for, system_clock, write_anchor
from minsheng.settings import Settings

SIM = datetime(2026, 12, 1, 8, tzinfo=UTC)


def test_an_anchor_runs_speed_times_faster() -> None:
    anchor = Anchor(real=1000.0, sim=SIM, speed=360)
    assert anchor.at(1010.0) == SIM + timedelta(hours=1)


def test_the_clock_follows_the_file_and_never_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = CompressedClock(path)
    assert abs((clock() - datetime.now(UTC)).total_seconds()) < 5  # no file: real time
    tomorrow = datetime.now(UTC) + timedelta(days=1)  # a demo jumps forward
    write_anchor(path, Anchor(time.time() - 10, tomorrow, 60))
    clock.RELOAD_SECONDS = 0
    assert abs((clock() - (tomorrow + timedelta(minutes=10))).total_seconds()) < 60
    ahead = clock()
    write_anchor(path, Anchor(time.time(), tomorrow, 1))  # ten minutes earlier
    assert clock() >= ahead


def test_real_time_unless_a_demo_clock_is_set(tmp_path: Path) -> None:
    assert clock_for(None) is system_clock
    assert isinstance(clock_for(tmp_path / "c.json"), CompressedClock)


def test_production_refuses_the_demo_clock(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="demo platforms"):
        Settings(environment="production", demo_clock_file=tmp_path / "c.json")
    assert Settings(environment="production").demo_clock_file is None
