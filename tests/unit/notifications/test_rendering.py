"""Tests for services.notifications.rendering (alert and e-mail texts, fr and en)."""

from __future__ import annotations

import re

import pytest
from jinja2 import UndefinedError

from services.notifications.rendering import (
    ALERT_CATEGORY,
    ALERT_KINDS,
    EMAIL_KINDS,
    TEMPLATES_DIR,
    RenderedAlert,
    RenderedEmail,
    Renderer,
    UnknownTemplate,
    resolve_language,
)

BASE_URL = "https://members.caisses-sociales.mc"
RESET_URL = f"{BASE_URL}/password/forgot"
VERIFY_URL = f"{BASE_URL}/email/verify?token=abc%2Bdef"
WINTER = "2026-11-26T13:05:00+00:00"  # CET, UTC+1: 14:05 in Monaco
SUMMER = "2026-07-14T08:30:00Z"  # CEST, UTC+2: 10:30 in Monaco

ALERT_PARAMS: dict[str, dict[str, object]] = {
    "login_locked": {"until": WINTER},
    "password_changed": {"at": WINTER},
    "password_reset": {"at": WINTER},
    "email_changed": {"email": "marie.rocher@example.mc"},
    "generic": {"title": "Remboursement versé", "body": "45,20 € ont été versés."},
    "refund_paid": {"amount": "23.40", "currency": "EUR", "paid_on": "2026-11-20",
                    "care_date": "2026-11-02", "practitioner": "Dr Martin"},
    "payment_made": {"amount": "254.31", "currency": "EUR", "paid_on": "2026-11-20",
                     "label": "Allocations familiales", "period_start": "2026-10-01",
                     "period_end": "2026-10-31"},
    "request_status": {"type": "certificate_of_rights", "to": "completed", "note": None},
    "document_received": {"category": "other", "filename": "scan.pdf"},
}
EMAIL_PARAMS: dict[str, dict[str, object]] = {
    "login_locked": {"first_name": "Marie", "until": WINTER, "reset_url": RESET_URL},
    "password_changed": {"first_name": "Marie", "at": WINTER, "reset_url": RESET_URL},
    "password_reset": {"first_name": "Marie", "at": WINTER, "reset_url": RESET_URL},
    "email_verification": {"first_name": "Marie", "verify_url": VERIFY_URL,
                           "expires_hours": 24},
    "password_reset_request": {"first_name": "Marie", "reset_url": RESET_URL,
                               "expires_minutes": 30},
    "email_changed_old_address": {"first_name": "Marie",
                                  "new_email_masked": "m***@e***.mc"},
    "generic": {"first_name": "Marie", "title": "Attestation disponible",
                "body": "Votre attestation de droits est disponible.\nBonne journée."},
    "request_status": {"first_name": "Marie", "type": "career_statement", "to": "rejected",
                       "note": "Pièce illisible.",
                       "request_url": f"{BASE_URL}/requests/0f5c3a52"},
}
# a parameter each kind cannot do without (first_name is optional)
REQUIRED: dict[str, str] = {
    "refund_paid": "paid_on",
    "request_status": "to",
    "document_received": "filename",
    "payment_made": "period_start",
    "login_locked": "until",
    "password_changed": "at",
    "password_reset": "at",
    "email_changed": "email",
    "email_verification": "verify_url",
    "password_reset_request": "reset_url",
    "email_changed_old_address": "new_email_masked",
    "generic": "body",
}
EMAIL_REQUIRED = {**REQUIRED, "request_status": "request_url"}
SECURITY_LINE = {
    "fr": "Ne communiquez jamais votre mot de passe : nos agents ne vous le demanderont jamais.",
    "en": "Never share your password: the fund's agents will never ask for it.",
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(BASE_URL + "/")


def test_the_parameters_here_cover_every_kind() -> None:
    assert set(ALERT_PARAMS) == ALERT_KINDS
    assert set(EMAIL_PARAMS) == EMAIL_KINDS
    assert set(ALERT_CATEGORY) == ALERT_KINDS - {"generic"}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_template_file_exists(language: str) -> None:
    for kind in ALERT_KINDS:
        assert (TEMPLATES_DIR / "alerts" / language / f"{kind}.txt").is_file()
    for kind in EMAIL_KINDS:
        assert (TEMPLATES_DIR / "email" / language / f"{kind}.txt").is_file()
        assert (TEMPLATES_DIR / "email" / language / f"{kind}.html").is_file()


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(ALERT_KINDS))
def test_every_alert_renders(renderer: Renderer, kind: str, language: str) -> None:
    alert = renderer.alert(kind, language, ALERT_PARAMS[kind])
    assert isinstance(alert, RenderedAlert)
    assert alert.title and "\n" not in alert.title
    assert alert.body and alert.body == alert.body.strip()
    assert "{" not in alert.title + alert.body


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(EMAIL_KINDS))
def test_every_email_renders(renderer: Renderer, kind: str, language: str) -> None:
    email = renderer.email(kind, language, EMAIL_PARAMS[kind])
    assert isinstance(email, RenderedEmail)
    assert email.subject and "\n" not in email.subject
    greeting = "Bonjour Marie," if language == "fr" else "Hello Marie,"
    assert email.text.startswith(greeting + "\n\n")
    assert SECURITY_LINE[language] in email.text
    assert SECURITY_LINE[language] in email.html
    assert email.text.rstrip().endswith("Caisses Sociales de Monaco")
    assert "\n\n\n" not in email.text
    assert email.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in email.html
    assert "<title>" in email.html
    assert greeting in email.html
    # no external resource in the HTML
    assert not re.search(r"<(img|link|script)\b|src=|url\(", email.html)
    assert "{{" not in email.text + email.html


