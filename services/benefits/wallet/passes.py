"""The member's pass in either wallet, signed with the configuration the settings name:
production files when given, else development keys under BENEFITS_WALLET_DIR."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from services.benefits.wallet import apple, development, google
from services.benefits.wallet.card import card_for_pass
from services.kit.errors import FieldError, ValidationFailed

KINDS = ("apple", "google")
PASS_CAP = 256 * 1024  # a pass rides back in an RPC answer: a few KB, never more than this


class WalletConfigurations:
    """The Apple and Google configurations, each loaded (or made) at first use."""

    def __init__(self, settings: Any):
        self._settings = settings
        self.directory = Path(settings.BENEFITS_WALLET_DIR)
        self._apple: apple.AppleWalletConfig | None = None
        self._google: google.GoogleWalletConfig | None = None

    def apple(self) -> apple.AppleWalletConfig:
        if self._apple is None:
            s = self._settings
            service = ({"web_service_url": s.BENEFITS_APPLE_WEB_SERVICE_URL.rstrip("/"),
                        "authentication_token": self._pass_secret()}
                       if s.BENEFITS_APPLE_WEB_SERVICE_URL else {})
            self._apple = (apple.load_apple_config(
                s.BENEFITS_APPLE_PASS_CERT_FILE, s.BENEFITS_APPLE_PASS_KEY_FILE,
                s.BENEFITS_APPLE_WWDR_CERT_FILE, **service) if s.BENEFITS_APPLE_PASS_CERT_FILE
                else development.development_apple_config(self.directory / "apple",
                                                          **service))
        return self._apple

    def _pass_secret(self) -> str:
        configured = self._settings.BENEFITS_APPLE_AUTH_SECRET_FILE
        return (Path(configured).read_text().strip() if configured
                else development.development_pass_secret(self.directory / "apple"))

    def google(self) -> google.GoogleWalletConfig:
        if self._google is None:
            s = self._settings
            self._google = (google.load_google_config(
                s.BENEFITS_GOOGLE_ISSUER_ID, s.BENEFITS_GOOGLE_KEY_FILE)
                if s.BENEFITS_GOOGLE_KEY_FILE
                else development.development_google_config(self.directory / "google"))
        return self._google


def check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise ValidationFailed.of([FieldError("kind", "not_allowed", "apple or google")])
    return kind


def wallet_pass(view: dict[str, Any], kind: str,
                configurations: WalletConfigurations) -> dict[str, Any]:
    """The card (`cards.card_view`) as an Apple pass (base64) or a Google save link."""
    card = card_for_pass(view)
    if check_kind(kind) == "google":
        return {"save_url": google.google_save_url(card, configurations.google())}
    data = apple.build_pkpass(card, configurations.apple())
    if len(data) > PASS_CAP:
        raise RuntimeError("the pass grew past its cap")
    return {"pkpass": base64.b64encode(data).decode(), "media_type": apple.PKPASS_MEDIA_TYPE,
            "filename": f"carte-{view['registration_number']}.pkpass"}
