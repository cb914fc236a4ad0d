"""Refunds and payments: fed by the fund, shown to the member for the last 18 months.

The window: nothing dated before the same day 18 months before today (Europe/Monaco)
is ever returned to the member, even when asked; a range reaching further back is
clamped and the answer says so. Totals cover the whole selection, in exact decimals.
A record is news when first seen and recent: it then emits `benefits.refund_paid` or
`benefits.payment_made` (a back-fill can say `notify: false`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session as DbSession

from services.benefits.models import MemberNumber, Payment, Refund
from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, ValidationFailed, marshmallow_errors
from services.kit.pagination import DAY_AND_TEXT_ID, decode_cursor, split_page
from services.kit.periods import Period

MONACO = ZoneInfo("Europe/Monaco")
WINDOW_MONTHS = 18
MAX_BATCH = 5000
MAX_PAGE = 200


def today() -> dt.date:
    return dt.datetime.now(MONACO).date()


def window_start(on: dt.date | None = None) -> dt.date:
    """The same day 18 months before (the 31st falls back to the month's last day)."""
    return (on or today()) - relativedelta(months=WINDOW_MONTHS)


# -- what the fund sends -----------------------------------------------------------------

AMOUNT_MAX = 10**9  # every amount the fund sends (records, feed rows, care sheets)
AMOUNT = validate.Range(min=0, max=AMOUNT_MAX)


class _FundRecord(Schema):
    """What every record the fund sends carries: its own id and the member's number."""

    class Meta:
        unknown = RAISE

    record_id = fields.String(required=True, validate=validate.Length(1, 64))
    registration_number = fields.String(required=True,
                                        validate=validate.Regexp(r"^[0-9]{4,6}$"))


class RefundRecord(_FundRecord):
    kind = fields.Constant("refund")
    beneficiary_id = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=64))
    care_date = fields.Date(required=True)
    refund_date = fields.Date(required=True)
    practitioner = fields.String(required=True, validate=validate.Length(1, 200))
    act = fields.String(required=True, validate=validate.Length(1, 200))
    amount_charged = fields.Decimal(required=True, places=2, validate=AMOUNT)
    refund_base = fields.Decimal(required=True, places=2, validate=AMOUNT)
    amount_refunded = fields.Decimal(required=True, places=2, validate=AMOUNT)
    paid_to = fields.String(required=True, validate=validate.OneOf(["member", "insurer"]))
    currency = fields.String(load_default="EUR", validate=validate.OneOf(["EUR"]))


class PaymentRecord(_FundRecord):
    kind = fields.Constant("payment")
    payment_type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]{2,40}$"))
    label = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=200))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    payment_date = fields.Date(required=True)
    amount = fields.Decimal(required=True, places=2, validate=AMOUNT)
    currency = fields.String(load_default="EUR", validate=validate.OneOf(["EUR"]))

    @validates_schema
    def _period(self, data: dict, **_: Any) -> None:
        if data.get("period_end") and data.get("period_start") and \
                data["period_end"] < data["period_start"]:
            raise ValidationError("Ends before it starts.", "period_end")


SCHEMAS = {"refund": RefundRecord, "payment": PaymentRecord}


def load_records(records: Any) -> list[dict[str, Any]]:
    """Validate a batch whole: one bad record refuses the batch, naming it."""
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_BATCH:
        raise ValidationFailed.of([FieldError("records", "invalid",
                                              f"A list of 1 to {MAX_BATCH} records.")])
    loaded, errors = [], []
    for i, record in enumerate(records):
        kind = record.get("kind") if isinstance(record, dict) else None
        if not isinstance(kind, str) or kind not in SCHEMAS:
            errors.append(FieldError(f"records.{i}.kind", "not_allowed", "refund or payment"))
            continue
        try:
            loaded.append(SCHEMAS[kind]().load(record))
        except ValidationError as exc:
            errors += marshmallow_errors(exc.messages, f"records.{i}")
    if errors:
        raise ValidationFailed.of(errors)
    return loaded


