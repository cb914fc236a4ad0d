"""The auth service: nameko entrypoints only; the rules live in plain modules."""

from __future__ import annotations

from typing import Any

import eventlet
from marshmallow import fields, validate
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.auth import (
    accounts,
    agent_login,
    agents,
    mconnect_login,
    member_sessions,
    recovery,
    sessions,
)
from services.auth.factor import FactorBox
from services.auth.hashing import Argon2Parameters, PasswordHashing
from services.auth.mconnect import MConnectClient, MConnectConfig
from services.auth.tokens import SigningKey
from services.kit.config import BaseSettings, Flag, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.health import HealthEntrypoints
from services.kit.logging import get_logger
from services.kit.roles import AGENT, SUPERVISOR, require_role
from services.kit.rpc import ServiceRpc, rpc

log = get_logger(__name__)


class AuthSettings(BaseSettings):
    AUTH_DATABASE_URL = database_url_field("auth")
    AUTH_SIGNING_KEY_FILE = fields.String(load_default="var/keys/auth-signing-ed25519.pem")
    AUTH_ACCESS_TOKEN_TTL = fields.Integer(load_default=600, validate=validate.Range(60, 3600))
    AUTH_REFRESH_TOKEN_TTL = fields.Integer(load_default=30 * 86400,
                                            validate=validate.Range(3600, 90 * 86400))
    AUTH_ARGON2_TIME_COST = fields.Integer(load_default=3, validate=validate.Range(1, 20))
    AUTH_ARGON2_MEMORY_KIB = fields.Integer(load_default=65536,
                                            validate=validate.Range(8192, 1048576))
    AUTH_ARGON2_PARALLELISM = fields.Integer(load_default=4, validate=validate.Range(1, 16))
    AUTH_LOCKOUT_THRESHOLD = fields.Integer(load_default=5, validate=validate.Range(2, 50))
    AUTH_LOCKOUT_SECONDS = fields.Integer(load_default=900, validate=validate.Range(10, 86400))
    AUTH_CONNECTION_RETENTION_DAYS = fields.Integer(load_default=730,
                                                    validate=validate.Range(1, 3650))
    # MConnect (OpenID Connect); login with MConnect is off while the URL is empty
    AUTH_MCONNECT_DISCOVERY_URL = fields.String(load_default="")
    AUTH_MCONNECT_CLIENT_ID = fields.String(load_default="")
    AUTH_MCONNECT_CLIENT_SECRET = fields.String(load_default="")
    AUTH_MCONNECT_REDIRECT_URI = fields.String(
        load_default="http://127.0.0.1:8000/api/v1/auth/mconnect/callback")
    AUTH_MCONNECT_REGISTRATION_CLAIM = fields.String(load_default="registration_number")
    AUTH_MCONNECT_SCOPES = fields.String(load_default="openid profile")
    # staff: agents' TOTP secrets are sealed under this key (not the signing key)
    AUTH_FACTOR_KEY_FILE = fields.String(load_default="var/keys/auth-factor.key")
    # `make run` only: accept the documented development secret of the demo agent
    AUTH_DEVELOPMENT_FACTOR = Flag(load_default=False)
    AUTH_AGENT_SESSION_TTL = fields.Integer(load_default=8 * 3600,
                                            validate=validate.Range(900, 8 * 3600))
    AUTH_AGENT_IDLE_TIMEOUT = fields.Integer(load_default=30 * 60,
                                             validate=validate.Range(60, 30 * 60))


class Credentials(DependencyProvider):
    """The password hasher, the token signing key and the lockout policy, loaded once."""

    def setup(self) -> None:
        settings = self.container.config["SETTINGS"]
        self.hashing = PasswordHashing(Argon2Parameters(
            settings.AUTH_ARGON2_TIME_COST, settings.AUTH_ARGON2_MEMORY_KIB,
            settings.AUTH_ARGON2_PARALLELISM))
        self.tokens = sessions.TokenSettings(
            SigningKey.from_pem_file(settings.AUTH_SIGNING_KEY_FILE),
            settings.AUTH_ACCESS_TOKEN_TTL, settings.AUTH_REFRESH_TOKEN_TTL,
            settings.AUTH_AGENT_SESSION_TTL, settings.AUTH_AGENT_IDLE_TIMEOUT)
        self.factor = agent_login.FactorSettings(
            FactorBox.from_file(settings.AUTH_FACTOR_KEY_FILE),
            settings.AUTH_DEVELOPMENT_FACTOR)
        self.lockout = sessions.LockoutPolicy(settings.AUTH_LOCKOUT_THRESHOLD,
                                              settings.AUTH_LOCKOUT_SECONDS)
        self.retention_days = settings.AUTH_CONNECTION_RETENTION_DAYS
        self.mconnect = None
        if settings.AUTH_MCONNECT_DISCOVERY_URL:
            self.mconnect = MConnectClient(MConnectConfig(
                discovery_url=settings.AUTH_MCONNECT_DISCOVERY_URL,
                client_id=settings.AUTH_MCONNECT_CLIENT_ID,
                client_secret=settings.AUTH_MCONNECT_CLIENT_SECRET,
                redirect_uri=settings.AUTH_MCONNECT_REDIRECT_URI,
                registration_claim=settings.AUTH_MCONNECT_REGISTRATION_CLAIM,
                scopes=settings.AUTH_MCONNECT_SCOPES))

    def get_dependency(self, worker_ctx: Any) -> Credentials:
        return self


