"""documents' two concerns depend one way: requests may use files, files never import
requests; and only the lifecycle writes a request's history."""

from __future__ import annotations

import ast
from pathlib import Path

DOCUMENTS = Path(__file__).resolve().parents[3] / "services" / "documents"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_files_never_import_the_request_registry() -> None:
    files = sorted((DOCUMENTS / "files").glob("*.py"))
    assert len(files) >= 5
    for path in files:
        wrong = {m for m in imported_modules(path)
                 if m.startswith("services.documents.requests")
                 or m in ("services.documents.service", "services.documents.models")}
        assert not wrong, f"{path.relative_to(DOCUMENTS)} imports {sorted(wrong)}"


def test_only_the_lifecycle_writes_history_rows() -> None:
    writers = [path.relative_to(DOCUMENTS).as_posix()
               for path in DOCUMENTS.rglob("*.py")
               if "HistoryEntry(" in path.read_text() and path.name != "models.py"]
    assert writers == ["requests/lifecycle.py"]
