"""The registry's and the files' guards against wrong RPC arguments, without a database."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from services.documents.files import forms, uploads
from services.documents.requests import registry, types
from services.kit.errors import ValidationFailed
from services.kit.pagination import decode_cursor, encode_cursor


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def failed_fields(err: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {e["field"] for e in err.value.errors}


def test_a_cursor_round_trips() -> None:
    at, item_id = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), str(uuid.uuid4())
    assert decode_cursor(encode_cursor(at, item_id)) == (at, item_id)


@pytest.mark.parametrize("cursor", [
    cursor_of(["2024-01-01T00:00:00+00:00", 5]),
    cursor_of(["2024-01-01T00:00:00+00:00", 12345678901234567890123456789012]),
    cursor_of(["2024-01-01T00:00:00", str(uuid.uuid4())]),  # no time zone
    cursor_of([5, str(uuid.uuid4())]),
    cursor_of({"at": 1}),
    cursor_of("[" * 5000),
    base64.urlsafe_b64encode(b"[" * 5000).decode(),
    "garbage!", "", 5, ["a"],
])
def test_a_cursor_the_listing_did_not_give_is_a_422_on_cursor(cursor: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        decode_cursor(cursor)
    assert failed_fields(err) == {"cursor"}


def test_the_request_listing_refuses_a_bad_cursor_before_querying() -> None:
    for member_id in ("m-1", None):  # the member's listing and the agents' queue
        with pytest.raises(ValidationFailed) as err:
            registry.listing(None, member_id=member_id, status=None,  # type: ignore[arg-type]
                             cursor=cursor_of(["2024-01-01T00:00:00+00:00", 5]), limit=20)
        assert failed_fields(err) == {"cursor"}


@pytest.mark.parametrize("query", [[1, 2], "limit=5", 5, [["limit", 5]]])
def test_a_listing_query_that_is_not_an_object_is_a_422_on_query(query: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        uploads.list_documents(None, "m-1", query)  # type: ignore[arg-type]
    assert failed_fields(err) == {"query"}
    with pytest.raises(ValidationFailed) as err:
        forms.list_forms(None, query)  # type: ignore[arg-type]
    assert failed_fields(err) == {"query"}


@pytest.mark.parametrize("name", [["data_access"], {"data_access": 1}, None, 5])
def test_a_request_type_that_is_not_a_string_is_not_allowed(name: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        types.request_type(name)
    assert [(e["field"], e["code"]) for e in err.value.errors] == [("type", "not_allowed")]


class FakeSession:
    def __init__(self, req: Any) -> None:
        self.req = req

    def get(self, _model: Any, _key: Any, **_: Any) -> Any:
        return self.req

    def add(self, _row: Any) -> None:
        pass


def fake_tx(status: str, kind: str = "data_access") -> Any:
    req = SimpleNamespace(id=str(uuid.uuid4()), member_id="m-1", type=kind, status=status,
                          params={"old": 1}, attachments=[], updated_at=None)
    return SimpleNamespace(session=FakeSession(req),
                           context=SimpleNamespace(actor_type="member", actor_id="m-1"),
                           emit=lambda *_a, **_k: None)


def test_a_draft_updated_with_no_params_stores_an_empty_object_as_create_does() -> None:
    tx = fake_tx("draft")
    req = registry.update_draft(tx, "m-1", tx.session.req.id, None)
    assert req.params == {}


@pytest.mark.parametrize("document_ids", [5, "abc", {"id": 1}])
def test_a_reply_with_document_ids_that_are_not_a_list_is_a_422(document_ids: Any) -> None:
    tx = fake_tx("needs_information", "data_correction")
    with pytest.raises(ValidationFailed) as err:
        registry.reply(tx, "m-1", tx.session.req.id, "Here it is.", document_ids)
    assert failed_fields(err) == {"attachments"}
