"""Quorum queues behind AMQP_QUORUM_QUEUES, on a RabbitMQ vhost of this test's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer

from deploy import infra
from services.kit.config import BaseSettings, load_settings
from services.kit.handlers import on_event
from services.kit.queue_admin import declare_queues, missing_queues, service_queues, switch
from services.kit.queues import DELIVERY_LIMIT
from services.kit.rpc import rpc
from services.kit.runner import nameko_config
from tests.support import TEST_NAME

VHOST = f"{TEST_NAME}_quorum"
# the admin identity: declaring the topology and switching queues are admin steps (the
# switch moves messages through the default exchange, which no suite identity may use)
URI = f"amqp://guest:guest@127.0.0.1:5672/{VHOST}"


class QuorumProbe:
    name = "quorum_probe"
    settings_schema = BaseSettings

    @rpc
    def ping(self) -> str:
        return "pong"

    @on_event("quorumsrc", "happened")
    def happened(self, tx, envelope):  # never called: no event is published to it here
        raise AssertionError("not expected")


class WaitProbe(QuorumProbe):
    name = "wait_probe"


def queue_table() -> dict[str, dict]:
    out = subprocess.run(
        [shutil.which("rabbitmqctl") or "rabbitmqctl", "list_queues", "-p", VHOST, "--formatter",
         "json", "name", "type", "arguments", "messages"],
        check=True, capture_output=True, text=True).stdout
    rows = json.loads(out[out.index("["):])
    return {row["name"]: row for row in rows}


def arguments(row: dict) -> dict:
    args = row["arguments"]
    # rabbitmqctl lists each argument as [name, type, value]
    return dict(args) if isinstance(args, dict) else {a[0]: a[-1] for a in args}


@pytest.fixture(scope="module")
def vhost():
    infra.ensure_vhost(VHOST, fresh=True)
    subprocess.run(["rabbitmqctl", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)
    yield URI
    subprocess.run(["rabbitmqctl", "delete_vhost", VHOST], check=False, capture_output=True)


def test_a_service_declares_its_queues_as_quorum_queues_when_the_setting_is_on(vhost):
    settings = load_settings(BaseSettings, {"AMQP_URI": vhost, "AMQP_QUORUM_QUEUES": "true"})
    declare_queues(vhost, [QuorumProbe], quorum=True)  # the admin's topology comes first
    container = ServiceContainer(QuorumProbe, nameko_config(settings))
    container.start()  # declares its own queues too: the same arguments, or it fails
    try:
        table = queue_table()
    finally:
        container.stop()
    for name in ("rpc-quorum_probe", "evt-quorumsrc-happened--quorum_probe.happened"):
        assert table[name]["type"] == "quorum", name
        assert arguments(table[name])["x-delivery-limit"] == DELIVERY_LIMIT


def test_declare_queues_follows_the_setting_and_a_classic_vhost_stays_classic(vhost):
    uri = vhost
    with Connection(uri) as conn:  # a queue from a release before the switch
        Queue("evt-quorumsrc-happened--classic_probe.happened", durable=True)(
            conn.channel()).declare()
    names = declare_queues(uri, [QuorumProbe], quorum=True)
    assert names == ["evt-quorumsrc-happened--quorum_probe.happened"]
    assert queue_table()["evt-quorumsrc-happened--classic_probe.happened"]["type"] == "classic"


def test_an_event_requeued_25_times_is_still_there(vhost):
    declare_queues(vhost, [QuorumProbe], quorum=True)
    name = "evt-quorumsrc-happened--quorum_probe.happened"
    with Connection(vhost) as conn:
        conn.Producer().publish({"event_id": "requeued"}, exchange=Exchange(
            "quorumsrc.events", type="topic"), routing_key="happened", serializer="json")
        queue = Queue(name, durable=True)(conn.channel())
        for attempt in range(25):
            message = get(queue)
            assert message.payload == {"event_id": "requeued"}, attempt
            message.requeue()
        message = get(queue)
        assert message.payload == {"event_id": "requeued"}
        assert message.headers.get("x-delivery-count") == 25
        message.ack()
        assert queue.get() is None


def get(queue: Queue):
    deadline = time.monotonic() + 5
    while (message := queue.get(no_ack=False)) is None:
        assert time.monotonic() < deadline, "the message is gone"
        time.sleep(0.05)
    return message


def test_switch_moves_a_classic_queue_to_quorum_with_its_messages(vhost):
    class SwitchProbe(QuorumProbe):
        name = "switch_probe"

    with Connection(vhost) as conn:  # as a release without the setting declared them
        for queue in service_queues(SwitchProbe, quorum=False):
            queue(conn.channel()).declare()
        producer = conn.Producer()
        for n in range(3):
            producer.publish({"n": n}, exchange=Exchange("quorumsrc.events", type="topic"),
                             routing_key="happened", serializer="json")
    before = queue_table()
    assert before["rpc-switch_probe"]["type"] == "classic"
    moved = switch(vhost, service_queues(SwitchProbe, quorum=True))
    assert moved == {"evt-quorumsrc-happened--switch_probe.happened": 3, "rpc-switch_probe": 0}
    after = queue_table()
    for name in moved:
        assert after[name]["type"] == "quorum"
        assert arguments(after[name])["x-delivery-limit"] == DELIVERY_LIMIT
    assert not any(name.endswith(".switching") for name in after)
    with Connection(vhost) as conn:  # the binding came back: a new event reaches it
        conn.Producer().publish({"n": 3}, exchange=Exchange("quorumsrc.events", type="topic"),
                                routing_key="happened", serializer="json")
        queue = Queue("evt-quorumsrc-happened--switch_probe.happened")(conn.channel())
        assert [get(queue).payload["n"] for _ in range(4)] == [0, 1, 2, 3]


def test_wait_for_topology_returns_once_the_event_queues_exist(vhost):
    queues = service_queues(WaitProbe, quorum=True)
    assert missing_queues(vhost, queues) == [q.name for q in queues]
    env = {**os.environ, "AMQP_URI": vhost}
    waiter = subprocess.Popen([sys.executable, "-m", "services.kit.queue_admin", "wait",
                               "tests.service.test_quorum_queues:WaitProbe"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while waiter.poll() is None and "waiting for 1" not in (line := waiter.stdout.readline()):
        assert time.monotonic() < deadline
    assert waiter.poll() is None, line + waiter.stdout.read()  # still waiting: none declared
    declare_queues(vhost, [WaitProbe], quorum=True)
    assert waiter.wait(timeout=60) == 0
    assert missing_queues(vhost, queues) == ["rpc-wait_probe"]  # nameko declares that one