def ingest(tx: UnitOfWork, records: list[dict[str, Any]], *, notify: bool = True,
           news_days: int = 7) -> dict[str, Any]:
    """Insert or correct records; first-seen recent ones are news for the member."""
    numbers = {r["registration_number"] for r in records}
    owners = dict(tx.session.execute(sa.select(
        MemberNumber.registration_number, MemberNumber.member_id).where(
        MemberNumber.registration_number.in_(numbers))).all())
    horizon = today() - dt.timedelta(days=news_days)
    new = updated = 0
    unknown: list[str] = []
    for record in records:
        member_id = owners.get(record["registration_number"])
        if member_id is None:
            unknown.append(record["record_id"])
            continue
        model, date_field = ((Refund, "refund_date") if record["kind"] == "refund"
                             else (Payment, "payment_date"))
        values = {k: v for k, v in record.items()
                  if k not in ("kind", "record_id", "registration_number")}
        values.update(id=record["record_id"], member_id=str(member_id))
        inserted = tx.session.execute(
            pg_insert(model).values(**values)
            .on_conflict_do_update(index_elements=["id"], set_={
                k: v for k, v in values.items() if k != "id"})
            .returning(sa.literal_column("xmax = 0"))).scalar()
        if not inserted:
            updated += 1
            continue
        new += 1
        if notify and record[date_field] >= horizon:
            _announce(tx, record, str(member_id))
    return {"new": new, "updated": updated, "unknown_members": unknown}


def _announce(tx: UnitOfWork, record: dict[str, Any], member_id: str) -> None:
    if record["kind"] == "refund":
        tx.emit("benefits.refund_paid", member_id=member_id, data={
            "refund_id": record["record_id"], "amount": str(record["amount_refunded"]),
            "currency": record["currency"], "paid_on": record["refund_date"].isoformat(),
            "care_date": record["care_date"].isoformat(),
            "practitioner": record["practitioner"], "paid_to": record["paid_to"],
            "beneficiary_id": record["beneficiary_id"]})
    else:
        tx.emit("benefits.payment_made", member_id=member_id, data={
            "payment_id": record["record_id"], "amount": str(record["amount"]),
            "currency": record["currency"], "paid_on": record["payment_date"].isoformat(),
            "payment_type": record["payment_type"], "label": record["label"],
            "period_start": record["period_start"].isoformat(),
            "period_end": record["period_end"].isoformat()})


# -- what the member sees ------------------------------------------------------------------

class ListQuery(Schema):
    class Meta:
        unknown = RAISE

    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)
    beneficiary = fields.String(load_default=None, validate=validate.Length(1, 64))
    type = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z_]{2,40}$"))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


LIST_QUERY = ListQuery()  # loading is thread-safe: one instance, not one per page


def _query(query: Any) -> dict[str, Any]:
    try:
        q = LIST_QUERY.load(query or {})
    except ValidationError as exc:
        raise ValidationFailed.of(marshmallow_errors(exc.messages)) from None
    if q["date_from"] and q["date_to"] and q["date_to"] < q["date_from"]:
        raise ValidationFailed.of([FieldError("to", "before_start", "Before `from`.")])
    return q


@dataclass(frozen=True)
class Ledger:
    """One listing: its table, the date that orders it and bounds the window, the
    amounts totalled, and the fields shown for each record, in order."""

    model: Any
    date_field: str
    amount_fields: tuple[str, ...]
    shown: tuple[str, ...]

    @property
    def table(self) -> sa.Table:
        return self.model.__table__


REFUNDS = Ledger(Refund, "refund_date", ("amount_charged", "amount_refunded"),
                 ("id", "care_date", "beneficiary_id", "practitioner", "act",
                  "amount_charged", "refund_base", "amount_refunded", "refund_date",
                  "paid_to", "currency"))
PAYMENTS = Ledger(Payment, "payment_date", ("amount",),
                  ("id", "payment_type", "label", "period_start", "period_end", "amount",
                   "payment_date", "currency"))


