"""Dependencies run one way: the apps built on the records (counts, evidence, intake, matching) may
import incidents; incidents never imports them. Read from the source with `ast`, so an import hidden
inside a function counts as much as one at the top of a module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILT_ON_INCIDENTS = ("counts", "evidence", "intake", "matching")


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name a Python file imports (relative imports stay inside its own app)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def imports_of_app(app: str) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): imported_modules(path) for path in sorted((ROOT / app).rglob("*.py"))}


def test_the_import_reader_sees_imports_at_the_top_and_inside_functions(tmp_path: Path):
    module = tmp_path / "module.py"
    module.write_text("import counts.models\nfrom . import local\n\ndef later():\n    from counts import services\n")

    assert imported_modules(module) == {"counts.models", "counts"}


def test_counts_is_built_on_incidents():
    imported = set().union(*imports_of_app("counts").values())

    assert any(name == "incidents" or name.startswith("incidents.") for name in imported)


@pytest.mark.parametrize("app", BUILT_ON_INCIDENTS)
def test_no_module_of_incidents_imports_an_app_built_on_it(app: str):
    offending = {
        path: sorted(name for name in names if name == app or name.startswith(f"{app}."))
        for path, names in imports_of_app("incidents").items()
    }

    assert {path: names for path, names in offending.items() if names} == {}
