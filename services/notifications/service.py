"""The notifications service: events in, alerts and e-mails out. Entrypoints only."""

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
from services.notifications import alerts, mail
from services.notifications.mailer import SmtpSettings
from services.notifications.models import Member
from services.notifications.rendering import Renderer


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


class Channels(DependencyProvider):
    """Templates and the SMTP settings, loaded once per container."""

    def setup(self) -> None:
        settings = self.container.config["SETTINGS"]
        self.renderer = Renderer(settings.NOTIFICATIONS_PUBLIC_BASE_URL)
        self.forgot_password_url = f"{self.renderer.public_base_url}/password/forgot"
        self.smtp = SmtpSettings(
            host=settings.NOTIFICATIONS_SMTP_HOST, port=settings.NOTIFICATIONS_SMTP_PORT,
            tls=settings.NOTIFICATIONS_SMTP_TLS, username=settings.NOTIFICATIONS_SMTP_USERNAME,
            password=settings.NOTIFICATIONS_SMTP_PASSWORD,
            sender=settings.NOTIFICATIONS_SMTP_FROM)

    def get_dependency(self, worker_ctx: Any) -> Channels:
        return self


class NotificationsService(HealthEntrypoints, MemberCopyHandlers):
    name = "notifications"
    settings_schema = NotificationsSettings

    context = RequestContext()
    db = Database("NOTIFICATIONS_DATABASE_URL")
    channels = Channels()

    member_model = Member
    copy_member = staticmethod(alerts.upsert_member)
    erase_member = staticmethod(alerts.erase_member)

    # -- security and account alerts ------------------------------------------------------
    @on_event("auth", "login_locked")
    def login_locked(self, tx: Any, envelope: dict) -> None:
        alerts.notify(tx, self.channels.renderer, envelope["member_id"], kind="login_locked",
                      category="security", params={"until": envelope["data"]["until"]},
                      email_kind="login_locked", email_params=self._reset_params(envelope))

    @on_event("auth", "password_changed")
    def password_changed(self, tx: Any, envelope: dict) -> None:
        kind = "password_reset" if envelope["data"].get("method") == "reset" \
            else "password_changed"
        alerts.notify(tx, self.channels.renderer, envelope["member_id"], kind=kind,
                      category="security", params={"at": envelope["data"]["at"]},
                      email_kind=kind, email_params={"at": envelope["data"]["at"],
                                                     **self._reset_params(envelope)})

    @on_event("auth", "email_changed")
    def email_changed(self, tx: Any, envelope: dict) -> None:
        data = envelope["data"]
        alerts.notify(tx, self.channels.renderer, envelope["member_id"], kind="email_changed",
                      category="account", params={"email": data["email"]})
        if data.get("previous_email"):
            who = alerts.member(tx.session, envelope["member_id"])
            mail.queue(tx.session, self.channels.renderer, to=data["previous_email"],
                       member_id=who.member_id, kind="email_changed_old_address",
                       language=who.language,
                       params={"first_name": who.first_name,
                               "new_email_masked": mask(data["email"])})

    # -- payments ---------------------------------------------------------------------
    @on_event("benefits", "refund_paid")
    def refund_paid(self, tx: Any, envelope: dict) -> None:
        data = envelope["data"]
        alerts.notify(tx, self.channels.renderer, envelope["member_id"], kind="refund_paid",
                      category="payments", params=data,
                      resource=("refund", data["refund_id"]))

    @on_event("benefits", "payment_made")
    def payment_made(self, tx: Any, envelope: dict) -> None:
        data = envelope["data"]
        alerts.notify(tx, self.channels.renderer, envelope["member_id"], kind="payment_made",
                      category="payments", params=data,
                      resource=("payment", data["payment_id"]))

    # -- requests and documents -------------------------------------------------------------
    @on_event("requests", "status_changed")
    def request_status_changed(self, tx: Any, envelope: dict) -> None:
        data = envelope["data"]
        alerts.notify(tx, self.channels.renderer, envelope["member_id"],
                      kind="request_status", category="requests",
                      params={"type": data["type"], "to": data["to"],
                              "note": data.get("note")},
                      resource=("request", data["request_id"]))

    @on_event("documents", "document_received")
    def document_received(self, tx: Any, envelope: dict) -> None:
        data = envelope["data"]
        alerts.notify(tx, self.channels.renderer, envelope["member_id"],
                      kind="document_received", category="documents",
                      params={"category": data["category"], "filename": data["filename"]},
                      resource=("document", data["document_id"]))

    def _reset_params(self, envelope: dict) -> dict[str, Any]:
        return {**envelope["data"], "reset_url": self.channels.forgot_password_url}

    # -- commands that carry tokens (never events: every subscriber reads events) ---------
    @rpc
    def send_email_verification(self, member_id: str, email: str, token: str,
                                expires_hours: int = 24) -> None:
        with self.db.transaction() as tx:
            who = alerts.addressee(tx.session, alerts.check_member_id(member_id))
            mail.queue(tx.session, self.channels.renderer, to=email, member_id=who.member_id,
                       kind="email_verification", language=who.language,
                       params={"first_name": who.first_name, "expires_hours": expires_hours,
                               "verify_url": self.channels.renderer.link("/email/verify",
                                                                         token)})

    @rpc
    def send_password_reset(self, member_id: str, token: str, expires_minutes: int,
                            email: str) -> None:
        """`email` is the validated address auth holds (the copy here may lag)."""
        with self.db.transaction() as tx:
            who = alerts.addressee(tx.session, alerts.check_member_id(member_id))
            mail.queue(tx.session, self.channels.renderer, to=email,
                       member_id=who.member_id, kind="password_reset_request",
                       language=who.language,
                       params={"first_name": who.first_name,
                               "expires_minutes": expires_minutes,
                               "reset_url": self.channels.renderer.link("/password/reset",
                                                                        token)})

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
            return alerts.alert_view(alerts.post_alert(tx, self.channels.renderer,
                                                       member_id, alert))

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        member_id = alerts.member_key(member_id)
        with self.db.member_read(member_id, "member.exported") as session:
            return alerts.export(session, member_id)

    @timer(interval=1.0)
    def deliver_emails(self) -> None:
        mail.deliver_due(self.db.engine, self.channels.smtp)


def mask(email: str) -> str:
    """j***@example.mc: enough to recognise, not enough to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
