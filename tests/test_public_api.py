"""The public surface is pinned: __all__ is what each module defines, the map is the territory."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import types
from pathlib import Path

import pytest

import kullback

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "kullback"
_SKIP = {"annotations", "TYPE_CHECKING", "__all__"}


def _modules():
    names = ["kullback"]
    for info in pkgutil.walk_packages(kullback.__path__, "kullback."):
        names.append(info.name)
    return sorted(names)


def _top_level(mod: types.ModuleType) -> tuple[set[str], set[str]]:
    """Public names the module's source defines at top level, and those it imports from kullback."""
    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    defined, reexported = set(), set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kullback"):
            reexported.update(a.asname or a.name for a in node.names)
    public = {n for n in defined if not n.startswith("_") and n not in _SKIP}
    return public, {n for n in reexported if not n.startswith("_")}


@pytest.mark.parametrize("name", _modules())
def test_all_matches_public_definitions(name):
    """``__all__`` equals the public names a module defines; an index (a package's
    ``__init__``, or a module that only re-exports) also lists what it re-exports."""
    mod = importlib.import_module(name)
    assert hasattr(mod, "__all__"), f"{name} has no __all__"
    declared = set(mod.__all__)
    missing = [n for n in declared if not hasattr(mod, n)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"
    defined, reexported = _top_level(mod)
    # a subpackage or module imported by name is part of the map only where __all__ says so
    reexported = {n for n in reexported if not isinstance(getattr(mod, n, None), types.ModuleType)}
    is_index = hasattr(mod, "__path__") or not defined
    expected = defined | reexported if is_index else defined
    if is_index:  # submodules an index imports by name are part of its map
        expected |= {n for n in declared if isinstance(getattr(mod, n), types.ModuleType)}
    assert declared == expected, (
        f"{name}: __all__ lacks {sorted(expected - declared)}, "
        f"lists undefined {sorted(declared - expected)}"
    )


def test_readme_layout_lists_every_module():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout"):]
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).as_posix()  # kullback/measures/_table.py
        short = rel.removeprefix("kullback/")
        if not re.search(re.escape(short), layout):
            missing.append(short)
    assert not missing, f"README's Layout table does not name: {missing}"


def test_license_is_mit():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_import_is_light_and_subpackages_reachable():
    import subprocess
    import sys

    code = (
        "import sys, kullback as kb\n"
        "heavy = [m for m in ('torch', 'jax', 'scipy', 'matplotlib', 'pandas', 'pyarrow',"
        " 'dask', 'transformers', 'playwright') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert kb.distributions and kb.plotting and kb.estimate and kb.losses\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
