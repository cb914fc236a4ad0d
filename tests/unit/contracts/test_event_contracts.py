"""Every event's `data` has a contract: each accepts the payload its publisher sends and
refuses a wrong one; every emit site names a known type; no version changes but by
gaining optional fields (the committed snapshot)."""

from __future__ import annotations

import copy
import json
import re
import uuid
from pathlib import Path

import pytest
from marshmallow import ValidationError

from services.contracts.events import EVENT_SCHEMAS, UnknownEvent, check_event_data
from services.kit.events import InvalidEvent, check_event
from tests.unit.contracts.snapshot import SNAPSHOT, breaks, current, incompatible

ROOT = Path(__file__).resolve().parents[3]
MEMBER = str(uuid.uuid4())
AT = "2026-11-26T21:46:31.501562+00:00"
IDENTITY = {"member_id": MEMBER, "first_name": "Ana", "last_name": "Lopez",
            "birth_date": "1980-01-02", "sex": "F", "email": None, "email_validated": False,
            "language": "fr", "subscriptions": [{"fund": "CCSS", "registration_number": "55501"}]}

# what each publisher sends (the emit sites: services/*/, see test_every_emit_site...)
SAMPLES = {
    "auth.member_created": IDENTITY,
    "auth.member_updated": {**IDENTITY, "email": "ana@example.mc", "email_validated": True},
    "auth.member_deleted": {"member_id": MEMBER},
    "auth.member_logged_in": {"session_id": str(uuid.uuid4()), "client": "mobile",
                              "method": "password", "at": AT},
    "auth.password_changed": {"session_id": None, "at": AT, "method": "reset"},
    "auth.email_changed": {"email": "ana.lopez@example.mc", "previous_email": None, "at": AT},
    "auth.sessions_ended": {"session_ids": [str(uuid.uuid4())], "reason": "logout", "at": AT},
    "auth.login_locked": {"until": AT},
    "benefits.refund_paid": {"refund_id": "R-123456-049", "amount": "23.40", "currency": "EUR",
                             "paid_on": "2026-11-25", "care_date": "2026-11-21",
                             "practitioner": "Dr Martin", "paid_to": "member",
                             "beneficiary_id": None},
    "benefits.payment_made": {"payment_id": "P-123456-202611", "amount": "254.31",
                              "currency": "EUR", "paid_on": "2026-11-05",
                              "payment_type": "family_allowance",
                              "label": "Allocations familiales",
                              "period_start": "2026-10-01", "period_end": "2026-10-31"},
    "documents.document_received": {"document_id": str(uuid.uuid4()),
                                    "category": "proof_of_address",
                                    "filename": "facture.pdf", "request_id": None},
    "requests.status_changed": {"request_id": str(uuid.uuid4()), "type": "data_correction",
                                "from": "in_progress", "to": "needs_information", "at": AT,
                                "note": "Merci de joindre votre acte de mariage."},
}

# one wrong payload per contract: (field, wrong value); None drops the field
WRONG = {
    "auth.member_created": ("birth_date", "02/01/1980"),
    "auth.member_updated": ("subscriptions", [{"fund": "XYZ", "registration_number": "1"}]),
    "auth.member_deleted": ("member_id", "not-a-uuid"),
    "auth.member_logged_in": ("client", "desktop"),
    "auth.password_changed": ("method", None),
    "auth.email_changed": ("at", "2026-11-26T21:46:31"),  # no offset
    "auth.sessions_ended": ("session_ids", []),
    "auth.login_locked": ("until", 1764193591),
    "benefits.refund_paid": ("amount", 23.4),
    "benefits.payment_made": ("paid_on", None),
    "documents.document_received": ("category", "selfie"),
    "requests.status_changed": ("to", "draft"),
}


def test_every_contract_has_a_sample_and_a_wrong_payload():
    assert {t for t, _ in EVENT_SCHEMAS} == set(SAMPLES) == set(WRONG)


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_a_contract_accepts_what_its_publisher_sends(event_type):
    check_event_data(event_type, 1, SAMPLES[event_type])
    check_event(event_type, 1, SAMPLES[event_type])


