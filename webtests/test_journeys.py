"""The member journeys of issue 22, in a real browser."""

from __future__ import annotations

import re
import time

import jwt
import requests
from playwright.sync_api import expect

from tests.support import wait_for_mail
from webtests.support import axe_violations, shoot, wait_until


def log_in(page, identifier: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Identifiant").fill(identifier)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def test_luca_first_connection(page, suite):
    started = time.time()
    log_in(page, "654321-12121990", "Init2026")
    # Luca's profile says English and he chose nothing before login: the app follows it
    expect(page.get_by_role("heading", level=1)).to_have_text("Personalise your password")
    assert page.url.endswith("/first-password")
    new = page.get_by_label("New password", exact=True)
    # the rules follow the typing: three times the same character, too short
    new.press_sequentially("aaa")
    expect(page.locator("[data-rule=length]")).to_have_class(re.compile(r"\bko\b"))
    expect(page.locator("[data-rule=repeat]")).to_have_class(re.compile(r"\bko\b"))
    expect(page.locator("[data-rule=characters]")).to_have_class(re.compile(r"\bok\b"))
    new.fill("")
    new.press_sequentially("Lynx#527")
    expect(page.locator(".rule.ok")).to_have_count(5)  # the API's two rules included
    page.get_by_label("Current password").fill("Init2026")
    page.get_by_label("Confirm the new password").fill("Lynx#52")
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_text("The two passwords are not the same.")).to_be_visible()
    page.get_by_label("Confirm the new password").fill("Lynx#527")
    page.get_by_role("button", name="Save the password").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Register your e-mail address")
    page.get_by_label("E-mail address", exact=True).fill("luca.bianchi@example.mc")
    page.get_by_role("button", name="Send me the validation link").click()
    expect(page.get_by_role("status").filter(has_text="luca.bianchi@example.mc")).to_be_visible()

    message = wait_for_mail(suite.mail_dir, "luca.bianchi@example.mc", after=started)
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/email/verify\?token=[\w\-]+", body).group(0)
    assert link.startswith(suite.gateway_url)
    page.goto(link)
    expect(page.get_by_text("Your address luca.bianchi@example.mc is validated.")).to_be_visible()
    assert "token" not in page.url  # gone from the address bar
    page.get_by_role("link", name="Go to my space").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Luca")
    expect(page.get_by_role("navigation", name="Main menu")).to_be_visible()
    shoot(page, "journey-luca-home")
    assert page.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    assert "ms_access" not in page.evaluate("() => document.cookie")  # HttpOnly
    assert page.csp_errors == []


def api_login(suite, identifier: str, password: str) -> dict:
    r = requests.post(suite.gateway_url + "/api/v1/auth/login", timeout=30,
                      json={"identifier": identifier, "password": password,
                            "client": "mobile"})
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    return {**r.json(), "session_id": claims["sid"]}


