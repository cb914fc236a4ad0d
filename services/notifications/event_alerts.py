"""What each event notifications listens to becomes: an alert in the member's space,
and an e-mail when the member wants one (security alerts are always e-mailed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.kit.db import UnitOfWork
from services.notifications import alerts, emails
from services.notifications.models import Alert
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


# A request's moves that are e-mailed as well (the member must act, or it is over);
# received and in progress stay in the member's space.
EMAILED_MOVES = frozenset({"needs_information", "completed", "rejected"})
# The system's moves this close to an unread alert about the same request share it.
QUICK_MOVES = dt.timedelta(seconds=10)


def newer(moved_at: dt.datetime, recent: Alert) -> bool:
    """Events arrive in no set order: the move with the latest time is the one shown."""
    return recent.moved_at is None or moved_at > recent.moved_at


def told_in(recent: Alert | None, moved_at: dt.datetime, moved_by: str | None) -> str:
    """How a move is told: "own" (an alert of its own), "replace" (the recent unread
    alert about the request now tells of it) or "covered" (a later move is already
    told there). The system's quick moves share one alert, the latest move shown (an
    automatic certificate goes from received to completed in seconds); a member's or an
    agent's move keeps an alert of its own, unless a later move by the system is already
    shown (it arrived first: in order, it would have replaced this one)."""
    if recent is None:
        return "own"
    if moved_by == "system":
        return "replace" if newer(moved_at, recent) else "covered"
    if recent.moved_by == "system" and not newer(moved_at, recent):
        return "covered"
    return "own"


def request_status_changed(tx: UnitOfWork, renderer: Renderer,
                           envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    member_id, request_id = envelope["member_id"], data["request_id"]
    moved_at = dt.datetime.fromisoformat(data["at"])
    moved_by = data.get("by")
    params = {"type": data["type"], "to": data["to"], "note": data.get("note")}
    email_kind = "request_status" if data["to"] in EMAILED_MOVES else None
    email_params = {**params, "request_url": renderer.page(f"/requests/{request_id}")}
    alerts.member(tx.session, member_id, lock=True)  # one move of a member at a time
    recent = alerts.recent_unread(tx.session, member_id, "request_status",
                                  ("request", request_id), since=alerts.now() - QUICK_MOVES)
    how = told_in(recent, moved_at, moved_by)
    if how == "covered":
        return
    if how == "replace":
        alerts.rewrite(tx, renderer, recent, params, email_kind, email_params)
        recent.moved_at, recent.moved_by = moved_at, moved_by
        return
    alert = alerts.notify(tx, renderer, member_id, kind="request_status",
                          category="requests", params=params,
                          resource=("request", request_id),
                          email_kind=email_kind, email_params=email_params)
    alert.moved_at, alert.moved_by = moved_at, moved_by


def document_received(tx: UnitOfWork, renderer: Renderer, envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    alerts.notify(tx, renderer, envelope["member_id"], kind="document_received",
                  category="documents",
                  params={"category": data["category"], "filename": data["filename"]},
                  resource=("document", data["document_id"]))