class AuthService(HealthEntrypoints):
    name = "auth"
    settings_schema = AuthSettings

    context = RequestContext()
    db = Database("AUTH_DATABASE_URL")
    credentials = Credentials()
    notifications = ServiceRpc("notifications", timeout=5)

    # -- members (the fund's systems) -------------------------------------------------
    @rpc
    def create_member(self, member: dict) -> dict:
        with self.db.transaction() as tx:
            return accounts.identity(accounts.create_member(tx, member))

    @rpc
    def update_member(self, member_id: str, changes: dict) -> dict:
        with self.db.transaction() as tx:
            return accounts.identity(accounts.update_member(tx, member_id, changes))

    @rpc
    def set_credentials(self, member_id: str, credentials: dict) -> dict:
        with self.db.transaction() as tx:
            person = accounts.set_credentials(tx, self.credentials.hashing, member_id,
                                              credentials)
            return {"member_id": person.id,
                    "must_change_password": person.must_change_password}

    @rpc
    def get_member(self, member_id: str) -> dict:
        if self.context.actor_type == "agent":
            require_role(self.context, AGENT)
        with self.db.member_read(member_id, "member.read") as session:
            return accounts.member_view(session, member_id)

    @rpc
    def find_member(self, registration_number: str) -> dict:
        with self.db.transaction() as tx:
            person = accounts.find_by_registration_number(tx.session, str(registration_number))
            tx.audit("member.found", member_id=person.id)
            return accounts.identity(person)

    @rpc
    def list_members(self, cursor: str | None = None, limit: int = 200) -> dict:
        with self.db.transaction() as tx:
            page = accounts.list_members(tx.session, cursor, limit)
            tx.audit("members.listed", member_id=None, details={"count": len(page["items"])})
            return page

    @rpc
    def delete_member(self, member_id: str) -> None:
        with self.db.transaction() as tx:
            accounts.delete_member(tx, member_id)

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "member.exported") as session:
            return accounts.export_member_data(session, member_id)

    # -- members themselves (through the gateway) --------------------------------------
    @rpc
    def set_language(self, member_id: str, language: str) -> dict:
        """A personal option the member changes: audited with the session."""
        with self.db.transaction() as tx:
            return accounts.identity(accounts.set_language(tx, member_id, language))

    @rpc
    def login(self, identifier: str, password: str, client: str = "web") -> dict:
        with self.db.transaction() as tx:
            return accounts.login(tx, self.credentials.hashing, self.credentials.tokens,
                                  self.credentials.lockout, identifier, password, client)

    @rpc
    def change_password(self, member_id: str, session_id: str, current_password: str,
                        new_password: str) -> dict:
        with self.db.transaction() as tx:
            return accounts.change_password(tx, self.credentials.hashing,
                                            self.credentials.tokens, member_id, session_id,
                                            current_password, new_password)

    @rpc
    def refresh(self, refresh_token: str, csrf_token: str | None = None) -> dict:
        with self.db.transaction() as tx:
            return sessions.refresh(tx, self.credentials.tokens, refresh_token, csrf_token)

    @rpc
    def logout(self, session_id: str, principal_id: str) -> None:
        with self.db.transaction() as tx:
            sessions.logout(tx, session_id, principal_id)

    @rpc
    def check_password(self, password: str, member_id: str | None = None) -> dict:
        """The member password rules `password` breaks (nothing is stored)."""
        with self.db.read() as session:
            errors = accounts.check_new_password(session, password, member_id)
        return {"acceptable": not errors, "errors": errors}

    # -- the member's own sessions (issue 18 §1) ----------------------------------------
    @rpc
    def list_sessions(self, member_id: str, current_session_id: str | None = None) -> dict:
        with self.db.member_read(member_id, "sessions.read") as session:
            return {"items": member_sessions.list_active(session, member_id,
                                                         current_session_id)}

    @rpc
    def end_session(self, member_id: str, session_id: str) -> dict:
        with self.db.transaction() as tx:
            return member_sessions.end_one(tx, member_id, session_id)

    @rpc
    def end_other_sessions(self, member_id: str, current_session_id: str) -> dict:
        with self.db.transaction() as tx:
            return member_sessions.end_others(tx, member_id, current_session_id)

    # -- the validated e-mail and the forgotten password ----------------------------------
    @rpc
    def request_email_change(self, member_id: str, email: str) -> dict:
        with self.db.transaction() as tx:
            address, token = recovery.request_email_change(tx, member_id, email)
        self.notifications.send_email_verification(member_id, address, token,
                                                   recovery.EMAIL_TOKEN_HOURS)
        return {"pending_email": address, "expires_in_hours": recovery.EMAIL_TOKEN_HOURS}

    @rpc
    def verify_email(self, token: str) -> dict:
        with self.db.transaction() as tx:
            person = recovery.verify_email(tx, token)
            return {"email": person.email, "email_validated": True}

    @rpc
    def forgot_password(self, identifier: str) -> None:
        with self.db.transaction() as tx:
            issued = recovery.forgot_password(tx, identifier)
        # sent in the background: the answer takes as long whether anyone matched or not
        for member_id, token, email in issued:
            eventlet.spawn_n(self._send_reset, self.notifications, member_id, token, email)

    @staticmethod
    def _send_reset(notifications: Any, member_id: str, token: str, email: str) -> None:
        for attempt in range(3):
            try:
                notifications.send_password_reset(member_id, token,
                                                  recovery.RESET_TOKEN_MINUTES, email)
                return
            except Exception as exc:
                log.warning("reset_email_not_requested", attempt=attempt + 1,
                            error=type(exc).__name__)
                eventlet.sleep(2 ** attempt)

    @rpc
    def reset_password(self, token: str, new_password: str) -> None:
        with self.db.transaction() as tx:
            recovery.reset_password(tx, self.credentials.hashing, token, new_password)

    # -- MConnect ---------------------------------------------------------------------
    @rpc
    def mconnect_start(self, client: str, binding: str) -> dict:
        with self.db.transaction() as tx:
            return mconnect_login.start(tx, self.credentials.mconnect, client, binding)

    @rpc
    def mconnect_callback(self, state: str, code: str | None = None,
                          error: str | None = None, binding: str | None = None) -> dict:
        with self.db.transaction() as tx:
            return mconnect_login.callback(tx, self.credentials.mconnect,
                                           self.credentials.tokens, state, code, error,
                                           binding)

    @rpc
    def mconnect_exchange(self, code: str) -> dict:
        with self.db.transaction() as tx:
            return mconnect_login.exchange_mobile_code(tx, self.credentials.tokens, code)

    # -- agents (staff: the role is checked again here, from the caller's context) --------
    @rpc
    def create_agent(self, username: str, display_name: str, roles: list,
                     password: str) -> dict:
        require_role(self.context, SUPERVISOR)
        with self.db.transaction() as tx:
            return agents.agent_view(agents.create_agent(
                tx, self.credentials.hashing, username, display_name, roles, password))

    @rpc
    def delete_agent(self, username: str) -> None:
        require_role(self.context, SUPERVISOR)
        with self.db.transaction() as tx:
            agents.delete_agent(tx, username)

    @rpc
    def list_agents(self) -> dict:
        require_role(self.context, SUPERVISOR)
        with self.db.read() as session:
            return agents.list_agents(session)

    @rpc
    def set_agent_active(self, agent_id: str, active: bool) -> dict:
        require_role(self.context, SUPERVISOR)
        with self.db.transaction() as tx:
            return agents.agent_view(agents.set_active(tx, agent_id, bool(active)))

    @rpc
    def reset_agent_factor(self, agent_id: str) -> dict:
        require_role(self.context, SUPERVISOR)
        with self.db.transaction() as tx:
            return agents.agent_view(agents.reset_factor(tx, agent_id))

    @rpc
    def enrol_development_factor(self, username: str) -> dict:
        require_role(self.context, SUPERVISOR)
        with self.db.transaction() as tx:
            return agent_login.enrol_development_factor(tx, self.credentials.factor,
                                                        username)

    @rpc
    def agent_login(self, username: str, password: str, otp: str | None = None) -> dict:
        with self.db.transaction() as tx:
            return agent_login.login(tx, self.credentials.hashing, self.credentials.tokens,
                                     self.credentials.factor, username, password, otp)

    @rpc
    def agent_otp_enrol(self, enrolment_token: str) -> dict:
        with self.db.transaction() as tx:
            return agent_login.enrol(tx, self.credentials.factor, enrolment_token)

    @rpc
    def agent_otp_confirm(self, enrolment_token: str, otp: str) -> dict:
        with self.db.transaction() as tx:
            return agent_login.confirm(tx, self.credentials.tokens, self.credentials.factor,
                                       enrolment_token, otp)

    # -- the gateway's view of sessions -------------------------------------------------
    @rpc
    def get_token_keys(self) -> dict:
        """Public keys (JWKS) the gateway verifies access tokens with."""
        return {"keys": [self.credentials.tokens.key.public_jwk()]}

    @rpc
    def list_ended_sessions(self, within_seconds: int | None = None) -> dict:
        """Sessions ended recently enough for their access tokens to be alive."""
        within = int(within_seconds or self.credentials.tokens.access_ttl + 60)
        with self.db.read() as session:
            return {"session_ids": sessions.recently_ended(session, within),
                    "email_validated_member_ids": sessions.recently_validated(session, within),
                    "access_token_ttl": self.credentials.tokens.access_ttl}

    @timer(interval=3600)
    def purge(self) -> None:
        """Counters, sessions and connection records past their retention."""
        with self.db.transaction() as tx:
            sessions.purge(tx.session, self.credentials.lockout,
                           self.credentials.retention_days)