def refused(suite, token: str) -> bool:
    r = requests.get(suite.gateway_url + "/api/v1/me", timeout=30,
                     headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 401 and r.json()["code"] == "session_ended"


def test_marie_ends_another_of_her_sessions(page, suite):
    phone = api_login(suite, "123456-03091985", "Azur#718")
    tablet = api_login(suite, "123456-03091985", "Azur#718")
    log_in(page, "123456-03091985", "Azur#718")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Marie")
    expect(page.get_by_text("Si ce n'était pas vous")).to_be_visible()
    page.get_by_role("link", name="Sessions actives").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions actives")
    expect(page.locator(f"[data-session='{phone['session_id']}']")).to_be_visible()
    page.locator(f"[data-session='{phone['session_id']}']").click()
    expect(page.get_by_text("La session a été fermée.")).to_be_visible()
    expect(page.locator(f"[data-session='{phone['session_id']}']")).to_have_count(0)
    deadline = time.monotonic() + 5
    while not refused(suite, phone["access_token"]):
        assert time.monotonic() < deadline, "the ended session still works"
        time.sleep(0.05)
    assert not refused(suite, tablet["access_token"])
    page.get_by_role("button", name="Fermer toutes les autres sessions").click()
    expect(page.get_by_text("1 session(s) fermée(s).")).to_be_visible()
    deadline = time.monotonic() + 5
    while not refused(suite, tablet["access_token"]):
        assert time.monotonic() < deadline, "the ended session still works"
        time.sleep(0.05)
    expect(page.locator(".session")).to_have_count(1)
    shoot(page, "journey-marie-sessions")
    # the browser's own session goes on
    page.get_by_role("link", name="Accueil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Marie")


def test_paul_logs_in_with_his_five_digits_then_with_mconnect(page, suite):
    log_in(page, "12345-15061970", "Port!962")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Paul")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    page.get_by_role("link", name="Se connecter avec MConnect").click()
    # the stand-in provider's page asks for a user name
    page.locator("input[name=sub]").fill("paul.garnier")
    page.locator("input[name=sub]").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Paul")
    assert page.url.rstrip("/") == suite.gateway_url
    expect(page.get_by_text("identifiant et mot de passe")).to_be_visible()  # the one before
    page.get_by_role("link", name="Sessions actives").click()
    expect(page.get_by_text("Connexion par MConnect").first).to_be_visible()


def test_one_refresh_at_a_time_across_tabs(context, suite):
    first = context.new_page()
    log_in(first, "246810-20051966", "Lune#305")
    expect(first.get_by_role("heading", level=1)).to_have_text("Bonjour Sophie")
    second = context.new_page()
    second.goto("/alerts")
    expect(second.get_by_role("heading", level=1)).to_have_text("Mes alertes")
    refreshes = []  # the status of every refresh either tab made
    for tab in (first, second):
        tab.on("response", lambda r: refreshes.append(r.status)
               if r.url.endswith("/api/v1/auth/refresh") else None)
    rounds = 3
    for done in range(1, rounds + 1):
        # the access token expires (its cookie goes): both tabs need a refresh at once
        context.clear_cookies(name="ms_access")
        for tab in (first, second):
            tab.evaluate("() => window.dispatchEvent(new PopStateEvent('popstate'))")
        wait_until(lambda: any(c["name"] == "ms_access" for c in context.cookies()))
        wait_until(lambda: first.locator(".count").count() == 1
                   and second.locator(".alerts, main p").count() > 0)
        time.sleep(0.5)
        # one at a time: never the same refresh token twice (that answers 401 and ends
        # the session); a tab that waited for the lock uses the other's result
        assert len(refreshes) >= done and set(refreshes) == {200}, refreshes
        expect(first.locator(".alert.error")).to_have_count(0)
        expect(second.locator(".alert.error")).to_have_count(0)
    # a refresh token spent twice would have ended the session: it is still alive
    first.reload()
    expect(first.get_by_role("heading", level=1)).to_have_text("Bonjour Sophie")


def test_the_language_switch_is_remembered_before_and_after_login(page, suite):
    page.goto("/login")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to my Personal Space")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to my Personal Space")
    page.get_by_label("Identifier").fill("246810-20051966")
    page.get_by_label("Password", exact=True).fill("Lune#305")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Sophie")
    profile = page.request.get("/api/v1/me/profile").json()
    assert profile["language"] == "en"
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Sophie")
    assert page.request.get("/api/v1/me/profile").json()["language"] == "fr"
    assert axe_violations(page) == []


def test_errors_appear_next_to_their_field_and_the_csp_holds(page, suite):
    page.goto("/login")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.locator("[data-field=identifier] .field-error")).to_have_text(
        "Ce champ est obligatoire.")
    page.get_by_label("Identifiant").fill("123456-03091985")
    page.get_by_label("Mot de passe", exact=True).fill("wrong-one")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "L'identifiant ou le mot de passe est incorrect.")
    # the reset page keeps its token in memory only, and shows the API's field errors
    page.goto("/password/reset?token=not-a-real-token")
    expect(page).to_have_url(re.compile(r"/password/reset$"))
    page.get_by_label("Nouveau mot de passe", exact=True).fill("aaaa")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("aaaa")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("lien")
    # no inline script may run: the policy is really enforced by the browser
    assert page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.inlineRan = true'; document.head.append(s);
        return window.inlineRan === true }""") is False
    wait_until(lambda: any("Content Security Policy" in e for e in page.csp_errors))
