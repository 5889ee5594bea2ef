"""The repository stands on its own: a clone anywhere works, so nothing in it reads or links the
workplace folder it was first written beside, and the documents the README points to are inside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_OURS = {".git", ".venv", "node_modules", "var", "staticfiles", "test-artifacts", ".pytest_cache", ".ruff_cache"}
TEXT_SUFFIXES = {".py", ".md", ".html", ".js", ".css", ".mjs", ".toml", ".txt", ".json", ".cfg", ".sh", ".yml", ""}
# Built from parts so that this file does not name what it looks for.
OUTSIDE = re.compile(r"\.\./" + "shared|/work/" + "shared")


def repository_text_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if path.is_file() and not parts & NOT_OURS and path.suffix in TEXT_SUFFIXES and path.stat().st_size < 2**20:
            found.append(path)
    return found


def test_no_file_reads_or_links_a_folder_outside_the_repository():
    offending = [
        str(path.relative_to(ROOT))
        for path in repository_text_files()
        if OUTSIDE.search(path.read_text(encoding="utf-8", errors="replace"))
    ]

    assert offending == []


def test_every_document_the_readme_links_to_is_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [target for target in re.findall(r"\]\(([^)#\s]+)", readme) if "://" not in target]

    assert {"docs/design.md", "docs/api.md", "docs/security.md", "docs/operations.md"} <= set(links)
    assert [target for target in links if not (ROOT / target).exists()] == []
