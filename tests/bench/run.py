"""`make bench`: GET /api/v1/me through the gateway against a bare nameko echo.

    python -m tests.bench.run        (BENCH_RUNS=3 BENCH_DURATION=10s BENCH_CONNECTIONS=20)

Starts the whole suite in a sandbox of its own (RabbitMQ vhost `memberspace_bench`,
database `memberspace_bench_auth`, gateway on 127.0.0.1:18100) next to a bare echo
(`tests/bench/echo.py`: nameko's own `@http` + one `RpcProxy` hop, on 127.0.0.1:18101),
logs in as a demo member, and measures both with wrk, alternating targets so that
drift on the machine hits both alike. Then it times what a login costs (argon2), and
how long a session's access token stays usable once another session of the same
member has changed the password (the revocation delay, target: max < 1 s).

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
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploy import infra
from deploy.suite import Suite

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "var" / "bench"
VHOST = "memberspace_bench"
AMQP_URI = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"
AUTH_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/memberspace_bench_auth"
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

# -- settings ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    runs: int
    duration: str
    connections: int
    warmup: str

    @classmethod
    def from_env(cls) -> Options:
        return cls(
            runs=max(1, int(os.environ.get("BENCH_RUNS", "3"))),
            duration=_wrk_duration(os.environ.get("BENCH_DURATION", "10s")),
            connections=max(1, int(os.environ.get("BENCH_CONNECTIONS", "20"))),
            warmup=_wrk_duration(os.environ.get("BENCH_WARMUP", "2s")),
        )


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


def wrk(url: str, connections: int, threads: int, duration: str,
        headers: dict[str, str] | None = None) -> WrkResult:
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}",
           "--latency"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, check=False)
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
    """GET /api/v1/me over one kept-alive connection, so that a poll costs one round
    trip (no TCP connect): (status, problem code or None, seconds the round trip took)."""

    def __init__(self) -> None:
        host, port = GATEWAY_ADDRESS.rsplit(":", 1)
        self.connection = http.client.HTTPConnection(host, int(port), timeout=10)

    def get(self, token: str) -> tuple[int, str | None, float]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        for attempt in (1, 2):  # once more on a fresh connection if the server closed it
            started = time.perf_counter()
            try:
                self.connection.request("GET", "/api/v1/me", headers=headers)
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
            code = None
            if answer.status != 200:
                try:
                    code = json.loads(body or b"{}").get("code")
                except ValueError:
                    code = None
            return answer.status, code, elapsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def revocation_member(amqp_uri: str) -> tuple[str, str]:
    """A member created for the purpose over RPC (as tests/support.py `new_member`
    does); returns (identifier, password)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from deploy.demo import DEMO_PEOPLE

    taken = {sub["registration_number"] for person in DEMO_PEOPLE
             for sub in person["member"]["subscriptions"]}
    number = str(random.randint(100000, 699999))
    while number in taken:
        number = str(random.randint(100000, 699999))
    birth_date = dt.date(1960, 1, 1) + dt.timedelta(days=random.randint(0, 14000))
    member = {
        "first_name": "Bench", "last_name": "Revocation", "birth_date": birth_date.isoformat(),
        "sex": "F", "email": None, "email_validated": False, "language": "fr",
        "subscriptions": [{"fund": "CCSS", "registration_number": number}],
    }
    password = REVOCATION_PASSWORDS[0]
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=30) as rpc:
        created = rpc.auth.create_member(member)
        rpc.auth.set_credentials(created["member_id"], {
            "password": password, "must_change_password": False})
    return f"{number}-{birth_date:%d%m%Y}", password


def revocation_delays(amqp_uri: str) -> dict[str, Any]:
    """Session A changes the password; from the moment its answer arrives, session B's
    old access token is polled (GET /api/v1/me, back to back) until the gateway answers
    401 `session_ended`. The delay is counted up to the arrival of that 401, so it is
    an upper bound: the refusal began after the request of the last poll answered 200,
    less than two poll intervals (round trips) earlier."""
    identifier, password = revocation_member(amqp_uri)
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
    for label in ("concurrent", "single"):
        for target in ("me", "echo"):
            row = targets[target][label]
            flag = "" if row["valid"] else "  INVALID"
            lines.append(f"{names[target]:<28}{row['connections']:>6}{_fmt(row['rps'], 0):>10}"
                         f"{_fmt(row['p50_ms']):>9}{_fmt(row['p99_ms']):>9}"
                         f"{row['non_2xx']:>9}{row['socket_errors']:>9}{flag}")
    lines += [
        "",
        f"me/echo req/s at {opts['connections']} connections: {_fmt(ratio['value'])} "
        f"(target >= {ratio['target']}): {ratio['verdict']}"
        + ("" if ratio["valid"] else " (numbers invalid: errors during the runs)"),
    ]
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
        "AUTH_DATABASE_URL": AUTH_DATABASE_URL,
        "WEB_SERVER_ADDRESS": GATEWAY_ADDRESS,
        "LOG_LEVEL": "WARNING",
        "GATEWAY_REDIS_PREFIX": f"{VHOST}:",  # the demo's gateway uses `memberspace:`
    })
    suite.log_dir = REPORT_DIR / "log"  # not var/log, which a running demo writes to
    echo = Processes(suite.log_dir)
    try:
        try:
            print(f"starting the suite (vhost {VHOST}, gateway {GATEWAY_ADDRESS}) ...",
                  flush=True)
            from services.kit.migrate import drop_database

            drop_database(AUTH_DATABASE_URL)
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

        print(f"measuring: {opts.runs} runs x {opts.duration}, {opts.connections} and 1 "
              "connection(s), GET /api/v1/me and the echo alternating ...", flush=True)
        targets, warnings = measure(opts, token)
        print("timing logins ...", flush=True)
        params = argon2_parameters(suite.env)
        try:
            argon2 = login_costs(params)
        except Exception as exc:  # report what was measured all the same
            warnings.append(f"login timing failed: {exc}")
            argon2 = {**params, "error": str(exc)}
        print(f"measuring the revocation delay ({REVOCATION_ROUNDS} password changes) ...",
              flush=True)
        try:
            revocation = revocation_delays(AMQP_URI)
        except Exception as exc:  # report what was measured all the same
            warnings.append(f"revocation delay measurement failed: {exc}")
            revocation = {"error": str(exc), "target_max_below_ms": REVOCATION_TARGET_MS,
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
        "ratio": ratio_verdict(targets),
        "argon2": argon2,
        "revocation_delay_ms": revocation,
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
