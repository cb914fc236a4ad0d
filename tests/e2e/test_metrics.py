"""Each service's and the gateway's /metrics, /livez and /readyz, scraped while the
suite runs: the series move after calls through the gateway."""

from __future__ import annotations

import time
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support import METRICS_PORTS, TEST_ENV, new_member, wait_for_alert


def probe(name: str, path: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{METRICS_PORTS[name]}{path}", timeout=10)


def scrape(name: str) -> dict[tuple[str, tuple], float]:
    response = probe(name, "/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and set(labels.items()) <= set(ls))


def test_every_process_answers_its_probes(suite):
    for name in METRICS_PORTS:
        live, ready = probe(name, "/livez"), probe(name, "/readyz")
        assert live.status_code == 200, (name, live.text)
        assert ready.status_code == 200, (name, ready.text)
        assert ready.json()["checks"]["broker"]["ok"] is True
        if name != "gateway":
            assert ready.json()["checks"]["database"]["detail"] == "database answers"
        assert probe(name, "/nothing").status_code == 404


def test_the_probe_port_is_not_the_public_port(suite):
    assert str(METRICS_PORTS["gateway"]) != TEST_ENV["port"]
    gateway = f"http://127.0.0.1:{TEST_ENV['port']}"
    public = requests.get(gateway + "/metrics", timeout=10)
    # outside /api/ the public port serves the web app (a page), never the series
    assert "# TYPE" not in public.text and "# HELP" not in public.text
    assert not public.headers["Content-Type"].startswith("text/plain")


def test_series_move_after_calls(suite, api, rpc):
    before = {name: scrape(name) for name in METRICS_PORTS}
    assert requests.get(f"{suite.gateway_url}/health", timeout=30).status_code == 200
    member = new_member(rpc, email=f"m{uuid.uuid4().hex[:10]}@example.mc",
                        email_validated=True)
    token = api.login(member["identifier"], member["password"])["access_token"]
    changed = api.post("/api/v1/auth/password", token,
                       json={"current_password": member["password"],
                             "new_password": "Lynx#527"}).json()
    wait_for_alert(api, changed["access_token"], "password_changed")
    time.sleep(0.5)
    after = {name: scrape(name) for name in METRICS_PORTS}

    for name in ("auth", "notifications", "benefits", "documents", "pension"):
        calls = "memberspace_rpc_calls_total"
        assert value(after[name], calls, service=name, method="health", outcome="ok") > \
            value(before[name], calls, service=name, method="health", outcome="ok"), name
        assert value(after[name], "memberspace_rpc_duration_seconds_count", service=name,
                     method="health") >= 1
        assert value(after[name], "memberspace_outbox_backlog", service=name) >= 0
        assert ("memberspace_outbox_oldest_age_seconds", (("service", name),)) in after[name]
        assert ("memberspace_failed_events", (("service", name),)) in after[name]
        assert value(after[name], "memberspace_db_pool_connections", service=name,
                     state="size") > 0

    http = "memberspace_http_requests_total"
    for route, status in (("/health", "200"), ("/api/v1/auth/password", "200")):
        assert value(after["gateway"], http, route=route, status=status) > \
            value(before["gateway"], http, route=route, status=status), route
    assert value(after["gateway"], "memberspace_http_request_duration_seconds_bucket",
                 route="/health", le="+Inf") >= 1
    # the password change: an event auth published, notifications handled; an e-mail
    events = "memberspace_events_handled_total"
    assert value(after["notifications"], events, service="notifications",
                 outcome="ok") > value(before["notifications"], events,
                                       service="notifications", outcome="ok")
    emails = "memberspace_emails"
    assert sum(value(after["notifications"], emails, state=s) for s in ("queued", "sent")) > \
        sum(value(before["notifications"], emails, state=s) for s in ("queued", "sent"))
