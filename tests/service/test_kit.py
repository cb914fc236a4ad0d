"""The kit on real RabbitMQ and PostgreSQL: outbox, idempotency, audit, RPC limits."""

from __future__ import annotations

import time
import uuid

import eventlet
import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from marshmallow import RAISE, Schema, fields
from nameko.containers import ServiceContainer

from services.kit.config import BaseSettings, load_settings
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.errors import ServiceTimeout, ServiceUnavailable
from services.kit.events import OutboxRelay, build_envelope, event_exchange, mark_processed
from services.kit.rpc import ServiceRpc, rpc
from services.kit.runner import nameko_config
from services.kit.tables import audit_log, outbox


class ProbeSettings(BaseSettings):
    AUTH_DATABASE_URL = fields.String(required=True)


class ProbeHappened(Schema):
    """The probe's own event contract (the suite's are in services/contracts/events.py)."""

    class Meta:
        unknown = RAISE

    marker = fields.String(required=True)


class ProbeService:
    """A service that uses the kit the way real ones do."""

    name = "kit_probe"
    settings_schema = ProbeSettings
    context = RequestContext()
    db = Database("AUTH_DATABASE_URL", sweep_interval=0.5,
                  event_schemas={("kitprobe.happened", 1): ProbeHappened})

    @rpc
    def emit(self, marker: str, fail: bool = False, event_type: str = "kitprobe.happened",
             data: dict | None = None) -> str:
        with self.db.transaction() as tx:
            tx.audit("probe.emitted", member_id=None, details={"marker": marker})
            event_id = tx.emit(event_type, member_id=None,
                               data={"marker": marker} if data is None else data)
            if fail:
                raise ValueError("rolled back")
        return event_id

    @rpc
    def handle_once(self, event_id: str) -> bool:
        with self.db.transaction() as tx:
            return mark_processed(tx.session, "kit_probe.handle_once", event_id)

    @rpc
    def slow(self, seconds: float) -> str:
        eventlet.sleep(seconds)
        return "done"


class CallerService:
    name = "kit_caller"
    settings_schema = BaseSettings
    context = RequestContext()
    probe = ServiceRpc("kit_probe", timeout=0.5)
    nobody = ServiceRpc("kit_nobody", timeout=0.5)
    ghost = ServiceRpc("kit_ghost", timeout=0.5)

    @rpc
    def call_slow(self, seconds: float) -> str:
        return self.probe.slow(seconds)

    @rpc
    def call_nobody(self) -> str:
        return self.nobody.anything()

    @rpc
    def call_ghost(self) -> str:
        return self.ghost.anything()


@pytest.fixture(scope="module")
def containers(test_env):
    started = []
    for cls in (ProbeService, CallerService):
        container = ServiceContainer(cls, nameko_config(load_settings(cls.settings_schema)))
        container.start()
        started.append(container)
    yield started
    for container in started:
        container.stop()


@pytest.fixture
def proxy(test_env):
    from services.kit.client import RpcClient

    with RpcClient(test_env["AMQP_URI"], timeout=10) as p:
        yield p


@pytest.fixture
def engine(test_env):
    engine = sa.create_engine(test_env["AUTH_DATABASE_URL"])
    yield engine
    engine.dispose()


class Capture:
    """A queue bound to one source's events, declared before anything publishes."""

    def __init__(self, amqp_uri: str, source: str):
        self.conn = Connection(amqp_uri)
        # a test source's exchange: the harness declares it, as the admin set-up would
        exchange = Exchange(event_exchange(source).name, type="topic", durable=True)
        self.queue = Queue(f"test-capture-{uuid.uuid4().hex}", exchange=exchange,
                           routing_key="#", exclusive=True)
        self.bound = self.queue(self.conn.channel())
        self.bound.declare()

    def messages(self, wait: float = 5.0, until=lambda msgs: bool(msgs)) -> list:
        found, deadline = [], time.monotonic() + wait
        while time.monotonic() < deadline:
            message = self.bound.get(no_ack=True)
            if message is None:
                if until(found):
                    return found
                eventlet.sleep(0.05)
                continue
            found.append(message)
        return found

    def close(self) -> None:
        self.conn.release()


@pytest.fixture
def capture(test_env):
    c = Capture(test_env["AMQP_URI"], "kitprobe")
    yield c
    c.close()


def test_event_is_published_right_after_commit(containers, proxy, capture, engine):
    marker = uuid.uuid4().hex
    event_id = proxy.kit_probe.emit(marker)
    messages = capture.messages()
    assert len(messages) == 1
    envelope = messages[0].payload
    assert envelope["event_id"] == event_id and envelope["type"] == "kitprobe.happened"
    assert envelope["data"] == {"marker": marker} and envelope["version"] == 1
    assert envelope["correlation_id"]
    assert messages[0].delivery_info["routing_key"] == "happened"
    with engine.connect() as conn:
        published = conn.scalar(sa.select(outbox.c.published_at).where(outbox.c.id == event_id))
    assert published is not None


