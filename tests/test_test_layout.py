"""What the wheel ships never needs the test tools, and the tests' helpers live in testkit/:
no test module, and no benchmark, imports a test module."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_TOOLS = {"pytest", "_pytest", "hypothesis", "testkit"}


def shipped_files() -> list[Path]:
    """The Python files the wheel holds: its packages, less the excluded folders."""
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    wheel = wheel["targets"]["wheel"]
    excluded = {folder.strip("/") for folder in wheel.get("exclude", [])}
    return [
        path
        for package in wheel["packages"]
        for path in sorted((ROOT / package).rglob("*.py"))
        if not excluded & set(path.relative_to(ROOT / package).parts[:-1])
    ]


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import in the file; relative ones start with '.'."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, "." * node.level + (node.module or "")


def is_test_module(module: str, importer: Path) -> bool:
    """A module of a tests package or a conftest: what other modules must not import (a
    relative import inside a tests folder is one of its test modules)."""
    if module.startswith("."):
        return "tests" in importer.parts
    parts = module.split(".")
    return "tests" in parts or parts[-1] == "conftest"


def test_the_wheel_ships_modules_and_no_tests() -> None:
    files = shipped_files()
    assert any(path.name == "web.py" for path in files)
    assert not [path for path in files if "tests" in path.parts or "testing" in path.parts]


def test_nothing_shipped_imports_the_test_tools() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in shipped_files()
        for line, module in imported(path)
        if module.split(".")[0] in TEST_TOOLS or is_test_module(module, path)
    ]
    assert not found


def test_the_scan_sees_an_import_of_the_test_tools(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nif True:\n    from hypothesis import given\n")
    assert list(imported(sample)) == [(1, "os"), (3, "hypothesis")]


@pytest.mark.parametrize("folder", ["libs", "services", "tests", "testkit", "bench"])
def test_no_module_imports_a_test_module(folder: str) -> None:
    """Shared helpers go to testkit/; a test module's own stay in it."""
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, module in imported(path)
        if is_test_module(module, path)
    ]
    assert not found
