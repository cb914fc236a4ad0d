"""Member login through the gateway, on the real suite."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from tests.support import assert_problem, new_member


def test_demo_member_logs_in_and_sees_previous_connection(api, suite):
    first = api.login("123456-03091985", "Azur#718", client="mobile")
    assert first["token_type"] == "Bearer"
    assert first["expires_in"] > 0 and first["refresh_token"]
    assert first["must_change_password"] is False

    second = api.login("123456-03091985", "Azur#718", client="mobile")
    me = api.get("/api/v1/me", second["access_token"])
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["first_name"] == "Marie" and body["last_name"] == "Rocher"
    assert body["birth_date"] == "1985-09-03"
    assert body["subscriptions"] == [{"fund": "CCSS", "registration_number": "123456"}]
    # the connection shown is the one before this session: the first login above
    assert body["previous_login_at"] == second["previous_login_at"]
    assert body["previous_login_at"] is not None
    shown = dt.datetime.fromisoformat(body["previous_login_at"])
    assert abs((dt.datetime.now(dt.UTC) - shown).total_seconds()) < 60


def test_wrong_password_and_unknown_person_answer_alike(api, suite, rpc):
    member = new_member(rpc)
    wrong = api.post("/api/v1/auth/login",
                     json={"identifier": member["identifier"], "password": "Nope#123"})
    unknown = api.post("/api/v1/auth/login",
                       json={"identifier": "999999-01011950", "password": "Nope#123"})
    a = assert_problem(wrong, 401, "invalid_credentials")
    b = assert_problem(unknown, 401, "invalid_credentials")
    assert a["detail"] == b["detail"]


@pytest.mark.parametrize("identifier", [
    "123456",                 # no date
    "123456-3091985",         # 7-digit date
    "123-03091985",           # 3-digit number
    "1234567-03091985",       # 7-digit number
    "123456-31022000",        # no such date
    "123456 - 03091985",      # spaces inside
    "123456/03091985",
])
def test_malformed_identifier_is_a_400_that_explains_the_format(api, suite, identifier):
    r = api.post("/api/v1/auth/login", json={"identifier": identifier, "password": "x"})
    body = assert_problem(r, 400, "invalid_identifier")
    assert "DDMMYYYY" in body["detail"]


def test_surrounding_spaces_are_tolerated(api, suite):
    assert api.login("  123456-03091985 ", "Azur#718")["access_token"]


def test_self_employed_short_and_full_forms(api, suite):
    short = api.login("12345-15061970", "Port!962")
    full = api.login("712345-15061970", "Port!962")
    assert jwt.decode(short["access_token"], options={"verify_signature": False})["sub"] == \
        jwt.decode(full["access_token"], options={"verify_signature": False})["sub"]


def test_ambiguous_short_form_is_decided_by_the_password(api, suite, rpc, unique):
    born = dt.date(1977, 7, 7)
    digits = str(10000 + int(unique, 16) % 89999)
    employee = new_member(rpc, number=digits, birth_date=born, password="Cyan#551")
    self_employed = new_member(rpc, number="7" + digits, fund="CARTI", birth_date=born,
                               password="Ocre#662")
    short = f"{digits}-{born:%d%m%Y}"
    as_employee = api.login(short, "Cyan#551")
    as_self_employed = api.login(short, "Ocre#662")
    sub = [jwt.decode(t["access_token"], options={"verify_signature": False})["sub"]
           for t in (as_employee, as_self_employed)]
    assert sub == [employee["member_id"], self_employed["member_id"]]
    r = api.post("/api/v1/auth/login", json={"identifier": short, "password": "Rose#773"})
    assert_problem(r, 401, "invalid_credentials")


def test_first_connection_must_change_password(api, suite, rpc):
    member = new_member(rpc, password="Init#301", must_change=True)
    login = api.login(member["identifier"], "Init#301")
    assert login["must_change_password"] is True
    me = api.get("/api/v1/me", login["access_token"])
    assert me.status_code == 200 and me.json()["must_change_password"] is True

    changed = api.post("/api/v1/auth/password", login["access_token"],
                       json={"current_password": "Init#301", "new_password": "Vela#846"})
    assert changed.status_code == 200, changed.text
    tokens = changed.json()
    assert tokens["access_token"] and tokens["refresh_token"]
    assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["pcr"] is False
    me = api.get("/api/v1/me", tokens["access_token"])
    assert me.json()["must_change_password"] is False

    old = api.post("/api/v1/auth/login",
                   json={"identifier": member["identifier"], "password": "Init#301"})
    assert_problem(old, 401, "invalid_credentials")
    assert api.login(member["identifier"], "Vela#846")["must_change_password"] is False


def test_password_change_reports_every_broken_rule(api, suite, rpc):
    member = new_member(rpc, first_name="Helene")
    token = api.login(member["identifier"], member["password"])["access_token"]

    wrong = api.post("/api/v1/auth/password", token,
                     json={"current_password": "Nope#000", "new_password": "Vela#846"})
    body = assert_problem(wrong, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["current_password"]

    bad = api.post("/api/v1/auth/password", token,
                   json={"current_password": member["password"], "new_password": "hhhelene1"})
    body = assert_problem(bad, 422, "validation_failed")
    codes = {e["code"] for e in body["errors"]}
    assert {"password_length", "password_repeated_characters", "password_obvious"} <= codes
    assert all(e["field"] == "new_password" for e in body["errors"])
    assert "hhhelene1" not in bad.text

    same = api.post("/api/v1/auth/password", token,
                    json={"current_password": member["password"],
                          "new_password": member["password"]})
    body = assert_problem(same, 422, "validation_failed")
    assert body["errors"][0]["code"] == "password_unchanged"
    # nothing changed: the old password still works
    assert api.login(member["identifier"], member["password"])


def test_member_routes_need_a_valid_token(api, suite):
    assert_problem(api.get("/api/v1/me"), 401, "authentication_required")
    assert_problem(api.get("/api/v1/me", "not-a-token"), 401, "invalid_token")
    login = api.login("123456-03091985", "Azur#718")
    tampered = login["access_token"][:-4] + ("AAAA" if not login["access_token"].endswith(
        "AAAA") else "BBBB")
    assert_problem(api.get("/api/v1/me", tampered), 401, "invalid_token")
    forged = jwt.encode({"sub": "x", "sid": "y", "aud": "member", "iss": "memberspace-auth",
                         "exp": 9999999999}, "s" * 32, algorithm="HS256")
    assert_problem(api.get("/api/v1/me", forged), 401, "invalid_token")


def test_login_never_leaks_secrets_into_logs(api, suite):
    api.post("/api/v1/auth/login", json={"identifier": "123456-03091985",
                                         "password": "Leak#Me9"})
    logs = "".join(p.read_text(errors="replace") for p in suite.log_dir.glob("*.log"))
    assert "Leak#Me9" not in logs
    assert "argon2id$" not in logs
