"""`make bench`: GET /api/v1/me through the gateway against a bare nameko echo.

    python -m tests.bench.run        (BENCH_RUNS=3 BENCH_DURATION=10s BENCH_CONNECTIONS=20
                                      BENCH_EVENT_LOAD_RPS=100
                                      BENCH_ONLY=me,refunds,simulation,login,revocation,alerts)

Starts the whole suite in a sandbox of its own (RabbitMQ vhost `memberspace_bench`, one
database per service that has one, `memberspace_bench_<service>` (auth, notifications
...), kept from run to run and migrated, gateway on 127.0.0.1:18100, SMTP sink on
127.0.0.1:18125 keeping its e-mails in var/bench/mail) next to a bare echo
(`tests/bench/echo.py`: nameko's own `@http` + one `RpcProxy` hop, on 127.0.0.1:18101),
logs in as a demo member, and measures both with wrk, alternating targets so that
drift on the machine hits both alike. Then the refunds listing at size: `make bench`
first runs `make seed-large` (deploy/seed_large.py: 100,000 people with 40 refunds and
10 payments each in these databases, loaded once), and the bench mints access tokens
for seeded people with the development signing key (as auth would issue them), then
GETs /api/v1/me/refunds (first page, 50 a page) for a random person each time: one
client, sequentially (target: p99 < 20 ms), and wrk at BENCH_CONNECTIONS connections
rotating over 200 people's tokens, alternating with the echo (target: at least half the
echo's req/s). Then whether a pension simulation answers while the member waits
(target, the bench's own: p99 < 1 s for one simulation): POST
/api/v1/pension/simulations/anonymous (a realistic hypothetical career) and POST
/api/v1/pension/simulations (Paul Garnier's recorded career plus his assumptions), each
~50 times sequentially, then 8 clients at once on the anonymous one for ~5 s while GET
/api/v1/me is paced at 20 req/s (its p99 next to the same paced load alone: simulations
run off the event loop and stall nothing else). Then it times what a login costs
(argon2), and how long a session's access token stays usable once another session of the same
member has changed the password (the revocation delay, target: max < 1 s), and how
long an event takes to become an alert readable through the gateway (the event-to-alert
delay, target: p99 < 250 ms) while GET /api/v1/me is under an open-loop load of realistic
intensity: requests paced at a fixed rate (BENCH_EVENT_LOAD_RPS, 100/s by default) over a
few kept-alive connections, not wrk's closed-loop saturation (under which a lone GET can
already queue for longer than the target). The same measurement without any background
load (quiet) is reported next to it.

The sections, one module each under tests/bench/sections/ (me, refunds, simulation,
login, revocation, alerts: BENCH_ONLY picks some), each with its targets and its part of
the report; tests/bench/settings.py says where the bench runs, wrk.py, paced_load.py,
client.py and stats.py are the tools they share, report.py prints.

Prints a table and writes var/bench/report.json. A benchmark reports, it does not
fail the build: the exit status is 0 after a report, non-zero only when the suite
(or the echo) could not be started.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import asdict
from typing import Any

from deploy import infra
from deploy.suite import Suite
from tests.bench.client import Token
from tests.bench.processes import Processes
from tests.bench.report import git_commit
from tests.bench.report import render as report_text
from tests.bench.sections import alerts, login, me, refunds, revocation, simulation
from tests.bench.settings import (
    AMQP_URI,
    DATABASE_URLS,
    ECHO_ADDRESS,
    ECHO_SERVICES,
    ECHO_URL,
    GATEWAY_ADDRESS,
    REPORT_DIR,
    ROOT,
    SMTP_PORT,
    THREADS,
    VHOST,
    Options,
)
from tests.bench.wrk import ensure_wrk


def main() -> int:
    ensure_wrk()
    opts = Options.from_env()
    load_before = os.getloadavg()
    infra.ensure()
    infra.ensure_vhost(VHOST, fresh=True)
    suite = Suite.configure(ROOT / "var", {
        "AMQP_URI": AMQP_URI,
        **{f"{service.upper()}_DATABASE_URL": url for service, url in DATABASE_URLS.items()},
        "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "NOTIFICATIONS_SMTP_PORT": SMTP_PORT,  # the demo's sink keeps 1025
        "WEB_SERVER_ADDRESS": GATEWAY_ADDRESS,
        "LOG_LEVEL": "WARNING",
        "GATEWAY_REDIS_PREFIX": f"{VHOST}:",  # the demo's gateway uses `memberspace:`
        # the anonymous simulation's per-address limit (60 a minute by default): the
        # bench sends hundreds a minute from one address
        "GATEWAY_SIMULATION_LIMIT_PER_IP": simulation.SIMULATION_LIMIT_PER_IP,
    })
    suite.log_dir = REPORT_DIR / "log"  # not var/log, which a running demo writes to
    # suite.mail_dir follows: var/bench/mail, not the demo's var/mail
    echo = Processes(suite.log_dir)
    try:
        try:
            print(f"starting the suite (vhost {VHOST}, gateway {GATEWAY_ADDRESS}) ...",
                  flush=True)
            for old in suite.mail_dir.glob("*.eml"):  # the previous bench's e-mails
                old.unlink()
            suite.migrate()
            suite.start()
            suite.seed()
            echo_env = {**suite.env, "WEB_SERVER_ADDRESS": ECHO_ADDRESS}
            for name, path in ECHO_SERVICES.items():
                echo.start(name, path, echo_env)
            echo.wait_http(ECHO_URL)
            token = Token()
            token.get()
        except Exception as exc:
            print(f"bench: could not start: {exc}", file=sys.stderr)
            return 1

        skipped = {"error": "not measured this time (BENCH_ONLY)", "verdict": "SKIPPED"}
        targets: dict[str, Any] = {}
        warnings: list[str] = []
        refunds_result = simulation_result = revocation_result = alerts_result = skipped
        argon2 = {**login.argon2_parameters(suite.env), **skipped}
        if opts.measures("me"):
            targets, warnings = me.run(opts, token)
        if opts.measures("refunds"):
            refunds_result = refunds.run(opts, suite.env["AUTH_SIGNING_KEY_FILE"],
                                         targets.get("echo", {}).get("concurrent", {}),
                                         warnings)
        if opts.measures("simulation"):
            simulation_result = simulation.run(token, warnings)
        if opts.measures("login"):
            argon2 = login.run(suite.env, warnings)
        if opts.measures("revocation"):
            revocation_result = revocation.run(warnings)
        if opts.measures("alerts"):
            alerts_result = alerts.run(opts, token, suite.mail_dir, warnings)
    finally:
        echo.stop()
        suite.stop()

    report = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "options": {**asdict(opts), "threads": THREADS},
        "targets": targets,
        "ratio": me.ratio_verdict(targets) if targets else {"verdict": "SKIPPED"},
        "refunds_listing": refunds_result,
        "simulation": simulation_result,
        "argon2": argon2,
        "revocation_delay_ms": revocation_result,
        "event_to_alert_ms": alerts_result,
        "warnings": warnings,
    }
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(report_text(report))
    print(f"\nreport: {(REPORT_DIR / 'report.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

