"""The repository stands alone: every relative link in its Markdown resolves to a file of
the repository, and no file cites an issue or a numbered rule that nothing here defines,
or the brief that lives outside it. Pure: reads the files git tracks, nothing else."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
CHECKED_SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml"}
CHECKED_NAMES = {"Makefile"}
SKIPPED_DIRS = {".git", ".venv", ".cache", ".data", "node_modules", "__pycache__"}

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.S)
INLINE_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^()\s<>]*)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # http:, https:, mailto: ...

CITATIONS = (
    re.compile(r"\b(?:[Ii]ssue|[Ii]nvariant) #?[0-9]+\b"),
    re.compile(r"\.\./shared\b"),
    re.compile(r"\bshared/(?:DESIGN|DOMAIN)\b"),
    re.compile(r"\b(?:DESIGN|DOMAIN)\.md\b"),
)


def tracked_files(root: Path = REPO) -> list[str]:
    """The repository's files as git knows them (POSIX paths relative to `root`); a tree
    without git (an unpacked archive) falls back to every file but the local folders."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if path.is_file() and not SKIPPED_DIRS & set(path.relative_to(root).parts)
        )
    return [name for name in out.decode().split("\0") if name and (root / name).exists()]


def known_paths(files: list[str]) -> set[str]:
    """The files and every folder that holds one: what a link may point to."""
    known = set(files)
    for name in files:
        parts = name.split("/")
        known.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return known


def link_targets(markdown: str) -> list[str]:
    """The targets of the inline and reference links (and images), outside code."""
    prose = CODE_SPAN.sub("", FENCE.sub("", markdown))
    return INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)


def broken_links(document: Path, root: Path, known: set[str]) -> list[str]:
    """The relative links of `document` that name no file or folder of `known` under
    `root` (anchors are not checked; links with a scheme are not relative)."""
    broken = []
    for target in link_targets(document.read_text(encoding="utf-8")):
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if not path or SCHEME.match(target):
            continue
        base = root if path.startswith("/") else document.parent
        resolved = (base / path.lstrip("/")).resolve()
        try:
            relative = resolved.relative_to(root.resolve()).as_posix()
        except ValueError:  # outside the repository
            broken.append(target)
            continue
        if relative != "." and relative not in known:
            broken.append(target)
    return broken


def citations(text: str) -> list[str]:
    """What a text cites that the repository does not define."""
    return [match.group(0) for pattern in CITATIONS for match in pattern.finditer(text)]


def is_checked(name: str) -> bool:
    path = Path(name)
    return path.suffix in CHECKED_SUFFIXES or path.name in CHECKED_NAMES


def test_every_relative_link_in_the_markdown_resolves_to_a_file_of_the_repository() -> None:
    files = tracked_files()
    known = known_paths(files)
    documents = [name for name in files if name.endswith(".md")]
    assert "README.md" in documents
    assert "docs/architecture.md" in documents
    broken = {
        name: found for name in documents if (found := broken_links(REPO / name, REPO, known))
    }
    assert broken == {}


def test_no_file_cites_an_issue_a_numbered_invariant_or_the_brief_outside() -> None:
    cited = {
        name: found
        for name in tracked_files()
        if is_checked(name)
        and (found := citations((REPO / name).read_text(encoding="utf-8", errors="replace")))
    }
    assert cited == {}


def test_the_link_checker_finds_broken_links_and_only_those(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "\n".join(
            [
                "[guide](docs/guide.md) [anchored](docs/guide.md#guide) [folder](src/)",
                "[absolute](/docs/guide.md) [self](#top) [web](https://example.org/x.md)",
                "[mail](mailto:someone@example.org) ![image](docs/missing.png)",
                "[gone](docs/gone.md) [outside](../elsewhere/README.md) [typo](Docs/guide.md)",
                "`[in code](nowhere.md)`",
                "```",
                "[in a fence](nowhere-either.md)",
                "```",
                "[ref]: docs/also-gone.md",
            ]
        ),
        encoding="utf-8",
    )
    known = known_paths(["README.md", "docs/guide.md", "src/a.py"])
    assert broken_links(tmp_path / "README.md", tmp_path, known) == [
        "docs/missing.png",
        "docs/gone.md",
        "../elsewhere/README.md",
        "Docs/guide.md",
        "docs/also-gone.md",
    ]
    # a file that exists but is not part of the repository is no target either
    (tmp_path / "docs" / "gone.md").write_text("untracked\n", encoding="utf-8")
    assert "docs/gone.md" in broken_links(tmp_path / "README.md", tmp_path, known)


def test_the_citation_check_finds_what_the_repository_does_not_define() -> None:
    brief = "shared/" + "DESIGN"
    text = "\n".join(
        [
            "# see " + "issue" + " 12 and " + "Invariant" + " 3",
            f"[brief](../{brief}.md), DOMAIN" + ".md",
            "an issue with the broker; the invariant outbox; 3 issues",
        ]
    )
    assert citations(text) == [
        "issue" + " 12",
        "Invariant" + " 3",
        "../" + "shared",
        brief,
        "DESIGN" + ".md",
        "DOMAIN" + ".md",
    ]
    assert [is_checked(name) for name in ("Makefile", "deploy/a.yml", "uv.lock")] == [
        True,
        True,
        False,
    ]
