"""GET /api/v1/me/refunds (first page, 50 a page) at the size of `make seed-large`
(deploy/seed_large.py: 100,000 people with 40 refunds and 10 payments each in the bench's
databases, loaded once), for a random person each time, with access tokens minted with
the development signing key (as auth would issue them): one client sequentially (target:
p99 < 20 ms), and wrk at BENCH_CONNECTIONS connections rotating over 200 people's
tokens, alternating with the echo (target: at least half the echo's req/s)."""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from tests.bench.client import MePoller
from tests.bench.settings import (
    DATABASE_URLS,
    ECHO_URL,
    GATEWAY_ADDRESS,
    REPORT_DIR,
    THREADS,
    VHOST,
    Options,
)
from tests.bench.stats import fmt, percentile
from tests.bench.wrk import WrkResult, alternating, duration_ms, summary, wrk

# People of `make seed-large`, access tokens minted with the
# development signing key (the suite's AUTH_SIGNING_KEY_FILE), claims as auth issues them.
REFUNDS_PATH = "/api/v1/me/refunds?limit=50"  # the first page, 50 a page
REFUNDS_URL = f"http://{GATEWAY_ADDRESS}{REFUNDS_PATH}"
REFUNDS_PEOPLE = 1000  # distinct people for the sequential client (one at random each time)
REFUNDS_WRK_PEOPLE = 200  # the wrk script rotates over these people's tokens
REFUNDS_MIN_REQUESTS = 500  # the sequential client: BENCH_DURATION, at least this many
REFUNDS_WARMUP_REQUESTS = 20
REFUNDS_P99_TARGET_MS = 20.0
REFUNDS_RATIO_TARGET = 0.5  # refunds req/s over the echo's, at BENCH_CONNECTIONS
REFUNDS_TOKEN_TTL = 3600


def seeded_people(count: int) -> list[str]:
    """`count` member ids of `make seed-large`'s people, at random (from auth's table,
    the seed's marker: its registration numbers)."""
    import sqlalchemy as sa

    from deploy.seed_large import FIRST_NUMBER, LAST_NUMBER, PEOPLE

    bounds = {"first": str(FIRST_NUMBER), "last": str(LAST_NUMBER)}
    engine = sa.create_engine(DATABASE_URLS["auth"])
    try:
        with engine.connect() as conn:
            seeded = conn.scalar(sa.text(
                "SELECT count(*) FROM subscriptions WHERE registration_number "
                "BETWEEN :first AND :last AND length(registration_number) = 6"), bounds)
            if seeded != PEOPLE:
                raise RuntimeError(f"{seeded} of the {PEOPLE} seeded people in "
                                   f"{VHOST}_auth: run `make seed-large` first")
            return [str(i) for i in conn.scalars(sa.text(
                "SELECT person_id FROM subscriptions WHERE registration_number "
                "BETWEEN :first AND :last AND length(registration_number) = 6 "
                "ORDER BY random() LIMIT :n"), {**bounds, "n": count})]
    finally:
        engine.dispose()


def mint_tokens(key_file: str, member_ids: list[str]) -> list[str]:
    """Access tokens as auth issues them at a password login of a member whose e-mail is
    validated and password personalised (aud member, pcr false, ev true), each for a
    session of its own (a random sid: no session of auth's, never ended), valid 1 h."""
    from services.auth.tokens import MEMBER_AUDIENCE, SigningKey, issue_access_token

    key = SigningKey.from_pem_file(key_file)
    return [issue_access_token(key, subject=member_id, session_id=str(uuid.uuid4()),
                               client="mobile", audience=MEMBER_AUDIENCE,
                               ttl=REFUNDS_TOKEN_TTL, claims={"pcr": False, "ev": True})
            for member_id in member_ids]


