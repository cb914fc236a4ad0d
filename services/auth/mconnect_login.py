"""Logging in with MConnect: the flow's state, linking the identity, opening the session.

The OpenID Connect details live in `mconnect`; this module keeps the flow (state,
nonce and PKCE verifier, single use, ten minutes), links an MConnect identity to a
person on first use through the registration number claim, and opens the session.
A password lock or a pending password change does not apply: no password is used.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa

from services.auth import sessions
from services.auth.mconnect import MConnectClient, MConnectError
from services.auth.models import (
    MConnectFlow,
    MConnectIdentity,
    MobileLoginCode,
    Person,
    Subscription,
)
from services.auth.tokens import digest
from services.kit.db import UnitOfWork
from services.kit.errors import ServiceError, ServiceUnavailable, Unauthorized

FLOW_SECONDS = 600
MOBILE_CODE_SECONDS = 120


def not_configured() -> ServiceUnavailable:
    return ServiceUnavailable("MConnect login is not configured.", code="mconnect_unavailable")


def start(tx: UnitOfWork, client: MConnectClient | None, app_client: str,
          binding: Any) -> dict[str, str]:
    """`binding` is a secret the gateway also keeps in a cookie of the browser that
    starts; only that browser can finish the flow (no logging someone into another's
    account by sending them a callback link)."""
    if client is None:
        raise not_configured()
    if app_client not in sessions.CLIENTS:
        raise ServiceError("client must be web or mobile.", code="validation_failed",
                           status=422, extra={"errors": [{"field": "client",
                                                          "code": "not_allowed",
                                                          "detail": "web or mobile"}]})
    if not isinstance(binding, str) or len(binding) < 16:
        raise ServiceError("A browser binding is required.", code="validation_failed",
                           status=422)
    try:
        request = client.authorization_request()
    except MConnectError as exc:
        raise ServiceUnavailable(exc.detail, code=exc.code) from None
    tx.session.add(MConnectFlow(state_hash=digest(request.state), nonce=request.nonce,
                                code_verifier=request.code_verifier, client=app_client,
                                binding_hash=digest(binding), created_at=sessions.now()))
    return {"authorization_url": request.url}


def _flow(tx: UnitOfWork, state: Any, binding: Any) -> MConnectFlow:
    flow = tx.session.get(MConnectFlow, digest(state), with_for_update=True) \
        if isinstance(state, str) and state else None
    if flow is None or flow.created_at < sessions.now() - dt.timedelta(seconds=FLOW_SECONDS) \
            or not isinstance(binding, str) \
            or not secrets.compare_digest(digest(binding), flow.binding_hash):
        raise Unauthorized("This MConnect login is unknown or has expired; start again.",
                           code="mconnect_state_invalid")
    tx.session.delete(flow)  # single use, whatever happens next
    return flow


def _person_for(tx: UnitOfWork, issuer: str, subject: str,
                registration_number: str | None) -> Person | None:
    linked = tx.session.get(MConnectIdentity, (issuer, subject))
    if linked is not None:
        return tx.session.get(Person, linked.person_id)
    if not registration_number:
        return None
    person = tx.session.scalar(sa.select(Person).join(Subscription).where(
        Subscription.registration_number == registration_number))
    if person is not None:
        tx.session.add(MConnectIdentity(issuer=issuer, subject=subject, person_id=person.id,
                                        linked_at=sessions.now()))
        tx.audit("mconnect.linked", member_id=person.id, details={"issuer": issuer})
    return person


def callback(tx: UnitOfWork, client: MConnectClient | None, tokens: sessions.TokenSettings,
             state: Any, code: Any, error: Any = None,
             binding: Any = None) -> dict[str, Any] | None:
    """Finish the flow. Web: the session's tokens. Mobile: a one-time code for the app."""
    if client is None:
        raise not_configured()
    flow = _flow(tx, state, binding)
    outcome: dict[str, Any] = {"client": flow.client}
    if error or not isinstance(code, str) or not code:
        tx.refuse_after_commit(Unauthorized("The MConnect login was cancelled or refused.",
                                            code="mconnect_refused",
                                            extra={"client": flow.client}))
        return None
    try:
        identity = client.exchange(code, flow.code_verifier, flow.nonce)
    except MConnectError as exc:
        status = 503 if exc.code == "mconnect_unavailable" else 401
        tx.refuse_after_commit(ServiceError(exc.detail, code=exc.code, status=status,
                                            extra={"client": flow.client}))
        return None
    person = _person_for(tx, identity.issuer, identity.subject, identity.registration_number)
    if person is None:
        tx.refuse_after_commit(Unauthorized(
            "No member matches this MConnect identity.", code="mconnect_unknown_member",
            extra={"client": flow.client}))
        return None
    if flow.client == "mobile":
        one_time = secrets.token_urlsafe(32)
        tx.session.add(MobileLoginCode(
            code_hash=digest(one_time), person_id=person.id,
            expires_at=sessions.now() + dt.timedelta(seconds=MOBILE_CODE_SECONDS)))
        return {**outcome, "mobile_code": one_time}
    return {**outcome, **sessions.member_login(tx, tokens, person, "web", "mconnect")}


def exchange_mobile_code(tx: UnitOfWork, tokens: sessions.TokenSettings,
                         code: Any) -> dict[str, Any]:
    row = tx.session.get(MobileLoginCode, digest(code), with_for_update=True) \
        if isinstance(code, str) and code else None
    if row is None or row.expires_at < sessions.now():
        raise Unauthorized("This code is unknown, used or expired.", code="invalid_code")
    tx.session.delete(row)
    person = tx.session.get(Person, row.person_id)
    return sessions.member_login(tx, tokens, person, "mobile", "mconnect")
