"""Production refuses development defaults: one test per rule, and a real start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.kit.config import load_settings
from services.kit.production import (
    development_defaults,
    is_production,
    mark_development,
)

ROOT = Path(__file__).resolve().parents[3]
GOOD = {
    "AMQP_URI": "amqps://memberspace:s3cret@broker:5671/",
    "NOTIFICATIONS_DATABASE_URL": "postgresql+psycopg2://notif:pw@db/notifications",
    "NOTIFICATIONS_SMTP_TLS": "starttls",
    "NOTIFICATIONS_PUBLIC_BASE_URL": "https://espace.example.mc",
}


def names(settings: dict) -> list[str]:
    return [name for name, _ in development_defaults(settings)]


def test_only_production_turns_the_check_on():
    assert is_production({"MEMBERSPACE_ENV": "production"})
    assert is_production({"MEMBERSPACE_ENV": " Production "})
    assert not is_production({"MEMBERSPACE_ENV": "development"})
    assert not is_production({})


def test_a_clean_production_configuration_passes():
    assert names(GOOD) == []


@pytest.mark.parametrize("uri", ["amqp://guest:guest@127.0.0.1:5672/", "amqp://broker/"])
def test_guest_broker_user(uri):
    assert names({**GOOD, "AMQP_URI": uri}) == ["AMQP_URI"]


def test_database_without_password():
    url = "postgresql+psycopg2://postgres@127.0.0.1:5432/memberspace_auth"
    assert names({"AUTH_DATABASE_URL": url}) == ["AUTH_DATABASE_URL"]
    assert names({"AUTH_DATABASE_URL": url + "?sslmode=require"}) == ["AUTH_DATABASE_URL"]
    assert names({"AUTH_DATABASE_URL": url + "?sslmode=verify-full"}) == ["AUTH_DATABASE_URL"]


def test_database_with_a_client_certificate_instead_of_a_password():
    url = ("postgresql+psycopg2://auth@db/auth?sslmode=verify-full"
           "&sslcert=/etc/pg/client.crt&sslkey=/etc/pg/client.key")
    assert names({"AUTH_DATABASE_URL": url}) == []


def test_development_s3_keys():
    assert names({"S3_ACCESS_KEY_ID": "memberspace-dev",
                  "S3_SECRET_ACCESS_KEY": "memberspace-dev-secret"}) == [
        "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]
    assert names({"S3_ACCESS_KEY_ID": "AKIA123", "S3_SECRET_ACCESS_KEY": "x" * 40}) == []


def test_smtp_without_tls():
    assert names({**GOOD, "NOTIFICATIONS_SMTP_TLS": "none"}) == ["NOTIFICATIONS_SMTP_TLS"]
    assert names({**GOOD, "NOTIFICATIONS_SMTP_TLS": "ssl"}) == []


@pytest.mark.parametrize("name", ["NOTIFICATIONS_PUBLIC_BASE_URL", "GATEWAY_WEB_APP_URL",
                                  "DOCUMENTS_PUBLIC_BASE_URL", "AUTH_MCONNECT_REDIRECT_URI",
                                  "BENEFITS_APPLE_WEB_SERVICE_URL"])
def test_http_public_urls(name):
    assert names({name: "http://espace.example.mc/x"}) == [name]
    assert names({name: "https://espace.example.mc/x"}) == []


def test_cookies_without_secure():
    assert names({"GATEWAY_COOKIE_SECURE": False}) == ["GATEWAY_COOKIE_SECURE"]
    assert names({"GATEWAY_COOKIE_SECURE": True}) == []


def test_the_development_staff_factor():
    assert names({"AUTH_DEVELOPMENT_FACTOR": True}) == ["AUTH_DEVELOPMENT_FACTOR"]
    assert names({"AUTH_DEVELOPMENT_FACTOR": False}) == []


def test_keys_make_run_generated(tmp_path):
    from deploy.suite import dev_keys

    env = dev_keys(tmp_path)
    assert (tmp_path / "keys" / ".development").exists()
    keys = {k: v for k, v in env.items() if k.endswith("_KEY_FILE")}
    assert sorted(names(keys)) == sorted(keys)
    own = tmp_path / "prod" / "signing.pem"
    own.parent.mkdir()
    own.write_text("a key ops made")
    assert names({"AUTH_SIGNING_KEY_FILE": str(own)}) == []
    mark_development(own.parent)
    assert names({"AUTH_SIGNING_KEY_FILE": str(own)}) == ["AUTH_SIGNING_KEY_FILE"]


def test_missing_production_wallet_files(tmp_path):
    wallet = {"BENEFITS_WALLET_DIR": str(tmp_path / "wallet")}
    files = ["BENEFITS_APPLE_PASS_CERT_FILE", "BENEFITS_APPLE_PASS_KEY_FILE",
             "BENEFITS_APPLE_WWDR_CERT_FILE", "BENEFITS_APPLE_AUTH_SECRET_FILE",
             "BENEFITS_GOOGLE_KEY_FILE"]
    assert names(wallet) == files
    for name in files:
        (tmp_path / name).write_text("x")
        wallet[name] = str(tmp_path / name)
    assert names(wallet) == []
    (tmp_path / "BENEFITS_GOOGLE_KEY_FILE").unlink()
    assert names(wallet) == ["BENEFITS_GOOGLE_KEY_FILE"]


def test_every_service_defaults_are_refused():
    """Each service's (and the gateway's) bare defaults carry at least the guest user."""
    from deploy.suite import SERVICES
    from services.kit.loader import load_service

    for path in SERVICES.values():
        settings = load_settings(load_service(path).settings_schema, {})
        assert "AMQP_URI" in names(vars(settings)), path


def test_a_production_start_on_a_development_default_exits_78_naming_it():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MEMBERSPACE_ENV": "production", **GOOD,
           "NOTIFICATIONS_SMTP_TLS": "none"}
    done = subprocess.run(
        [sys.executable, "-m", "services.kit.runner",
         "services.notifications.service:NotificationsService"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 78
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "NOTIFICATIONS_SMTP_TLS" in lines[0]
    assert "AMQP_URI" not in lines[0]