def refunds_wrk_script(tokens: list[str]) -> Path:
    """A wrk script: GET REFUNDS_PATH, each request with the next person's token (the
    requests formatted once per thread, so the client's cost stays the echo's)."""
    listed = ",\n".join(f'  "{token}"' for token in tokens)
    script = REPORT_DIR / "refunds.lua"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"""-- tests/bench/sections/refunds.py: {REFUNDS_PATH}, person after person
local tokens = {{
{listed}
}}
local requests = {{}}
local n = 0
local threads = 0

function setup(thread)
  thread:set("offset", threads * 37)
  threads = threads + 1
end

function init(args)
  for i, token in ipairs(tokens) do
    requests[i] = wrk.format("GET", "{REFUNDS_PATH}",
                             {{["Authorization"] = "Bearer " .. token,
                              ["Accept"] = "application/json"}})
  end
  n = offset or 0
end

function request()
  n = n + 1
  return requests[n % #requests + 1]
end
""")
    return script


def refunds_sequential(tokens: list[str], seconds: float) -> dict[str, Any]:
    """One client, one kept-alive connection, requests back to back, each for a person
    drawn at random: for `seconds`, at least REFUNDS_MIN_REQUESTS requests."""
    poller = MePoller(REFUNDS_PATH)
    samples: list[float] = []
    statuses: Counter[int] = Counter()
    items: list[int] = []
    try:
        for _ in range(REFUNDS_WARMUP_REQUESTS):
            poller.fetch(random.choice(tokens))
        started = time.perf_counter()
        while (len(samples) < REFUNDS_MIN_REQUESTS
               or time.perf_counter() - started < seconds):
            status, body, elapsed = poller.fetch(random.choice(tokens))
            samples.append(elapsed * 1000)
            statuses[status] += 1
            if status == 200:
                items.append(len(json.loads(body)["items"]))
        wall = time.perf_counter() - started
    finally:
        poller.close()
    non_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    p99 = percentile(samples, 99)
    passed = non_2xx == 0 and p99 < REFUNDS_P99_TARGET_MS
    return {
        "requests": len(samples),
        "seconds": wall,
        "rps": len(samples) / wall,
        "p50_ms": statistics.median(samples),
        "p90_ms": percentile(samples, 90),
        "p99_ms": p99,
        "max_ms": max(samples),
        "non_2xx": non_2xx,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "items_per_page": {"mean": statistics.fmean(items) if items else None,
                           "min": min(items, default=None), "max": max(items, default=None)},
        "people": len(tokens),
        "target_p99_below_ms": REFUNDS_P99_TARGET_MS,
        "verdict": "PASS" if passed else "FAIL",
    }


def refunds_listing(opts: Options, key_file: str,
                    echo_earlier: dict[str, Any]) -> dict[str, Any]:
    """GET /api/v1/me/refunds at the size of `make seed-large`: one client sequentially
    (p99 per page), then wrk at opts.connections alternating with the echo (req/s ratio
    within the same measurement)."""
    people = seeded_people(REFUNDS_PEOPLE)
    tokens = mint_tokens(key_file, people)
    print(f"  one client, sequential, {len(tokens)} people at random, "
          f"{opts.duration} (>= {REFUNDS_MIN_REQUESTS} requests) ...", flush=True)
    single = refunds_sequential(tokens, duration_ms(opts.duration) / 1000)
    print(f"  one client: {single['requests']} requests, p50 {fmt(single['p50_ms'])} ms, "
          f"p99 {fmt(single['p99_ms'])} ms, non-2xx {single['non_2xx']}", flush=True)

    script = refunds_wrk_script(tokens[:REFUNDS_WRK_PEOPLE])
    targets = {"refunds": REFUNDS_URL, "echo": ECHO_URL}

    def run(target: str, duration: str) -> WrkResult:
        return wrk(targets[target], opts.connections, THREADS, duration,
                   script=script if target == "refunds" else None)

    for target in targets:  # warm-up, not counted
        run(target, opts.warmup)
    runs = alternating(targets, opts.runs, opts.connections, opts.duration, run)
    concurrent: dict[str, Any] = {
        target: {"url": targets[target], **summary(target_runs, opts.connections)}
        for target, target_runs in runs.items()}
    refunds, echo = concurrent["refunds"], concurrent["echo"]
    ratio = refunds["rps"] / echo["rps"] if refunds["rps"] and echo["rps"] else None
    valid = refunds["valid"] and echo["valid"]
    passed = valid and ratio is not None and ratio >= REFUNDS_RATIO_TARGET
    earlier = echo_earlier.get("rps")
    return {
        "url": REFUNDS_URL,
        "seed": {"people": "make seed-large (deploy/seed_large.py)",
                 "tokens": "minted with the development signing key (aud member, ev true, "
                           "pcr false, a random sid, exp 1 h)"},
        "single": single,
        "concurrent": {
            **concurrent,
            "people": min(REFUNDS_WRK_PEOPLE, len(tokens)),
            "ratio": ratio,
            "ratio_to_echo_measured_earlier": (refunds["rps"] / earlier
                                               if refunds["rps"] and earlier else None),
            "target_ratio_at_least": REFUNDS_RATIO_TARGET,
            "valid": valid,
            "verdict": "PASS" if passed else "FAIL",
        },
        "verdict": "PASS" if passed and single["verdict"] == "PASS" else "FAIL",
    }


