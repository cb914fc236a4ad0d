"""What each event notifications listens to becomes: an alert in the member's space,
and an e-mail when the member wants one (security alerts are always e-mailed)."""

from __future__ import annotations

from typing import Any

from services.kit.db import UnitOfWork
from services.notifications import alerts, emails
from services.notifications.rendering import Renderer


def mask(email: str) -> str:
    """j***@example.mc: enough to recognise, not enough to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _with_reset_link(envelope: dict[str, Any], forgot_password_url: str) -> dict[str, Any]:
    """The event's data plus the link to the forgotten-password page (for a member who
    did not do what the security alert tells of)."""
    return {**envelope["data"], "reset_url": forgot_password_url}


def login_locked(tx: UnitOfWork, renderer: Renderer, forgot_password_url: str,
                 envelope: dict[str, Any]) -> None:
    alerts.notify(tx, renderer, envelope["member_id"], kind="login_locked",
                  category="security", params={"until": envelope["data"]["until"]},
                  email_kind="login_locked",
                  email_params=_with_reset_link(envelope, forgot_password_url))


def password_changed(tx: UnitOfWork, renderer: Renderer, forgot_password_url: str,
                     envelope: dict[str, Any]) -> None:
    """A reset and a change tell different stories: each its own alert and e-mail."""
    data = envelope["data"]
    kind = "password_reset" if data.get("method") == "reset" else "password_changed"
    alerts.notify(tx, renderer, envelope["member_id"], kind=kind, category="security",
                  params={"at": data["at"]}, email_kind=kind,
                  email_params={"at": data["at"],
                                **_with_reset_link(envelope, forgot_password_url)})


def email_changed(tx: UnitOfWork, renderer: Renderer, envelope: dict[str, Any]) -> None:
    """An alert, and a notice to the previous address showing the new one masked."""
    data = envelope["data"]
    alerts.notify(tx, renderer, envelope["member_id"], kind="email_changed",
                  category="account", params={"email": data["email"]})
    if data.get("previous_email"):
        who = alerts.member(tx.session, envelope["member_id"])
        emails.queue(tx.session, renderer, to=data["previous_email"],
                     member_id=who.member_id, kind="email_changed_old_address",
                     language=who.language,
                     params={"first_name": who.first_name,
                             "new_email_masked": mask(data["email"])})


def refund_paid(tx: UnitOfWork, renderer: Renderer, envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    alerts.notify(tx, renderer, envelope["member_id"], kind="refund_paid",
                  category="payments", params=data, resource=("refund", data["refund_id"]))


def payment_made(tx: UnitOfWork, renderer: Renderer, envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    alerts.notify(tx, renderer, envelope["member_id"], kind="payment_made",
                  category="payments", params=data, resource=("payment", data["payment_id"]))


def request_status_changed(tx: UnitOfWork, renderer: Renderer,
                           envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    alerts.notify(tx, renderer, envelope["member_id"], kind="request_status",
                  category="requests",
                  params={"type": data["type"], "to": data["to"], "note": data.get("note")},
                  resource=("request", data["request_id"]))


def document_received(tx: UnitOfWork, renderer: Renderer, envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    alerts.notify(tx, renderer, envelope["member_id"], kind="document_received",
                  category="documents",
                  params={"category": data["category"], "filename": data["filename"]},
                  resource=("document", data["document_id"]))
