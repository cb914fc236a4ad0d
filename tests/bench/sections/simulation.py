"""Whether a pension simulation answers while the member waits (target, the bench's own:
p99 < 1 s for one simulation): POST /api/v1/pension/simulations/anonymous (a realistic
hypothetical career) and POST /api/v1/pension/simulations (Paul Garnier's recorded
career plus his assumptions), each ~50 times sequentially, then 8 clients at once on the
anonymous one for ~5 s while GET /api/v1/me is paced at 20 req/s (its p99 next to the
same paced load alone: simulations run off the event loop and stall nothing else)."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from typing import Any

from tests.bench import paced_load
from tests.bench.client import Token, login
from tests.bench.settings import GATEWAY_ADDRESS, SELF_EMPLOYED
from tests.bench.stats import fmt, percentile

# A pension simulation while the member waits (POST /api/v1/pension/simulations...): the
# pension service computes every month of the career for three schemes, then compares
# each whole age up to 70 (services/pension/simulator/), off the event loop
# (services.kit.offload). The anonymous body: a woman born 1975-04-10 retiring at 64, 25
# years of salaried work, then 10 years self-employed in CARTI class 2; the member's:
# Paul Garnier (deploy/demo.py: salaried 1991-1997, self-employed in class 3 since 1998)
# retiring at 65 and contributing in class 3 until then. The route's per-address limit
# is raised for the bench (GATEWAY_SIMULATION_LIMIT_PER_IP).
SIMULATION_ANONYMOUS_PATH = "/api/v1/pension/simulations/anonymous"
SIMULATION_MEMBER_PATH = "/api/v1/pension/simulations"
SIMULATION_ANONYMOUS_BODY: dict[str, Any] = {
    "date_of_birth": "1975-04-10", "sex": "F", "retirement_age": 64,
    "career": [
        {"kind": "employee", "monthly_gross_salary": "3400.00",
         "start": "1991-11-01", "end": "2016-10-31"},
        {"kind": "self_employed", "class": 2, "start": "2016-11-01", "end": "2026-10-31"},
    ],
}
SIMULATION_MEMBER = SELF_EMPLOYED  # Paul Garnier, with a recorded career (deploy/demo.py)
SIMULATION_MEMBER_BODY: dict[str, Any] = {"retirement_age": 65, "future_class": 3}
SIMULATION_REQUESTS = 50  # sequential, per route
SIMULATION_WARMUP_REQUESTS = 3  # per route, not counted
SIMULATION_TARGET_P99_MS = 1000.0  # "answers while the member waits"
SIMULATION_CLIENTS = 8  # concurrent clients on the anonymous route
SIMULATION_CONCURRENT_S = 5.0
SIMULATION_ME_RPS = 20.0  # GET /api/v1/me paced meanwhile (PacedLoad)
SIMULATION_ME_ALONE_S = 3.0  # the same paced load alone, just before, for reference
SIMULATION_LIMIT_PER_IP = "100000"


def _simulation_answer(body: dict[str, Any]) -> dict[str, Any]:
    """What one answer held (to show the work is the real one)."""
    return {"retirement_date": body.get("retirement_date"),
            "total_monthly_gross": (body.get("total") or {}).get("monthly_gross"),
            "outcomes": {k: v.get("outcome") for k, v in (body.get("schemes") or {}).items()},
            "comparison_rows": len(body.get("comparison") or []),
            "assumptions": len(body.get("assumptions") or []),
            "sources": len(body.get("sources") or [])}


def simulation_sequential(url: str, body: dict[str, Any],
                          token: str | None = None) -> dict[str, Any]:
    """One client, one kept-alive connection, SIMULATION_REQUESTS POSTs back to back
    (after SIMULATION_WARMUP_REQUESTS not counted), each timed to its whole answer."""
    import requests

    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    samples: list[float] = []
    statuses: Counter[int] = Counter()
    sizes: list[int] = []
    answer: dict[str, Any] = {}
    with requests.Session() as session:
        for _ in range(SIMULATION_WARMUP_REQUESTS):
            session.post(url, json=body, headers=headers, timeout=30).content  # noqa: B018
        for _ in range(SIMULATION_REQUESTS):
            started = time.perf_counter()
            response = session.post(url, json=body, headers=headers, timeout=30)
            content = response.content
            samples.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] += 1
            sizes.append(len(content))
            if response.status_code == 200 and not answer:
                answer = _simulation_answer(response.json())
            elif response.status_code != 200 and "error" not in answer:
                answer["error"] = content[:300].decode(errors="replace")
    non_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    return {
        "url": url,
        "requests": len(samples),
        "p50_ms": statistics.median(samples),
        "p90_ms": percentile(samples, 90),
        "p99_ms": percentile(samples, 99),
        "max_ms": max(samples),
        "non_2xx": non_2xx,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "answer_bytes": statistics.median(sizes),
        "answer": answer,
        "within_target": non_2xx == 0 and percentile(samples, 99) < SIMULATION_TARGET_P99_MS,
    }


def simulation_concurrent(url: str, body: dict[str, Any], clients: int,
                          seconds: float) -> dict[str, Any]:
    """`clients` threads, each with its own kept-alive connection, POSTing back to back
    until `seconds` have passed (closed loop): req/s over the whole run, latencies."""
    import requests

    samples: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = session.post(url, json=body, timeout=30)
                    response.content  # noqa: B018 (read the whole answer)
                except requests.RequestException as exc:
                    with lock:
                        errors[type(exc).__name__] += 1
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    samples.append(elapsed)
                    statuses[response.status_code] += 1

    threads = [threading.Thread(target=client, name=f"simulation-{n}", daemon=True)
               for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    wall = time.perf_counter() - started
    non_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    return {
        "url": url,
        "clients": clients,
        "seconds": wall,
        "requests": len(samples),
        "rps": len(samples) / wall if wall else None,
        "p50_ms": statistics.median(samples) if samples else None,
        "p99_ms": percentile(samples, 99) if samples else None,
        "max_ms": max(samples) if samples else None,
        "non_2xx": non_2xx,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "valid": non_2xx == 0 and not errors and bool(samples),
    }


def simulation_while_waiting(token: Token) -> dict[str, Any]:
    """A pension simulation while the member waits (see SIMULATION_*): sequential, the
    anonymous route then the member's; then SIMULATION_CLIENTS clients on the anonymous
    one while GET /api/v1/me is paced at SIMULATION_ME_RPS, that paced load alone first."""
    anonymous_url = f"http://{GATEWAY_ADDRESS}{SIMULATION_ANONYMOUS_PATH}"
    member_url = f"http://{GATEWAY_ADDRESS}{SIMULATION_MEMBER_PATH}"
    print(f"  anonymous, one client, {SIMULATION_REQUESTS} sequential ...", flush=True)
    anonymous = simulation_sequential(anonymous_url, SIMULATION_ANONYMOUS_BODY)
    print(f"  anonymous: p50 {fmt(anonymous['p50_ms'])} ms, p99 "
          f"{fmt(anonymous['p99_ms'])} ms, non-2xx {anonymous['non_2xx']}", flush=True)
    paul = login(*SIMULATION_MEMBER)["access_token"]
    print(f"  member {SIMULATION_MEMBER[0]} (Paul Garnier), one client, "
          f"{SIMULATION_REQUESTS} sequential ...", flush=True)
    member = simulation_sequential(member_url, SIMULATION_MEMBER_BODY, paul)
    print(f"  member: p50 {fmt(member['p50_ms'])} ms, p99 {fmt(member['p99_ms'])} ms, "
          f"non-2xx {member['non_2xx']}", flush=True)

    print(f"  GET /api/v1/me paced at {SIMULATION_ME_RPS:g} req/s alone for "
          f"{SIMULATION_ME_ALONE_S:g} s, then with {SIMULATION_CLIENTS} clients on the "
          f"anonymous simulation for {SIMULATION_CONCURRENT_S:g} s ...", flush=True)
    alone_load = paced_load.PacedLoad("/api/v1/me", SIMULATION_ME_RPS, paced_load.CONNECTIONS,
                           token.get())
    time.sleep(SIMULATION_ME_ALONE_S)
    me_alone = alone_load.stop()
    during_load = paced_load.PacedLoad("/api/v1/me", SIMULATION_ME_RPS, paced_load.CONNECTIONS,
                            token.get())
    try:
        concurrent = simulation_concurrent(anonymous_url, SIMULATION_ANONYMOUS_BODY,
                                           SIMULATION_CLIENTS, SIMULATION_CONCURRENT_S)
    finally:
        me_during = during_load.stop()
    print(f"  {SIMULATION_CLIENTS} clients: {fmt(concurrent['rps'], 1)} simulations/s, "
          f"p99 {fmt(concurrent['p99_ms'])} ms; GET /api/v1/me p99 "
          f"{fmt(me_during['p99_ms'])} ms meanwhile ({fmt(me_alone['p99_ms'])} ms alone)",
          flush=True)
    passed = anonymous["within_target"] and member["within_target"]
    return {
        "target": "answers while the member waits: p99 < 1 s for one simulation "
                  "(the bench's own target), sequentially on each route",
        "target_p99_below_ms": SIMULATION_TARGET_P99_MS,
        "verdict": "PASS" if passed else "FAIL",
        "anonymous": {**anonymous, "body": SIMULATION_ANONYMOUS_BODY},
        "member": {**member, "identifier": SIMULATION_MEMBER[0],
                   "body": SIMULATION_MEMBER_BODY},
        "concurrent": {
            **concurrent,
            "me_during": me_during,
            "me_alone": me_alone,
            "note": f"{SIMULATION_CLIENTS} closed-loop clients (threads of the bench, one "
                    "kept-alive connection each) on the anonymous route; meanwhile GET "
                    f"/api/v1/me paced at {SIMULATION_ME_RPS:g} req/s (latency from each "
                    "request's slot), and the same paced load alone just before: the "
                    "simulations run off the event loop and must not stall other requests",
        },
        "method": f"POST through the gateway with requests, {SIMULATION_WARMUP_REQUESTS} "
                  f"warm-up requests per route not counted, then {SIMULATION_REQUESTS} "
                  "back to back over one kept-alive connection, each timed to the end of "
                  "its answer",
    }


def run(token: Token, warnings: list[str]) -> dict[str, Any]:
    print(f"measuring a pension simulation while the member waits "
          f"({SIMULATION_REQUESTS} sequential per route, then {SIMULATION_CLIENTS} "
          f"clients for {SIMULATION_CONCURRENT_S:g} s) ...", flush=True)
    try:
        simulation = simulation_while_waiting(token)
    except Exception as exc:  # report what was measured all the same
        warnings.append(f"simulation measurement failed: {exc}")
        return {"error": str(exc), "target_p99_below_ms": SIMULATION_TARGET_P99_MS,
                "verdict": "FAIL"}
    for name, row in (("anonymous", simulation["anonymous"]),
                      ("member", simulation["member"]),
                      (f"{SIMULATION_CLIENTS} clients", simulation["concurrent"])):
        if row["non_2xx"]:
            warnings.append(f"simulation, {name}: {row['non_2xx']} non-2xx "
                            "answers; its numbers are INVALID")
    return simulation


def render(report: dict[str, Any]) -> list[str]:
    simulation = report["simulation"]
    if "error" in simulation:
        return ["", f"a simulation while the member waits: not measured "
                    f"({simulation['error']}): {simulation['verdict']}", ""]
    anonymous, member = simulation["anonymous"], simulation["member"]
    concurrent = simulation["concurrent"]
    during, alone = concurrent["me_during"], concurrent["me_alone"]
    target = simulation["target_p99_below_ms"]
    lines = [
        "",
        f"a simulation answers while the member waits (the bench's own target: p99 < "
        f"{target:.0f} ms for one simulation):",
        f"{'target':<36}{'conns':>6}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}",
    ]
    for name, row in (("POST .../simulations/anonymous", anonymous),
                      ("POST .../simulations (Paul)", member)):
        lines.append(f"{name:<36}{1:>6}{'':>8}{fmt(row['p50_ms']):>9}"
                     f"{fmt(row['p99_ms']):>9}{row['non_2xx']:>9}"
                     + ("" if row["within_target"] else "  beyond the target"))
    flag = "" if concurrent["valid"] else "  INVALID"
    lines.append(f"{'POST .../simulations/anonymous':<36}{concurrent['clients']:>6}"
                 f"{fmt(concurrent['rps'], 1):>8}{fmt(concurrent['p50_ms']):>9}"
                 f"{fmt(concurrent['p99_ms']):>9}{concurrent['non_2xx']:>9}{flag}")
    for name, row in ((f"GET /api/v1/me {during['target_per_s']:g}/s, meanwhile", during),
                      (f"GET /api/v1/me {alone['target_per_s']:g}/s, alone", alone)):
        lines.append(f"{name:<36}{row['connections']:>6}{fmt(row['achieved_per_s'], 1):>8}"
                     f"{fmt(row['p50_ms']):>9}{fmt(row['p99_ms']):>9}{row['errors']:>9}"
                     + ("" if row["valid"] else "  INVALID"))
    answer = anonymous["answer"]
    outcomes = ", ".join(f"{k} {v}" for k, v in answer.get("outcomes", {}).items())
    lines += [
        f"  one simulation, sequentially: anonymous p99 {fmt(anonymous['p99_ms'])} ms, "
        f"member p99 {fmt(member['p99_ms'])} ms over {anonymous['requests']} requests "
        f"each (target < {target:.0f} ms): {simulation['verdict']}",
        f"  anonymous body: born 1975-04-10, F, at 64, 25 years salaried + 10 years CARTI "
        f"class 2: {outcomes}; {answer.get('total_monthly_gross')} EUR a month, "
        f"{answer.get('comparison_rows')} ages compared, {answer.get('assumptions')} "
        f"assumptions stated, {anonymous['answer_bytes']:,.0f} bytes",
        f"  {concurrent['clients']} clients for {concurrent['seconds']:.1f} s: "
        f"{concurrent['requests']} simulations; GET /api/v1/me paced at "
        f"{during['target_per_s']:g} req/s meanwhile: p99 {fmt(during['p99_ms'])} ms "
        f"(alone: {fmt(alone['p99_ms'])} ms), late {during['late']}, missed "
        f"{during['missed']} (simulations run off the event loop)",
        "",
    ]
    return lines