def test_rolled_back_work_publishes_nothing_and_writes_nothing(containers, proxy, capture,
                                                               engine):
    marker = uuid.uuid4().hex
    with pytest.raises(Exception, match="rolled back"):
        proxy.kit_probe.emit(marker, True)
    assert capture.messages(wait=1.0) == []
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(
            outbox.c.payload["data"]["marker"].astext == marker)).all()
        audits = conn.execute(sa.select(audit_log).where(
            audit_log.c.details["marker"].astext == marker)).all()
    assert rows == [] and audits == []


@pytest.mark.parametrize("event_type,data,refusal", [
    ("kitprobe.happened", {"marker": 42}, "breaks its contract"),
    ("kitprobe.happened", {"marker": "m", "secret": "x"}, "Unknown field"),
    ("kitprobe.unheard_of", {"marker": "m"}, "no contract for event"),
])
def test_an_event_that_breaks_its_contract_rolls_the_work_back(containers, proxy, capture,
                                                                engine, event_type, data,
                                                                refusal):
    marker = uuid.uuid4().hex
    with pytest.raises(Exception, match=refusal):
        proxy.kit_probe.emit(marker, False, event_type, data)
    assert capture.messages(wait=1.0) == []
    with engine.connect() as conn:
        audits = conn.execute(sa.select(audit_log).where(
            audit_log.c.details["marker"].astext == marker)).all()
    assert audits == []  # the audit line written before the emit is rolled back


def test_sweeper_publishes_what_a_crash_left_behind(containers, capture, engine):
    envelope = build_envelope("kitprobe.happened", {"marker": "left"}, member_id=None,
                              correlation_id="crash-1")
    with engine.begin() as conn:  # committed, never relayed: as if the process died
        conn.execute(outbox.insert().values(
            id=envelope["event_id"], event_type=envelope["type"], payload=envelope,
            created_at=sa.func.now() - sa.text("interval '10 seconds'")))
    messages = capture.messages(wait=10)
    assert [m.payload["event_id"] for m in messages] == [envelope["event_id"]]


def test_broker_outage_keeps_the_event_for_later(test_env, capture, engine):
    envelope = build_envelope("kitprobe.happened", {"marker": "outage"}, member_id=None,
                              correlation_id=None)
    with engine.begin() as conn:  # dated ahead, so the probe service's sweeper leaves it
        conn.execute(outbox.insert().values(
            id=envelope["event_id"], event_type=envelope["type"], payload=envelope,
            created_at=sa.func.now() + sa.text("interval '1 hour'")))
    down = OutboxRelay(engine, "amqp://guest:guest@127.0.0.1:1/")
    down.publisher.retry = False
    assert down.publish_ids([envelope["event_id"]]) == 0
    with engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.id == envelope["event_id"])).one()
    assert row.published_at is None and row.attempts == 1
    assert OutboxRelay(engine, test_env["AMQP_URI"]).publish_ids([envelope["event_id"]]) == 1
    assert [m.payload["event_id"] for m in capture.messages()] == [envelope["event_id"]]


def test_an_event_is_handled_once(containers, proxy):
    event_id = str(uuid.uuid4())
    assert proxy.kit_probe.handle_once(event_id) is True
    assert proxy.kit_probe.handle_once(event_id) is False


def test_audit_log_is_append_only(containers, proxy, engine):
    proxy.kit_probe.emit("audit")
    with engine.begin() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(audit_log)) > 0
    for statement in (audit_log.update().values(action="tampered"), audit_log.delete()):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)


def test_rpc_timeout_and_absent_service(containers, proxy):
    with pytest.raises(ServiceTimeout):
        proxy.kit_caller.call_slow(3)
    assert proxy.kit_caller.call_slow(0) == "done"
    with pytest.raises(ServiceUnavailable):
        proxy.kit_caller.call_nobody()


def test_stopped_service_is_unavailable_and_never_runs_stale_requests(containers, proxy,
                                                                      test_env):
    from kombu import Exchange

    with Connection(test_env["AMQP_URI"]) as conn:
        queue = Queue("rpc-kit_ghost", Exchange("nameko-rpc", type="topic", durable=True),
                      routing_key="kit_ghost.*", durable=True)
        bound = queue(conn.channel())
        bound.declare()  # as a stopped service leaves it: a queue with no consumer
        try:
            with pytest.raises(ServiceUnavailable):
                proxy.kit_caller.call_ghost()
            eventlet.sleep(1.0)  # the request's time-to-live was the call's timeout
            assert bound.queue_declare(passive=True).message_count == 0
        finally:
            bound.delete()
