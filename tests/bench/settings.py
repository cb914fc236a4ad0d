"""Where the bench runs (its own vhost, databases and ports, next to a running demo),
the demo people it logs in as, and its options (BENCH_* environment variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deploy import seed_large
from deploy.broker import identity_uri
from deploy.suite import DATABASE_SERVICES

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "var" / "bench"
VHOST = "memberspace_bench"
# the bench harness's own broker identity; the suite's processes log in as their own
AMQP_URI = identity_uri(f"amqp://127.0.0.1:5672/{VHOST}", "memberspace-bench")
# One database of the bench's own for every service that has one (Suite.migrate upgrades
# `<SERVICE>_DATABASE_URL`, falling back to the demo's `memberspace_<service>`):
# memberspace_bench_auth, memberspace_bench_notifications ..., kept from run to run (the
# large seed is loaded into them once); migrated before each run, the demo seed reset.
DATABASE_URLS = {service: seed_large.bench_database_url(service)
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
THREADS = 2
# Demo people (deploy/demo.py): an employee (one candidate account, one argon2
# verification) and a self-employed member whose 5-digit number can designate two
# accounts, so a login checks the password twice whatever happens (constant timing).
EMPLOYEE = ("123456-03091985", "Azur#718")
SELF_EMPLOYED = ("12345-15061970", "Port!962")


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


# One module each under tests/bench/sections/, measured in this order.
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
