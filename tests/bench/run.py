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

Prints a table and writes var/bench/report.json. A benchmark reports, it does not
fail the build: the exit status is 0 after a report, non-zero only when the suite
(or the echo) could not be started.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploy import infra
from deploy.suite import DATABASE_SERVICES, Suite

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "var" / "bench"
VHOST = "memberspace_bench"
AMQP_URI = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
# One database of the bench's own for every service that has one (Suite.migrate upgrades
# `<SERVICE>_DATABASE_URL`, falling back to the demo's `memberspace_<service>`):
# memberspace_bench_auth, memberspace_bench_notifications ..., kept from run to run (the
# large seed is loaded into them once); migrated before each run, the demo seed reset.
DATABASE_URLS = {service: f"postgresql+psycopg2://postgres@127.0.0.1:5432/{VHOST}_{service}"
                 for service in DATABASE_SERVICES}
NOTIFICATIONS_DATABASE_URL = DATABASE_URLS["notifications"]
SMTP_PORT = "18125"  # the suite's SMTP sink; the demo's keeps 1025
GATEWAY_ADDRESS = "127.0.0.1:18100"
ECHO_ADDRESS = "127.0.0.1:18101"
ME_URL = f"http://{GATEWAY_ADDRESS}/api/v1/me"
LOGIN_URL = f"http://{GATEWAY_ADDRESS}/api/v1/auth/login"
PASSWORD_URL = f"http://{GATEWAY_ADDRESS}/api/v1/auth/password"
ECHO_URL = f"http://{ECHO_ADDRESS}/echo"
ECHO_SERVICES = {
    "bench_echo": "tests.bench.echo:EchoService",
    "bench_echo_gateway": "tests.bench.echo:EchoGateway",
}
RATIO_TARGET = 0.6
THREADS = 2
# Demo people (deploy/demo.py): an employee (one candidate account, one argon2
# verification) and a self-employed member whose 5-digit number can designate two
# accounts, so a login checks the password twice whatever happens (constant timing).
EMPLOYEE = ("123456-03091985", "Azur#718")
SELF_EMPLOYED = ("12345-15061970", "Port!962")
# Revocation delay: a member created for the purpose changes the password on session A
# while session B's old access token is polled until the gateway refuses it.
REVOCATION_ROUNDS = 10
REVOCATION_TARGET_MS = 1000.0
REVOCATION_PASSWORDS = ("Quai#482", "Lynx#527")  # alternated, both follow the rules
REVOCATION_GIVE_UP_S = 10.0  # a round polling this long ends as "never refused"
# Event-to-alert delay: `auth.login_locked` events for a member created for the purpose,
# published by the bench one at a time at a steady pace; each is timed from its
# publication until the unread count read through the gateway shows it. First quiet (no
# background load), then while an open-loop paced load (PacedLoad) GETs /api/v1/me at a
# fixed rate: a realistic intensity, not wrk's saturation, so that the delay measured is
# the event path's and not the queueing of a saturated gateway.
UNREAD_PATH = "/api/v1/me/notifications/unread-count"
NOTIFICATIONS_PATH = "/api/v1/me/notifications"
ALERT_EVENTS = 200  # under the paced load (the verdict)
ALERT_QUIET_EVENTS = 50  # before it, with no background load (for reference)
ALERT_WARMUP_EVENTS = 5  # before both, not counted: first-use costs
ALERT_RATE = 20.0  # events per second (a publication every 50 ms at most)
ALERT_TARGET_P99_MS = 250.0
ALERT_GIVE_UP_S = 10.0  # an alert not readable by then ends the measurement
ALERT_LOAD_RAMP_S = 1.0  # the paced load runs this long before the first event
ALERT_LOAD_CONNECTIONS = 4  # kept-alive connections (one client thread each)
ALERT_LOAD_LATE_MS = 10.0  # a request sent later than this after its slot counts as late
ALERT_LOAD_MISS_S = 1.0  # a slot no connection could take within this is skipped (missed)
ALERT_LOAD_MIN_RATIO = 0.95  # the load is valid when it achieved >= 95 % of its rate
# The refunds listing at size: people of `make seed-large`, access tokens minted with the
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

# -- settings ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    runs: int
    duration: str
    connections: int
    warmup: str
    event_load_rps: float  # the paced load during the event-to-alert measurement
    only: tuple[str, ...]  # the sections measured (BENCH_ONLY), all by default

    @classmethod
    def from_env(cls) -> Options:
        return cls(
            runs=max(1, int(os.environ.get("BENCH_RUNS", "3"))),
            duration=_wrk_duration(os.environ.get("BENCH_DURATION", "10s")),
            connections=max(1, int(os.environ.get("BENCH_CONNECTIONS", "20"))),
            warmup=_wrk_duration(os.environ.get("BENCH_WARMUP", "2s")),
            event_load_rps=max(1.0, float(os.environ.get("BENCH_EVENT_LOAD_RPS", "100"))),
            only=_sections(os.environ.get("BENCH_ONLY", "")),
        )

    def measures(self, section: str) -> bool:
        return section in self.only


SECTIONS = ("me", "refunds", "simulation", "login", "revocation", "alerts")


def _sections(value: str) -> tuple[str, ...]:
    """BENCH_ONLY=refunds,alerts: only these sections (for working on one target);
    every section when empty."""
    wanted = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [part for part in wanted if part not in SECTIONS]
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown section(s) {', '.join(unknown)}; "
                         f"sections: {', '.join(SECTIONS)}")
    return wanted or SECTIONS


def _wrk_duration(value: str) -> str:
    """wrk takes `10s`, `2m`...; a bare number means seconds."""
    value = value.strip()
    return f"{value}s" if value.isdigit() else value


# -- the load tool ---------------------------------------------------------------------------
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


def _ms(text: str) -> float:
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
            latency[pct] = _ms(value)
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


