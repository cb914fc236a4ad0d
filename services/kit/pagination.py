"""Keyset pagination: a listing ordered by (a date or instant, an id), cut into pages,
each continued by an opaque cursor naming the last item given.

    after = decode_cursor(cursor or None)                  # None, or 422 on `cursor`
    stmt = keyset(sa.select(Alert).where(...), Alert.created_at, Alert.id, after, limit)
    return page_of(session.scalars(stmt).all(), limit, alert_view,
                   lambda a: (a.created_at, a.id))

A cursor is URL-safe base64 (unpadded) of the JSON `[key, id]`, the key in ISO 8601;
it is no secret and no signature: what a crafted one may hold is checked on decoding
(a date or an aware instant, an id of the expected form), and anything else is
`422 validation_failed` with `invalid` on `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from services.kit.errors import FieldError, ValidationFailed

T = TypeVar("T")
Position = tuple[Any, str]  # (the ordering key, the item's id)


@dataclass(frozen=True)
class CursorShape:
    """What a listing's cursor holds: how to read its key, and whether ids are UUIDs."""

    parse_key: Callable[[Any], Any]
    uuid_ids: bool = True


def _instant(value: Any) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # a stored instant is always UTC-aware
        raise ValueError("naive instant")
    return parsed


def _date(value: Any) -> dt.date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("not a date")
    return dt.date.fromisoformat(value)


INSTANT = CursorShape(_instant)                 # (created_at, uuid) listings
DAY_AND_TEXT_ID = CursorShape(_date, uuid_ids=False)  # (a day, any id): benefits' ledgers


def invalid_cursor() -> ValidationFailed:
    return ValidationFailed.of([FieldError("cursor", "invalid",
                                           "Not a cursor this listing gave.")])


def encode_cursor(key: dt.date | dt.datetime | str, item_id: Any) -> str:
    """The cursor continuing after the item at (`key`, `item_id`)."""
    text = key if isinstance(key, str) else key.isoformat()
    raw = json.dumps([text, str(item_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: Any, shape: CursorShape = INSTANT) -> Position | None:
    """The position a cursor names; None for None (the first page); 422 on `cursor`
    for anything `encode_cursor` did not make in this shape ("" included: pass
    `cursor or None` where an empty query value means no cursor)."""
    if cursor is None:
        return None
    try:
        if not isinstance(cursor, str) or len(cursor) > 400:
            raise TypeError("not a cursor")
        key, item_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, str) or not isinstance(item_id, str) or not item_id:
            raise TypeError("not a cursor")
        if shape.uuid_ids:
            item_id = str(uuid.UUID(item_id))
        return shape.parse_key(key), item_id
    except (ValueError, TypeError, binascii.Error, RecursionError):  # "[[[..." too
        raise invalid_cursor() from None


def keyset(stmt: sa.Select, key: Any, item_id: Any, after: Position | None, limit: int,
           *, oldest_first: bool = False) -> sa.Select:
    """`stmt` ordered by (`key`, `item_id`), newest first unless `oldest_first`, past
    `after`, one row more than `limit` (so `page_of` knows whether a page follows)."""
    if after is not None:
        here, bound = sa.tuple_(key, item_id), sa.tuple_(*after)
        stmt = stmt.where(here > bound if oldest_first else here < bound)
    order = (key.asc(), item_id.asc()) if oldest_first else (key.desc(), item_id.desc())
    return stmt.order_by(*order).limit(limit + 1)


def split_page(rows: Sequence[T], limit: int,
               position: Callable[[T], Position]) -> tuple[Sequence[T], str | None]:
    """The page (at most `limit` rows of the `limit + 1` fetched) and the cursor of the
    next one, None when this is the last."""
    page = rows[:limit]
    more = len(rows) > limit and len(page) > 0
    return page, encode_cursor(*position(page[-1])) if more else None


def page_of(rows: Sequence[T], limit: int, view: Callable[[T], dict[str, Any]],
            position: Callable[[T], Position]) -> dict[str, Any]:
    """A listing's answer: `{"items": [view(row)...], "next_cursor": str or None}`."""
    page, next_cursor = split_page(rows, limit, position)
    return {"items": [view(row) for row in page], "next_cursor": next_cursor}
