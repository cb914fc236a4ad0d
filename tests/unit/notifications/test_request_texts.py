"""Every alert and e-mail a member can read, for every request type, in French and
English, compared with reviewed fixture files (services.notifications.request_nouns and
the templates): "Votre relevé de carrière : nous l'avons bien reçu", never the
feminine for a masculine noun.

After a deliberate change of wording, regenerate the fixtures with
`UPDATE_TEXT_FIXTURES=1 pytest tests/unit/notifications/test_request_texts.py`, then read
the diff as a member would before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.notifications.rendering import ALERT_KINDS, EMAIL_KINDS, Renderer
from services.notifications.request_nouns import ANY_REQUEST, REQUEST_NOUNS, request_noun

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE_URL = "https://app.example.mc"
WINTER = "2026-11-26T13:05:00+00:00"
STATUSES = ("submitted", "in_progress", "needs_information", "completed", "rejected",
            "cancelled")
NOTES = {"needs_information": "Merci de joindre votre acte de mariage.",
         "rejected": "Le document joint est illisible."}
# every request type the suite knows (documents' own, pension's, benefits'), and one
# it does not
REQUEST_TYPES = (*REQUEST_NOUNS, "some_configured_type")
OTHER_ALERTS: dict[str, dict[str, object]] = {
    "login_locked": {"until": WINTER},
    "password_changed": {"at": WINTER},
    "password_reset": {"at": WINTER},
    "email_changed": {"email": "marie.rocher@example.mc"},
    "generic": {"title": "Attestation disponible", "body": "Elle vous attend."},
    "refund_paid": {"amount": "23.40", "currency": "EUR", "paid_on": "2026-11-20",
                    "care_date": "2026-11-02", "practitioner": "Dr Martin"},
    "payment_made": {"amount": "254.31", "currency": "EUR", "paid_on": "2026-11-20",
                     "label": "Allocations familiales", "period_start": "2026-10-01",
                     "period_end": "2026-10-31"},
    "document_received": {"category": "other", "filename": "scan.pdf"},
}
RESET_URL = f"{BASE_URL}/password/forgot"
OTHER_EMAILS: dict[str, dict[str, object]] = {
    "login_locked": {"until": WINTER, "reset_url": RESET_URL},
    "password_changed": {"at": WINTER, "reset_url": RESET_URL},
    "password_reset": {"at": WINTER, "reset_url": RESET_URL},
    "email_verification": {"verify_url": f"{BASE_URL}/email/verify?token=abc",
                           "expires_hours": 24},
    "password_reset_request": {"reset_url": f"{BASE_URL}/password/reset?token=abc",
                               "expires_minutes": 30},
    "email_changed_old_address": {"new_email_masked": "m***@example.mc"},
    "generic": {"title": "Attestation disponible", "body": "Elle vous attend."},
}
EMAILED = ("needs_information", "completed", "rejected")


def render_all(language: str) -> str:
    """Every text a member of this language can read, in one reviewable file."""
    renderer = Renderer(BASE_URL)
    out: list[str] = []
    for kind in sorted(OTHER_ALERTS):
        alert = renderer.alert(kind, language, OTHER_ALERTS[kind])
        out += [f"## alert {kind}", alert.title, alert.body, ""]
    for kind in sorted(OTHER_EMAILS):
        mail = renderer.email(kind, language, {"first_name": "Marie", **OTHER_EMAILS[kind]})
        out += [f"## e-mail {kind}", f"Subject: {mail.subject}", mail.text]
    for request_type in REQUEST_TYPES:
        for to in STATUSES:
            params = {"type": request_type, "to": to, "note": NOTES.get(to)}
            alert = renderer.alert("request_status", language, params)
            out += [f"## alert request_status {request_type} {to}", alert.title,
                    alert.body, ""]
            if to in EMAILED:
                mail = renderer.email("request_status", language, {
                    **params, "first_name": "Marie",
                    "request_url": f"{BASE_URL}/requests/0f5c3a52"})
                out += [f"## e-mail request_status {request_type} {to}",
                        f"Subject: {mail.subject}", mail.text]
    return "\n".join(out)


def test_every_kind_is_in_the_fixtures() -> None:
    assert set(OTHER_ALERTS) | {"request_status"} == ALERT_KINDS
    assert set(OTHER_EMAILS) | {"request_status"} == EMAIL_KINDS


@pytest.mark.parametrize("language", ["fr", "en"])
def test_texts_match_the_reviewed_fixtures(language: str) -> None:
    path = FIXTURES / f"texts.{language}.txt"
    rendered = render_all(language)
    if os.environ.get("UPDATE_TEXT_FIXTURES"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


def test_pension_and_registry_types_have_their_noun() -> None:
    for name in ("certificate_of_rights", "payment_certificate", "annual_tax_statement",
                 "affiliation_certificate", "data_correction", "data_access",
                 "career_statement", "retirement_pension", "survivor_pension"):
        assert request_noun(name) is not ANY_REQUEST


@pytest.mark.parametrize(("request_type", "received", "done"), [
    ("career_statement", "Votre relevé de carrière : nous l'avons bien reçu.",
     "Votre relevé de carrière : il est traité."),
    ("annual_tax_statement", "Votre relevé fiscal annuel : nous l'avons bien reçu.",
     "Votre relevé fiscal annuel : il est traité."),
    ("survivor_pension", "Votre demande de pension de réversion : nous l'avons bien reçue.",
     "Votre demande de pension de réversion : elle est traitée."),
    ("some_configured_type", "Votre demande : nous l'avons bien reçue.",
     "Votre demande : elle est traitée."),
])
def test_french_agrees_with_the_noun(request_type: str, received: str, done: str) -> None:
    renderer = Renderer(BASE_URL)
    assert renderer.alert("request_status", "fr", {
        "type": request_type, "to": "submitted", "note": None}).body == received
    assert renderer.alert("request_status", "fr", {
        "type": request_type, "to": "completed", "note": None}).body == done
