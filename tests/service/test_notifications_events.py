"""notifications' event handling on real RabbitMQ and PostgreSQL: queues declared
before the service starts, failures kept and retried, never a duplicate."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection
from nameko.containers import ServiceContainer

from deploy import infra
from services.kit.config import load_settings
from services.kit.events import build_envelope, event_exchange
from services.kit.handlers import retry_due
from services.kit.migrate import drop_database, upgrade
from services.kit.runner import nameko_config
from services.kit.tables import failed_events
from services.notifications.models import Alert
from services.notifications.service import NotificationsService
from tests.support import TEST_NAME, harness_uri

VHOST = f"{TEST_NAME}_late"
PG = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{TEST_NAME}_late_notifications"


@pytest.fixture(scope="module")
def sandbox(test_env):
    """A vhost and database of their own: nothing else consumes these queues."""
    infra.ensure_vhost(VHOST, fresh=True)
    drop_database(PG)
    upgrade("notifications", PG)
    # the test publishes as the harness; the service logs in as its own identity
    amqp = harness_uri(VHOST)
    engine = sa.create_engine(PG)
    yield amqp, engine
    engine.dispose()


def publish(amqp: str, event_type: str, member_id: str, data: dict) -> dict:
    source, name = event_type.split(".")
    envelope = build_envelope(event_type, data, member_id=member_id, correlation_id="t")
    with Connection(amqp) as conn:
        conn.Producer(serializer="json").publish(
            envelope, exchange=event_exchange(source), routing_key=name)
    return envelope


def start(amqp: str, monkeypatch) -> ServiceContainer:
    monkeypatch.setenv("AMQP_URI", harness_uri(VHOST, "memberspace-notifications"))
    monkeypatch.setenv("NOTIFICATIONS_DATABASE_URL", PG)
    settings = load_settings(NotificationsService.settings_schema)
    container = ServiceContainer(NotificationsService, nameko_config(settings))
    container.start()
    return container


def wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def identity(member_id: str) -> dict:
    return {"member_id": member_id, "first_name": "Ana", "last_name": "Late",
            "birth_date": "1980-01-01", "sex": "F", "email": "ana@example.mc",
            "email_validated": True, "language": "en", "subscriptions": []}


def alerts_of(engine, member_id: str) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(Alert.kind).where(Alert.member_id == member_id)).all()


def test_events_published_before_the_service_starts_are_not_lost(sandbox, monkeypatch):
    amqp, engine = sandbox
    # the admin set-up (infra.ensure_vhost, as deploy and make run) declared the queues
    member_id = str(uuid.uuid4())
    publish(amqp, "auth.member_created", member_id, identity(member_id))
    publish(amqp, "auth.login_locked", member_id, {"until": "2030-01-01T00:00:00+00:00"})
    container = start(amqp, monkeypatch)  # starts late
    try:
        # handlers of different queues run concurrently: the alert may overtake the
        # member's creation, fail once, and come back after a short backoff
        wait(lambda: len(alerts_of(engine, member_id)) == 1, timeout=30)
    finally:
        container.stop()


def test_a_failing_event_is_kept_and_retried_later(sandbox, monkeypatch):
    amqp, engine = sandbox
    container = start(amqp, monkeypatch)
    try:
        member_id = str(uuid.uuid4())
        # the alert's event arrives before the member is known: the handler fails
        locked = publish(amqp, "auth.login_locked", member_id,
                         {"until": "2030-01-01T00:00:00+00:00"})

        def failure():
            with engine.connect() as conn:
                return conn.execute(sa.select(failed_events).where(
                    failed_events.c.event_id == locked["event_id"])).one_or_none()

        wait(lambda: failure() is not None)
        row = failure()
        assert row.attempts == 1 and "MemberNotKnownYet" in row.error
        assert row.next_attempt_at is not None  # backoff, not a hot loop
        assert alerts_of(engine, member_id) == []
        publish(amqp, "auth.member_created", member_id, identity(member_id))
        time.sleep(0.5)
        with engine.begin() as conn:  # make it due now, before the sweeper does
            conn.execute(failed_events.update().where(
                failed_events.c.event_id == locked["event_id"]).values(
                next_attempt_at=sa.func.now()))
        retry_due(engine, container)  # (the service's own sweeper may have been first)
        wait(lambda: len(alerts_of(engine, member_id)) == 1)
        # redelivering the same event once more changes nothing
        with Connection(amqp) as conn:
            conn.Producer(serializer="json").publish(
                locked, exchange=event_exchange("auth"), routing_key="login_locked")
        time.sleep(1.0)
        assert len(alerts_of(engine, member_id)) == 1
        # once handled, the failure record is dropped at the next sweep, even while it
        # is due again: the event is never sent back a second time
        with engine.begin() as conn:
            conn.execute(failed_events.update().where(
                failed_events.c.event_id == locked["event_id"]).values(
                next_attempt_at=sa.func.now()))
        assert retry_due(engine, container) == 0
        assert failure() is None
    finally:
        container.stop()


def test_due_emails_go_out_over_one_connection_and_are_recorded(sandbox):
    """The delivery timer's work: every due message sent over one SMTP session, each
    recorded as sent, a token-carrying body erased, a refused one kept with its reason."""
    from aiosmtpd.controller import Controller
    from sqlalchemy.orm import Session as DbSession

    from services.notifications import emails
    from services.notifications.models import Email
    from services.notifications.rendering import Renderer
    from services.notifications.smtp_client import SmtpSettings
    from tests.service.test_mailer_and_sink import RefusingHandler
    from tests.support_oidc import free_port

    _, engine = sandbox
    renderer = Renderer("https://members.example.mc")
    with DbSession(engine) as session, session.begin():
        session.execute(sa.delete(Email))
        ids = [emails.queue(session, renderer, to=to, member_id=None, kind=kind, language="en",
                          params=params).id
               for to, kind, params in (
                   ("a@example.mc", "password_changed",
                    {"first_name": "A", "at": "2026-11-27T08:00:00+00:00",
                     "reset_url": "https://members.example.mc/password/forgot"}),
                   ("b@example.mc", "password_reset_request",
                    {"first_name": "B", "expires_minutes": 30,
                     "reset_url": renderer.link("/password/reset", "secret-token")}),
                   ("unknown@example.mc", "password_changed",
                    {"first_name": "C", "at": "2026-11-27T08:00:00+00:00",
                     "reset_url": "https://members.example.mc/password/forgot"}))]
    handler = RefusingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    try:
        sent = emails.deliver_due(engine, SmtpSettings(host="127.0.0.1", port=controller.port,
                                                     timeout=5.0), batch=2)
    finally:
        controller.stop()
    assert sent == 3  # two batches of at most 2, over one connection
    assert handler.greetings == 1
    assert len(handler.received) == 2
    with DbSession(engine) as session:
        emails = {e.id: e for e in session.scalars(sa.select(Email))}
    plain, token, refused = (emails[i] for i in ids)
    assert (plain.state, plain.body_text is not None) == ("sent", True)
    assert (token.state, token.body_text, token.body_html) == ("sent", None, None)
    assert refused.state == "failed" and "550" in refused.last_error


def test_an_unreachable_server_stops_the_tick_without_spending_every_attempt(sandbox):
    from sqlalchemy.orm import Session as DbSession

    from services.notifications import emails
    from services.notifications.models import Email
    from services.notifications.rendering import Renderer
    from services.notifications.smtp_client import SmtpSettings
    from tests.support_oidc import free_port

    _, engine = sandbox
    renderer = Renderer("https://members.example.mc")
    with DbSession(engine) as session, session.begin():
        session.execute(sa.delete(Email))
        for n in range(3):
            emails.queue(session, renderer, to=f"m{n}@example.mc", member_id=None,
                       kind="password_changed", language="en",
                       params={"first_name": "M", "at": "2026-11-27T08:00:00+00:00",
                               "reset_url": "https://members.example.mc/password/forgot"})
    nobody = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2.0)  # nothing listens
    assert emails.deliver_due(engine, nobody) == 1
    with DbSession(engine) as session:
        attempts = sorted(e.attempts for e in session.scalars(sa.select(Email)))
        states = {e.state for e in session.scalars(sa.select(Email))}
    assert attempts == [0, 0, 1] and states == {"queued"}