# -- the echo ---------------------------------------------------------------------------------
@dataclass
class Processes:
    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, path: str, env: dict[str, str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "services.kit.runner", path],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see "
                                       f"{self.log_dir / (name + '.log')}")
            try:
                with urllib.request.urlopen(url, timeout=3) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s; see {self.log_dir}")

    def stop(self, grace: float = 15.0) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


# -- HTTP helpers -------------------------------------------------------------------------------
def post_json(url: str, body: dict[str, Any], timeout: float = 30.0,
              token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (a fixed http://127.0.0.1 URL)
        url, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def login(identifier: str, password: str) -> dict[str, Any]:
    status, answer = post_json(LOGIN_URL, {"identifier": identifier, "password": password,
                                           "client": "mobile"})
    if status != 200 or "access_token" not in answer:
        raise RuntimeError(f"login of {identifier} answered {status}: {answer}")
    return answer


class Token:
    """Marie's access token, renewed before it expires (long BENCH_DURATION runs)."""

    def __init__(self) -> None:
        self.value = ""
        self.renew_at = 0.0

    def get(self) -> str:
        if time.monotonic() >= self.renew_at:
            answer = login(*EMPLOYEE)
            self.value = answer["access_token"]
            self.renew_at = time.monotonic() + int(answer.get("expires_in", 900)) / 2
        return self.value


# -- statistics ---------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 20 samples is the slowest one)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def median_of(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def timed(fn: Callable[[], Any], times: int) -> list[float]:
    """Wall time of each call, in ms."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


# -- the measurements ---------------------------------------------------------------------------
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
        runs: dict[str, list[WrkResult]] = {t: [] for t in targets}
        for i in range(opts.runs):
            for target in targets:
                result = run(target, connections, opts.duration)
                runs[target].append(result)
                print(f"  run {i + 1}/{opts.runs} {target:<4} -c{connections:<3} "
                      f"{_fmt(result.rps, 0):>7} req/s  p50 {_fmt(result.p50_ms)} ms  "
                      f"p99 {_fmt(result.p99_ms)} ms  non-2xx {result.non_2xx}  "
                      f"socket errors {result.socket_errors}", flush=True)
        for target, target_runs in runs.items():
            non_2xx = sum(r.non_2xx for r in target_runs)
            socket_errors = sum(r.socket_errors for r in target_runs)
            valid = non_2xx == 0 and socket_errors == 0 and all(r.rps for r in target_runs)
            if not valid:
                warnings.append(
                    f"{targets[target]} at {connections} connection(s): {non_2xx} non-2xx "
                    f"and {socket_errors} socket errors over {len(target_runs)} runs; "
                    "its numbers are INVALID")
            results[target][label] = {
                "connections": connections,
                "rps": median_of([r.rps for r in target_runs]),
                "p50_ms": median_of([r.p50_ms for r in target_runs]),
                "p99_ms": median_of([r.p99_ms for r in target_runs]),
                "non_2xx": non_2xx,
                "socket_errors": socket_errors,
                "valid": valid,
                "runs": [asdict(r) for r in target_runs],
            }
    return results, warnings


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


class MePoller:
    """GET `path` (default /api/v1/me) over one kept-alive connection, so that a poll
    costs one round trip (no TCP connect): (status, problem code or None, seconds the
    round trip took); `fetch` answers the body instead of the problem code."""

    def __init__(self, path: str = "/api/v1/me") -> None:
        host, port = GATEWAY_ADDRESS.rsplit(":", 1)
        self.path = path
        self.connection = http.client.HTTPConnection(host, int(port), timeout=10)

    def fetch(self, token: str) -> tuple[int, bytes, float]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        for attempt in (1, 2):  # once more on a fresh connection if the server closed it
            started = time.perf_counter()
            try:
                self.connection.request("GET", self.path, headers=headers)
                answer = self.connection.getresponse()
                body = answer.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if answer.will_close:
                self.connection.close()
            return answer.status, body, elapsed
        raise AssertionError("unreachable")

    def get(self, token: str) -> tuple[int, str | None, float]:
        status, body, elapsed = self.fetch(token)
        code = None
        if status != 200:
            try:
                code = json.loads(body or b"{}").get("code")
            except ValueError:
                code = None
        return status, code, elapsed

    def close(self) -> None:
        self.connection.close()


def bench_member(amqp_uri: str, last_name: str, **fields: Any) -> dict[str, Any]:
    """A member created for the purpose over RPC (as tests/support.py `new_member`
    does; `fields` override the member's, e.g. email); returns the created member plus
    `identifier` and `password`."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from deploy.demo import DEMO_PEOPLE, _find
    from deploy.seed_large import FIRST_NUMBER, LAST_NUMBER

    taken = {sub["registration_number"] for person in DEMO_PEOPLE
             for sub in person["member"]["subscriptions"]}
    birth_date = dt.date(1960, 1, 1) + dt.timedelta(days=random.randint(0, 14000))
    password = REVOCATION_PASSWORDS[0]
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=30) as rpc:
        # not the seeded range, nor a bench member of an earlier run (the databases stay)
        number = ""
        while (not number or number in taken or FIRST_NUMBER <= int(number) <= LAST_NUMBER
               or _find(rpc, number)):
            number = str(random.randint(100000, 699999))
        member = {
            "first_name": "Bench", "last_name": last_name,
            "birth_date": birth_date.isoformat(), "sex": "F", "email": None,
            "email_validated": False, "language": "fr",
            "subscriptions": [{"fund": "CCSS", "registration_number": number}],
            **fields,
        }
        created = rpc.auth.create_member(member)
        rpc.auth.set_credentials(created["member_id"], {
            "password": password, "must_change_password": False})
    return {**created, "identifier": f"{number}-{birth_date:%d%m%Y}", "password": password}


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


# -- the refunds listing at size -------------------------------------------------------------------
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
    script.write_text(f"""-- written by tests/bench/run.py: {REFUNDS_PATH}, person after person
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
    single = refunds_sequential(tokens, _ms(opts.duration) / 1000)
    print(f"  one client: {single['requests']} requests, p50 {_fmt(single['p50_ms'])} ms, "
          f"p99 {_fmt(single['p99_ms'])} ms, non-2xx {single['non_2xx']}", flush=True)

    script = refunds_wrk_script(tokens[:REFUNDS_WRK_PEOPLE])
    targets = {"refunds": REFUNDS_URL, "echo": ECHO_URL}

    def run(target: str, duration: str) -> WrkResult:
        return wrk(targets[target], opts.connections, THREADS, duration,
                   script=script if target == "refunds" else None)

    for target in targets:  # warm-up, not counted
        run(target, opts.warmup)
    runs: dict[str, list[WrkResult]] = {t: [] for t in targets}
    for i in range(opts.runs):
        for target in targets:
            result = run(target, opts.duration)
            runs[target].append(result)
            print(f"  run {i + 1}/{opts.runs} {target:<7} -c{opts.connections:<3} "
                  f"{_fmt(result.rps, 0):>7} req/s  p50 {_fmt(result.p50_ms)} ms  "
                  f"p99 {_fmt(result.p99_ms)} ms  non-2xx {result.non_2xx}  "
                  f"socket errors {result.socket_errors}", flush=True)
    concurrent: dict[str, Any] = {}
    for target, target_runs in runs.items():
        non_2xx = sum(r.non_2xx for r in target_runs)
        socket_errors = sum(r.socket_errors for r in target_runs)
        concurrent[target] = {
            "url": targets[target],
            "connections": opts.connections,
            "rps": median_of([r.rps for r in target_runs]),
            "p50_ms": median_of([r.p50_ms for r in target_runs]),
            "p99_ms": median_of([r.p99_ms for r in target_runs]),
            "non_2xx": non_2xx,
            "socket_errors": socket_errors,
            "valid": non_2xx == 0 and socket_errors == 0 and all(r.rps for r in target_runs),
            "runs": [asdict(r) for r in target_runs],
        }
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


# -- the event-to-alert delay ---------------------------------------------------------------------
def unread_count(poller: MePoller, token: str) -> tuple[int | None, int, float]:
    """(count or None when not 200, status, seconds the round trip took)."""
    status, body, elapsed = poller.fetch(token)
    return (json.loads(body)["count"] if status == 200 else None), status, elapsed


def wait_member_known(member_id: str, token: str, timeout: float = 30.0) -> None:
    """Until notifications can take events about the member: the alerts listing
    answers 200 through the gateway, and the member is in notifications' copy of
    members (the listing answers 200 either way; an event arriving before
    `auth.member_created` is handled fails and is retried seconds later)."""
    import sqlalchemy as sa

    deadline = time.monotonic() + timeout
    listing = MePoller(f"{NOTIFICATIONS_PATH}?limit=1")
    engine = sa.create_engine(NOTIFICATIONS_DATABASE_URL)
    try:
        while listing.get(token)[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"GET {NOTIFICATIONS_PATH} did not answer 200 within "
                                   f"{timeout:.0f}s")
            time.sleep(0.1)
        query = sa.text("SELECT 1 FROM members WHERE member_id = :id")
        while True:
            with engine.connect() as conn:
                if conn.scalar(query, {"id": member_id}):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"notifications did not know member {member_id} within "
                                   f"{timeout:.0f}s (auth.member_created not handled)")
            time.sleep(0.1)
    finally:
        listing.close()
        engine.dispose()


class AlertProbe:
    """Publishes `auth.login_locked` for one member, as auth's outbox relay does (topic
    exchange `auth.events`, routing key `login_locked`, the envelope as JSON), and
    times each until the member's unread count, read through the gateway, shows it."""

    def __init__(self, amqp_uri: str, member_id: str, token: str) -> None:
        from kombu import Connection

        from services.kit.events import event_exchange

        self.member_id, self.token = member_id, token
        self.connection = Connection(amqp_uri)
        self.producer = self.connection.Producer(serializer="json")
        self.exchange = event_exchange("auth")
        self.poller = MePoller(UNREAD_PATH)
        self.published = 0
        self.intervals: list[float] = []
        count, status, _ = unread_count(self.poller, token)
        if count is None:
            raise RuntimeError(f"GET {UNREAD_PATH} answered {status}")
        self.expected = count

    def one(self, seq: int) -> dict[str, Any]:
        """Publish one event (distinct id and `until`) and poll, back to back, until
        the unread count is one more; {"delay_ms", "polls"}. Sequential, so a count is
        unambiguous: it can only have moved because of this event."""
        from services.kit.events import build_envelope

        until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(
            minutes=15, seconds=seq)
        envelope = build_envelope("auth.login_locked", {"until": until.isoformat()},
                                  member_id=self.member_id, correlation_id=f"bench-{seq}")
        self.expected += 1
        published_wall = time.time()  # same clock as the alert's created_at (one machine)
        published_at = time.perf_counter()
        self.producer.publish(envelope, exchange=self.exchange, routing_key="login_locked",
                              declare=[self.exchange])
        self.published += 1
        polls = 0
        while True:
            count, status, elapsed = unread_count(self.poller, self.token)
            polls += 1
            self.intervals.append(elapsed * 1000)
            waited = time.perf_counter() - published_at
            if count is None:
                raise RuntimeError(f"event {seq}: GET {UNREAD_PATH} answered {status}")
            if count == self.expected:
                return {"delay_ms": waited * 1000, "polls": polls,
                        "published_at": published_wall}
            if count > self.expected:
                raise RuntimeError(f"event {seq}: unread count {count}, expected "
                                   f"{self.expected} (an alert no event of the bench's "
                                   "explains)")
            if waited >= ALERT_GIVE_UP_S:
                raise RuntimeError(f"event {seq} ({envelope['event_id']}): no alert "
                                   f"readable after {ALERT_GIVE_UP_S:.0f} s")

    def close(self) -> None:
        self.poller.close()
        self.connection.release()


def alerts_created(token: str) -> list[dt.datetime]:
    """created_at of every alert of the member, oldest first (GET /api/v1/me/notifications,
    page by page)."""
    created: list[dt.datetime] = []
    cursor = None
    while True:
        query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
        request = urllib.request.Request(
            f"http://{GATEWAY_ADDRESS}{NOTIFICATIONS_PATH}{query}",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            page = json.loads(answer.read())
        created += [dt.datetime.fromisoformat(item["created_at"]) for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return sorted(created)


class PacedLoad:
    """Open-loop load: GET `path` through the gateway at a fixed `rate`, whatever the
    answers take. A scheduler thread hands out slots (start + k / rate) to
    `connections` client threads, each with one kept-alive connection (MePoller); a
    request is sent at its slot time, or as soon as a connection is free when all are
    busy (sent more than ALERT_LOAD_LATE_MS after its slot: late), or skipped when no
    connection could take it within ALERT_LOAD_MISS_S (missed). Latency is counted from
    the slot, not from the send, so that a stall of the gateway shows in it (no
    coordinated omission). `stop()` ends it and answers the statistics."""

    def __init__(self, path: str, rate: float, connections: int, token: str) -> None:
        self.path, self.rate, self.connections, self.token = path, rate, connections, token
        self.slots: list[float] = []
        self.cond = threading.Condition()
        self.stopping = False
        self.latencies: list[float] = []  # ms, slot to answer
        self.service: list[float] = []  # ms, send to answer
        self.errors: Counter[str] = Counter()
        self.late = self.missed = self.scheduled = 0
        self.started = time.perf_counter()
        self.scheduler = threading.Thread(target=self._schedule, name="paced-load",
                                          daemon=True)
        self.clients = [threading.Thread(target=self._client, name=f"paced-load-{n}",
                                         daemon=True) for n in range(connections)]
        for thread in (self.scheduler, *self.clients):
            thread.start()

    def running(self) -> bool:
        return self.scheduler.is_alive() and all(t.is_alive() for t in self.clients)

    def _schedule(self) -> None:
        k = 0
        while True:
            slot = self.started + k / self.rate
            with self.cond:
                while not self.stopping and (pause := slot - time.perf_counter()) > 0:
                    self.cond.wait(pause)
                if self.stopping:
                    return
                self.slots.append(slot)
                self.scheduled += 1
                self.cond.notify()
            k += 1

    def _client(self) -> None:
        poller = MePoller(self.path)
        try:
            while True:
                with self.cond:
                    while not self.slots and not self.stopping:
                        self.cond.wait()
                    if not self.slots:  # stopping, and every slot handed out taken
                        return
                    slot = self.slots.pop(0)
                sent = time.perf_counter()
                if sent - slot > ALERT_LOAD_MISS_S:
                    with self.cond:
                        self.missed += 1
                    continue
                try:
                    status, _, _ = poller.fetch(self.token)
                    error = None if status == 200 else f"HTTP {status}"
                except (OSError, http.client.HTTPException) as exc:
                    poller.close()
                    error = type(exc).__name__
                done = time.perf_counter()
                with self.cond:
                    self.latencies.append((done - slot) * 1000)
                    self.service.append((done - sent) * 1000)
                    if sent - slot > ALERT_LOAD_LATE_MS / 1000:
                        self.late += 1
                    if error:
                        self.errors[error] += 1
        finally:
            poller.close()

    def stop(self) -> dict[str, Any]:
        """Ends the load (the slots already due are still sent) and answers its
        statistics; `throughout` tells whether all its threads were still running."""
        throughout = self.running()
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.scheduler.join(timeout=15)
        for thread in self.clients:
            thread.join(timeout=15)
        seconds = time.perf_counter() - self.started
        requests = len(self.latencies)
        achieved = requests / seconds if seconds else None
        errors = sum(self.errors.values())
        valid = (throughout and errors == 0 and self.missed == 0 and achieved is not None
                 and achieved >= ALERT_LOAD_MIN_RATIO * self.rate)
        return {
            "kind": "open-loop, paced",
            "url": f"http://{GATEWAY_ADDRESS}{self.path}",
            "target_per_s": self.rate,
            "connections": self.connections,
            "seconds": seconds,
            "slots": self.scheduled,
            "requests": requests,
            "achieved_per_s": achieved,
            "p50_ms": statistics.median(self.latencies) if self.latencies else None,
            "p99_ms": percentile(self.latencies, 99) if self.latencies else None,
            "service_p50_ms": statistics.median(self.service) if self.service else None,
            "service_p99_ms": percentile(self.service, 99) if self.service else None,
            "errors": errors,
            "error_kinds": dict(self.errors),
            "late": self.late,
            "late_after_ms": ALERT_LOAD_LATE_MS,
            "missed": self.missed,
            "missed_after_s": ALERT_LOAD_MISS_S,
            "throughout": throughout,
            "valid": valid,
            "description": (
                f"GET {self.path} at a fixed {self.rate:g} req/s (open loop: each request "
                f"sent at its slot time, whatever the previous answers took) over "
                f"{self.connections} kept-alive connections, client threads in the bench "
                "process; latency from each request's slot to its answer"),
        }


def paced_events(probe: AlertProbe, count: int,
                 first_seq: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`count` events one at a time, at most ALERT_RATE a second (see AlertProbe.one):
    the samples, and the pace achieved."""
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()
    late = 0
    last_publication = started
    for i in range(count):
        pause = started + i / ALERT_RATE - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        elif i:
            late += 1  # the previous alert took longer than the pace allows
        last_publication = time.perf_counter()
        samples.append(probe.one(first_seq + i))
    publishing_s = last_publication - started
    return samples, {"target_per_s": ALERT_RATE,
                     "achieved_per_s": (count - 1) / publishing_s if publishing_s else None,
                     "published_late": late}


def alert_summary(samples: list[dict[str, Any]], created: list[dt.datetime],
                  intervals: list[float], pace: dict[str, Any]) -> dict[str, Any]:
    """Delays of one series of events; `created`: their alerts' created_at, in order."""
    delays = [s["delay_ms"] for s in samples]
    # Where the time goes: the handler stamps each alert's created_at (before its commit).
    handled = [(at.timestamp() - s["published_at"]) * 1000
               for at, s in zip(created, samples, strict=True)]
    return {
        "events": len(samples),
        "p50": statistics.median(delays),
        "p99": percentile(delays, 99),
        "max": max(delays),
        "mean": statistics.fmean(delays),
        "pace": pace,
        "alert_created_ms": {"p50": statistics.median(handled),
                             "p99": percentile(handled, 99), "max": max(handled),
                             "note": "publication to the alert's created_at (stamped by "
                                     "notifications' handler before its commit): the "
                                     "delivery and handling part of the delay"},
        "poll_interval_ms": {"median": statistics.median(intervals),
                             "max": max(intervals), "polls": len(intervals)},
        "samples_ms": [round(d, 3) for d in delays],
    }


def event_to_alert(amqp_uri: str, opts: Options, token: Token,
                   mail_dir: Path) -> dict[str, Any]:
    """The delay from an event's publication to its alert being readable through the
    gateway (see AlertProbe): quiet first, then under an open-loop paced load of
    opts.event_load_rps GET /api/v1/me a second (see PacedLoad), which the verdict is
    about."""
    address = f"bench-{random.getrandbits(40):010x}@example.mc"
    member = bench_member(amqp_uri, "Alerts", email=address, email_validated=True)
    member_token = login(member["identifier"], member["password"])["access_token"]
    wait_member_known(member["member_id"], member_token)
    probe = AlertProbe(amqp_uri, member["member_id"], member_token)
    load: PacedLoad | None = None
    try:
        for i in range(ALERT_WARMUP_EVENTS):
            probe.one(-1 - i)
        probe.intervals.clear()
        quiet_samples, quiet_pace = paced_events(probe, ALERT_QUIET_EVENTS, ALERT_EVENTS)
        quiet_intervals = list(probe.intervals)
        probe.intervals.clear()
        load = PacedLoad("/api/v1/me", opts.event_load_rps, ALERT_LOAD_CONNECTIONS,
                         token.get())
        time.sleep(ALERT_LOAD_RAMP_S)
        if not load.running():
            raise RuntimeError("the paced load stopped before the events")
        samples, pace = paced_events(probe, ALERT_EVENTS, 0)
    finally:
        load_stats = load.stop() if load is not None else None
        probe.close()
    assert load_stats is not None

    # Sequential events, so the last alerts are theirs, in order: quiet's, then loaded's.
    created = alerts_created(member_token)[-(len(quiet_samples) + len(samples)):]
    quiet = alert_summary(quiet_samples, created[:len(quiet_samples)], quiet_intervals,
                          quiet_pace)
    loaded = alert_summary(samples, created[len(quiet_samples):], probe.intervals, pace)
    passed = load_stats["valid"] and loaded["p99"] < ALERT_TARGET_P99_MS  # needs the load
    return {
        **{k: v for k, v in loaded.items() if k != "samples_ms"},
        "target_p99_below_ms": ALERT_TARGET_P99_MS,
        "verdict": "PASS" if passed else "FAIL",
        "warmup_events": ALERT_WARMUP_EVENTS,
        "load": load_stats,
        "quiet": {**{k: v for k, v in quiet.items() if k != "samples_ms"},
                  "within_target": quiet["p99"] < ALERT_TARGET_P99_MS,
                  "load": None,
                  "samples_ms": quiet["samples_ms"]},
        "emails_in_sink": len(list(mail_dir.glob("*.eml"))),
        "samples_ms": loaded["samples_ms"],
        "method": f"auth.login_locked published (kombu, exchange auth.events) for a member "
                  f"with a validated e-mail, one at a time at <= {ALERT_RATE:g}/s, each "
                  f"timed from just before its publication to the arrival of the GET "
                  f"{UNREAD_PATH} answer (polled back to back) showing the count one "
                  f"higher; {ALERT_WARMUP_EVENTS} warm-up events, then "
                  f"{ALERT_QUIET_EVENTS} with no background load (quiet), then "
                  f"{ALERT_EVENTS} while {load_stats['description']} (the verdict)",
    }


# -- a simulation while the member waits ----------------------------------------------------------
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
    print(f"  anonymous: p50 {_fmt(anonymous['p50_ms'])} ms, p99 "
          f"{_fmt(anonymous['p99_ms'])} ms, non-2xx {anonymous['non_2xx']}", flush=True)
    paul = login(*SIMULATION_MEMBER)["access_token"]
    print(f"  member {SIMULATION_MEMBER[0]} (Paul Garnier), one client, "
          f"{SIMULATION_REQUESTS} sequential ...", flush=True)
    member = simulation_sequential(member_url, SIMULATION_MEMBER_BODY, paul)
    print(f"  member: p50 {_fmt(member['p50_ms'])} ms, p99 {_fmt(member['p99_ms'])} ms, "
          f"non-2xx {member['non_2xx']}", flush=True)

    print(f"  GET /api/v1/me paced at {SIMULATION_ME_RPS:g} req/s alone for "
          f"{SIMULATION_ME_ALONE_S:g} s, then with {SIMULATION_CLIENTS} clients on the "
          f"anonymous simulation for {SIMULATION_CONCURRENT_S:g} s ...", flush=True)
    alone_load = PacedLoad("/api/v1/me", SIMULATION_ME_RPS, ALERT_LOAD_CONNECTIONS,
                           token.get())
    time.sleep(SIMULATION_ME_ALONE_S)
    me_alone = alone_load.stop()
    during_load = PacedLoad("/api/v1/me", SIMULATION_ME_RPS, ALERT_LOAD_CONNECTIONS,
                            token.get())
    try:
        concurrent = simulation_concurrent(anonymous_url, SIMULATION_ANONYMOUS_BODY,
                                           SIMULATION_CLIENTS, SIMULATION_CONCURRENT_S)
    finally:
        me_during = during_load.stop()
    print(f"  {SIMULATION_CLIENTS} clients: {_fmt(concurrent['rps'], 1)} simulations/s, "
          f"p99 {_fmt(concurrent['p99_ms'])} ms; GET /api/v1/me p99 "
          f"{_fmt(me_during['p99_ms'])} ms meanwhile ({_fmt(me_alone['p99_ms'])} ms alone)",
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


# -- the report -----------------------------------------------------------------------------
def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def ratio_verdict(targets: dict[str, Any]) -> dict[str, Any]:
    me, echo = targets["me"]["concurrent"], targets["echo"]["concurrent"]
    ratio = me["rps"] / echo["rps"] if me["rps"] and echo["rps"] else None
    valid = me["valid"] and echo["valid"]
    passed = valid and ratio is not None and ratio >= RATIO_TARGET
    return {"value": ratio, "target": RATIO_TARGET, "valid": valid,
            "verdict": "PASS" if passed else "FAIL"}


def render(report: dict[str, Any]) -> str:
    opts, targets, ratio, login = (report["options"], report["targets"], report["ratio"],
                                   report["argon2"])
    revocation = report["revocation_delay_ms"]
    names = {"me": "GET /api/v1/me (gateway)", "echo": "GET /echo (bare nameko)"}
    lines = [
        f"Member Space benchmark, {report['generated_at']} (commit {report['git_commit']}, "
        f"{report['machine']['cpus']} CPUs, load average "
        f"{report['machine']['load_average_before'][0]:.2f} before)",
        f"wrk -t{THREADS}, {opts['runs']} runs x {opts['duration']} per target, "
        "alternating; medians over runs",
        "",
        f"{'target':<28}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'sock err':>9}",
    ]
    for label in ("concurrent", "single") if targets else ():
        for target in ("me", "echo"):
            row = targets[target][label]
            flag = "" if row["valid"] else "  INVALID"
            lines.append(f"{names[target]:<28}{row['connections']:>6}{_fmt(row['rps'], 0):>10}"
                         f"{_fmt(row['p50_ms']):>9}{_fmt(row['p99_ms']):>9}"
                         f"{row['non_2xx']:>9}{row['socket_errors']:>9}{flag}")
    if targets:
        lines += [
            "",
            f"me/echo req/s at {opts['connections']} connections: {_fmt(ratio['value'])} "
            f"(target >= {ratio['target']}): {ratio['verdict']}"
            + ("" if ratio["valid"] else " (numbers invalid: errors during the runs)"),
        ]
    else:
        lines.append("GET /api/v1/me against the echo: not measured this time (BENCH_ONLY)")
    lines += render_refunds(report["refunds_listing"], opts)
    lines += render_simulation(report["simulation"])
    if "error" in revocation:
        lines.append(f"revocation delay: not measured ({revocation['error']}): "
                     f"{revocation['verdict']}")
    else:
        poll = revocation["poll_interval_ms"]
        lines += [
            f"revocation delay over {revocation['rounds']} password changes (session B's "
            f"old access token refused): p50 {_fmt(revocation['p50'], 1)} ms, "
            f"max {_fmt(revocation['max'], 1)} ms "
            f"(target max < {revocation['target_max_below_ms']:.0f} ms): "
            f"{revocation['verdict']}"
            + ("" if revocation["all_refused"] else
               f" (a session still answered after {REVOCATION_GIVE_UP_S:.0f} s)"),
            f"  refused at the first poll in {revocation['refused_at_first_poll']} of "
            f"{revocation['rounds']} rounds (already in force when the change's answer "
            "arrived: the delay measured is then one poll)",
            f"  precision is bounded by the poll interval (GET /api/v1/me back to back, one "
            f"round trip each: median {_fmt(poll['median'])} ms, max {_fmt(poll['max'])} ms "
            f"over {poll['polls']} polls): the refusal began between the request of the "
            "last 200 and the arrival of the 401, so a delay overstates by < 2 intervals",
        ]
    alerts = report["event_to_alert_ms"]
    if "error" in alerts:
        lines.append(f"event to alert: not measured ({alerts['error']}): {alerts['verdict']}")
    else:
        load, pace, poll = alerts["load"], alerts["pace"], alerts["poll_interval_ms"]
        quiet = alerts["quiet"]
        created, quiet_created = alerts["alert_created_ms"], quiet["alert_created_ms"]
        errors = ", ".join(f"{kind} x{n}" for kind, n in load["error_kinds"].items())
        lines += [
            f"event to alert over {alerts['events']} auth.login_locked events (publication "
            f"to the alert readable via GET {UNREAD_PATH}), under a paced load of "
            f"{load['target_per_s']:g} req/s: p50 {_fmt(alerts['p50'], 1)} ms, p99 "
            f"{_fmt(alerts['p99'], 1)} ms, max {_fmt(alerts['max'], 1)} ms (target p99 < "
            f"{alerts['target_p99_below_ms']:.0f} ms): {alerts['verdict']}",
            f"event to alert over {quiet['events']} events, quiet (no background load): p50 "
            f"{_fmt(quiet['p50'], 1)} ms, p99 {_fmt(quiet['p99'], 1)} ms, max "
            f"{_fmt(quiet['max'], 1)} ms (for reference: p99 "
            + ("within" if quiet["within_target"] else "beyond") + " the target)",
            f"  the load: open loop, GET /api/v1/me paced at {load['target_per_s']:g} req/s "
            f"over {load['connections']} kept-alive connections for {load['seconds']:.1f} s "
            f"(each request sent at its slot time, whatever the previous answers took): "
            f"achieved {_fmt(load['achieved_per_s'], 1)} req/s, p50 {_fmt(load['p50_ms'])} "
            f"ms, p99 {_fmt(load['p99_ms'])} ms (slot to answer), errors {load['errors']}"
            + (f" ({errors})" if errors else "")
            + f", late {load['late']} (sent > {load['late_after_ms']:g} ms after their slot"
            f"), missed {load['missed']}"
            + ("" if load["valid"] else "  (load INVALID: errors, missed slots, below "
               f"{ALERT_LOAD_MIN_RATIO:.0%} of its rate or ended before the events)"),
            f"  a fixed, realistic rate instead of the closed-loop saturation of the wrk "
            f"-c{opts['connections']} runs above (see their p99: there a lone GET queues in "
            "the saturation): the delay measured is the event path's, not that queueing",
            f"  one event at a time, paced at {pace['target_per_s']:g}/s (achieved "
            f"{_fmt(pace['achieved_per_s'], 1)}/s loaded, "
            f"{_fmt(quiet['pace']['achieved_per_s'], 1)}/s quiet; "
            f"{pace['published_late']} + {quiet['pace']['published_late']} published late, "
            f"the previous alert not yet readable at its time); {alerts['warmup_events']} "
            "warm-up events before both not counted",
            f"  of which delivery and handling (publication to the alert's created_at, "
            f"stamped before its commit): loaded p50 {_fmt(created['p50'], 1)} ms, p99 "
            f"{_fmt(created['p99'], 1)} ms; quiet p50 {_fmt(quiet_created['p50'], 1)} ms, "
            f"p99 {_fmt(quiet_created['p99'], 1)} ms; the rest is the commit and reading "
            "it through the gateway",
            f"  precision is bounded by the poll interval (unread count back to back: median "
            f"{_fmt(poll['median'])} ms, max {_fmt(poll['max'])} ms over {poll['polls']} "
            f"polls loaded; median {_fmt(quiet['poll_interval_ms']['median'])} ms quiet): a "
            "delay overstates by < 2 intervals",
            f"  each alert also queued a security e-mail: {alerts['emails_in_sink']} in the "
            "SMTP sink when the measurement ended (sent once a second)",
        ]
    lines += [
        "",
        f"argon2id: time_cost={login['time_cost']}, memory={login['memory_kib']} KiB, "
        f"parallelism={login['parallelism']}",
    ]
    if "error" not in login:
        lines.append(f"  one verify, direct (median of {login['verify_direct_n']}): "
                     f"{_fmt(login['verify_direct_median_ms'], 1)} ms")
    for key in ("login_employee", "login_self_employed"):
        row = login.get(key)
        if row is None:
            continue
        lines.append(f"  login {row['identifier']:<16} ({row['verifications']} verification"
                     f"{'s' if row['verifications'] > 1 else ''}, {row['n']} sequential via "
                     f"gateway): median {_fmt(row['median_ms'], 1)} ms, "
                     f"p99 {_fmt(row['p99_ms'], 1)} ms, "
                     f"{_fmt(row['beyond_verify_ms'], 1)} ms beyond the verification(s)")
    lines.append("  (a 5-digit self-employed identifier can designate two accounts: two "
                 "verifications by design, constant timing)")
    for warning in report["warnings"]:
        lines.append(f"WARNING: {warning}")
    return "\n".join(lines)


def render_refunds(refunds: dict[str, Any], opts: dict[str, Any]) -> list[str]:
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
        f"{'refunds, sequential':<28}{1:>6}{_fmt(single['rps'], 0):>10}"
        f"{_fmt(single['p50_ms']):>9}{_fmt(single['p99_ms']):>9}{single['non_2xx']:>9}"
        f"{0:>9}",
    ]
    for target, name in (("refunds", "refunds (wrk)"), ("echo", "GET /echo (same run)")):
        row = concurrent[target]
        flag = "" if row["valid"] else "  INVALID"
        lines.append(f"{name:<28}{row['connections']:>6}{_fmt(row['rps'], 0):>10}"
                     f"{_fmt(row['p50_ms']):>9}{_fmt(row['p99_ms']):>9}"
                     f"{row['non_2xx']:>9}{row['socket_errors']:>9}{flag}")
    earlier = concurrent["ratio_to_echo_measured_earlier"]
    lines += [
        f"  one client: {single['requests']} requests back to back over "
        f"{single['seconds']:.1f} s, {single['people']} people at random, "
        f"{_fmt(pages['mean'], 1)} items a page ({pages['min']}-{pages['max']}): p99 "
        f"{_fmt(single['p99_ms'])} ms (target < {single['target_p99_below_ms']:.0f} ms): "
        f"{single['verdict']}",
        f"  refunds/echo req/s at {opts['connections']} connections (wrk rotating over "
        f"{concurrent['people']} people's tokens): {_fmt(concurrent['ratio'])} (target >= "
        f"{concurrent['target_ratio_at_least']}): {concurrent['verdict']}"
        + ("" if concurrent["valid"] else " (numbers invalid: errors during the runs)")
        + (f"; against the echo of the first table: {_fmt(earlier)}" if earlier else ""),
    ]
    return lines


def render_simulation(simulation: dict[str, Any]) -> list[str]:
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
        lines.append(f"{name:<36}{1:>6}{'':>8}{_fmt(row['p50_ms']):>9}"
                     f"{_fmt(row['p99_ms']):>9}{row['non_2xx']:>9}"
                     + ("" if row["within_target"] else "  beyond the target"))
    flag = "" if concurrent["valid"] else "  INVALID"
    lines.append(f"{'POST .../simulations/anonymous':<36}{concurrent['clients']:>6}"
                 f"{_fmt(concurrent['rps'], 1):>8}{_fmt(concurrent['p50_ms']):>9}"
                 f"{_fmt(concurrent['p99_ms']):>9}{concurrent['non_2xx']:>9}{flag}")
    for name, row in ((f"GET /api/v1/me {during['target_per_s']:g}/s, meanwhile", during),
                      (f"GET /api/v1/me {alone['target_per_s']:g}/s, alone", alone)):
        lines.append(f"{name:<36}{row['connections']:>6}{_fmt(row['achieved_per_s'], 1):>8}"
                     f"{_fmt(row['p50_ms']):>9}{_fmt(row['p99_ms']):>9}{row['errors']:>9}"
                     + ("" if row["valid"] else "  INVALID"))
    answer = anonymous["answer"]
    outcomes = ", ".join(f"{k} {v}" for k, v in answer.get("outcomes", {}).items())
    lines += [
        f"  one simulation, sequentially: anonymous p99 {_fmt(anonymous['p99_ms'])} ms, "
        f"member p99 {_fmt(member['p99_ms'])} ms over {anonymous['requests']} requests "
        f"each (target < {target:.0f} ms): {simulation['verdict']}",
        f"  anonymous body: born 1975-04-10, F, at 64, 25 years salaried + 10 years CARTI "
        f"class 2: {outcomes}; {answer.get('total_monthly_gross')} EUR a month, "
        f"{answer.get('comparison_rows')} ages compared, {answer.get('assumptions')} "
        f"assumptions stated, {anonymous['answer_bytes']:,.0f} bytes",
        f"  {concurrent['clients']} clients for {concurrent['seconds']:.1f} s: "
        f"{concurrent['requests']} simulations; GET /api/v1/me paced at "
        f"{during['target_per_s']:g} req/s meanwhile: p99 {_fmt(during['p99_ms'])} ms "
        f"(alone: {_fmt(alone['p99_ms'])} ms), late {during['late']}, missed "
        f"{during['missed']} (simulations run off the event loop)",
        "",
    ]
    return lines


def git_commit() -> str:
    """The commit measured, `+dirty` when the work tree had changes."""
    done = subprocess.run(["git", "describe", "--always", "--dirty=+dirty"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


# -- main -----------------------------------------------------------------------------------
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
        "GATEWAY_SIMULATION_LIMIT_PER_IP": SIMULATION_LIMIT_PER_IP,
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
        if opts.measures("me"):
            print(f"measuring: {opts.runs} runs x {opts.duration}, {opts.connections} and 1 "
                  "connection(s), GET /api/v1/me and the echo alternating ...", flush=True)
            targets, warnings = measure(opts, token)
        refunds = simulation = revocation = alerts = skipped
        argon2 = {**argon2_parameters(suite.env), **skipped}
        if opts.measures("refunds"):
            print(f"measuring the refunds listing at size (people of `make seed-large`): "
                  f"one client, then {opts.connections} connections alternating with the "
                  "echo ...", flush=True)
            try:
                refunds = refunds_listing(opts, suite.env["AUTH_SIGNING_KEY_FILE"],
                                          targets.get("echo", {}).get("concurrent", {}))
                for name, row in (("one client", refunds["single"]),
                                  (f"{opts.connections} connections",
                                   refunds["concurrent"]["refunds"])):
                    if row["non_2xx"]:
                        warnings.append(f"refunds listing, {name}: {row['non_2xx']} non-2xx "
                                        "answers; its numbers are INVALID")
            except Exception as exc:  # report what was measured all the same
                warnings.append(f"refunds listing measurement failed: {exc}")
                refunds = {"error": str(exc), "verdict": "FAIL"}
        if opts.measures("simulation"):
            print(f"measuring a pension simulation while the member waits "
                  f"({SIMULATION_REQUESTS} sequential per route, then {SIMULATION_CLIENTS} "
                  f"clients for {SIMULATION_CONCURRENT_S:g} s) ...", flush=True)
            try:
                simulation = simulation_while_waiting(token)
                for name, row in (("anonymous", simulation["anonymous"]),
                                  ("member", simulation["member"]),
                                  (f"{SIMULATION_CLIENTS} clients", simulation["concurrent"])):
                    if row["non_2xx"]:
                        warnings.append(f"simulation, {name}: {row['non_2xx']} non-2xx "
                                        "answers; its numbers are INVALID")
            except Exception as exc:  # report what was measured all the same
                warnings.append(f"simulation measurement failed: {exc}")
                simulation = {"error": str(exc),
                              "target_p99_below_ms": SIMULATION_TARGET_P99_MS,
                              "verdict": "FAIL"}
        if opts.measures("login"):
            print("timing logins ...", flush=True)
            params = argon2_parameters(suite.env)
            try:
                argon2 = login_costs(params)
            except Exception as exc:  # report what was measured all the same
                warnings.append(f"login timing failed: {exc}")
                argon2 = {**params, "error": str(exc)}
        if opts.measures("revocation"):
            print(f"measuring the revocation delay ({REVOCATION_ROUNDS} password changes) "
                  "...", flush=True)
            try:
                revocation = revocation_delays(AMQP_URI)
            except Exception as exc:  # report what was measured all the same
                warnings.append(f"revocation delay measurement failed: {exc}")
                revocation = {"error": str(exc), "target_max_below_ms": REVOCATION_TARGET_MS,
                              "verdict": "FAIL"}
        if opts.measures("alerts"):
            print(f"measuring the event-to-alert delay ({ALERT_QUIET_EVENTS} events quiet, "
                  f"then {ALERT_EVENTS} under a paced {opts.event_load_rps:g} req/s on GET "
                  f"/api/v1/me; {ALERT_RATE:g} events/s at most) ...", flush=True)
            try:
                alerts = event_to_alert(AMQP_URI, opts, token, suite.mail_dir)
            except Exception as exc:  # report what was measured all the same
                warnings.append(f"event-to-alert measurement failed: {exc}")
                alerts = {"error": str(exc), "target_p99_below_ms": ALERT_TARGET_P99_MS,
                          "verdict": "FAIL"}
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
        "ratio": ratio_verdict(targets) if targets else {"verdict": "SKIPPED"},
        "refunds_listing": refunds,
        "simulation": simulation,
        "argon2": argon2,
        "revocation_delay_ms": revocation,
        "event_to_alert_ms": alerts,
        "warnings": warnings,
    }
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(render(report))
    print(f"\nreport: {(REPORT_DIR / 'report.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