@pytest.mark.parametrize("kind", ["login_locked", "password_changed", "password_reset",
                                  "password_reset_request"])
def test_reset_link_in_text_on_its_own_line_and_in_html_as_a_link(renderer: Renderer,
                                                                  kind: str) -> None:
    email = renderer.email(kind, "en", EMAIL_PARAMS[kind])
    assert RESET_URL in email.text.splitlines()
    assert f'<a href="{RESET_URL}"' in email.html


@pytest.mark.parametrize("kind", ["login_locked", "password_changed", "password_reset"])
def test_security_emails_say_what_to_do_if_it_was_not_you(renderer: Renderer,
                                                          kind: str) -> None:
    assert "If this was not you" in renderer.email(kind, "en", EMAIL_PARAMS[kind]).text
    assert "Si ce n'était pas vous" in renderer.email(kind, "fr", EMAIL_PARAMS[kind]).text


def test_password_changed_alert_names_the_contact_address(renderer: Renderer) -> None:
    for language in ("fr", "en"):
        body = renderer.alert("password_changed", language, {"at": WINTER}).body
        assert "tsa@caisses-sociales.mc" in body


def test_alert_titles(renderer: Renderer) -> None:
    titles = {(kind, language): renderer.alert(kind, language, ALERT_PARAMS[kind]).title
              for kind in ALERT_KINDS - {"generic"} for language in ("fr", "en")}
    assert titles == {
        ("login_locked", "fr"): "Connexion temporairement bloquée",
        ("login_locked", "en"): "Sign-in temporarily locked",
        ("password_changed", "fr"): "Mot de passe modifié",
        ("password_changed", "en"): "Password changed",
        ("password_reset", "fr"): "Mot de passe réinitialisé",
        ("password_reset", "en"): "Password reset",
        ("email_changed", "fr"): "Adresse e-mail validée",
        ("email_changed", "en"): "E-mail address validated",
        ("refund_paid", "fr"): "Remboursement effectué",
        ("refund_paid", "en"): "Refund paid",
        ("payment_made", "fr"): "Paiement effectué",
        ("payment_made", "en"): "Payment made",
        ("request_status", "fr"): "Demande traitée",
        ("request_status", "en"): "Request completed",
        ("document_received", "fr"): "Document reçu",
        ("document_received", "en"): "Document received",
    }


