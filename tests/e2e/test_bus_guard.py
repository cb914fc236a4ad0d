"""The bus as a guarded door, on the real broker: every refusal here comes from
RabbitMQ (permissions, topic permissions, the user_id check) or from a service's
allow-list, never from a mock."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import amqp
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Producer

from deploy.broker import dev_passwords
from deploy.suite import ROOT
from services.kit.client import CallRefused, RpcClient
from services.kit.errors import NotFound
from services.kit.identities import IDENTITIES
from tests.support import TEST_ENV, harness_uri, new_member


def raw(user: str) -> amqp.Connection:
    """A plain AMQP connection as `user`, publishing with confirms."""
    conn = amqp.Connection("127.0.0.1:5672", userid=user, password=dev_passwords()[user],
                           virtual_host=TEST_ENV["vhost"], confirm_publish=True)
    conn.connect()
    return conn


def publish(user: str, exchange: str, key: str, body: dict | None = None,
            **properties) -> None:
    conn = raw(user)
    try:
        conn.channel().basic_publish(
            amqp.Message(json.dumps(body or {}), content_type="application/json",
                         **{"user_id": user, **properties}),
            exchange=exchange, routing_key=key)
    finally:
        conn.collect()


def test_a_subscriber_cannot_forge_an_ended_session(suite):
    with pytest.raises(amqp.exceptions.AccessRefused, match=r"auth\.events"):
        publish("memberspace-subscriber", "auth.events", "sessions_ended",
                {"type": "auth.sessions_ended", "data": {"session_ids": ["x"]}})
    # nor bind an event it was not granted (topic permission on bind)
    conn = raw("memberspace-subscriber")
    channel = conn.channel()
    queue = "evt-benefits-card_issued--memberspace-subscriber.probe"
    channel.queue_declare(queue, exclusive=True)
    with pytest.raises(amqp.exceptions.AccessRefused, match="card_issued"):
        channel.queue_bind(queue, "benefits.events", "card_issued")
    conn.collect()


def test_practitioners_may_look_up_but_not_reset_or_export(suite):
    uri = harness_uri(TEST_ENV["vhost"], "memberspace-practitioners")
    with RpcClient(uri, timeout=10) as practitioners:
        with pytest.raises(NotFound, match="card_not_found"):  # granted: benefits answers
            practitioners.benefits.card_status(str(uuid.uuid4()))
        with pytest.raises(CallRefused, match=r"auth\.set_credentials"):
            practitioners.auth.set_credentials(str(uuid.uuid4()), {"password": "Xx#12345"})
        for service in ("auth", "benefits", "documents", "notifications", "pension"):
            with pytest.raises(CallRefused, match="export_member_data"):
                getattr(practitioners, service).export_member_data(str(uuid.uuid4()))
        # the refused calls failed alone: the next granted call works on the same client
        with pytest.raises(NotFound, match="card_not_found"):
            practitioners.benefits.card_status(str(uuid.uuid4()))


def test_a_forged_user_id_is_refused_by_the_broker(suite):
    with pytest.raises(amqp.exceptions.PreconditionFailed, match="user_id"):
        publish("memberspace-practitioners", "nameko-rpc", "benefits.card_status",
                user_id="memberspace-gateway")


def test_no_identity_may_publish_to_the_default_exchange(suite):
    for identity in IDENTITIES:
        with pytest.raises(amqp.exceptions.AccessRefused, match=r"amq\.default"):
            publish(identity.user, "", "rpc-auth", {"args": [], "kwargs": {}})


def test_a_call_without_the_brokers_word_is_forbidden(suite):
    """The harness may publish anything on nameko-rpc; a request without `user_id`
    is still refused by the service's allow-list (deny by default)."""
    uri = harness_uri(TEST_ENV["vhost"])
    with RpcClient(uri, timeout=10, user_id="") as anonymous:
        anonymous.user_id = None
        with pytest.raises(Exception) as refused:
            anonymous.auth.list_members(None, 1)
    assert getattr(refused.value, "code", None) == "forbidden"


def test_a_forged_reply_is_ignored(suite):
    """A reply counts only when its user_id is the called service's user: auth may
    publish reply keys, but not answer for benefits."""
    uri = harness_uri(TEST_ENV["vhost"], "memberspace-practitioners")
    with RpcClient(uri, timeout=10) as client:
        correlation_id = str(uuid.uuid4())
        client._replies[correlation_id] = {"target": "benefits", "body": None}
        for sender, result in (("memberspace-auth", "forged"),
                               ("memberspace-benefits", "genuine")):
            with Connection(harness_uri(TEST_ENV["vhost"], sender),
                            transport_options={"confirm_publish": True}) as conn:
                Producer(conn.channel(), serializer="json").publish(
                    {"result": result, "error": None},
                    exchange=Exchange("nameko-rpc", type="topic", no_declare=True),
                    routing_key=client.reply_key, correlation_id=correlation_id,
                    user_id=sender)
        while client._replies[correlation_id]["body"] is None:
            client.connection.drain_events(timeout=5)
        assert client._replies[correlation_id]["body"]["result"] == "genuine"


def test_an_outside_system_claiming_a_member_is_audited_as_itself(suite, rpc, test_env):
    member = new_member(rpc)
    claimed = {"actor_type": "member", "actor_id": member["member_id"]}
    uri = harness_uri(TEST_ENV["vhost"], "memberspace-core")
    with RpcClient(uri, timeout=10, context_data=claimed) as core:
        assert core.auth.get_member(member["member_id"])["member_id"] == member["member_id"]
    engine = sa.create_engine(test_env["AUTH_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT actor_type, actor_id, details FROM audit_log WHERE member_id = :m "
                "AND action = 'member.read' ORDER BY id DESC LIMIT 1"),
                {"m": member["member_id"]}).one()
    finally:
        engine.dispose()
    assert (row.actor_type, row.actor_id) == ("system", "memberspace-core")
    assert row.details["claimed_actor"] == f"member:{member['member_id']}"


def test_the_suite_runs_with_its_own_identities(suite, api):
    assert api.get("/health").status_code == 200
    listed = subprocess.run(["rabbitmqctl", "-q", "list_connections", "user", "vhost"],
                            capture_output=True, text=True, check=True).stdout
    users = {line.split("\t")[0] for line in listed.splitlines()
             if line.endswith("\t" + TEST_ENV["vhost"])}
    assert {"memberspace-auth", "memberspace-notifications", "memberspace-benefits",
            "memberspace-documents", "memberspace-pension", "memberspace-gateway"} <= users
    assert "guest" not in users


def test_an_access_refused_stops_a_service_with_78_and_one_line(suite):
    """auth started with pension's identity: the broker refuses it auth's queue."""
    env = {**suite.env, "AMQP_URI": harness_uri(TEST_ENV["vhost"], "memberspace-pension")}
    done = subprocess.run([sys.executable, "-m", "services.kit.runner",
                           "services.auth.service:AuthService"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 78, done.stderr[-2000:]
    line = done.stderr.strip().splitlines()[-1]
    assert "rpc-auth" in line and "memberspace-pension" in line
