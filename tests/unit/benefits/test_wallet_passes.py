"""The member's pass from the card view, and the checks of Apple's web service calls
(services.benefits.wallet.passes and .web_service, no database)."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import io
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from services.benefits.wallet import passes, web_service
from services.benefits.wallet.apple import pass_authentication_token
from services.benefits.wallet.card import card_for_pass, pass_serial
from services.kit.errors import NotFound, Unauthorized, ValidationFailed

VIEW = {
    "fund": "CCSS", "registration_number": "123456", "first_name": "Marie",
    "last_name": "Rocher", "valid_from": "2025-01-01", "valid_until": "2025-12-31",
    "rights_status": "open", "qr_payload": "eyJhbGciOiJFZERTQSJ9.e30.c2ln",
    "beneficiaries": [{"first_name": "Paul", "last_name": "Rocher"}],
}


@pytest.fixture(scope="module")
def configurations(tmp_path_factory: pytest.TempPathFactory) -> passes.WalletConfigurations:
    settings = SimpleNamespace(
        BENEFITS_WALLET_DIR=str(tmp_path_factory.mktemp("wallet")),
        BENEFITS_APPLE_PASS_CERT_FILE="", BENEFITS_APPLE_PASS_KEY_FILE="",
        BENEFITS_APPLE_WWDR_CERT_FILE="", BENEFITS_APPLE_AUTH_SECRET_FILE="",
        BENEFITS_APPLE_WEB_SERVICE_URL="https://members.example/api/v1/wallet/apple/",
        BENEFITS_GOOGLE_ISSUER_ID="", BENEFITS_GOOGLE_KEY_FILE="")
    return passes.WalletConfigurations(settings)


def test_the_card_view_becomes_a_pass_with_one_serial_per_registration_number() -> None:
    card = card_for_pass(VIEW)
    assert card.serial == pass_serial("CCSS", "123456") == "CCSS-123456"
    assert card.member_name == "Marie ROCHER"
    assert card.valid_until == datetime.date(2025, 12, 31)
    assert card.beneficiaries == ("Paul Rocher",)


def test_an_apple_pass_rides_as_base64_with_its_web_service(
        configurations: passes.WalletConfigurations) -> None:
    answer = passes.wallet_pass(VIEW, "apple", configurations)
    assert answer["media_type"] == "application/vnd.apple.pkpass"
    assert answer["filename"] == "carte-123456.pkpass"
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(answer["pkpass"]))) as archive:
        data = json.loads(archive.read("pass.json"))
    assert data["serialNumber"] == "CCSS-123456"
    assert data["webServiceURL"] == "https://members.example/api/v1/wallet/apple"
    assert data["authenticationToken"] == pass_authentication_token(
        configurations.apple(), "CCSS-123456")


def test_a_google_pass_is_a_save_link(configurations: passes.WalletConfigurations) -> None:
    answer = passes.wallet_pass(VIEW, "google", configurations)
    assert answer["save_url"].startswith("https://pay.google.com/gp/v/save/")


def test_the_development_keys_are_made_once(configurations: passes.WalletConfigurations,
                                            ) -> None:
    assert configurations.apple() is configurations.apple()
    assert (Path(configurations.directory) / "apple" / "web-service.key").exists()


@pytest.mark.parametrize("kind", ["samsung", "", None, 1])
def test_another_wallet_is_refused(kind: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        passes.check_kind(kind)
    assert caught.value.errors[0]["field"] == "kind"


def test_a_device_call_needs_our_pass_type_and_the_pass_token(
        configurations: passes.WalletConfigurations) -> None:
    config = configurations.apple()
    token = pass_authentication_token(config, "CCSS-123456")
    web_service.check_pass(config, config.pass_type_identifier, "CCSS-123456", token)
    with pytest.raises(NotFound) as caught:
        web_service.check_pass(config, "pass.other", "CCSS-123456", token)
    assert caught.value.code == "pass_type_not_found"
    with pytest.raises(Unauthorized):
        web_service.check_pass(config, config.pass_type_identifier, "CCSS-123456",
                               pass_authentication_token(config, "CCSS-654321"))
    with pytest.raises(NotFound) as caught:
        web_service.check_pass(config, config.pass_type_identifier, "not a serial", token)
    assert caught.value.code == "card_not_found"


def test_without_the_web_service_no_device_call_is_ours(
        configurations: passes.WalletConfigurations) -> None:
    config = dataclasses.replace(configurations.apple(), web_service_url=None,
                                 authentication_token=None)
    with pytest.raises(NotFound) as caught:
        web_service.check_pass(config, config.pass_type_identifier, "CCSS-123456", "x" * 64)
    assert caught.value.code == "pass_type_not_found"