def test_generic_alert_passes_title_and_body_through(renderer: Renderer) -> None:
    params = {"title": "Paiement <reçu>", "body": "Montant : 1 234,56 €\nRéf. A&B"}
    alert = renderer.alert("generic", "en", params)
    assert alert == RenderedAlert(title="Paiement <reçu>", body="Montant : 1 234,56 €\nRéf. A&B")


def test_generic_email(renderer: Renderer) -> None:
    email = renderer.email("generic", "fr", {"title": "Attestation <disponible>",
                                             "body": "Ligne 1\nLigne 2 & fin"})
    assert email.subject == "Attestation <disponible>"
    assert email.text.startswith("Bonjour,\n\nLigne 1\nLigne 2 & fin\n")
    assert "Ligne 1\nLigne 2 &amp; fin" in email.html
    assert "<title>Attestation &lt;disponible&gt;</title>" in email.html


def test_verification_and_reset_request_mention_validity(renderer: Renderer) -> None:
    verification = renderer.email("email_verification", "fr", EMAIL_PARAMS["email_verification"])
    assert "valable 24 heures" in verification.text
    assert VERIFY_URL in verification.text.splitlines()
    assert 'href="https://members.caisses-sociales.mc/email/verify?token=abc%2Bdef"' in (
        verification.html)
    one_hour = renderer.email("email_verification", "en",
                              {**EMAIL_PARAMS["email_verification"], "expires_hours": 1})
    assert "valid for 1 hour." in one_hour.text
    request = renderer.email("password_reset_request", "en",
                             EMAIL_PARAMS["password_reset_request"])
    assert "valid for 30 minutes and can be used only once" in request.text
    assert "your password stays the same" in request.text


def test_old_address_email_shows_the_masked_new_one(renderer: Renderer) -> None:
    email = renderer.email("email_changed_old_address", "en",
                           EMAIL_PARAMS["email_changed_old_address"])
    assert "m***@e***.mc" in email.text
    assert "m***@e***.mc" in email.html


def test_greeting_without_first_name(renderer: Renderer) -> None:
    params = {"until": WINTER, "reset_url": RESET_URL}
    assert renderer.email("login_locked", "fr", params).text.startswith("Bonjour,\n")
    assert renderer.email("login_locked", "en", params).text.startswith("Hello,\n")
    assert "<p style=\"margin:0 0 16px;\">Hello,</p>" in renderer.email(
        "login_locked", "en", {**params, "first_name": ""}).html


@pytest.mark.parametrize("kind", sorted(ALERT_KINDS))
def test_missing_alert_parameter_raises(renderer: Renderer, kind: str) -> None:
    params = dict(ALERT_PARAMS[kind])
    del params[REQUIRED[kind]]
    with pytest.raises(UndefinedError):
        renderer.alert(kind, "fr", params)


@pytest.mark.parametrize("kind", sorted(EMAIL_KINDS))
def test_missing_email_parameter_raises(renderer: Renderer, kind: str) -> None:
    params = dict(EMAIL_PARAMS[kind])
    del params[EMAIL_REQUIRED[kind]]
    with pytest.raises(UndefinedError):
        renderer.email(kind, "en", params)


def test_missing_reset_url_raises(renderer: Renderer) -> None:
    with pytest.raises(UndefinedError):
        renderer.email("password_changed", "fr", {"first_name": "Marie", "at": WINTER})


def test_html_escapes_names_text_keeps_them(renderer: Renderer) -> None:
    params = {**EMAIL_PARAMS["password_reset_request"],
              "first_name": "<script>alert(1)</script>"}
    email = renderer.email("password_reset_request", "en", params)
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert email.text.startswith("Hello <script>alert(1)</script>,")


def test_html_escapes_urls_in_attributes(renderer: Renderer) -> None:
    params = {**EMAIL_PARAMS["password_reset_request"],
              "reset_url": 'https://x.mc/r?a=1&b="><script>'}
    html = renderer.email("password_reset_request", "fr", params).html
    assert "<script>" not in html
    assert 'href="https://x.mc/r?a=1&amp;b=&#34;&gt;&lt;script&gt;"' in html


