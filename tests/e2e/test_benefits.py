"""Profile, card, FSE code, care sheets and wallet passes through the gateway."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile

import jwt
import pytest

from tests.support import assert_problem, new_member

MARIE = ("123456-03091985", "Azur#718")


@pytest.fixture
def marie(api, suite):
    return api.login(*MARIE, client="mobile")["access_token"]


def fresh_member(rpc, **fields):
    return new_member(rpc, email=f"b{uuid.uuid4().hex[:8]}@example.mc", email_validated=True,
                      **fields)


def known(rpc, member_id, card):
    import time

    deadline = time.monotonic() + 10
    while True:
        try:
            return rpc.benefits.issue_card(member_id, card)
        except Exception as exc:
            if "member_not_found" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


CARD = {"rights_status": "open", "valid_from": "2026-01-01", "valid_until": "2027-12-31"}


def test_profile_joins_identity_and_benefits_data(api, marie):
    profile = api.get("/api/v1/me/profile", marie).json()
    assert profile["first_name"] == "Marie" and profile["last_name"] == "Rocher"
    assert profile["address"]["city"] == "Monaco"
    assert profile["bank_account"].startswith("MC58") and "*" in profile["bank_account"]
    assert "1234567890" not in profile["bank_account"]
    assert profile["subscriptions"] == [{"fund": "CCSS", "registration_number": "123456"}]


def test_profile_patch_is_checked_whole_then_split(api, suite, rpc):
    member = fresh_member(rpc)
    token = api.login(member["identifier"], member["password"])["access_token"]
    bad = api.request("PATCH", "/api/v1/me/profile", token,
                      json={"language": "en", "phone": "call me maybe"})
    body = assert_problem(bad, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["phone"]
    assert api.get("/api/v1/me", token).json()["language"] == "fr"  # nothing applied
    names = api.request("PATCH", "/api/v1/me/profile", token, json={"last_name": "X"})
    assert_problem(names, 422, "validation_failed")
    ok = api.request("PATCH", "/api/v1/me/profile", token, json={
        "language": "en", "phone": "+377 99 99 99 99", "mail_channel": "post",
        "address": {"line1": "1, quai Antoine Ier", "postal_code": "98000",
                    "city": "Monaco", "country": "MC"}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["mail_channel"] == "post" and ok.json()["phone"] == "+377 99 99 99 99"
    assert api.get("/api/v1/me", token).json()["language"] == "en"
    forwarding = api.request("PATCH", "/api/v1/me/profile", token,
                             json={"forward_to_insurer": True})
    assert_problem(forwarding, 422, "validation_failed")
    # checked whole before any part applies: the language stays as it was
    half = api.request("PATCH", "/api/v1/me/profile", token,
                       json={"language": "fr", "forward_to_insurer": True})
    assert_problem(half, 422, "validation_failed")
    assert api.get("/api/v1/me", token).json()["language"] == "en"


def test_card_qr_payload_verifies_offline_and_renewal_revokes(api, suite, rpc, marie):
    card = api.get("/api/v1/me/card", marie).json()
    assert card["registration_number"] == "123456" and card["fund"] == "CCSS"
    assert [b["first_name"] for b in card["beneficiaries"]] == ["Léa", "Hugo"]
    jwks = api.get("/api/v1/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(card["qr_payload"])
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(card["qr_payload"], key.key, algorithms=["EdDSA"])
    assert claims["sub"] == "123456" and claims["jti"] == card["card_id"]
    assert claims["name"] == "M. ROCHER" and claims["rights"] == "open"
    assert api.get(f"/api/v1/cards/status/{claims['jti']}").json()["status"] == "valid"

    member = fresh_member(rpc)
    number = member["subscriptions"][0]["registration_number"]
    first = known(rpc, member["member_id"], {"registration_number": number, **CARD})
    second = rpc.benefits.issue_card(member["member_id"],
                                     {"registration_number": number, **CARD})
    assert api.get(f"/api/v1/cards/status/{first['card_id']}").json()["status"] == "revoked"
    assert api.get(f"/api/v1/cards/status/{second['card_id']}").json()["status"] == "valid"
    assert_problem(api.get(f"/api/v1/cards/status/{uuid.uuid4()}"), 404, "card_not_found")


def test_fse_code_renewal_and_practitioner_lookup(api, suite, rpc, marie):
    first = api.get("/api/v1/me/fse-code", marie).json()["fse_code"]
    assert len(first) >= 10 and not set(first) & set("01OIL")
    renewed = api.post("/api/v1/me/fse-code/renew", marie).json()["fse_code"]
    assert renewed != first
    assert api.get("/api/v1/me/fse-code", marie).json()["fse_code"] == renewed
    from services.kit.errors import NotFound

    with pytest.raises(NotFound):
        rpc.benefits.care_sheets_for_code(first)  # the old code stopped at once
    sheets = rpc.benefits.care_sheets_for_code(renewed)
    assert len(sheets["items"]) == 12
    logs = "".join(p.read_text(errors="replace") for p in suite.log_dir.glob("*.log"))
    assert renewed not in logs and first not in logs


def test_care_sheets_page_newest_first(api, marie):
    first = api.get("/api/v1/me/care-sheets?limit=5", marie).json()
    dates = [s["care_date"] for s in first["items"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 5
    rest = api.get(f"/api/v1/me/care-sheets?limit=50&cursor={first['next_cursor']}",
                   marie).json()
    assert len(rest["items"]) == 7 and rest["next_cursor"] is None
    assert {s["currency"] for s in first["items"]} == {"EUR"}


def test_wallet_is_mobile_only_and_passes_are_signed(api, suite):
    web_login = api.post("/api/v1/auth/login", json={"identifier": MARIE[0],
                                                      "password": MARIE[1], "client": "web"})
    web_cookie = web_login.cookies["ms_access"]
    r = api.get("/api/v1/me/card/wallet/apple",
                headers={"Cookie": f"ms_access={web_cookie}"})
    assert_problem(r, 403, "mobile_app_only")

    token = api.login(*MARIE, client="mobile")["access_token"]
    r = api.get("/api/v1/me/card/wallet/apple", token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/vnd.apple.pkpass"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(archive.namelist())
    assert {"pass.json", "manifest.json", "signature", "icon.png"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    for name, sha1 in manifest.items():
        assert hashlib.sha1(archive.read(name)).hexdigest() == sha1  # noqa: S324
    card = api.get("/api/v1/me/card", token).json()
    assert json.loads(archive.read("pass.json"))["barcodes"][0]["message"] == \
        card["qr_payload"]

    google = api.get("/api/v1/me/card/wallet/google", token).json()
    assert google["save_url"].startswith("https://pay.google.com/gp/v/save/")
    claims = jwt.decode(google["save_url"].rsplit("/", 1)[1],
                        options={"verify_signature": False})
    assert claims["aud"] == "google" and claims["typ"] == "savetowallet"


def pass_json(api, token) -> dict:
    r = api.get("/api/v1/me/card/wallet/apple", token)
    assert r.status_code == 200, r.text
    return json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("pass.json"))


def test_wallet_web_service_follows_a_renewed_card(api, suite, rpc, test_env):
    import time

    member = fresh_member(rpc)
    number = member["subscriptions"][0]["registration_number"]
    known(rpc, member["member_id"], {"registration_number": number, **CARD})
    token = api.login(member["identifier"], member["password"], client="mobile")[
        "access_token"]
    first = pass_json(api, token)
    assert first["webServiceURL"] == test_env["BENEFITS_APPLE_WEB_SERVICE_URL"]
    base = "/api/v1/wallet/apple/v1"
    kind, serial = first["passTypeIdentifier"], first["serialNumber"]
    auth = {"Authorization": f"ApplePass {first['authenticationToken']}"}
    device = f"device{uuid.uuid4().hex[:12]}"
    registration = f"{base}/devices/{device}/registrations/{kind}/{serial}"

    wrong = {"Authorization": "ApplePass " + "0" * 64}
    assert_problem(api.post(registration, json={"pushToken": "abc"}, headers=wrong),
                   401, "pass_unauthorized")
    assert_problem(api.post(registration, json={"pushToken": "abc"}), 401,
                   "pass_unauthorized")  # no token at all
    assert api.post(registration, json={"pushToken": "abc"}, headers=auth).status_code == 201
    assert api.post(registration, json={"pushToken": "abc"}, headers=auth).status_code == 200
    assert_problem(api.post(registration, json={}, headers=auth), 422, "validation_failed")

    listing = f"{base}/devices/{device}/registrations/{kind}"
    changed = api.get(listing)
    assert changed.status_code == 200 and changed.json()["serialNumbers"] == [serial]
    tag = changed.json()["lastUpdated"]
    assert api.get(f"{listing}?passesUpdatedSince={tag}").status_code == 204

    latest = api.get(f"{base}/passes/{kind}/{serial}", headers=auth)
    assert latest.status_code == 200
    assert latest.headers["Content-Type"] == "application/vnd.apple.pkpass"
    modified = latest.headers["Last-Modified"]
    assert api.get(f"{base}/passes/{kind}/{serial}",
                   headers={**auth, "If-Modified-Since": modified}).status_code == 304
    assert_problem(api.get(f"{base}/passes/{kind}/{serial}", headers=wrong), 401,
                   "pass_unauthorized")

    time.sleep(1.1)  # tags count whole seconds
    rpc.benefits.issue_card(member["member_id"], {
        "registration_number": number, **CARD, "valid_until": "2028-12-31"})
    changed = api.get(f"{listing}?passesUpdatedSince={tag}")
    assert changed.status_code == 200 and changed.json()["serialNumbers"] == [serial]
    renewed = api.get(f"{base}/passes/{kind}/{serial}",
                      headers={**auth, "If-Modified-Since": modified})
    assert renewed.status_code == 200
    shown = json.loads(zipfile.ZipFile(io.BytesIO(renewed.content)).read("pass.json"))
    assert shown["serialNumber"] == serial and shown["expirationDate"].startswith("2028-12-31")

    assert api.post(f"{base}/log", json={"logs": ["[2026-11-27] Web service error"]}
                    ).status_code == 200
    assert api.request("DELETE", registration, headers=auth).status_code == 200
    assert api.get(listing).status_code == 204
