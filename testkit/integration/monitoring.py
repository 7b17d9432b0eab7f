"""The monitoring configuration as the real tools read it: Debian's promtool and amtool,
which `make tools` installs (and `make test` runs first)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
ALERTMANAGER = ROOT / "deploy" / "alertmanager"
RULES = PROMETHEUS / "rules"  # alerting rules
RECORDING = PROMETHEUS / "recording"  # recording rules
RULE_TESTS = PROMETHEUS / "tests"  # promtool test rules files
RUNBOOKS = ROOT / "docs" / "runbooks"


def run_tool(tool: str, *args: str, cwd: Path = ROOT) -> str:
    """Runs promtool or amtool; fails the test with its output unless it exits 0."""
    path = shutil.which(tool)
    assert path, f"{tool} missing: `make tools` installs Debian's prometheus packages"
    done = subprocess.run([path, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{tool} {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rules_of(folder: Path) -> list[dict[str, Any]]:
    """Every rule of every rule file in `folder`."""
    return [
        rule
        for path in sorted(folder.glob("*.yml"))
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
    ]
