"""Alerts, e-mails, the validated address and the forgotten password, end to end."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.support import (
    assert_problem,
    link_token,
    new_member,
    wait_for_alert,
    wait_for_mail,
)


@pytest.fixture
def mail_dir(suite) -> Path:
    return suite.mail_dir


def validated_member(rpc, **fields):
    address = f"m{uuid.uuid4().hex[:10]}@example.mc"
    return new_member(rpc, email=address, email_validated=True, **fields)


def test_password_change_makes_a_security_alert_and_an_email(api, suite, rpc, mail_dir):
    member = validated_member(rpc, language="en")
    token = api.login(member["identifier"], member["password"])["access_token"]
    changed = api.post("/api/v1/auth/password", token,
                       json={"current_password": member["password"],
                             "new_password": "Lynx#527"}).json()
    alert = wait_for_alert(api, changed["access_token"], "password_changed")
    assert alert["category"] == "security" and alert["read"] is False
    assert alert["title"] == "Password changed"
    message = wait_for_mail(mail_dir, member["email"], "not you")
    assert "Lynx#527" not in message.as_string()
    count = api.get("/api/v1/me/notifications/unread-count", changed["access_token"]).json()
    assert count["count"] >= 1


def test_the_same_event_twice_makes_one_alert(api, suite, rpc, test_env):
    from kombu import Connection

    from services.kit.events import build_envelope, event_exchange

    member = validated_member(rpc)
    token = api.login(member["identifier"], member["password"])["access_token"]
    envelope = build_envelope("auth.login_locked", {"until": "2030-01-01T00:00:00+00:00"},
                              member_id=member["member_id"], correlation_id="twice")
    with Connection(test_env["AMQP_URI"]) as conn:
        producer = conn.Producer(serializer="json")
        for _ in range(2):
            producer.publish(envelope, exchange=event_exchange("auth"),
                             routing_key="login_locked", declare=[event_exchange("auth")])
    wait_for_alert(api, token, "login_locked")
    time.sleep(1.0)
    items = api.get("/api/v1/me/notifications", token).json()["items"]
    assert [i["kind"] for i in items].count("login_locked") == 1


def test_forgotten_password_by_email_link(api, suite, rpc, mail_dir):
    member = validated_member(rpc)
    started = time.time()
    r = api.post("/api/v1/auth/password/forgot", json={"identifier": member["identifier"]})
    unknown = api.post("/api/v1/auth/password/forgot", json={"identifier": "999999-01011951"})
    assert r.status_code == unknown.status_code == 202
    assert r.json() == unknown.json()
    message = wait_for_mail(mail_dir, member["email"], "/password/reset", after=started)
    token = link_token(message, "https://app.example.mc/password/reset")
    weak = api.post("/api/v1/auth/password/reset", json={"token": token,
                                                           "new_password": "1234567"})
    assert_problem(weak, 422, "validation_failed")
    done = api.post("/api/v1/auth/password/reset", json={"token": token,
                                                           "new_password": "Nord#639"})
    assert done.status_code == 204, done.text
    assert api.login(member["identifier"], "Nord#639")
    again = api.post("/api/v1/auth/password/reset", json={"token": token,
                                                            "new_password": "Sud#7410"})
    assert_problem(again, 410, "reset_token_used")
    assert_problem(api.post("/api/v1/auth/password/reset",
                            json={"token": "nope", "new_password": "Sud#7410"}),
                   400, "reset_token_invalid")
    # the reset is a security event: alert and e-mail
    token = api.login(member["identifier"], "Nord#639")["access_token"]
    wait_for_alert(api, token, "password_reset")


def test_reset_ends_sessions_and_clears_a_lock(api, suite, rpc, mail_dir):
    member = validated_member(rpc)
    session = api.login(member["identifier"], member["password"])
    for _ in range(5):
        api.post("/api/v1/auth/login",
                 json={"identifier": member["identifier"], "password": "Wrong#111"})
    assert_problem(api.post("/api/v1/auth/login", json={
        "identifier": member["identifier"], "password": member["password"]}),
        429, "login_locked")
    started = time.time()
    api.post("/api/v1/auth/password/forgot", json={"identifier": member["identifier"]})
    token = link_token(wait_for_mail(mail_dir, member["email"], "/password/reset",
                                     after=started), "https://app.example.mc/password/reset")
    assert api.post("/api/v1/auth/password/reset",
                    json={"token": token, "new_password": "Nord#639"}).status_code == 204
    assert api.login(member["identifier"], "Nord#639")
    deadline = time.monotonic() + 5
    while api.get("/api/v1/me", session["access_token"]).status_code != 401:
        assert time.monotonic() < deadline


def test_a_newer_reset_request_voids_the_older_link(api, suite, rpc, mail_dir):
    member = validated_member(rpc)
    started = time.time()
    api.post("/api/v1/auth/password/forgot", json={"identifier": member["identifier"]})
    first = link_token(wait_for_mail(mail_dir, member["email"], "/password/reset",
                                     after=started), "https://app.example.mc/password/reset")
    time.sleep(1.1)
    second_at = time.time()
    api.post("/api/v1/auth/password/forgot", json={"identifier": member["identifier"]})
    second = link_token(wait_for_mail(mail_dir, member["email"], "/password/reset",
                                      after=second_at), "https://app.example.mc/password/reset")
    assert first != second
    assert_problem(api.post("/api/v1/auth/password/reset",
                            json={"token": first, "new_password": "Nord#639"}),
                   410, "reset_token_used")
    assert api.post("/api/v1/auth/password/reset",
                    json={"token": second, "new_password": "Nord#639"}).status_code == 204


def test_email_gate_blocks_then_lets_through(api, suite, rpc, mail_dir):
    member = new_member(rpc)  # no address yet
    token = api.login(member["identifier"], member["password"])["access_token"]
    assert api.get("/api/v1/me", token).status_code == 200
    assert_problem(api.get("/api/v1/me/notifications", token), 403, "email_not_validated")
    bad = api.request("PUT", "/api/v1/me/email", token, json={"email": "not-an-address"})
    assert_problem(bad, 422, "validation_failed")
    address = f"n{uuid.uuid4().hex[:10]}@example.mc"
    started = time.time()
    r = api.request("PUT", "/api/v1/me/email", token, json={"email": address})
    assert r.status_code == 202 and r.json()["pending_email"] == address
    assert_problem(api.get("/api/v1/me/notifications", token), 403, "email_not_validated")
    verify = link_token(wait_for_mail(mail_dir, address, "/email/verify", after=started),
                        "https://app.example.mc/email/verify")
    done = api.post("/api/v1/auth/email/verify", json={"token": verify})  # no login needed
    assert done.status_code == 200 and done.json() == {"email": address,
                                                       "email_validated": True}
    # the same access token is let through at once (the gateway heard of it)
    deadline = time.monotonic() + 2
    while api.get("/api/v1/me/notifications", token).status_code != 200:
        assert time.monotonic() < deadline, "the gate did not open"
        time.sleep(0.05)
    assert api.get("/api/v1/me", token).json()["email"] == address
    assert_problem(api.post("/api/v1/auth/email/verify", json={"token": verify}),
                   410, "email_token_used")


def test_changing_a_validated_address_keeps_access_and_tells_the_old_one(api, suite, rpc,
                                                                          mail_dir):
    member = validated_member(rpc)
    token = api.login(member["identifier"], member["password"])["access_token"]
    new_address = f"x{uuid.uuid4().hex[:10]}@example.mc"
    started = time.time()
    api.request("PUT", "/api/v1/me/email", token, json={"email": new_address})
    # still the old, validated address until the new one is verified
    assert api.get("/api/v1/me/notifications", token).status_code == 200
    assert api.get("/api/v1/me", token).json()["email"] == member["email"]
    verify = link_token(wait_for_mail(mail_dir, new_address, "/email/verify", after=started),
                        "https://app.example.mc/email/verify")
    assert api.post("/api/v1/auth/email/verify", json={"token": verify}).status_code == 200
    notice = wait_for_mail(mail_dir, member["email"], "", after=started)
    assert new_address not in notice.get_body(("plain",)).get_content()  # masked
    wait_for_alert(api, token, "email_changed")


def test_alert_list_read_and_preferences(api, suite, rpc):
    member = validated_member(rpc)
    other = validated_member(rpc)
    token = api.login(member["identifier"], member["password"])["access_token"]
    for i in range(5):
        rpc.notifications.post_alert(member["member_id"], {
            "category": "payments", "title": f"Payment {i}", "body": "Paid."})
    theirs = rpc.notifications.post_alert(other["member_id"], {
        "category": "payments", "title": "Theirs", "body": "Not yours."})
    first = api.get("/api/v1/me/notifications?limit=2", token).json()
    assert [i["title"] for i in first["items"]] == ["Payment 4", "Payment 3"]
    second = api.get(f"/api/v1/me/notifications?limit=2&cursor={first['next_cursor']}",
                     token).json()
    assert [i["title"] for i in second["items"]] == ["Payment 2", "Payment 1"]
    assert_problem(api.get("/api/v1/me/notifications?cursor=garbage", token),
                   422, "validation_failed")
    read = api.post(f"/api/v1/me/notifications/{first['items'][0]['id']}/read", token)
    assert read.status_code == 200 and read.json()["read"] is True
    assert_problem(api.post(f"/api/v1/me/notifications/{theirs['id']}/read", token),
                   404, "alert_not_found")
    unread = api.get("/api/v1/me/notifications?unread=true", token).json()["items"]
    assert "Payment 4" not in [i["title"] for i in unread] and len(unread) == 4
    assert api.post("/api/v1/me/notifications/read-all", token).json()["marked"] == 4
    assert api.get("/api/v1/me/notifications/unread-count", token).json() == {"count": 0}

    prefs = api.get("/api/v1/me/notification-preferences", token).json()
    assert all(prefs["email"].values())
    off = api.request("PUT", "/api/v1/me/notification-preferences", token,
                      json={"email": {"payments": False}})
    assert off.status_code == 200 and off.json()["email"]["payments"] is False
    refused = api.request("PUT", "/api/v1/me/notification-preferences", token,
                          json={"email": {"security": False}})
    body = assert_problem(refused, 422, "validation_failed")
    assert body["errors"][0]["code"] == "security_email_required"


def test_forgot_sends_at_most_three_links_an_hour_and_answers_alike(api, suite, rpc,
                                                                    mail_dir):
    member = validated_member(rpc)
    started = time.time()
    answers = [api.post("/api/v1/auth/password/forgot",
                        json={"identifier": member["identifier"]}) for _ in range(4)]
    assert [a.status_code for a in answers] == [202] * 4
    assert len({a.text for a in answers}) == 1  # the fourth says nothing different
    wait_for_mail(mail_dir, member["email"], "/password/reset", after=started)
    time.sleep(2.0)  # the sink keeps what arrives; a fourth link would be there by now

    def links() -> int:
        import email
        import email.policy

        count = 0
        for path in mail_dir.glob("*.eml"):
            if path.stat().st_mtime < started:
                continue
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if member["email"] in str(message["To"]) and "/password/reset" in \
                    message.get_body(("plain",)).get_content():
                count += 1
        return count

    deadline = time.monotonic() + 10
    while links() < 3:
        assert time.monotonic() < deadline, links()
        time.sleep(0.2)
    time.sleep(1.5)
    assert links() == 3
