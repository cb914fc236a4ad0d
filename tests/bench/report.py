"""The printed report: a header, then each section's part in order, then the warnings."""

from __future__ import annotations

import subprocess
from typing import Any

from tests.bench.sections import alerts, login, me, refunds, revocation, simulation
from tests.bench.settings import ROOT, THREADS


def render(report: dict[str, Any]) -> str:
    opts = report["options"]
    lines = [
        f"Member Space benchmark, {report['generated_at']} (commit {report['git_commit']}, "
        f"{report['machine']['cpus']} CPUs, load average "
        f"{report['machine']['load_average_before'][0]:.2f} before)",
        f"wrk -t{THREADS}, {opts['runs']} runs x {opts['duration']} per target, "
        "alternating; medians over runs",
        "",
    ]
    for section in (me, refunds, simulation, revocation, alerts, login):
        lines += section.render(report)
    for warning in report["warnings"]:
        lines.append(f"WARNING: {warning}")
    return "\n".join(lines)


def git_commit() -> str:
    """The commit measured, `+dirty` when the work tree had changes."""
    done = subprocess.run(["git", "describe", "--always", "--dirty=+dirty"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"