def _as_shown(column: sa.Column) -> sa.ColumnElement:
    """The column in the form the listing shows it, made by PostgreSQL (dates as
    YYYY-MM-DD, amounts as their exact decimal text): no Python objects to build and
    format again for every record of every page."""
    if isinstance(column.type, sa.Date):
        return sa.func.to_char(column, sa.literal_column("'YYYY-MM-DD'")).label(column.key)
    if isinstance(column.type, sa.Numeric):
        return sa.cast(column, sa.Text).label(column.key)
    return column


@functools.cache
def _statement(ledger: Ledger, part: str, has_to: bool, extra: str | None) -> sa.Select:
    """The listing's query for one shape of request, built once: SQLAlchemy then keys its
    compiled-statement cache on the same object every time instead of rebuilding and
    re-hashing the query on every page. Values arrive as bind parameters.

    `part`: "first" (first page with the selection's totals as window aggregates,
    which see every matching row before the LIMIT), "totals", or "next" (a page after
    a cursor)."""
    table = ledger.table
    date_col, id_col = table.c[ledger.date_field], table.c.id
    conditions = [table.c.member_id == sa.bindparam("member_id"),
                  date_col >= sa.bindparam("start")]
    if has_to:
        conditions.append(date_col <= sa.bindparam("end"))
    if extra == "beneficiary_member":
        conditions.append(table.c.beneficiary_id.is_(None))
    elif extra is not None:  # a column equal to the `extra` parameter
        conditions.append(table.c[extra] == sa.bindparam("extra"))
    amounts = [table.c[name] for name in ledger.amount_fields]
    if part == "totals":
        return sa.select(sa.func.count(), *[sa.func.coalesce(sa.func.sum(c), 0)
                                            for c in amounts]).where(*conditions)
    shown = [_as_shown(table.c[name]) for name in ledger.shown]
    if part == "first":
        shown += [sa.func.count().over().label("_count"),
                  *[sa.func.coalesce(sa.func.sum(c).over(), 0).label(f"_sum_{c.key}")
                    for c in amounts]]
    else:
        conditions.append(sa.tuple_(date_col, id_col) < sa.tuple_(
            sa.bindparam("after_day", type_=sa.Date), sa.bindparam("after_id")))
    return (sa.select(*shown).where(*conditions)
            .order_by(date_col.desc(), id_col.desc()).limit(sa.bindparam("limit")))


def _listing(session: DbSession, ledger: Ledger, member_id: str, q: dict[str, Any],
             extra: tuple[str, Any] | None) -> dict[str, Any]:
    earliest = window_start()
    start = q["date_from"] or earliest
    clamped = start < earliest
    params: dict[str, Any] = {"member_id": member_id, "start": max(start, earliest),
                              "end": q["date_to"], "limit": q["limit"] + 1}
    shape = (q["date_to"] is not None, extra[0] if extra else None)  # which query
    if extra and extra[1] is not None:
        params["extra"] = extra[1]
    db = session.connection()  # Core rows: no ORM step on this hot path
    if not q["cursor"]:
        rows = db.execute(_statement(ledger, "first", *shape), params).all()
        totals = ([rows[0]._count, *(getattr(rows[0], f"_sum_{name}")
                                     for name in ledger.amount_fields)]
                  if rows else [0, *(0 for _ in ledger.amount_fields)])
    else:
        params["after_day"], params["after_id"] = decode_cursor(q["cursor"], DAY_AND_TEXT_ID)
        totals = db.execute(_statement(ledger, "totals", *shape), params).one()
        rows = db.execute(_statement(ledger, "next", *shape), params).all()
    page, next_cursor = split_page(rows, q["limit"],
                                   lambda row: (getattr(row, ledger.date_field), row.id))
    width = len(ledger.shown)
    answer = {
        "items": [dict(zip(ledger.shown, row[:width], strict=True)) for row in page],
        "next_cursor": next_cursor,
        "count": totals[0],
        "totals": {name: str(Decimal(totals[i + 1]).quantize(Decimal("0.01")))
                   for i, name in enumerate(ledger.amount_fields)},
        "currency": "EUR",
        "window_start": earliest.isoformat(),
    }
    if clamped:
        answer["clamped_from"] = earliest.isoformat()
    return answer


