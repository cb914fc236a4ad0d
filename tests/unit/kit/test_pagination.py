"""The kit's keyset pagination: cursors round-trip, keep the wire format the listings
gave before, and a crafted one is a 422 on `cursor`; pages are cut with a next cursor
only when more rows follow."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from services.kit.errors import ValidationFailed
from services.kit.pagination import (
    DAY_AND_TEXT_ID,
    INSTANT,
    decode_cursor,
    encode_cursor,
    keyset,
    page_of,
)


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_an_instant_cursor_round_trips_and_keeps_the_former_wire_format() -> None:
    at, item_id = dt.datetime(2026, 1, 15, 10, 0, 0, 123456, tzinfo=dt.UTC), str(uuid.uuid4())
    cursor = encode_cursor(at, item_id)
    assert cursor == cursor_of([at.isoformat(), item_id])  # what the listings sent so far
    assert "=" not in cursor
    assert decode_cursor(cursor) == (at, item_id)
    assert decode_cursor(cursor, INSTANT) == (at, item_id)


def test_a_day_cursor_round_trips_with_any_text_id() -> None:
    cursor = encode_cursor("2025-03-05", "R-0001")
    assert cursor == cursor_of(["2025-03-05", "R-0001"])
    assert decode_cursor(cursor, DAY_AND_TEXT_ID) == (dt.date(2025, 3, 5), "R-0001")


def test_no_cursor_is_the_first_page() -> None:
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", [
    cursor_of(["2024-01-01T00:00:00+00:00", 5]),
    cursor_of(["2024-01-01T00:00:00+00:00", "not a uuid"]),
    cursor_of(["2024-01-01T00:00:00", str(uuid.uuid4())]),  # no time zone
    cursor_of([5, str(uuid.uuid4())]),
    cursor_of(["2024-01-01T00:00:00+00:00", str(uuid.uuid4()), 3]),
    cursor_of({"at": 1}),
    cursor_of("[" * 5000),
    base64.urlsafe_b64encode(b"[" * 5000).decode(),
    "garbage!", "", "x" * 1000, 5, ["a"], {"a": 1},
])
def test_a_crafted_instant_cursor_is_a_422_on_cursor(cursor: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        decode_cursor(cursor)
    assert err.value.status == 422
    assert [(e["field"], e["code"]) for e in err.value.errors] == [("cursor", "invalid")]


@pytest.mark.parametrize("cursor", [
    cursor_of(["2025-13-01", "R-1"]), cursor_of(["2025-03-05T00:00:00+00:00", "R-1"]),
    cursor_of(["2025-03-05", ""]), cursor_of(["2025-03-05", 7]), cursor_of(["x", "R-1"]),
])
def test_a_crafted_day_cursor_is_a_422_on_cursor(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        decode_cursor(cursor, DAY_AND_TEXT_ID)
    assert [e["field"] for e in err.value.errors] == ["cursor"]


def rows(n: int) -> list[SimpleNamespace]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [SimpleNamespace(at=start - dt.timedelta(minutes=i), id=str(uuid.UUID(int=i + 1)))
            for i in range(n)]


def test_a_page_with_more_rows_behind_it_names_its_last_item() -> None:
    fetched = rows(4)  # limit + 1 fetched
    page = page_of(fetched, 3, lambda r: {"id": r.id}, lambda r: (r.at, r.id))
    assert [i["id"] for i in page["items"]] == [r.id for r in fetched[:3]]
    assert decode_cursor(page["next_cursor"]) == (fetched[2].at, fetched[2].id)


@pytest.mark.parametrize("count", [0, 2, 3])
def test_the_last_page_has_no_next_cursor(count: int) -> None:
    page = page_of(rows(count), 3, lambda r: {"id": r.id}, lambda r: (r.at, r.id))
    assert len(page["items"]) == count and page["next_cursor"] is None


def test_keyset_orders_seeks_and_fetches_one_more_than_the_limit() -> None:
    table = sa.table("t", sa.column("at"), sa.column("id"))
    after = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), str(uuid.uuid4()))
    newest = str(keyset(sa.select(table), table.c.at, table.c.id, after, 20)
                 .compile(compile_kwargs={"literal_binds": False}))
    assert "(t.at, t.id) < (" in newest and "ORDER BY t.at DESC, t.id DESC" in newest
    oldest = str(keyset(sa.select(table), table.c.at, table.c.id, after, 20,
                        oldest_first=True).compile())
    assert "(t.at, t.id) > (" in oldest and "ORDER BY t.at ASC, t.id ASC" in oldest
    first = keyset(sa.select(table), table.c.at, table.c.id, None, 20)
    assert "WHERE" not in str(first.compile())
    assert first.compile().params["param_1"] == 21
