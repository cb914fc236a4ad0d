"""Every screen of part 1, in French and English, at a phone and a desktop width:
a screenshot of each under tests/artifacts/web/, and axe-core on each with no serious
or critical violation."""

from __future__ import annotations

import re

import pytest

from tests.support import new_member
from webtests.support import DESKTOP, PHONE, axe_violations, shoot

MARIE = ("123456-03091985", "Azur#718")


def web_login(context, identifier: str, password: str) -> None:
    r = context.request.post("/api/v1/auth/login", data={
        "identifier": identifier, "password": password, "client": "web"})
    assert r.ok, r.text()


def visit(page, path: str, name: str, found: dict) -> None:
    page.goto(path)
    try:
        page.wait_for_selector("main h1")
    except Exception:
        shoot(page, f"failed-{name}")
        raise
    page.wait_for_load_state("networkidle")
    shoot(page, name)
    assert not re.search(r"\b(null|undefined|NaN)\b", page.inner_text("body")), name
    violations = axe_violations(page)
    if violations:
        found[name] = violations


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_screen(browser, suite, rpc, lang, width):
    found: dict[str, list] = {}

    def context():
        ctx = browser.new_context(base_url=suite.gateway_url,
                                  viewport=PHONE if width == "phone" else DESKTOP,
                                  locale="fr-FR", timezone_id="Europe/Monaco")
        ctx.add_cookies([{"name": "lang", "value": lang, "url": suite.gateway_url}])
        ctx.set_default_timeout(15000)
        return ctx

    prefix = f"{lang}-{width}"
    anonymous = context()
    page = anonymous.new_page()
    for path, name in (("/login", "login"), ("/password/forgot", "forgot-password"),
                       ("/password/reset?token=abc", "reset-password"),
                       ("/email/verify?token=abc", "email-verification"),
                       ("/nowhere", "not-found")):
        visit(page, path, f"{prefix}-{name}", found)
    assert page.evaluate("() => document.documentElement.lang") == lang
    anonymous.close()

    newcomer = new_member(rpc, must_change=True)
    first = context()
    web_login(first, newcomer["identifier"], newcomer["password"])
    page = first.new_page()
    visit(page, "/first-password", f"{prefix}-first-password", found)
    page.locator("input[name=new_password]").press_sequentially("aaa1")
    page.wait_for_selector(".rule.ko")
    shoot(page, f"{prefix}-first-password-typing")
    first.close()

    no_email = new_member(rpc)
    second = context()
    web_login(second, no_email["identifier"], no_email["password"])
    page = second.new_page()
    visit(page, "/email", f"{prefix}-email-registration", found)
    second.close()

    member = context()
    web_login(member, *MARIE)
    page = member.new_page()
    for path, name in (("/", "home"), ("/alerts", "alerts"), ("/profile", "profile"),
                       ("/sessions", "sessions"), ("/password", "password-change")):
        visit(page, path, f"{prefix}-{name}", found)
    if width == "phone":
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    member.close()
    assert found == {}
