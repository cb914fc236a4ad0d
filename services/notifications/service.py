"""The notifications service: events in, alerts and e-mails out. Entrypoints (and the
e-mail sender's timer) that parse, call the plain modules (`event_alerts`,
`link_emails`, `alerts`, `emails`) and return."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.kit.config import BaseSettings, Url, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.directory import MemberCopyHandlers
from services.kit.handlers import on_event
from services.kit.health import HealthEntrypoints
from services.kit.rpc import rpc
from services.notifications import alerts, emails, event_alerts, link_emails
from services.notifications.models import Member
from services.notifications.rendering import Renderer
from services.notifications.smtp_client import SmtpSettings


class NotificationsSettings(BaseSettings):
    NOTIFICATIONS_DATABASE_URL = database_url_field("notifications")
    NOTIFICATIONS_SMTP_HOST = fields.String(load_default="127.0.0.1")
    NOTIFICATIONS_SMTP_PORT = fields.Integer(load_default=1025,
                                             validate=validate.Range(1, 65535))
    NOTIFICATIONS_SMTP_TLS = fields.String(load_default="none",
                                           validate=validate.OneOf(["none", "starttls", "ssl"]))
    NOTIFICATIONS_SMTP_USERNAME = fields.String(load_default="")
    NOTIFICATIONS_SMTP_PASSWORD = fields.String(load_default="")
    NOTIFICATIONS_SMTP_FROM = fields.String(
        load_default="Caisses Sociales de Monaco <no-reply@caisses-sociales.mc>")
    NOTIFICATIONS_PUBLIC_BASE_URL = Url(("http", "https"), load_default="http://127.0.0.1:8000")


class Correspondence(DependencyProvider):
    """How the fund writes to members: the templates of alerts and e-mails (with the
    links into the web app) and the SMTP server, loaded once per container."""

    def setup(self) -> None:
        settings = self.container.config["SETTINGS"]
        self.renderer = Renderer(settings.NOTIFICATIONS_PUBLIC_BASE_URL)
        self.forgot_password_url = f"{self.renderer.public_base_url}/password/forgot"
        self.smtp = SmtpSettings(
            host=settings.NOTIFICATIONS_SMTP_HOST, port=settings.NOTIFICATIONS_SMTP_PORT,
            tls=settings.NOTIFICATIONS_SMTP_TLS, username=settings.NOTIFICATIONS_SMTP_USERNAME,
            password=settings.NOTIFICATIONS_SMTP_PASSWORD,
            sender=settings.NOTIFICATIONS_SMTP_FROM)

    def get_dependency(self, worker_ctx: Any) -> Correspondence:
        return self


class NotificationsService(HealthEntrypoints, MemberCopyHandlers):
    name = "notifications"
    settings_schema = NotificationsSettings

    context = RequestContext()
    db = Database("NOTIFICATIONS_DATABASE_URL")
    correspondence = Correspondence()

    member_model = Member
    copy_member = staticmethod(alerts.upsert_member)
    erase_member = staticmethod(alerts.erase_member)

    # -- security and account alerts ------------------------------------------------------
    @on_event("auth", "login_locked")
    def login_locked(self, tx: Any, envelope: dict) -> None:
        event_alerts.login_locked(tx, self.correspondence.renderer,
                                  self.correspondence.forgot_password_url, envelope)

    @on_event("auth", "password_changed")
    def password_changed(self, tx: Any, envelope: dict) -> None:
        event_alerts.password_changed(tx, self.correspondence.renderer,
                                      self.correspondence.forgot_password_url, envelope)

    @on_event("auth", "email_changed")
    def email_changed(self, tx: Any, envelope: dict) -> None:
        event_alerts.email_changed(tx, self.correspondence.renderer, envelope)

    # -- payments ---------------------------------------------------------------------
    @on_event("benefits", "refund_paid")
    def refund_paid(self, tx: Any, envelope: dict) -> None:
        event_alerts.refund_paid(tx, self.correspondence.renderer, envelope)

    @on_event("benefits", "payment_made")
    def payment_made(self, tx: Any, envelope: dict) -> None:
        event_alerts.payment_made(tx, self.correspondence.renderer, envelope)

    # -- requests and documents -------------------------------------------------------------
    @on_event("requests", "status_changed")
    def request_status_changed(self, tx: Any, envelope: dict) -> None:
        event_alerts.request_status_changed(tx, self.correspondence.renderer, envelope)

    @on_event("documents", "document_received")
    def document_received(self, tx: Any, envelope: dict) -> None:
        event_alerts.document_received(tx, self.correspondence.renderer, envelope)

    # -- commands that carry tokens (never events: every subscriber reads events) ---------
    @rpc
    def send_email_verification(self, member_id: str, email: str, token: str,
                                expires_hours: int = 24) -> None:
        with self.db.transaction() as tx:
            link_emails.email_verification(tx.session, self.correspondence.renderer,
                                           member_id, email, token, expires_hours)

    @rpc
    def send_password_reset(self, member_id: str, token: str, expires_minutes: int,
                            email: str) -> None:
        """`email` is the validated address auth holds (the copy here may lag)."""
        with self.db.transaction() as tx:
            link_emails.password_reset(tx.session, self.correspondence.renderer, member_id,
                                       email, token, expires_minutes)

    # -- the member's alerts (through the gateway) ----------------------------------------
    @rpc
    def list_alerts(self, member_id: str, unread: bool = False, cursor: str | None = None,
                    limit: int = alerts.DEFAULT_LIMIT) -> dict:
        member_id = alerts.member_key(member_id)
        with self.db.member_read(member_id, "alerts.read") as session:
            return alerts.list_alerts(session, member_id, unread=unread, cursor=cursor,
                                      limit=limit)

    @rpc
    def unread_count(self, member_id: str) -> dict:
        member_id = alerts.member_key(member_id)
        with self.db.member_read(member_id, "alerts.read") as session:
            return {"count": alerts.unread_count(session, member_id)}

    @rpc
    def mark_read(self, member_id: str, alert_id: str) -> dict:
        with self.db.transaction() as tx:
            return alerts.mark_read(tx.session, member_id, alert_id)

    @rpc
    def mark_all_read(self, member_id: str) -> dict:
        member_id = alerts.member_key(member_id)
        with self.db.transaction() as tx:
            return {"marked": alerts.mark_all_read(tx.session, member_id)}

    @rpc
    def get_preferences(self, member_id: str) -> dict:
        member_id = alerts.member_key(member_id)
        with self.db.member_read(member_id, "preferences.read") as session:
            return alerts.preferences(session, member_id)

    @rpc
    def set_preferences(self, member_id: str, preferences: dict) -> dict:
        member_id = alerts.member_key(member_id)
        with self.db.transaction() as tx:
            result = alerts.set_preferences(tx.session, member_id, preferences)
            tx.audit("preferences.changed", member_id=member_id,
                     details={"email": preferences.get("email")})
            return result

    # -- the fund's systems --------------------------------------------------------------
    @rpc
    def post_alert(self, member_id: str, alert: dict) -> dict:
        with self.db.transaction() as tx:
            return alerts.alert_view(alerts.post_alert(tx, self.correspondence.renderer,
                                                       member_id, alert))

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        member_id = alerts.member_key(member_id)
        with self.db.member_read(member_id, "member.exported") as session:
            return alerts.export(session, member_id)

    @timer(interval=1.0)
    def deliver_emails(self) -> None:
        emails.deliver_due(self.db.engine, self.correspondence.smtp)

