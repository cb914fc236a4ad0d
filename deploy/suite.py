"""Run the whole suite on one machine: `python -m deploy.suite run | seed | migrate`.

`make run` calls `run`: checks RabbitMQ and PostgreSQL, makes development keys once,
creates and migrates each service's database, starts every service and the gateway,
seeds the demo data through the services' RPC methods, prints the demo logins and
stops everything cleanly on Ctrl-C. The end-to-end tests start the suite with this
same code, on their own databases, virtual host and port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from deploy import infra

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

ROOT = Path(__file__).resolve().parents[1]

from deploy.services import SERVICES  # noqa: E402  (re-exported)

PENSION_REQUEST_TYPES = ("career_statement=pension:submitted:auto,"
                         "retirement_pension=pension:draft,survivor_pension=pension:draft")
DATABASE_SERVICES = ("auth", "notifications", "benefits", "documents", "pension")


def dev_keys(var: Path) -> dict[str, str]:
    """Development keys, made once under var/ (production passes its own files)."""
    from services.auth.tokens import generate_key_file

    keys = var / "keys"
    signing = keys / "auth-signing-ed25519.pem"
    if not signing.exists():
        generate_key_file(signing)
        print(f"made a development signing key: {signing}", flush=True)
    from services.auth.factor import generate_key_file as generate_factor_key

    factor_key = keys / "auth-factor.key"
    if not factor_key.exists():
        generate_factor_key(factor_key)
        print(f"made a development key for agents' second factors: {factor_key}",
              flush=True)
    from services.benefits.secrets_box import generate_key_file as generate_secret_file

    card = keys / "benefits-card-ed25519.pem"
    if not card.exists():
        generate_key_file(card)
        print(f"made a development card signing key: {card}", flush=True)
    secret = keys / "benefits-secrets.key"
    if not secret.exists():
        generate_secret_file(secret)
        print(f"made a development encryption key: {secret}", flush=True)
    from services.benefits.wallet.development import (
        development_apple_config,
        development_google_config,
    )

    wallet = keys / "wallet"
    if not (wallet / "apple").exists() or not (wallet / "google").exists():
        development_apple_config(wallet / "apple")
        development_google_config(wallet / "google")
        print(f"made development wallet keys (self-signed pass certificate, service-account "
              f"key): {wallet}", flush=True)
    from services.kit.production import mark_development

    mark_development(keys)  # a production start refuses keys under this marker
    return {"AUTH_SIGNING_KEY_FILE": str(signing), "AUTH_FACTOR_KEY_FILE": str(factor_key),
            "BENEFITS_CARD_KEY_FILE": str(card),
            "BENEFITS_SECRET_KEY_FILE": str(secret),
            "BENEFITS_WALLET_DIR": str(keys / "wallet")}


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`python <args>` from the repository, in a session of its own, its output appended
    to log_path."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop_all(processes: dict[str, subprocess.Popen], grace: float = 15.0) -> None:
    """SIGTERM to each, then up to `grace` seconds for all to end; the rest killed."""
    for proc in processes.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    processes.clear()


def wait_for_http(url: str, processes: dict[str, subprocess.Popen], log_dir: Path,
                  timeout: float) -> None:
    """Until `url` answers 200; RuntimeError when one of the processes exits first or
    the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see "
                                   f"{log_dir / (name + '.log')}")
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:  # noqa: S310 (local)
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s; see {log_dir}")


