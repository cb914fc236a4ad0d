"""Two instances of benefits and of notifications on one broker (issue 16 §1): both
serve, e-mails and alerts arrive exactly once, and one instance stopped with SIGTERM in
the middle of load drains without a failed request."""

from __future__ import annotations

import email
import email.policy
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from services.kit.identities import service_user
from services.kit.rpc import consumer_count
from tests.support import new_member, test_port, wait_for_alert, wait_for_mail

ROOT = Path(__file__).resolve().parents[2]
EXTRA_PORTS = {"benefits": test_port(18070), "notifications": test_port(18071)}
PATHS = {"benefits": "services.benefits.service:BenefitsService",
         "notifications": "services.notifications.service:NotificationsService"}


def metric_sum(port: int, name: str, **labels: str) -> float:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and set(labels.items()) <= set(s.labels.items()))


@pytest.fixture
def second_instances(suite):
    """A second runner process of benefits and of notifications, same environment."""
    started = {}
    try:
        for name, path in PATHS.items():
            env = {**suite.service_env(name), "METRICS_PORT": str(EXTRA_PORTS[name]),
                   # the same broker user as the first instance: one service, two processes
                   "AMQP_URI": suite.identity_uri(service_user(name))}
            log = open(suite.log_dir / f"{name}-2.log", "ab")
            started[name] = subprocess.Popen(
                [sys.executable, "-m", "services.kit.runner", path], env=env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        amqp = suite.env["AMQP_URI"]
        deadline = time.monotonic() + 60
        while not all(consumer_count(amqp, n) >= 2 for n in PATHS):
            assert time.monotonic() < deadline, "the second instances did not start"
            assert all(p.poll() is None for p in started.values())
            time.sleep(0.3)
        yield started
    finally:
        for proc in started.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def mails_to(mail_dir: Path, address: str, contains: str) -> int:
    found = 0
    for path in mail_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]) and \
                contains in message.get_body(("plain",)).get_content():
            found += 1
    return found


def test_two_instances_serve_and_deliver_exactly_once(suite, api, rpc, second_instances):
    members = []
    for _ in range(6):
        member = new_member(rpc, email=f"m{uuid.uuid4().hex[:10]}@example.mc",
                            email_validated=True, language="en")
        member["token"] = api.login(member["identifier"], member["password"])["access_token"]
        members.append(member)
    before = {n: metric_sum(p, "memberspace_rpc_calls_total", service=n)
              for n, p in EXTRA_PORTS.items()}

    # a burst of events: each password change makes an alert and an e-mail
    for member in members:
        changed = api.post("/api/v1/auth/password", member["token"],
                           json={"current_password": member["password"],
                                 "new_password": "Lynx#527"})
        assert changed.status_code == 200, changed.text
        member["token"] = changed.json()["access_token"]

    # load through the gateway; the second benefits instance gets SIGTERM midway
    def listing(i: int) -> int:
        member = members[i % len(members)]
        return api.get("/api/v1/me/refunds", member["token"]).status_code

    with ThreadPoolExecutor(8) as pool:
        first = list(pool.map(listing, range(60)))
        served_by_second = metric_sum(EXTRA_PORTS["benefits"],
                                      "memberspace_rpc_calls_total", service="benefits")
        during = pool.map(listing, range(120))
        second_benefits = second_instances["benefits"]
        second_benefits.send_signal(signal.SIGTERM)
        rest = list(during)
    assert second_benefits.wait(30) == 0
    assert set(first) == {200} and set(rest) == {200}, (first, rest)
    assert served_by_second > before["benefits"], "the second benefits served nothing"

    for member in members:
        wait_for_alert(api, member["token"], "password_changed")
        wait_for_mail(suite.mail_dir, member["email"], "not you")
    time.sleep(2)  # a duplicate would have arrived by now
    handled_by_second = metric_sum(EXTRA_PORTS["notifications"],
                                   "memberspace_events_handled_total")
    assert handled_by_second > 0, "the second notifications handled no event"
    for member in members:
        alerts = api.get("/api/v1/me/notifications", member["token"]).json()["items"]
        assert [a["kind"] for a in alerts].count("password_changed") == 1
        assert mails_to(suite.mail_dir, member["email"], "not you") == 1
