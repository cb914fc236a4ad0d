"""The shape of the code: the layers import-linter enforces (pyproject.toml), no import
circle inside a package, no module a person cannot hold in their head."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 600
SIZE_ALLOWLIST = ROOT / "tests" / "size_allowlist.txt"
PACKAGES = ("services.auth", "services.benefits", "services.documents",
            "services.notifications", "services.pension", "services.kit",
            "services.contracts", "gateway", "deploy")
# circles being taken apart elsewhere, each with its reason (pruned when they are gone)
KNOWN_CIRCLES: dict[frozenset[str], str] = {}


def test_import_layers_hold():
    """contracts <- kit <- each service; the gateway imports only the kit and the
    contracts; no service imports another (pyproject.toml, [tool.importlinter])."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is not installed (make venv)"
    done = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" not in done.stdout.lower().replace("0 broken", "")


def _circles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Strongly connected groups of more than one module inside `package` (Tarjan)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("services", "gateway", "deploy", cache_dir=None,
                             exclude_type_checking_imports=True)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_inside_a_package(graph, package):
    circles = [c for c in _circles(graph, package) if frozenset(c) not in KNOWN_CIRCLES]
    assert not circles, f"import circles in {package}: {circles}"


def test_the_circle_finder_finds_a_circle(tmp_path, monkeypatch):
    pkg = tmp_path / "circled"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from circled import b\n")
    (pkg / "b.py").write_text("def f():\n    from circled import a\n")
    (pkg / "c.py").write_text("from circled import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    built = grimp.build_graph("circled", cache_dir=None)
    assert _circles(built, "circled") == [["circled.a", "circled.b"]]


def _allowlist() -> dict[str, str]:
    listed = {}
    for line in SIZE_ALLOWLIST.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            path, _, reason = line.partition(" ")
            assert reason.strip(), f"{path}: give the reason it may be long"
            listed[path] = reason.strip()
    return listed


def test_no_module_over_600_lines_outside_the_allowlist():
    """A module a person can hold in their head; tests/ is exempt. A long one is listed
    in tests/size_allowlist.txt with its reason."""
    listed = _allowlist()
    too_long = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("tests/", ".venv/", "var/")) or "/." in f"/{relative}":
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and relative not in listed:
            too_long[relative] = lines
    assert not too_long, (f"modules over {MAX_LINES} lines: {too_long}; split them along "
                          f"their seams (or list one in {SIZE_ALLOWLIST.name} with a reason)")
