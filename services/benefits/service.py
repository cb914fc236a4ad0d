"""The benefits service: profile, registration card, FSE code, care sheets, wallet,
refunds and payments. Entrypoints (and the nightly import's timer) that parse, call the
plain modules (`profiles`, `cards`, `ledger`, `feed_imports`, `wallet`) and return."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.benefits import cards, export, feed_imports, ledger, profiles
from services.benefits.models import Member, Profile
from services.benefits.secrets_box import SecretBox
from services.benefits.wallet import passes, web_service
from services.kit import clock
from services.kit.config import BaseSettings, Settings, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.directory import MemberCopyHandlers
from services.kit.health import HealthEntrypoints
from services.kit.keys import SigningKey
from services.kit.rpc import rpc
from services.kit.storage import StorageProvider, StorageSettings


class BenefitsSettings(BaseSettings, StorageSettings):
    BENEFITS_DATABASE_URL = database_url_field("benefits")
    BENEFITS_CARD_KEY_FILE = fields.String(load_default="var/keys/benefits-card-ed25519.pem")
    BENEFITS_SECRET_KEY_FILE = fields.String(load_default="var/keys/benefits-secrets.key")
    BENEFITS_WALLET_DIR = fields.String(load_default="var/keys/wallet")
    # production wallet keys; while unset, development keys under BENEFITS_WALLET_DIR
    BENEFITS_APPLE_PASS_CERT_FILE = fields.String(load_default="")
    BENEFITS_APPLE_PASS_KEY_FILE = fields.String(load_default="")
    BENEFITS_APPLE_WWDR_CERT_FILE = fields.String(load_default="")
    # Apple Wallet's web service (pass updates): its public address, and the secret the
    # passes' authentication tokens derive from (while unset, one made under
    # BENEFITS_WALLET_DIR); no webServiceURL in the passes when the address is empty
    BENEFITS_APPLE_WEB_SERVICE_URL = fields.String(
        load_default="http://127.0.0.1:8000/api/v1/wallet/apple",
        validate=validate.Regexp(r"^(https?://[^\s]+)?$", error="an http(s) URL, or empty"))
    BENEFITS_APPLE_AUTH_SECRET_FILE = fields.String(load_default="")
    BENEFITS_GOOGLE_ISSUER_ID = fields.String(load_default="")
    BENEFITS_GOOGLE_KEY_FILE = fields.String(load_default="")
    BENEFITS_PRACTITIONER_LOOKUPS_PER_MINUTE = fields.Integer(
        load_default=30, validate=validate.Range(1, 10000))
    BENEFITS_NEWS_DAYS = fields.Integer(load_default=7, validate=validate.Range(0, 365))
    BENEFITS_IMPORT_WINDOW = fields.String(
        load_default="1-7", validate=validate.Regexp(
            r"^([01]?[0-9]|2[0-4])-([01]?[0-9]|2[0-4])$", error="start-end hours, e.g. 1-7"))

    @validates("BENEFITS_IMPORT_WINDOW")
    def _window_order(self, value: str, **_: Any) -> None:
        start, end = feed_imports.window_hours(value)
        if start >= end:
            raise ValidationError("the window must start before it ends, e.g. 1-7")


class CardSigning(DependencyProvider):
    """What signs the card the member carries: the key of the card's QR code and the
    wallets' configurations (each loaded, or made for development, at first use)."""

    def setup(self) -> None:
        settings = self.container.config["SETTINGS"]
        self.card_key = SigningKey.from_pem_file(settings.BENEFITS_CARD_KEY_FILE)
        self.wallets = passes.WalletConfigurations(settings)

    def get_dependency(self, worker_ctx: Any) -> CardSigning:
        return self


class SecretBoxProvider(DependencyProvider):
    """The box that encrypts what benefits must show again (FSE code, bank account)."""

    def setup(self) -> None:
        self.box = SecretBox.from_file(self.container.config["SETTINGS"].BENEFITS_SECRET_KEY_FILE)

    def get_dependency(self, worker_ctx: Any) -> SecretBox:
        return self.box


