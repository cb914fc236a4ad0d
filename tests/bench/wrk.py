"""wrk, the closed-loop load tool: installed when missing, run, its output parsed; runs
alternating between targets, so that drift on the machine hits them alike."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench.stats import fmt, median_of


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is needed for `make bench`: sudo apt-get install -y wrk")
    print("installing wrk (apt-get) ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "check": False}
    subprocess.run(["apt-get", "update", "-qq"], **quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    path = shutil.which("wrk")
    if path is None:
        sys.exit("could not install wrk: apt-get install -y wrk (Debian package `wrk`)")
    return path


@dataclass
class WrkResult:
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    non_2xx: int
    socket_errors: int


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def duration_ms(text: str) -> float:
    """wrk's `12.5ms`, `2s`... in ms."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    latency: dict[str, float] = {}
    block = output.split("Latency Distribution", 1)
    if len(block) == 2:
        for pct, value in re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)\s*$", block[1], re.M):
            latency[pct] = duration_ms(value)
    return WrkResult(
        rps=float(rps.group(1)) if rps else None,
        p50_ms=latency.get("50"),
        p99_ms=latency.get("99"),
        requests=int(total.group(1)) if total else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
    )


def _wrk_command(url: str, connections: int, threads: int, duration: str,
                 headers: dict[str, str] | None, script: Path | None = None) -> list[str]:
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}",
           "--latency"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script is not None:
        cmd += ["-s", str(script)]
    return [*cmd, url]


def wrk(url: str, connections: int, threads: int, duration: str,
        headers: dict[str, str] | None = None, script: Path | None = None) -> WrkResult:
    done = subprocess.run(_wrk_command(url, connections, threads, duration, headers, script),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  wrk failed ({done.returncode}): {done.stderr.strip()}", flush=True)
    return parse_wrk(done.stdout)


def alternating(targets: dict[str, str], runs: int, connections: int, duration: str,
                run: Callable[[str, str], WrkResult]) -> dict[str, list[WrkResult]]:
    """`runs` rounds of `run(target, duration)`, every target once a round in turn,
    each printed as it ends."""
    width = max(len(target) for target in targets)
    results: dict[str, list[WrkResult]] = {target: [] for target in targets}
    for i in range(runs):
        for target in targets:
            result = run(target, duration)
            results[target].append(result)
            print(f"  run {i + 1}/{runs} {target:<{width}} -c{connections:<3} "
                  f"{fmt(result.rps, 0):>7} req/s  p50 {fmt(result.p50_ms)} ms  "
                  f"p99 {fmt(result.p99_ms)} ms  non-2xx {result.non_2xx}  "
                  f"socket errors {result.socket_errors}", flush=True)
    return results


def summary(target_runs: list[WrkResult], connections: int) -> dict[str, Any]:
    """Medians over the runs of one target; valid when no run had an error."""
    non_2xx = sum(r.non_2xx for r in target_runs)
    socket_errors = sum(r.socket_errors for r in target_runs)
    return {
        "connections": connections,
        "rps": median_of([r.rps for r in target_runs]),
        "p50_ms": median_of([r.p50_ms for r in target_runs]),
        "p99_ms": median_of([r.p99_ms for r in target_runs]),
        "non_2xx": non_2xx,
        "socket_errors": socket_errors,
        "valid": non_2xx == 0 and socket_errors == 0 and all(r.rps for r in target_runs),
        "runs": [asdict(r) for r in target_runs],
    }
