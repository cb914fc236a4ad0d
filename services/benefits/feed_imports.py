"""The fund's nightly file feed: CSV files dropped in storage, imported once.

Files land under `incoming/` in the feeds bucket. In the nightly window (01:00 to
07:00 Europe/Monaco by default) a timer imports each one: good rows go through the
same rules as the RPC batches, bad rows are kept aside with their line number and
reason, and a report is stored under `reports/`. The file then moves to
`processed/`. A file already imported (same SHA-256) changes nothing, and an
advisory lock makes two instances import a file once.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.benefits import ledger
from services.benefits.feed import FeedError, RejectedRow, parse_feed
from services.benefits.models import FeedImport
from services.kit.db import Store
from services.kit.errors import ValidationFailed
from services.kit.logging import get_logger
from services.kit.offload import off_loop
from services.kit.storage import Storage

log = get_logger(__name__)
MONACO = ZoneInfo("Europe/Monaco")
FEEDS = "feeds"
INCOMING, PROCESSED, REPORTS = "incoming/", "processed/", "reports/"
CHUNK = 1000


def in_window(now: dt.datetime, start_hour: int, end_hour: int) -> bool:
    hour = now.astimezone(MONACO).hour
    return start_hour <= hour < end_hour


def window_hours(window: str) -> tuple[int, int]:
    """"1-7" -> (1, 7): the hours BENEFITS_IMPORT_WINDOW names, end excluded."""
    start, end = (int(hour) for hour in window.split("-"))
    return start, end


def import_if_in_window(db: Store, storage: Storage, news_days: int, window: str,
                        now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The timer's tick: import the dropped files when `now` falls in `window`
    (BENEFITS_IMPORT_WINDOW, "start-end" hours in Monaco), nothing otherwise."""
    start, end = window_hours(window)
    if not in_window(now or dt.datetime.now(dt.UTC), start, end):
        return []
    return import_pending(db, storage, news_days)


def import_pending(db: Store, storage: Storage, news_days: int) -> list[dict[str, Any]]:
    reports = []
    for key in storage.list(FEEDS, INCOMING):
        if key.endswith("/"):
            continue
        report = import_file(db, storage, key, news_days)
        if report is not None:
            reports.append(report)
    return reports


def import_file(db: Store, storage: Storage, key: str,
                news_days: int) -> dict[str, Any] | None:
    bucket = FEEDS
    data = storage.get(bucket, key)
    name = key[len(INCOMING):]
    try:
        parsed = off_loop(parse_feed, data)
    except FeedError as exc:
        report = {"file": name, "status": "unreadable", "error": exc.detail}
        _store_report(storage, name, report)
        _move(storage, key, name)
        return report
    with db.transaction() as tx:
        locked = tx.session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:k)"),
                                   {"k": int(parsed.sha256[:15], 16)})
        if not locked:
            return None  # another instance has it
        if tx.session.get(FeedImport, parsed.sha256) is not None:
            report = {"file": name, "status": "already_imported", "sha256": parsed.sha256}
        else:
            rejected = list(parsed.rejected)
            new = updated = 0
            good = list(parsed.records)
            for start in range(0, len(good), CHUNK):
                chunk = good[start:start + CHUNK]
                try:
                    records = ledger.load_records([r.as_record() for r in chunk])
                except ValidationFailed:  # checked row by row below to keep the good ones
                    records = []
                    for row in chunk:
                        try:
                            records += ledger.load_records([row.as_record()])
                        except ValidationFailed as exc:
                            rejected.append(RejectedRow(row.line, "; ".join(
                                e["detail"] for e in exc.errors), row.record_id))
                by_id = {r.record_id: r.line for r in chunk}
                result = ledger.ingest(tx, records, notify=True, news_days=news_days)
                new, updated = new + result["new"], updated + result["updated"]
                rejected += [RejectedRow(by_id[i], "unknown registration number", i)
                             for i in result["unknown_members"]]
            report = {"file": name, "status": "imported", "sha256": parsed.sha256,
                      "imported_at": dt.datetime.now(dt.UTC).isoformat(),
                      "rows": len(parsed.records) + len(parsed.rejected),
                      "new": new, "updated": updated,
                      "rejected": [{"line": r.line, "reason": r.reason, "raw": r.raw}
                                   for r in sorted(rejected, key=lambda r: r.line)]}
            tx.session.add(FeedImport(sha256=parsed.sha256, object_key=key,
                                      good_rows=new + updated, bad_rows=len(rejected),
                                      report_key=REPORTS + name + ".json"))
            tx.audit("feed.imported", member_id=None,
                     details={"file": name, "new": new, "rejected": len(rejected)})
        _store_report(storage, name, report)
    _move(storage, key, name)
    log.info("feed_imported", file=name, status=report["status"])
    return report


def _store_report(storage: Storage, name: str, report: dict[str, Any]) -> None:
    storage.put(FEEDS, REPORTS + name + ".json",
                json.dumps(report, indent=2).encode(), "application/json")


def _move(storage: Storage, key: str, name: str) -> None:
    bucket = FEEDS
    storage.copy(bucket, key, PROCESSED + name)
    storage.delete(bucket, key)
