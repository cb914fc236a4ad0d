"""`python -m deploy.broker write | check`: the generated broker files."""

from __future__ import annotations

import sys

from deploy.broker import ROOT, rendered_files


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    stale = []
    for path, content in rendered_files().items():
        current = path.read_text() if path.exists() else None
        if current != content:
            stale.append(path)
            if command == "write":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
    for path in stale:
        print(f"{'wrote' if command == 'write' else 'stale'}: {path.relative_to(ROOT)}")
    return 1 if stale and command != "write" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