@dataclass
class Suite:
    env: dict[str, str]
    log_dir: Path
    gateway_url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @classmethod
    def configure(cls, var: Path, overrides: dict[str, str] | None = None) -> Suite:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        env.update(overrides or {})
        for name, value in dev_keys(var).items():
            env.setdefault(name, value)
        address = env.setdefault("WEB_SERVER_ADDRESS", "127.0.0.1:8000")
        env.setdefault("GATEWAY_COOKIE_SECURE", "false")  # local http; production keeps true
        # the demo agent's documented TOTP secret; production leaves it off (refused)
        env.setdefault("AUTH_DEVELOPMENT_FACTOR", "true")
        env.setdefault("DOCUMENTS_EXTERNAL_TYPES", PENSION_REQUEST_TYPES)
        env.setdefault("S3_ENDPOINT_URL", "http://127.0.0.1:5055")
        env.setdefault("S3_ACCESS_KEY_ID", "memberspace-dev")  # moto accepts any key
        env.setdefault("S3_SECRET_ACCESS_KEY", "memberspace-dev-secret")
        return cls(env, var / "log", f"http://{address}")

    def migrate(self) -> None:
        from services.kit.migrate import upgrade

        for service in DATABASE_SERVICES:
            upgrade(service, self.env.get(f"{service.upper()}_DATABASE_URL"))

    @property
    def amqp_uri(self) -> str:
        """The broker and virtual host (whoever it names, each process logs in as its
        own identity: `identity_uri`)."""
        return self.env.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")

    def identity_uri(self, user: str) -> str:
        from deploy.broker import identity_uri

        return identity_uri(self.amqp_uri, user)

    def start_mail_sink(self) -> None:
        port = self.env.setdefault("NOTIFICATIONS_SMTP_PORT", "1025")
        host = self.env.setdefault("NOTIFICATIONS_SMTP_HOST", "127.0.0.1")
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self._start_server("mailsink", "the mail sink", host, port, 15, [
            "-m", "deploy.mailsink", "--host", host, "--port", port,
            "--dir", str(self.mail_dir)])

    def start_local_s3(self) -> None:
        """moto's S3 server at S3_ENDPOINT_URL; it keeps objects in memory only."""
        url = urlparse(self.env["S3_ENDPOINT_URL"])
        host, port = url.hostname or "127.0.0.1", str(url.port or 80)
        self._start_server("s3", "local S3 (moto)", host, port, 30,
                           ["-m", "moto.server", "-H", host, "-p", port])

    def _start_server(self, name: str, what: str, host: str, port: str, timeout: float,
                      args: list[str]) -> None:
        """A helper server of the suite (python `args`), once it accepts connections."""
        self.processes[name] = spawn(args, self.env, self.log_dir / f"{name}.log")
        deadline = time.monotonic() + timeout
        while not infra.answers(host, int(port)):
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on {host}:{port}; see "
                                   f"{self.log_dir / (name + '.log')}")
            time.sleep(0.1)

    def start_mconnect_standin(self, port: int) -> None:
        """A local OpenID provider standing in for MConnect, with the demo people
        (deploy.mconnect_standin); auth is pointed at it. Before `start`."""
        from deploy import mconnect_standin

        self.log_dir.mkdir(parents=True, exist_ok=True)
        callback = f"{self.gateway_url}/api/v1/auth/mconnect/callback"
        process, settings = mconnect_standin.start(
            "127.0.0.1", port, callback, self.log_dir / "mconnect.log", self.env)
        self.processes["mconnect"] = process
        self.env.update(settings)

    def service_env(self, name: str) -> dict[str, str]:
        """The suite's environment, with `<NAME>_METRICS_PORT` as that process's
        METRICS_PORT: one machine, so one probe port per service."""
        env = dict(self.env)
        port = self.env.get(f"{name.upper()}_METRICS_PORT")
        if port:
            env["METRICS_PORT"] = port
        return env

    @property
    def mail_dir(self) -> Path:
        return self.log_dir.parent / "mail"

    def start(self, timeout: float = 60.0) -> None:
        """Start everything; whatever goes wrong on the way (Ctrl-C included) stops what
        was started before the error goes on, so no process is left behind. Each service
        logs in to the broker as its own identity."""
        from services.kit.identities import service_user

        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.env.get("MEMBERSPACE_MAIL_SINK", "true") != "false":
                self.start_mail_sink()
            if self.env.get("MEMBERSPACE_LOCAL_S3", "true") != "false":
                self.start_local_s3()
            for name, path in SERVICES.items():
                env = {**self.service_env(name),
                       "AMQP_URI": self.identity_uri(service_user(name))}
                self.processes[name] = spawn(["-m", "services.kit.runner", path], env,
                                             self.log_dir / f"{name}.log")
            wait_for_http(self.gateway_url + "/health", self.processes, self.log_dir, timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, grace: float = 15.0) -> None:
        stop_all(self.processes, grace)

    def seed(self) -> None:
        from deploy.demo import seed

        seed(self.identity_uri("memberspace-seed"))


def set_up_broker(suite: Suite) -> None:
    """The users, permissions and topology of `deploy/broker/`, each time (idempotent)."""
    from deploy.broker import vhost_of

    print("setting up the broker's users and topology ...", flush=True)
    infra.ensure_vhost(vhost_of(suite.amqp_uri))


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run() -> int:
    """Start, seed and watch the suite until Ctrl-C or SIGTERM. Every process it started
    is stopped before it returns, whichever step failed or was interrupted."""
    infra.ensure()
    suite = Suite.configure(Path(os.environ.get("MEMBERSPACE_VAR_DIR") or ROOT / "var"))
    print("migrating databases ...", flush=True)
    suite.migrate()
    signal.signal(signal.SIGTERM, _interrupt)  # as Ctrl-C: unwinds through the finally
    try:
        set_up_broker(suite)  # interrupted, its rabbitmqctl is killed with it
        print("starting services ...", flush=True)
        standin = not suite.env.get("AUTH_MCONNECT_DISCOVERY_URL")
        if standin:
            suite.start_mconnect_standin(int(suite.env.get("MCONNECT_STANDIN_PORT", "8010")))
        suite.start()
        suite.seed()
        from deploy.demo import print_logins

        print(f"\nMember Space is running: gateway on {suite.gateway_url} "
              f"(OpenAPI: {suite.gateway_url}/api/v1/openapi.json)")
        print(f"logs: {suite.log_dir}/<service>.log; e-mails sent to the local SMTP sink are "
              f"kept as .eml files in {suite.mail_dir}/")
        if "s3" in suite.processes:
            print(f"local S3 (moto) runs at {suite.env['S3_ENDPOINT_URL']} and keeps objects "
                  "in memory: they are gone when the suite stops")
        print_logins()
        print(f"web app: {suite.gateway_url}/")
        if standin:
            print("log in with MConnect: a local stand-in provider at "
                  f"{suite.env['AUTH_MCONNECT_DISCOVERY_URL'].split('/.well-known')[0]} (not "
                  "the real MConnect); on its page type a demo name, e.g. paul.garnier")
        print("Ctrl-C stops everything.", flush=True)
        while True:
            for name, proc in suite.processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited ({proc.returncode}); stopping the suite", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        print("\nstopping ...", flush=True)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan
        suite.stop()
        print("stopped.", flush=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "run"
    if command == "run":
        return run()
    if command == "migrate":
        infra.ensure()
        Suite.configure(ROOT / "var").migrate()
        return 0
    if command == "seed":
        infra.ensure()
        suite = Suite.configure(ROOT / "var")
        set_up_broker(suite)
        suite.seed()
        from deploy.demo import print_logins

        print_logins()
        return 0
    print("usage: python -m deploy.suite [run|migrate|seed]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
