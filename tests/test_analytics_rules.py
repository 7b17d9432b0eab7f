"""The city-wide recording rules of analytics sum the workers' shares (promtool)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

RECORDING = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "recording"


def test_the_city_series_are_the_sum_of_the_workers_through_a_rebalance() -> None:
    assert shutil.which("promtool"), "promtool missing: `make test` installs Debian's prometheus"
    for command in (["check", "rules", "analytics.yml"], ["test", "rules", "analytics_test.yml"]):
        done = subprocess.run(
            ["promtool", *command], cwd=RECORDING, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