class BenefitsService(HealthEntrypoints, MemberCopyHandlers):
    name = "benefits"
    settings_schema = BenefitsSettings

    context = RequestContext()
    db = Database("BENEFITS_DATABASE_URL")
    signing = CardSigning()
    box = SecretBoxProvider()
    storage = StorageProvider("feeds")
    settings = Settings()

    member_model = Member
    copy_member = staticmethod(profiles.upsert_member)
    erase_member = staticmethod(profiles.erase_member)

    # -- the member (through the gateway) ---------------------------------------------------
    @rpc
    def get_profile(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "profile.read") as session:
            return profiles.profile_view(session, self.box, member_id)

    @rpc
    def validate_profile_changes(self, member_id: str, changes: dict) -> dict:
        with self.db.read() as session:
            profiles.validate_changes(changes, session.get(Profile, member_id))
        return {"valid": True}

    @rpc
    def update_profile(self, member_id: str, changes: dict) -> dict:
        with self.db.transaction() as tx:
            return profiles.update_profile(tx, self.box, member_id, changes)

    @rpc
    def get_card(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "card.read") as session:
            return cards.card_view(session, self.signing.card_key, member_id)

    @rpc
    def get_fse_code(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "fse_code.read") as session:
            return cards.fse_code(session, self.box, member_id)

    @rpc
    def renew_fse_code(self, member_id: str) -> dict:
        with self.db.transaction() as tx:
            code = cards.renew_fse_code(tx, self.box, member_id)
        return {"fse_code": code}

    @rpc
    def list_care_sheets(self, member_id: str, limit: int = 50,
                         cursor: str | None = None) -> dict:
        with self.db.member_read(member_id, "care_sheets.read") as session:
            return cards.care_sheets(session, member_id, cards.page_limit(limit), cursor)

    @rpc
    def wallet_pass(self, member_id: str, kind: str) -> dict:
        """The card as an Apple pass (base64, a few KB) or a Google save link."""
        passes.check_kind(kind)
        with self.db.member_read(member_id, f"wallet.{kind}") as session:
            view = cards.card_view(session, self.signing.card_key, member_id)
        return passes.wallet_pass(view, kind, self.signing.wallets)

    @rpc
    def list_refunds(self, member_id: str, query: dict | None = None) -> dict:
        with self.db.member_read(member_id, "refunds.read") as session:
            return ledger.list_refunds(session, member_id, query)

    @rpc
    def list_payments(self, member_id: str, query: dict | None = None) -> dict:
        with self.db.member_read(member_id, "payments.read") as session:
            return ledger.list_payments(session, member_id, query)

    @rpc
    def payments_for_statement(self, member_id: str, period: dict) -> dict:
        """For documents' payment certificates and annual tax statements."""
        details = ({k: str(period.get(k))[:32] for k in ("from", "to")}
                   if isinstance(period, dict) else None)
        with self.db.member_read(member_id, "payments.statement", details=details) as session:
            return ledger.payments_for_statement(session, member_id, period)

    # -- Apple Wallet's web service (through the gateway, for devices) -------------------
    @rpc
    def register_pass_device(self, device: str, pass_type: str, serial: str, token: str,
                             push_token: str) -> dict:
        web_service.check_pass(self.signing.wallets.apple(), pass_type, serial, token)
        with self.db.transaction() as tx:
            return {"created": web_service.register(tx, device, pass_type, serial,
                                                    push_token)}

    @rpc
    def unregister_pass_device(self, device: str, pass_type: str, serial: str,
                               token: str) -> None:
        web_service.check_pass(self.signing.wallets.apple(), pass_type, serial, token)
        with self.db.transaction() as tx:
            web_service.unregister(tx.session, device, pass_type, serial)

    @rpc
    def changed_passes(self, device: str, pass_type: str, since: str | None = None) -> dict:
        web_service.check_pass_type(self.signing.wallets.apple(), pass_type)
        with self.db.transaction() as tx:
            return web_service.changed_serials(tx.session, device, pass_type, since)

    @rpc
    def latest_pass(self, pass_type: str, serial: str, token: str) -> dict:
        """The pass as it is now, with when its content last changed."""
        web_service.check_pass(self.signing.wallets.apple(), pass_type, serial, token)
        with self.db.transaction() as tx:
            view, modified = web_service.latest_card(tx, self.signing.card_key, serial)
        return {**passes.wallet_pass(view, "apple", self.signing.wallets),
                "last_modified": modified.isoformat()}

    # -- practitioners' systems and the public status check -----------------------------------
    @rpc
    def care_sheets_for_code(self, fse_code: str) -> dict:
        """A practitioner's system resolves a member's FSE code: rate-limited, audited."""
        return cards.care_sheets_for_code(
            self.db, self.context.actor, self.box, fse_code,
            self.settings.BENEFITS_PRACTITIONER_LOOKUPS_PER_MINUTE)

    @rpc
    def card_status(self, jti: str) -> dict:
        with self.db.read() as session:
            return cards.card_status(session, jti)

    @rpc
    def get_card_keys(self) -> dict:
        return {"keys": [self.signing.card_key.public_jwk()]}

    # -- the fund's systems ---------------------------------------------------------------
    @rpc
    def issue_card(self, member_id: str, card: dict) -> dict:
        with self.db.transaction() as tx:
            issued = cards.issue_card(tx, member_id, card)
            return {"card_id": issued.id}

    @rpc
    def upsert_beneficiaries(self, member_id: str, beneficiaries: list) -> dict:
        with self.db.transaction() as tx:
            return {"count": cards.upsert_beneficiaries(tx, member_id, beneficiaries)}

    @rpc
    def upsert_care_sheets(self, care_sheets: list) -> dict:
        with self.db.transaction() as tx:
            return {"count": cards.upsert_care_sheets(tx, care_sheets)}

    @rpc
    def ingest_records(self, records: list, notify: bool = True) -> dict:
        """Refunds and payments from the fund's systems; idempotent on record ids.
        `notify: false` for a back-fill: nothing is announced."""
        loaded = ledger.load_records(records)
        with self.db.transaction() as tx:
            result = ledger.ingest(tx, loaded, notify=bool(notify),
                                   news_days=self.settings.BENEFITS_NEWS_DAYS)
            tx.audit("ledger.fed", member_id=None,
                     details={"new": result["new"], "updated": result["updated"]})
            return result

    @rpc
    def import_feeds(self) -> list:
        """Import the dropped files now (ops, tests); the timer does it in the window."""
        return feed_imports.import_pending(self.db, self.storage,
                                           self.settings.BENEFITS_NEWS_DAYS)

    @timer(interval=300)
    def nightly_import(self) -> None:
        feed_imports.import_if_in_window(self.db, self.storage,
                                         self.settings.BENEFITS_NEWS_DAYS,
                                         self.settings.BENEFITS_IMPORT_WINDOW)

    @rpc
    def update_window(self) -> dict:
        """The nightly window in which the fund's data is updated (the import window):
        the gateway's `GET /api/v1/status` tells members about it."""
        start, end = (int(h) for h in self.settings.BENEFITS_IMPORT_WINDOW.split("-"))
        return {"start": f"{start:02d}:00", "end": f"{end:02d}:00",
                "timezone": clock.MONACO.key}

    @rpc
    def set_bank_account(self, member_id: str, iban: str) -> None:
        with self.db.transaction() as tx:
            profiles.set_bank_account(tx, self.box, member_id, iban)

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "member.exported") as session:
            return export.member_data(session, self.box, member_id)
