"""The isolated-services rule of docs/architecture.md, checked: no service imports another,
and the shared library imports no service. Pure: parses the source, runs none of it."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def services(root: Path) -> set[str]:
    """The service packages: each folder of services/ with an __init__.py."""
    return {init.parent.name for init in (root / "services").glob("*/__init__.py")}


def imported(source: str) -> set[str]:
    """The top-level packages a module imports, anywhere in it (functions included);
    relative imports stay inside their package and are left out."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def crossings(root: Path) -> dict[str, set[str]]:
    """Module path -> the service packages it imports that it may not."""
    names = services(root)
    owners = {f"services/{name}": {name} for name in names} | {"libs/minsheng": set()}
    found: dict[str, set[str]] = {}
    for folder, allowed in owners.items():
        for module in sorted((root / folder).rglob("*.py")):
            if bad := (imported(module.read_text(encoding="utf-8")) & names) - allowed:
                found[module.relative_to(root).as_posix()] = bad
    return found


def test_no_service_imports_another_and_the_library_imports_none() -> None:
    assert {"appeals", "projects", "analytics"} <= services(REPO)
    assert crossings(REPO) == {}


def test_the_check_finds_a_service_importing_another(tmp_path: Path) -> None:
    for name in ("alpha", "beta"):
        (tmp_path / "services" / name).mkdir(parents=True)
        (tmp_path / "services" / name / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "libs" / "minsheng").mkdir(parents=True)
    (tmp_path / "services" / "alpha" / "ok.py").write_text(
        "from alpha import x\nfrom . import y\nimport minsheng.db\n", encoding="utf-8"
    )
    (tmp_path / "services" / "alpha" / "bad.py").write_text(
        "def f():\n    from beta.store import rows\n", encoding="utf-8"
    )
    (tmp_path / "libs" / "minsheng" / "leak.py").write_text("import alpha.api\n", encoding="utf-8")
    assert crossings(tmp_path) == {
        "services/alpha/bad.py": {"beta"},
        "libs/minsheng/leak.py": {"alpha"},
    }
