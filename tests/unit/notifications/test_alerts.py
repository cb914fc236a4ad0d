"""Input checks of services.notifications.alerts that answer before any query."""

import base64
import json

import pytest

from services.kit.errors import NotFound, ValidationFailed
from services.kit.pagination import decode_cursor
from services.notifications import alerts

MEMBER = "6f1c2b1e-8d3a-4c55-9a0e-2f6b7c8d9e10"


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("value", [
    ["2026-01-15T10:00:00+00:00", 12],
    ["2026-01-15T10:00:00+00:00", ["x"]],
    [12, MEMBER],
    ["not a date", MEMBER],
    ["2026-01-15T10:00:00+00:00", "not a uuid"],
    {"a": 1},
    "text",
])
def test_a_cursor_this_listing_did_not_give_is_invalid(value):
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor_of(value))


def test_a_cursor_round_trips():
    at, alert_id = decode_cursor(cursor_of(["2026-01-15T10:00:00+00:00", MEMBER]))
    assert (at.isoformat(), alert_id) == ("2026-01-15T10:00:00+00:00", MEMBER)


@pytest.mark.parametrize("resource", [
    {"type": "", "id": "1"},
    {"type": "t" * 51, "id": "1"},
    {"type": "refund", "id": ""},
    {"type": "refund", "id": "9" * 101},
    {"type": "refund", "id": 10 ** 100},
    {"type": "refund", "id": None},
    ["refund", "1"],
])
def test_a_resource_that_does_not_fit_its_columns_is_invalid(resource):
    alert = {"category": "payments", "title": "T", "body": "B", "resource": resource}
    with pytest.raises(ValidationFailed) as err:
        alerts.post_alert(None, None, MEMBER, alert)
    assert [e["field"] for e in err.value.extra["errors"]] == ["resource"]


@pytest.mark.parametrize("value", ["nope", 12, None, ["x"], ""])
def test_a_member_id_that_is_not_a_uuid_is_no_member(value):
    with pytest.raises(NotFound) as err:
        alerts.member_key(value)
    assert err.value.code == "member_not_found"
    with pytest.raises(ValidationFailed) as refused:  # the direct commands: 422
        alerts.check_member_id(value)
    assert [e["field"] for e in refused.value.errors] == ["member_id"]


def test_a_member_id_is_canonical():
    assert alerts.member_key(MEMBER.upper()) == MEMBER
    assert alerts.check_member_id(MEMBER.upper()) == MEMBER


@pytest.mark.parametrize(("resource", "expected"), [
    (("request", "0f5c3a52"), "/requests/0f5c3a52"),
    (("document", "5b9e2c4a"), "/documents/5b9e2c4a"),
    (("card", "any"), "/card"),
    (("payment", "p1"), None),
    (None, None),
])
def test_alerts_the_member_acts_on_carry_a_link(resource, expected) -> None:
    import datetime as dt

    from services.notifications.alerts import alert_view
    from services.notifications.models import Alert

    alert = Alert(id="a", category="requests", kind="generic", title="t", body="b",
                  resource_type=resource[0] if resource else None,
                  resource_id=resource[1] if resource else None,
                  created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert alert_view(alert)["link"] == expected