@pytest.mark.parametrize(("moment", "fr", "en"), [
    (WINTER, "26/11/2026 à 14:05", "26/11/2026 at 14:05"),
    (SUMMER, "14/07/2026 à 10:30", "14/07/2026 at 10:30"),
    ("2026-03-29T00:59:00+00:00", "29/03/2026 à 01:59", "29/03/2026 at 01:59"),  # before DST
    ("2026-03-29T01:00:00+00:00", "29/03/2026 à 03:00", "29/03/2026 at 03:00"),  # DST starts
    ("2026-12-31T23:30:00", "01/01/2027 à 00:30", "01/01/2027 at 00:30"),  # naive is UTC
    ("2026-07-14T12:00:00+02:00", "14/07/2026 à 12:00", "14/07/2026 at 12:00"),
])
def test_dates_in_monaco_time(renderer: Renderer, moment: str, fr: str, en: str) -> None:
    assert fr in renderer.alert("login_locked", "fr", {"until": moment}).body
    assert en in renderer.alert("login_locked", "en", {"until": moment}).body
    email = renderer.email("password_changed", "fr", {"at": moment, "reset_url": RESET_URL})
    assert fr in email.text
    assert fr in email.html


def test_invalid_date_raises(renderer: Renderer) -> None:
    with pytest.raises(ValueError):
        renderer.alert("password_reset", "fr", {"at": "next tuesday"})


@pytest.mark.parametrize("language", ["de", "", "it-IT", "xx"])
def test_unknown_language_falls_back_to_french(renderer: Renderer, language: str) -> None:
    assert renderer.alert("password_changed", language, {"at": WINTER}) == renderer.alert(
        "password_changed", "fr", {"at": WINTER})
    email = renderer.email("login_locked", language, EMAIL_PARAMS["login_locked"])
    assert email == renderer.email("login_locked", "fr", EMAIL_PARAMS["login_locked"])
    assert '<html lang="fr">' in email.html


@pytest.mark.parametrize(("given", "resolved"), [
    ("fr", "fr"), ("en", "en"), ("EN", "en"), ("en-GB", "en"), ("fr_MC", "fr"),
    ("de", "fr"), ("", "fr"), (None, "fr"),
])
def test_resolve_language(given: str | None, resolved: str) -> None:
    assert resolve_language(given) == resolved


def test_unknown_kind(renderer: Renderer) -> None:
    with pytest.raises(UnknownTemplate):
        renderer.alert("email_verification", "fr", {})
    with pytest.raises(KeyError):
        renderer.email("no_such_kind", "en", {})
    with pytest.raises(UnknownTemplate):
        renderer.email("../alerts/fr/generic", "fr", {"title": "t", "body": "b"})


def test_params_cannot_override_renderer_values(renderer: Renderer) -> None:
    email = renderer.email("generic", "en", {"title": "t", "body": "b",
                                             "fund_name": "Evil Corp", "language": "fr"})
    assert "Evil Corp" not in email.text
    assert email.text.startswith("Hello,")


def test_fund_name_is_the_signature() -> None:
    email = Renderer(BASE_URL, fund_name="Caisse Test").email(
        "generic", "fr", {"title": "t", "body": "b"})
    assert email.text.rstrip().endswith("Cordialement,\nCaisse Test")
    assert "Caisse Test" in email.html


def test_link_quotes_the_token() -> None:
    renderer = Renderer("https://members.caisses-sociales.mc/")
    assert renderer.link("/password/reset", "abc") == (
        "https://members.caisses-sociales.mc/password/reset?token=abc")
    assert renderer.link("/email/verify", "a+b/c=d&e f") == (
        "https://members.caisses-sociales.mc/email/verify?token=a%2Bb%2Fc%3Dd%26e%20f")
    assert Renderer("http://127.0.0.1:8000").link("/x", "t") == "http://127.0.0.1:8000/x?token=t"


def test_amounts_and_dates_follow_the_language(renderer: Renderer) -> None:
    fr = renderer.alert("refund_paid", "fr", ALERT_PARAMS["refund_paid"])
    en = renderer.alert("refund_paid", "en", ALERT_PARAMS["refund_paid"])
    assert "23,40 EUR" in fr.body and "20/11/2026" in fr.body
    assert "23.40 EUR" in en.body and "Refund" in en.title