def refund_view(r: Refund) -> dict[str, Any]:
    return {"id": r.id, "care_date": r.care_date.isoformat(),
            "beneficiary_id": r.beneficiary_id, "practitioner": r.practitioner, "act": r.act,
            "amount_charged": str(r.amount_charged), "refund_base": str(r.refund_base),
            "amount_refunded": str(r.amount_refunded),
            "refund_date": r.refund_date.isoformat(), "paid_to": r.paid_to,
            "currency": r.currency}


def payment_view(p: Payment) -> dict[str, Any]:
    return {"id": p.id, "payment_type": p.payment_type, "label": p.label,
            "period_start": p.period_start.isoformat(), "period_end": p.period_end.isoformat(),
            "amount": str(p.amount), "payment_date": p.payment_date.isoformat(),
            "currency": p.currency}


def list_refunds(session: DbSession, member_id: str, query: Any) -> dict[str, Any]:
    q = _query(query)
    extra = None
    if q["beneficiary"] == "member":
        extra = ("beneficiary_member", None)
    elif q["beneficiary"]:
        extra = ("beneficiary_id", q["beneficiary"])
    return _listing(session, REFUNDS, member_id, q, extra)


def list_payments(session: DbSession, member_id: str, query: Any) -> dict[str, Any]:
    q = _query(query)
    return _listing(session, PAYMENTS, member_id, q,
                    ("payment_type", q["type"]) if q["type"] else None)


STATEMENT_QUERY = Period()


def payments_for_statement(session: DbSession, member_id: str,
                           period: Any) -> dict[str, Any]:
    """Every payment held for the period, oldest first, with its exact total: what a
    payment certificate or an annual tax statement lists. Not bounded by the 18-month
    window of the member's listing: a statement covers what the fund holds, as the
    right of access does."""
    try:
        q = STATEMENT_QUERY.load(period or {})
    except ValidationError as exc:
        raise ValidationFailed.of(marshmallow_errors(exc.messages)) from None
    table = PAYMENTS.table
    rows = session.connection().execute(
        sa.select(*[_as_shown(table.c[name]) for name in PAYMENTS.shown])
        .where(table.c.member_id == member_id,
               table.c.payment_date.between(q["date_from"], q["date_to"]))
        .order_by(table.c.payment_date, table.c.id)).all()
    items = [dict(zip(PAYMENTS.shown, row, strict=True)) for row in rows]
    return {"from": q["date_from"].isoformat(), "to": q["date_to"].isoformat(),
            "items": items, "count": len(items),
            "totals": {"amount": str(sum((Decimal(i["amount"]) for i in items),
                                         Decimal("0.00")))},
            "currency": "EUR"}


def export(session: DbSession, member_id: str) -> dict[str, Any]:
    """Everything held, without the 18-month limit (the right of access covers it all)."""
    refunds = session.scalars(sa.select(Refund).where(Refund.member_id == member_id)
                              .order_by(Refund.refund_date)).all()
    payments = session.scalars(sa.select(Payment).where(Payment.member_id == member_id)
                               .order_by(Payment.payment_date)).all()
    return {"refunds": [refund_view(r) for r in refunds],
            "payments": [payment_view(p) for p in payments]}


def remember_numbers(session: DbSession, member_id: str, subscriptions: list[dict]) -> None:
    session.execute(sa.delete(MemberNumber).where(MemberNumber.member_id == member_id))
    for sub in subscriptions:
        session.execute(pg_insert(MemberNumber).values(
            registration_number=sub["registration_number"], member_id=member_id)
            .on_conflict_do_update(index_elements=["registration_number"],
                                   set_={"member_id": member_id}))
