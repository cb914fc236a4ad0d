"""GET /api/v1/me through the gateway against a bare nameko echo (`tests/bench/echo.py`:
nameko's own `@http` + one `RpcProxy` hop), with wrk, alternating targets; at
BENCH_CONNECTIONS connections then one (target: at least RATIO_TARGET of the echo's
req/s)."""

from __future__ import annotations

from typing import Any

from tests.bench.client import Token
from tests.bench.settings import ECHO_URL, ME_URL, THREADS, Options
from tests.bench.stats import fmt
from tests.bench.wrk import WrkResult, alternating, summary, wrk

RATIO_TARGET = 0.6
NAMES = {"me": "GET /api/v1/me (gateway)", "echo": "GET /echo (bare nameko)"}


def measure(opts: Options, token: Token) -> tuple[dict[str, Any], list[str]]:
    """wrk runs, alternating me/echo; returns per-target summaries and warnings."""
    targets = {"me": ME_URL, "echo": ECHO_URL}

    def run(target: str, connections: int, duration: str) -> WrkResult:
        headers = {"Authorization": f"Bearer {token.get()}"} if target == "me" else {}
        return wrk(targets[target], connections, THREADS, duration, headers)

    print(f"warming up ({opts.warmup} each) ...", flush=True)
    for target in targets:
        run(target, opts.connections, opts.warmup)

    results: dict[str, Any] = {t: {"url": u} for t, u in targets.items()}
    warnings: list[str] = []
    for label, connections in (("concurrent", opts.connections), ("single", 1)):
        runs = alternating(targets, opts.runs, connections, opts.duration,
                           lambda target, duration, c=connections: run(target, c, duration))
        for target, target_runs in runs.items():
            results[target][label] = summary(target_runs, connections)
            if not results[target][label]["valid"]:
                non_2xx = results[target][label]["non_2xx"]
                socket_errors = results[target][label]["socket_errors"]
                warnings.append(
                    f"{targets[target]} at {connections} connection(s): {non_2xx} non-2xx "
                    f"and {socket_errors} socket errors over {len(target_runs)} runs; "
                    "its numbers are INVALID")
    return results, warnings


def run(opts: Options, token: Token) -> tuple[dict[str, Any], list[str]]:
    print(f"measuring: {opts.runs} runs x {opts.duration}, {opts.connections} and 1 "
          "connection(s), GET /api/v1/me and the echo alternating ...", flush=True)
    return measure(opts, token)


def ratio_verdict(targets: dict[str, Any]) -> dict[str, Any]:
    me, echo = targets["me"]["concurrent"], targets["echo"]["concurrent"]
    ratio = me["rps"] / echo["rps"] if me["rps"] and echo["rps"] else None
    valid = me["valid"] and echo["valid"]
    passed = valid and ratio is not None and ratio >= RATIO_TARGET
    return {"value": ratio, "target": RATIO_TARGET, "valid": valid,
            "verdict": "PASS" if passed else "FAIL"}


def render(report: dict[str, Any]) -> list[str]:
    opts, targets, ratio = report["options"], report["targets"], report["ratio"]
    lines = [
        f"{'target':<28}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'sock err':>9}",
    ]
    for label in ("concurrent", "single") if targets else ():
        for target in ("me", "echo"):
            row = targets[target][label]
            flag = "" if row["valid"] else "  INVALID"
            lines.append(f"{NAMES[target]:<28}{row['connections']:>6}{fmt(row['rps'], 0):>10}"
                         f"{fmt(row['p50_ms']):>9}{fmt(row['p99_ms']):>9}"
                         f"{row['non_2xx']:>9}{row['socket_errors']:>9}{flag}")
    if targets:
        lines += [
            "",
            f"me/echo req/s at {opts['connections']} connections: {fmt(ratio['value'])} "
            f"(target >= {ratio['target']}): {ratio['verdict']}"
            + ("" if ratio["valid"] else " (numbers invalid: errors during the runs)"),
        ]
    else:
        lines.append("GET /api/v1/me against the echo: not measured this time (BENCH_ONLY)")
    return lines
