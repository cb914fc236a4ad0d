"""auth's RPC contract and events, on the running suite (public contracts)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.kit.errors import Conflict, NotFound, ValidationFailed
from tests.service.test_kit import Capture
from tests.support import new_member

SECRET_MARKERS = ("password", "hash", "token", "argon2")


@pytest.fixture
def auth_events(test_env):
    c = Capture(test_env["AMQP_URI"], "auth")
    yield c
    c.close()


def member(**changes):
    base = {"first_name": "Anne", "last_name": "Dupont", "birth_date": "1980-02-29",
            "sex": "F", "subscriptions": [{"fund": "CCSS", "registration_number": "4321"}]}
    base.update(changes)
    return base


@pytest.mark.parametrize("changes, field", [
    ({"sex": "X"}, "sex"),
    ({"birth_date": "1980-02-30"}, "birth_date"),
    ({"email": "not-an-address"}, "email"),
    ({"subscriptions": [{"fund": "CAMTI", "registration_number": "123456"}]},
     "subscriptions.0.registration_number"),
    ({"subscriptions": [{"fund": "CCSS", "registration_number": "12"}]},
     "subscriptions.0.registration_number"),
    ({"subscriptions": []}, "subscriptions"),
    ({"password": "Azur#718"}, "password"),
])
def test_create_member_validates(suite, rpc, changes, field):
    with pytest.raises(ValidationFailed) as err:
        rpc.auth.create_member(member(**changes))
    assert field in {e["field"] for e in err.value.errors}


def test_member_lifecycle_events_carry_the_identity_and_no_secret(suite, rpc, auth_events,
                                                                  test_env):
    created = new_member(rpc, email="anne@example.mc", email_validated=True)
    rpc.auth.update_member(created["member_id"], {"language": "en"})
    rpc.auth.delete_member(created["member_id"])
    messages = auth_events.messages(wait=5, until=lambda m: len(m) >= 3)
    mine = [m.payload for m in messages if m.payload["member_id"] == created["member_id"]]
    assert [e["type"] for e in mine] == ["auth.member_created", "auth.member_updated",
                                         "auth.member_deleted"]
    assert mine[1]["data"]["language"] == "en"
    assert mine[0]["data"]["email"] == "anne@example.mc"
    assert mine[0]["data"]["subscriptions"][0]["registration_number"] == \
        created["subscriptions"][0]["registration_number"]
    for envelope in mine:
        assert set(envelope) == {"event_id", "type", "version", "occurred_at",
                                 "correlation_id", "member_id", "data"}
        flat = str(envelope).lower()
        assert not any(marker in flat for marker in SECRET_MARKERS)
    with pytest.raises(NotFound):
        rpc.auth.get_member(created["member_id"])


def test_login_event(suite, rpc, api, auth_events):
    created = new_member(rpc)
    api.login(created["identifier"], created["password"], client="web")

    def is_login(m):
        return (m.payload["type"] == "auth.member_logged_in"
                and m.payload["member_id"] == created["member_id"])

    messages = auth_events.messages(wait=5, until=lambda ms: any(map(is_login, ms)))
    logged = [m.payload for m in messages if is_login(m)]
    assert len(logged) == 1
    assert set(logged[0]["data"]) == {"session_id", "client", "method", "at"}
    assert logged[0]["data"]["client"] == "web"
    assert logged[0]["data"]["method"] == "password"


def test_registration_numbers_are_unique(suite, rpc):
    first = new_member(rpc)
    number = first["subscriptions"][0]["registration_number"]
    with pytest.raises(Conflict) as err:
        rpc.auth.create_member(member(subscriptions=[
            {"fund": "CCSS", "registration_number": number}]))
    assert err.value.code == "registration_number_taken"


def test_set_credentials_follows_the_rules(suite, rpc):
    created = new_member(rpc, password=None, first_name="Solange")
    with pytest.raises(ValidationFailed) as err:
        rpc.auth.set_credentials(created["member_id"], {"password": "solange1"})
    assert "password_obvious" in {e["code"] for e in err.value.errors}


def test_listing_pages_through_everyone(suite, rpc):
    for _ in range(3):
        new_member(rpc)
    seen, cursor = [], None
    while True:
        page = rpc.auth.list_members(cursor, 2)
        assert len(page["items"]) <= 2
        seen += [p["member_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 6  # 3 demo people + 3 made here


def test_export_holds_everything_but_secrets(suite, rpc, api, test_env):
    created = new_member(rpc)
    api.login(created["identifier"], created["password"])
    export = rpc.auth.export_member_data(created["member_id"])
    assert export["identity"]["member_id"] == created["member_id"]
    assert len(export["sessions"]) == 1
    assert {"member.created", "credentials.set"} <= {a["action"] for a in export["audit"]}
    assert "argon2" not in str(export) and "refresh" not in str(export)


def test_audit_names_the_actor(suite, rpc, test_env):
    created = new_member(rpc)
    engine = sa.create_engine(test_env["AUTH_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT actor_type, action FROM audit_log WHERE member_id = :m ORDER BY id"),
            {"m": created["member_id"]}).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("system", "member.created"),
                                        ("system", "credentials.set")]
