"""The benefits service: profile, registration card, FSE code, care sheets, wallet.
Entrypoints only; the rules live in `profiles` and `cards`."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from marshmallow import ValidationError, fields, validate, validates
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.benefits import cards, imports, ledger, profiles, wallet_updates
from services.benefits.models import Member, Profile
from services.benefits.secrets_box import SecretBox
from services.kit.config import BaseSettings, Settings, database_url_field
from services.kit.context import RequestContext
from services.kit.db import Database
from services.kit.directory import MemberCopyHandlers
from services.kit.errors import FieldError, NotFound, ValidationFailed
from services.kit.health import HealthEntrypoints
from services.kit.keys import SigningKey
from services.kit.rpc import rpc
from services.kit.storage import StorageProvider, StorageSettings

WALLET_PASS_CAP = 256 * 1024


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
        start, end = (int(h) for h in value.split("-"))
        if start >= end:
            raise ValidationError("the window must start before it ends, e.g. 1-7")


class Keys(DependencyProvider):
    """Card signing key, the secret box, and the wallet configuration."""

    def setup(self) -> None:
        settings = self.container.config["SETTINGS"]
        self.card_key = SigningKey.from_pem_file(settings.BENEFITS_CARD_KEY_FILE)
        self.box = SecretBox.from_file(settings.BENEFITS_SECRET_KEY_FILE)
        self.wallet_dir = Path(settings.BENEFITS_WALLET_DIR)
        self._settings = settings
        self._apple = self._google = None
        self.lookups_per_minute = settings.BENEFITS_PRACTITIONER_LOOKUPS_PER_MINUTE
        self.news_days = settings.BENEFITS_NEWS_DAYS

    def get_dependency(self, worker_ctx: Any) -> Keys:
        return self

    def apple(self) -> Any:
        """The pass certificate: production files when configured, else development."""
        from services.benefits import wallet

        if self._apple is None:
            s = self._settings
            service = ({"web_service_url": s.BENEFITS_APPLE_WEB_SERVICE_URL.rstrip("/"),
                        "authentication_token": self._pass_secret()}
                       if s.BENEFITS_APPLE_WEB_SERVICE_URL else {})
            self._apple = (wallet.load_apple_config(
                s.BENEFITS_APPLE_PASS_CERT_FILE, s.BENEFITS_APPLE_PASS_KEY_FILE,
                s.BENEFITS_APPLE_WWDR_CERT_FILE, **service) if s.BENEFITS_APPLE_PASS_CERT_FILE
                else wallet.development_apple_config(self.wallet_dir / "apple", **service))
        return self._apple

    def _pass_secret(self) -> str:
        from services.benefits import wallet

        configured = self._settings.BENEFITS_APPLE_AUTH_SECRET_FILE
        return (Path(configured).read_text().strip() if configured
                else wallet.development_pass_secret(self.wallet_dir / "apple"))

    def google(self) -> Any:
        from services.benefits import wallet

        if self._google is None:
            s = self._settings
            self._google = (wallet.load_google_config(
                s.BENEFITS_GOOGLE_ISSUER_ID, s.BENEFITS_GOOGLE_KEY_FILE)
                if s.BENEFITS_GOOGLE_KEY_FILE
                else wallet.development_google_config(self.wallet_dir / "google"))
        return self._google


class BenefitsService(HealthEntrypoints, MemberCopyHandlers):
    name = "benefits"
    settings_schema = BenefitsSettings

    context = RequestContext()
    db = Database("BENEFITS_DATABASE_URL")
    keys = Keys()
    storage = StorageProvider("feeds")
    settings = Settings()

    member_model = Member
    copy_member = staticmethod(profiles.upsert_member)
    erase_member = staticmethod(profiles.erase_member)

    # -- the member (through the gateway) ---------------------------------------------------
    @rpc
    def get_profile(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "profile.read") as session:
            return profiles.profile_view(session, self.keys.box, member_id)

    @rpc
    def validate_profile_changes(self, member_id: str, changes: dict) -> dict:
        with self.db.read() as session:
            profiles.validate_changes(changes, session.get(Profile, member_id))
        return {"valid": True}

    @rpc
    def update_profile(self, member_id: str, changes: dict) -> dict:
        with self.db.transaction() as tx:
            return profiles.update_profile(tx, self.keys.box, member_id, changes)

    @rpc
    def get_card(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "card.read") as session:
            return cards.card_view(session, self.keys.card_key, member_id)

    @rpc
    def get_fse_code(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "fse_code.read") as session:
            return cards.fse_code(session, self.keys.box, member_id)

    @rpc
    def renew_fse_code(self, member_id: str) -> dict:
        with self.db.transaction() as tx:
            code = cards.renew_fse_code(tx, self.keys.box, member_id)
        return {"fse_code": code}

    @rpc
    def list_care_sheets(self, member_id: str, limit: int = 50,
                         cursor: str | None = None) -> dict:
        with self.db.member_read(member_id, "care_sheets.read") as session:
            return cards.care_sheets(session, member_id, cards.page_limit(limit), cursor)

    @rpc
    def wallet_pass(self, member_id: str, kind: str) -> dict:
        """The card as an Apple pass (base64, a few KB) or a Google save link."""
        if kind not in ("apple", "google"):
            raise ValidationFailed.of([FieldError("kind", "not_allowed", "apple or google")])
        with self.db.member_read(member_id, f"wallet.{kind}") as session:
            view = cards.card_view(session, self.keys.card_key, member_id)
        return self._pass_of(view, kind)

    def _pass_of(self, view: dict, kind: str) -> dict:
        from services.benefits import wallet

        card = wallet.CardForPass(
            # one serial per registration number: a renewed card replaces the pass
            serial=wallet_updates.pass_serial(view["fund"], view["registration_number"]),
            member_name=f"{view['first_name']} {view['last_name'].upper()}",
            registration_number=view["registration_number"], fund=view["fund"],
            valid_from=cards.dt.date.fromisoformat(view["valid_from"]),
            valid_until=cards.dt.date.fromisoformat(view["valid_until"]),
            rights_status=view["rights_status"],
            beneficiaries=tuple(f"{b['first_name']} {b['last_name']}"
                                for b in view["beneficiaries"]),
            qr_payload=view["qr_payload"])
        if kind == "google":
            return {"save_url": wallet.google_save_url(card, self.keys.google())}
        data = wallet.build_pkpass(card, self.keys.apple())
        if len(data) > WALLET_PASS_CAP:
            raise RuntimeError("the pass grew past its cap")
        return {"pkpass": base64.b64encode(data).decode(),
                "media_type": wallet.PKPASS_MEDIA_TYPE,
                "filename": f"carte-{view['registration_number']}.pkpass"}

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
    def _apple_service(self, pass_type: str, serial: str, token: Any) -> Any:
        """The configuration, once the pass type is ours and the token the pass's."""
        config = self.keys.apple()
        if config.authentication_token is None or pass_type != config.pass_type_identifier:
            raise NotFound("Unknown pass type.", code="pass_type_not_found")
        wallet_updates.check_token(config, serial, token)
        return config

    @rpc
    def register_pass_device(self, device: str, pass_type: str, serial: str, token: str,
                             push_token: str) -> dict:
        self._apple_service(pass_type, serial, token)
        with self.db.transaction() as tx:
            card = wallet_updates.card_for_serial(tx.session, serial)
            created = wallet_updates.register(tx.session, device, pass_type, serial,
                                              push_token)
            if created:
                tx.audit("wallet.device_registered", member_id=card.member_id,
                         details={"serial": serial})
            return {"created": created}

    @rpc
    def unregister_pass_device(self, device: str, pass_type: str, serial: str,
                               token: str) -> None:
        self._apple_service(pass_type, serial, token)
        with self.db.transaction() as tx:
            wallet_updates.unregister(tx.session, device, pass_type, serial)

    @rpc
    def changed_passes(self, device: str, pass_type: str, since: str | None = None) -> dict:
        if pass_type != self.keys.apple().pass_type_identifier:
            raise NotFound("Unknown pass type.", code="pass_type_not_found")
        with self.db.transaction() as tx:
            return wallet_updates.changed_serials(tx.session, device, pass_type, since)

    @rpc
    def latest_pass(self, pass_type: str, serial: str, token: str) -> dict:
        """The pass as it is now, with when its content last changed."""
        self._apple_service(pass_type, serial, token)
        with self.db.transaction() as tx:
            card = wallet_updates.card_for_serial(tx.session, serial)
            modified = wallet_updates.last_modified(tx.session, card)
            view = cards.card_view(tx.session, self.keys.card_key, card.member_id)
            if wallet_updates.pass_serial(view["fund"], view["registration_number"]) \
                    != serial:  # the member's pass is now another card's (the first)
                raise NotFound("No card behind this pass.", code="card_not_found")
            tx.audit("wallet.pass_refreshed", member_id=card.member_id,
                     details={"serial": serial})
        return {**self._pass_of(view, "apple"), "last_modified": modified.isoformat()}

    # -- practitioners' systems and the public status check -----------------------------------
    @rpc
    def care_sheets_for_code(self, fse_code: str) -> dict:
        """A practitioner's system resolves a member's FSE code: rate-limited, audited."""
        with self.db.transaction() as tx:  # committed even when the code is unknown
            cards.allow_lookup(tx.session, self.context.actor, self.keys.lookups_per_minute)
        with self.db.transaction() as tx:
            member_id = cards.member_for_code(tx.session, self.keys.box, fse_code)
            tx.audit("fse_code.used", member_id=member_id)
            return cards.care_sheets(tx.session, member_id)

    @rpc
    def card_status(self, jti: str) -> dict:
        with self.db.read() as session:
            return cards.card_status(session, jti)

    @rpc
    def get_card_keys(self) -> dict:
        return {"keys": [self.keys.card_key.public_jwk()]}

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
                                   news_days=self.keys.news_days)
            tx.audit("ledger.fed", member_id=None,
                     details={"new": result["new"], "updated": result["updated"]})
            return result

    @rpc
    def import_feeds(self) -> list:
        """Import the dropped files now (ops, tests); the timer does it in the window."""
        return imports.import_pending(self.db, self.storage, self.keys.news_days)

    @timer(interval=300)
    def nightly_import(self) -> None:
        start, end = (int(h) for h in self.settings.BENEFITS_IMPORT_WINDOW.split("-"))
        if imports.in_window(cards.dt.datetime.now(cards.dt.UTC), start, end):
            imports.import_pending(self.db, self.storage, self.keys.news_days)

    @rpc
    def set_bank_account(self, member_id: str, iban: str) -> None:
        with self.db.transaction() as tx:
            profiles.set_bank_account(tx, self.keys.box, member_id, iban)

    @rpc
    def export_member_data(self, member_id: str) -> dict:
        with self.db.member_read(member_id, "member.exported") as session:
            out = {"service": "benefits",
                   "profile": profiles.profile_view(session, self.keys.box, member_id),
                   "cards": [{"card_id": c.id, "registration_number": c.registration_number,
                              "fund": c.fund, "rights_status": c.rights_status,
                              "valid_from": c.valid_from.isoformat(),
                              "valid_until": c.valid_until.isoformat()}
                             for c in cards.current_cards(session, member_id)],
                   "care_sheets": cards.care_sheets(session, member_id, 1000)["items"],
                   **ledger.export(session, member_id)}
            try:  # the code itself is a credential: only when it was issued
                out["fse_code_issued_at"] = cards.fse_code(
                    session, self.keys.box, member_id)["issued_at"]
            except cards.NotFound:
                out["fse_code_issued_at"] = None
            return out
