"""How long a session's access token stays usable once another session of the same
member has changed the password (the revocation delay, target: max < 1 s)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from tests.bench.client import BENCH_MEMBER_PASSWORD, MePoller, bench_member, login, post_json
from tests.bench.settings import AMQP_URI, PASSWORD_URL
from tests.bench.stats import fmt

# Revocation delay: a member created for the purpose changes the password on session A
# while session B's old access token is polled until the gateway refuses it.
REVOCATION_ROUNDS = 10
REVOCATION_TARGET_MS = 1000.0
REVOCATION_PASSWORDS = (BENCH_MEMBER_PASSWORD, "Lynx#527")  # alternated, both follow the rules
REVOCATION_GIVE_UP_S = 10.0  # a round polling this long ends as "never refused"


def revocation_delays(amqp_uri: str) -> dict[str, Any]:
    """Session A changes the password; from the moment its answer arrives, session B's
    old access token is polled (GET /api/v1/me, back to back) until the gateway answers
    401 `session_ended`. The delay is counted up to the arrival of that 401, so it is
    an upper bound: the refusal began after the request of the last poll answered 200,
    less than two poll intervals (round trips) earlier."""
    member = bench_member(amqp_uri, "Revocation")
    identifier, password = member["identifier"], member["password"]
    session_a = login(identifier, password)["access_token"]
    session_b = login(identifier, password)["access_token"]
    poller = MePoller()
    rounds: list[dict[str, Any]] = []
    intervals: list[float] = []
    try:
        for i in range(REVOCATION_ROUNDS):
            if i:  # the previous round ended B: a live session again
                session_b = login(identifier, password)["access_token"]
            status, code, _ = poller.get(session_b)  # B is live (and the connection warm)
            if status != 200:
                raise RuntimeError(f"round {i + 1}: session B answered {status} {code} "
                                   "before the password change")
            new_password = next(p for p in REVOCATION_PASSWORDS if p != password)
            status, answer = post_json(PASSWORD_URL, {"current_password": password,
                                                      "new_password": new_password},
                                       token=session_a)
            changed_at = time.perf_counter()
            if status != 200 or "access_token" not in answer:
                raise RuntimeError(f"round {i + 1}: the password change answered "
                                   f"{status}: {answer}")
            session_a, password = answer["access_token"], new_password
            polls = 0
            ended = False
            while True:
                status, code, elapsed = poller.get(session_b)
                polls += 1
                intervals.append(elapsed * 1000)
                waited = time.perf_counter() - changed_at
                if status == 401 and code == "session_ended":
                    ended = True
                    break
                if status != 200:
                    raise RuntimeError(f"round {i + 1}: session B answered {status} {code} "
                                       "while polling")
                if waited >= REVOCATION_GIVE_UP_S:
                    break
            rounds.append({"delay_ms": waited * 1000, "polls": polls, "ended": ended})
    finally:
        poller.close()

    delays = [r["delay_ms"] for r in rounds]
    all_ended = all(r["ended"] for r in rounds)
    maximum = max(delays)
    passed = all_ended and maximum < REVOCATION_TARGET_MS
    return {
        "rounds": len(rounds),
        "p50": statistics.median(delays),
        "max": maximum,
        "target_max_below_ms": REVOCATION_TARGET_MS,
        "all_refused": all_ended,
        "refused_at_first_poll": sum(1 for r in rounds if r["ended"] and r["polls"] == 1),
        "verdict": "PASS" if passed else "FAIL",
        "poll_interval_ms": {"median": statistics.median(intervals), "max": max(intervals),
                             "polls": len(intervals)},
        "samples": rounds,
        "method": "POST /api/v1/auth/password on session A, then GET /api/v1/me with "
                  "session B's old access token back to back until 401 session_ended; "
                  "delay from the change's answer to the 401's arrival",
    }


def run(warnings: list[str]) -> dict[str, Any]:
    print(f"measuring the revocation delay ({REVOCATION_ROUNDS} password changes) "
          "...", flush=True)
    try:
        return revocation_delays(AMQP_URI)
    except Exception as exc:  # report what was measured all the same
        warnings.append(f"revocation delay measurement failed: {exc}")
        return {"error": str(exc), "target_max_below_ms": REVOCATION_TARGET_MS,
                "verdict": "FAIL"}


def render(report: dict[str, Any]) -> list[str]:
    revocation = report["revocation_delay_ms"]
    if "error" in revocation:
        return [f"revocation delay: not measured ({revocation['error']}): "
                f"{revocation['verdict']}"]
    poll = revocation["poll_interval_ms"]
    return [
        f"revocation delay over {revocation['rounds']} password changes (session B's "
        f"old access token refused): p50 {fmt(revocation['p50'], 1)} ms, "
        f"max {fmt(revocation['max'], 1)} ms "
        f"(target max < {revocation['target_max_below_ms']:.0f} ms): "
        f"{revocation['verdict']}"
        + ("" if revocation["all_refused"] else
           f" (a session still answered after {REVOCATION_GIVE_UP_S:.0f} s)"),
        f"  refused at the first poll in {revocation['refused_at_first_poll']} of "
        f"{revocation['rounds']} rounds (already in force when the change's answer "
        "arrived: the delay measured is then one poll)",
        f"  precision is bounded by the poll interval (GET /api/v1/me back to back, one "
        f"round trip each: median {fmt(poll['median'])} ms, max {fmt(poll['max'])} ms "
        f"over {poll['polls']} polls): the refusal began between the request of the "
        "last 200 and the arrival of the 401, so a delay overstates by < 2 intervals",
    ]
