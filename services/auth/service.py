"""The auth service: nameko entrypoints only; the rules live in `accounts`."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate
from nameko.extensions import DependencyProvider

from services.auth import accounts
from services.auth.hashing import Argon2Parameters, PasswordHashing
from services.auth.tokens import SigningKey
from services.kit.config import BaseSettings, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.health import HealthEntrypoints
from services.kit.rpc import rpc


class AuthSettings(BaseSettings):
    AUTH_DATABASE_URL = database_url_field("auth")
    AUTH_SIGNING_KEY_FILE = fields.String(load_default="var/keys/auth-signing-ed25519.pem")
    AUTH_ACCESS_TOKEN_TTL = fields.Integer(load_default=900, validate=validate.Range(60, 3600))
    AUTH_REFRESH_TOKEN_TTL = fields.Integer(load_default=30 * 86400,
                                            validate=validate.Range(3600, 90 * 86400))
    AUTH_ARGON2_TIME_COST = fields.Integer(load_default=3, validate=validate.Range(1, 20))
    AUTH_ARGON2_MEMORY_KIB = fields.Integer(load_default=65536,
                                            validate=validate.Range(8192, 1048576))
    AUTH_ARGON2_PARALLELISM = fields.Integer(load_default=4, validate=validate.Range(1, 16))


class Credentials(DependencyProvider):
    """The password hasher and the token signing key, loaded once per container."""

    def setup(self) -> None:
        settings = self.container.config["SETTINGS"]
        self.hashing = PasswordHashing(Argon2Parameters(
            settings.AUTH_ARGON2_TIME_COST, settings.AUTH_ARGON2_MEMORY_KIB,
            settings.AUTH_ARGON2_PARALLELISM))
        self.tokens = accounts.TokenSettings(
            SigningKey.from_pem_file(settings.AUTH_SIGNING_KEY_FILE),
            settings.AUTH_ACCESS_TOKEN_TTL, settings.AUTH_REFRESH_TOKEN_TTL)

    def get_dependency(self, worker_ctx: Any) -> Credentials:
        return self


class AuthService(HealthEntrypoints):
    name = "auth"
    settings_schema = AuthSettings

    context = RequestContext()
    db = Database("AUTH_DATABASE_URL")
    credentials = Credentials()

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
        with self.db.read() as session:
            return accounts.member_view(accounts.get_person(session, member_id))

    @rpc
    def find_member(self, registration_number: str) -> dict:
        with self.db.read() as session:
            return accounts.identity(
                accounts.find_by_registration_number(session, str(registration_number)))

    @rpc
    def list_members(self, cursor: str | None = None, limit: int = 200) -> dict:
        with self.db.read() as session:
            return accounts.list_members(session, cursor, limit)

    @rpc
    def delete_member(self, member_id: str) -> None:
        with self.db.transaction() as tx:
            accounts.delete_member(tx, member_id)

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        with self.db.read() as session:
            return accounts.export_member_data(session, member_id)

    # -- members themselves (through the gateway) --------------------------------------
    @rpc
    def login(self, identifier: str, password: str, client: str = "web") -> dict:
        with self.db.transaction() as tx:
            person = accounts.authenticate(tx.session, self.credentials.hashing,
                                           identifier, password)
            return accounts.open_session(tx, self.credentials.tokens, person, client,
                                         "password")

    @rpc
    def change_password(self, member_id: str, session_id: str, current_password: str,
                        new_password: str) -> dict:
        with self.db.transaction() as tx:
            return accounts.change_password(tx, self.credentials.hashing,
                                            self.credentials.tokens, member_id, session_id,
                                            current_password, new_password)

    @rpc
    def get_token_keys(self) -> dict:
        """Public keys (JWKS) the gateway verifies access tokens with."""
        return {"keys": [self.credentials.tokens.key.public_jwk()]}