def run(opts: Options, key_file: str, echo_earlier: dict[str, Any],
        warnings: list[str]) -> dict[str, Any]:
    print(f"measuring the refunds listing at size (people of `make seed-large`): "
          f"one client, then {opts.connections} connections alternating with the "
          "echo ...", flush=True)
    try:
        refunds = refunds_listing(opts, key_file, echo_earlier)
    except Exception as exc:  # report what was measured all the same
        warnings.append(f"refunds listing measurement failed: {exc}")
        return {"error": str(exc), "verdict": "FAIL"}
    for name, row in (("one client", refunds["single"]),
                      (f"{opts.connections} connections", refunds["concurrent"]["refunds"])):
        if row["non_2xx"]:
            warnings.append(f"refunds listing, {name}: {row['non_2xx']} non-2xx "
                            "answers; its numbers are INVALID")
    return refunds


def render(report: dict[str, Any]) -> list[str]:
    refunds, opts = report["refunds_listing"], report["options"]
    if "error" in refunds:
        return ["", f"refunds listing: not measured ({refunds['error']}): "
                    f"{refunds['verdict']}"]
    single, concurrent = refunds["single"], refunds["concurrent"]
    pages = single["items_per_page"]
    lines = [
        "",
        f"refunds listing at size (make seed-large: 100,000 people, 40 refunds and 10 "
        f"payments each; GET {REFUNDS_PATH}, a token minted per person):",
        f"{'target':<28}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'sock err':>9}",
        f"{'refunds, sequential':<28}{1:>6}{fmt(single['rps'], 0):>10}"
        f"{fmt(single['p50_ms']):>9}{fmt(single['p99_ms']):>9}{single['non_2xx']:>9}"
        f"{0:>9}",
    ]
    for target, name in (("refunds", "refunds (wrk)"), ("echo", "GET /echo (same run)")):
        row = concurrent[target]
        flag = "" if row["valid"] else "  INVALID"
        lines.append(f"{name:<28}{row['connections']:>6}{fmt(row['rps'], 0):>10}"
                     f"{fmt(row['p50_ms']):>9}{fmt(row['p99_ms']):>9}"
                     f"{row['non_2xx']:>9}{row['socket_errors']:>9}{flag}")
    earlier = concurrent["ratio_to_echo_measured_earlier"]
    lines += [
        f"  one client: {single['requests']} requests back to back over "
        f"{single['seconds']:.1f} s, {single['people']} people at random, "
        f"{fmt(pages['mean'], 1)} items a page ({pages['min']}-{pages['max']}): p99 "
        f"{fmt(single['p99_ms'])} ms (target < {single['target_p99_below_ms']:.0f} ms): "
        f"{single['verdict']}",
        f"  refunds/echo req/s at {opts['connections']} connections (wrk rotating over "
        f"{concurrent['people']} people's tokens): {fmt(concurrent['ratio'])} (target >= "
        f"{concurrent['target_ratio_at_least']}): {concurrent['verdict']}"
        + ("" if concurrent["valid"] else " (numbers invalid: errors during the runs)")
        + (f"; against the echo of the first table: {fmt(earlier)}" if earlier else ""),
    ]
    return lines
