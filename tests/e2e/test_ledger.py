"""Refunds and payments of the last 18 months, fed by the fund's systems."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import uuid
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from services.kit.errors import ValidationFailed
from tests.support import assert_problem, new_member, wait_for_alert


def today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Monaco")).date()


def refund(number: str, days_ago: int, amount: str = "23.40", **extra) -> dict:
    paid = today() - dt.timedelta(days=days_ago)
    return {"kind": "refund", "record_id": f"R-{uuid.uuid4().hex[:12]}",
            "registration_number": number, "care_date": (paid - dt.timedelta(days=4)
                                                         ).isoformat(),
            "refund_date": paid.isoformat(), "practitioner": "Dr Martin",
            "act": "Consultation", "amount_charged": "30.00", "refund_base": "30.00",
            "amount_refunded": amount, "paid_to": "member", **extra}


def payment(number: str, days_ago: int, amount: str = "254.31") -> dict:
    paid = today() - dt.timedelta(days=days_ago)
    return {"kind": "payment", "record_id": f"P-{uuid.uuid4().hex[:12]}",
            "registration_number": number, "payment_type": "family_allowance",
            "label": "Allocations familiales",
            "period_start": (paid - dt.timedelta(days=35)).isoformat(),
            "period_end": (paid - dt.timedelta(days=5)).isoformat(),
            "payment_date": paid.isoformat(), "amount": amount}


@pytest.fixture
def member(api, suite, rpc):
    created = new_member(rpc, email=f"l{uuid.uuid4().hex[:8]}@example.mc",
                         email_validated=True)
    created["number"] = created["subscriptions"][0]["registration_number"]
    created["token"] = api.login(created["identifier"], created["password"])["access_token"]
    deadline = time.monotonic() + 10  # benefits hears of new members through events
    while rpc.benefits.ingest_records([payment(created["number"], 400)], False)[
            "unknown_members"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return created


def test_the_window_is_18_months_and_a_longer_range_is_clamped(api, rpc, member):
    days = [10, 100, 300, 530, 560, 700]
    rpc.benefits.ingest_records([refund(member["number"], d) for d in days], False)
    body = api.get("/api/v1/me/refunds", member["token"]).json()
    edge = today() - relativedelta(months=18)
    shown = [r["refund_date"] for r in body["items"]]
    assert all(dt.date.fromisoformat(d) >= edge for d in shown)
    assert len(shown) == sum(1 for d in days if today() - dt.timedelta(days=d) >= edge)
    assert shown == sorted(shown, reverse=True)
    assert "clamped_from" not in body
    asked = (today() - dt.timedelta(days=800)).isoformat()
    clamped = api.get(f"/api/v1/me/refunds?from={asked}", member["token"]).json()
    assert clamped["clamped_from"] == edge.isoformat()
    assert [r["refund_date"] for r in clamped["items"]] == shown


def test_totals_cover_the_whole_selection_exactly(api, rpc, member):
    amounts = ["0.10", "0.20", "0.30", "19.99", "100.01"]
    rpc.benefits.ingest_records([refund(member["number"], 20 + i, a)
                                 for i, a in enumerate(amounts)], False)
    first = api.get("/api/v1/me/refunds?limit=2", member["token"]).json()
    assert len(first["items"]) == 2 and first["count"] == 5
    assert first["totals"]["amount_refunded"] == str(sum(Decimal(a) for a in amounts))
    seen = list(first["items"])
    cursor = first["next_cursor"]
    while cursor:
        page = api.get(f"/api/v1/me/refunds?limit=2&cursor={cursor}", member["token"]).json()
        seen += page["items"]
        cursor = page["next_cursor"]
    assert sorted(r["amount_refunded"] for r in seen) == sorted(amounts)


def test_filters_and_bad_dates(api, rpc, member):
    rpc.benefits.ingest_records([
        refund(member["number"], 12, beneficiary_id="B-child"),
        refund(member["number"], 13), payment(member["number"], 14)], False)
    child = api.get("/api/v1/me/refunds?beneficiary=B-child", member["token"]).json()
    assert [r["beneficiary_id"] for r in child["items"]] == ["B-child"]
    own = api.get("/api/v1/me/refunds?beneficiary=member", member["token"]).json()
    assert all(r["beneficiary_id"] is None for r in own["items"]) and own["items"]
    by_type = api.get("/api/v1/me/payments?type=pension", member["token"]).json()
    assert by_type["items"] == [] and by_type["totals"]["amount"] == "0.00"
    for bad in ("from=2026-02-30", "to=yesterday", "limit=0"):
        assert_problem(api.get(f"/api/v1/me/refunds?{bad}", member["token"]),
                       422, "validation_failed")
    backwards = f"from={today().isoformat()}&to={(today() - dt.timedelta(days=9)).isoformat()}"
    assert_problem(api.get(f"/api/v1/me/refunds?{backwards}", member["token"]),
                   422, "validation_failed")


def test_csv_streams_the_whole_selection(api, rpc, member):
    rpc.benefits.ingest_records([refund(member["number"], 30 + i) for i in range(250)],
                                False)
    r = api.get("/api/v1/me/refunds?format=csv", member["token"])
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 250 and rows[0]["refund_date"] >= rows[-1]["refund_date"]


def test_csv_cells_never_run_as_formulas(api, rpc, member):
    rpc.benefits.ingest_records([
        refund(member["number"], 3, practitioner='=HYPERLINK("http://x.example","Dr")'),
        refund(member["number"], 4, practitioner="@SUM(A1)", act="+1 visit"),
        refund(member["number"], 5, practitioner="Dr -Martin")], False)
    r = api.get("/api/v1/me/refunds?format=csv", member["token"])
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["practitioner"], row["act"]) for row in rows] == [
        ("'=HYPERLINK(\"http://x.example\",\"Dr\")", "Consultation"),
        ("'@SUM(A1)", "'+1 visit"), ("Dr -Martin", "Consultation")]


def test_news_is_announced_once_and_back_fills_are_quiet(api, rpc, member):
    recent = refund(member["number"], 1, "23.40")
    old = refund(member["number"], 60, "11.11")
    quiet = refund(member["number"], 0, "99.99")
    first = rpc.benefits.ingest_records([recent, old], True)
    assert first["new"] == 2
    assert rpc.benefits.ingest_records([recent, old], True) == {
        "new": 0, "updated": 2, "unknown_members": []}  # the same batch again: nothing new
    rpc.benefits.ingest_records([quiet], False)
    alert = wait_for_alert(api, member["token"], "refund_paid")
    assert "23,40 EUR" in alert["body"] and alert["category"] == "payments"
    assert alert["resource"] == {"type": "refund", "id": recent["record_id"]}
    time.sleep(1.0)
    kinds = [a["body"] for a in api.get("/api/v1/me/notifications?limit=100",
                                        member["token"]).json()["items"]]
    assert sum("23,40" in b for b in kinds) == 1
    assert not any("11,11" in b or "99,99" in b for b in kinds)
    listed = api.get("/api/v1/me/refunds", member["token"]).json()["items"]
    assert sum(r["id"] == recent["record_id"] for r in listed) == 1


def test_a_bad_record_refuses_the_batch(rpc, member):
    good = refund(member["number"], 3)
    bad = refund(member["number"], 4, amount="-1")
    with pytest.raises(ValidationFailed) as err:
        rpc.benefits.ingest_records([good, bad], True)
    assert err.value.errors[0]["field"].startswith("records.1")
    assert rpc.benefits.ingest_records([good], False)["new"] == 1  # nothing was kept


HEADER = ("record_id;kind;member_registration_number;beneficiary_id;date;paid_on;amount;"
          "currency;label;practitioner;amount_charged;refund_base;paid_to;period_start;"
          "period_end;payment_type")


@pytest.fixture
def feeds(test_env):
    from services.kit.storage import Storage

    storage = Storage(test_env["S3_ENDPOINT_URL"], "eu-west-3", "memberspace-dev",
                      "memberspace-dev-secret", test_env["S3_BUCKET_PREFIX"])
    return storage, "feeds"  # logical name: the client adds the prefix


def feed_file(number: str, tag: str) -> bytes:
    day = (today() - dt.timedelta(days=2)).isoformat()
    rows = [HEADER,
            f"{tag}-1;refund;{number};;{day};{day};23,40;EUR;Consultation;Dr Martin;30;30;"
            f"member;;;",
            f"{tag}-2;payment;{number};;;{day};254.31;EUR;Allocations;;;;;{day};{day};"
            f"family_allowance",
            f"{tag}-3;refund;{number};;{day};{day};-5;EUR;X;Dr X;1;1;member;;;",
            f"{tag}-4;refund;999998;;{day};{day};1;EUR;X;Dr X;1;1;member;;;"]
    return ("\n".join(rows) + "\n").encode()


def test_the_file_feed_imports_once_and_keeps_bad_rows_aside(api, rpc, member, feeds):
    import json

    storage, bucket = feeds
    tag = uuid.uuid4().hex[:8]
    data = feed_file(member["number"], tag)
    storage.put(bucket, f"incoming/{tag}.csv", data, "text/csv")
    reports = [r for r in rpc.benefits.import_feeds() if r["file"] == f"{tag}.csv"]
    assert len(reports) == 1
    report = reports[0]
    assert report["status"] == "imported" and report["new"] == 2
    assert [(r["line"], "amount" in r["reason"] or "registration" in r["reason"])
            for r in report["rejected"]] == [(4, True), (5, True)]
    stored = json.loads(storage.get(bucket, f"reports/{tag}.csv.json"))
    assert stored["rejected"] == report["rejected"]
    assert storage.head(bucket, f"incoming/{tag}.csv") is None
    assert storage.head(bucket, f"processed/{tag}.csv") is not None
    listed = api.get("/api/v1/me/refunds", member["token"]).json()["items"]
    assert sum(r["id"] == f"{tag}-1" for r in listed) == 1
    wait_for_alert(api, member["token"], "refund_paid")
    # the same file dropped again changes nothing
    storage.put(bucket, f"incoming/{tag}-again.csv", data, "text/csv")
    again = [r for r in rpc.benefits.import_feeds() if r["file"] == f"{tag}-again.csv"]
    assert again[0]["status"] == "already_imported"


def test_two_instances_import_a_file_once(rpc, member, feeds, test_env):
    import eventlet

    from services.kit.client import RpcClient

    storage, bucket = feeds
    tag = uuid.uuid4().hex[:8]
    storage.put(bucket, f"incoming/{tag}.csv", feed_file(member["number"], tag), "text/csv")

    def run():
        with RpcClient(test_env["AMQP_URI"], timeout=30) as proxy:
            try:
                return proxy.benefits.import_feeds()
            except Exception:  # the loser may find the file already moved
                return []

    results = [gt.wait() for gt in [eventlet.spawn(run) for _ in range(2)]]
    imported = [r for rs in results for r in rs
                if r["file"] == f"{tag}.csv" and r["status"] == "imported"]
    assert len(imported) == 1


def test_each_record_is_shown_as_the_fund_sent_it(api, rpc, member):
    sent_refund = refund(member["number"], 3, "7.50", beneficiary_id="B-7")
    sent_refund["practitioner"] = "Pharmacie de l'Écluse"
    sent_payment = payment(member["number"], 4, "1200.00")
    rpc.benefits.ingest_records([sent_refund, sent_payment], False)
    [shown] = [r for r in api.get("/api/v1/me/refunds", member["token"]).json()["items"]
               if r["id"] == sent_refund["record_id"]]
    assert shown == {**{k: v for k, v in sent_refund.items()
                        if k not in ("kind", "record_id", "registration_number")},
                     "id": sent_refund["record_id"], "currency": "EUR"}
    [shown] = [p for p in api.get("/api/v1/me/payments", member["token"]).json()["items"]
               if p["id"] == sent_payment["record_id"]]
    assert shown == {**{k: v for k, v in sent_payment.items()
                        if k not in ("kind", "record_id", "registration_number")},
                     "id": sent_payment["record_id"], "currency": "EUR"}
