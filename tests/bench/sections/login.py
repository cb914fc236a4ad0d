"""What a login costs: argon2id verification timed directly, then logins through the
gateway of an employee (one verification) and of a self-employed member whose 5-digit
number can designate two accounts (two verifications, by design: constant timing)."""

from __future__ import annotations

import statistics
from typing import Any

from tests.bench.client import login
from tests.bench.settings import EMPLOYEE, SELF_EMPLOYED
from tests.bench.stats import fmt, percentile, timed


def argon2_parameters(env: dict[str, str]) -> dict[str, int]:
    """What auth runs with: AuthSettings' defaults, or the AUTH_ARGON2_* overrides."""
    from services.auth.service import AuthSettings
    from services.kit.config import load_settings

    settings = load_settings(AuthSettings, env)
    return {"time_cost": settings.AUTH_ARGON2_TIME_COST,
            "memory_kib": settings.AUTH_ARGON2_MEMORY_KIB,
            "parallelism": settings.AUTH_ARGON2_PARALLELISM}


def login_costs(params: dict[str, int]) -> dict[str, Any]:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=params["time_cost"], memory_cost=params["memory_kib"],
                            parallelism=params["parallelism"])
    stored = hasher.hash(EMPLOYEE[1])
    # Interleaved, so that drift on the machine hits the three series alike.
    verify: list[float] = []
    employee: list[float] = []
    self_employed: list[float] = []
    for i in range(20):
        employee += timed(lambda: login(*EMPLOYEE), 1)
        if i % 2:
            verify += timed(lambda: hasher.verify(stored, EMPLOYEE[1]), 1)
            self_employed += timed(lambda: login(*SELF_EMPLOYED), 1)

    def summary(identifier: str, verifications: int, samples: list[float]) -> dict[str, Any]:
        median = statistics.median(samples)
        return {"identifier": identifier, "verifications": verifications, "n": len(samples),
                "median_ms": median, "p99_ms": percentile(samples, 99),
                "beyond_verify_ms": median - verifications * statistics.median(verify)}

    return {
        **params,
        "verify_direct_median_ms": statistics.median(verify),
        "verify_direct_n": len(verify),
        "login_employee": summary(EMPLOYEE[0], 1, employee),
        "login_self_employed": summary(SELF_EMPLOYED[0], 2, self_employed),
    }


def run(env: dict[str, str], warnings: list[str]) -> dict[str, Any]:
    print("timing logins ...", flush=True)
    params = argon2_parameters(env)
    try:
        return login_costs(params)
    except Exception as exc:  # report what was measured all the same
        warnings.append(f"login timing failed: {exc}")
        return {**params, "error": str(exc)}


def render(report: dict[str, Any]) -> list[str]:
    costs = report["argon2"]
    lines = [
        "",
        f"argon2id: time_cost={costs['time_cost']}, memory={costs['memory_kib']} KiB, "
        f"parallelism={costs['parallelism']}",
    ]
    if "error" not in costs:
        lines.append(f"  one verify, direct (median of {costs['verify_direct_n']}): "
                     f"{fmt(costs['verify_direct_median_ms'], 1)} ms")
    for key in ("login_employee", "login_self_employed"):
        row = costs.get(key)
        if row is None:
            continue
        lines.append(f"  login {row['identifier']:<16} ({row['verifications']} verification"
                     f"{'s' if row['verifications'] > 1 else ''}, {row['n']} sequential via "
                     f"gateway): median {fmt(row['median_ms'], 1)} ms, "
                     f"p99 {fmt(row['p99_ms'], 1)} ms, "
                     f"{fmt(row['beyond_verify_ms'], 1)} ms beyond the verification(s)")
    lines.append("  (a 5-digit self-employed identifier can designate two accounts: two "
                 "verifications by design, constant timing)")
    return lines