@pytest.mark.parametrize("event_type", sorted(WRONG))
def test_a_contract_refuses_a_wrong_payload(event_type):
    field, value = WRONG[event_type]
    data = copy.deepcopy(SAMPLES[event_type])
    if value is None:
        del data[field]
    else:
        data[field] = value
    with pytest.raises(ValidationError) as caught:
        check_event_data(event_type, 1, data)
    assert field in caught.value.messages
    with pytest.raises(InvalidEvent, match=f"{event_type} v1 breaks its contract"):
        check_event(event_type, 1, data)


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_a_contract_refuses_a_field_it_does_not_name(event_type):
    with pytest.raises(InvalidEvent, match="Unknown field"):
        check_event(event_type, 1, {**SAMPLES[event_type], "password": "secret"})


def test_an_unknown_type_or_version_is_refused():
    with pytest.raises(UnknownEvent):
        check_event_data("auth.member_exploded", 1, {})
    with pytest.raises(InvalidEvent, match=r"no contract for event .auth.member_created. "
                                           "version 2"):
        check_event("auth.member_created", 2, IDENTITY)
    with pytest.raises(InvalidEvent, match="must be an object"):
        check_event("auth.login_locked", 1, ["2026-11-26"])


def _emitted_types() -> dict[str, list[str]]:
    """Event types named at each `tx.emit(...)` in the services' code."""
    found: dict[str, list[str]] = {}
    call = re.compile(r"""\.emit\(\s*["']([a-z_]+\.[a-z_]+)["']""")
    for path in sorted((ROOT / "services").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        for match in call.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(1), []).append(
                f"{path.relative_to(ROOT)}:{line}")
    return found


def test_every_emit_site_names_a_type_with_a_contract():
    sites = _emitted_types()
    documented = {t for t, _ in EVENT_SCHEMAS}
    unknown = {t: where for t, where in sites.items() if t not in documented}
    assert not unknown, f"events emitted without a contract: {unknown}"
    # every contract is published somewhere (a contract nobody sends is a stale promise)
    assert documented <= set(sites), sorted(documented - set(sites))


def test_emit_sites_pass_their_type_as_a_literal():
    """The scan above sees every site only if each names its type literally."""
    loose = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\btx\.emit\(\s*[^\"'\s]", line):
                loose.append(f"{path.relative_to(ROOT)}:{number}")
    assert not loose


def test_versions_only_gain_optional_fields():
    recorded = json.loads(SNAPSHOT.read_text())
    broken = incompatible(recorded, current())
    assert not broken, (
        "An event contract changed in a way its consumers cannot absorb: "
        + "; ".join(f"{k}: {', '.join(v)}" for k, v in broken.items())
        + ". Within a version a schema may only gain optional fields: add a new version "
          "instead (EVENT_SCHEMAS[(type, n + 1)] in services/contracts/events.py, published "
          "alongside the old one), then `make event-snapshot`.")
    assert recorded == current(), (
        "The contracts gained something the snapshot does not record: run "
        "`make event-snapshot` and commit services/contracts/event_schemas.json.")


def test_the_snapshot_rule_catches_each_kind_of_break():
    shape = {"a": {"type": "String", "required": True, "allow_none": True},
             "b": {"type": "List", "required": False, "allow_none": False,
                   "items": {"type": "UUID", "required": False, "allow_none": False}}}
    assert breaks(shape, shape) == []
    optional = {**shape, "c": {"type": "String", "required": False, "allow_none": True}}
    assert breaks(shape, optional) == []
    assert breaks(shape, {"b": shape["b"]}) == ["a: removed"]
    assert breaks(shape, {**shape, "a": {**shape["a"], "type": "Integer"}}) == [
        "a: type String became Integer"]
    assert breaks(shape, {**shape, "a": {**shape["a"], "allow_none": False}}) == [
        "a: no longer accepts null"]
    assert breaks(shape, {**shape, "b": {**shape["b"], "required": True}}) == [
        "b: became required"]
    assert breaks(shape, {**shape, "c": {**optional["c"], "required": True}}) == [
        "c: new and required"]
    inner = {**shape, "b": {**shape["b"], "items": {**shape["b"]["items"], "type": "String"}}}
    assert breaks(shape, inner) == ["b[]: type UUID became String"]
