"""The bare echo's processes (`tests/bench/echo.py`), started beside the suite and
stopped with it, as the suite's own (deploy/suite.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from deploy.suite import spawn, stop_all, wait_for_http


@dataclass
class Processes:
    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, path: str, env: dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs[name] = spawn(["-m", "services.kit.runner", path], env,
                                 self.log_dir / f"{name}.log")

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        wait_for_http(url, self.procs, self.log_dir, timeout)

    def stop(self, grace: float = 15.0) -> None:
        stop_all(self.procs, grace)
