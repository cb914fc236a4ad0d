"""`GET /api/v1/status`: the nightly update window and maintenance, for a banner
(issue 16 §4). Public, limited per address; the window comes from benefits (its import
window: one setting) and is cached a minute per gateway process."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields

from gateway.api import Call, route
from services.kit.errors import ServiceError
from services.kit.logging import get_logger

log = get_logger(__name__)

WINDOW_CACHE_SECONDS = 60.0
_window_cache: dict[str, Any] = {"at": -1e9, "window": None}


class Window(Schema):
    start = fields.String(metadata={"example": "01:00"})
    end = fields.String(metadata={"example": "07:00"})
    timezone = fields.String(metadata={"example": "Europe/Monaco"})


class Maintenance(Schema):
    active = fields.Boolean()
    message_fr = fields.String(allow_none=True)
    message_en = fields.String(allow_none=True)
    message = fields.String(allow_none=True, metadata={
        "description": "the message in the language of the `lang` cookie (French without)"})


class Status(Schema):
    in_update_window = fields.Boolean()
    window = fields.Nested(Window, allow_none=True)
    maintenance = fields.Nested(Maintenance)


def in_window(now: dt.datetime, window: dict[str, str]) -> bool:
    """Whether `now` (aware) falls in the window's [start, end) in its time zone."""
    local = now.astimezone(ZoneInfo(window["timezone"]))
    minutes = local.hour * 60 + local.minute

    def at(text: str) -> int:
        hours, _, mins = text.partition(":")
        return int(hours) * 60 + int(mins or 0)

    start, end = at(window["start"]), at(window["end"])
    if start <= end:
        return start <= minutes < end
    return minutes >= start or minutes < end  # a window across midnight


def update_window(call: Call) -> dict[str, str] | None:
    now = time.monotonic()
    if now - _window_cache["at"] > WINDOW_CACHE_SECONDS or _window_cache["window"] is None:
        try:
            _window_cache["window"] = call.services.benefits.update_window(_timeout=3)
            _window_cache["at"] = now
        except ServiceError as exc:  # keep the last one known; none before the first
            log.warning("update_window_unknown", error=exc.code)
    return _window_cache["window"]


def language(call: Call) -> str:
    return "en" if call.request.cookies.get("lang") == "en" else "fr"


@route("GET", "/api/v1/status", response=Status, rate_limit="status",
       problems=((429, "too_many_requests"),),
       summary="The nightly update window (and whether it is now) and maintenance, with "
               "its message in French and English", tags=("system",))
def status(call: Call) -> Any:
    window = update_window(call)
    maintenance = call.services.shared.maintenance.state()
    maintenance["message"] = maintenance[f"message_{language(call)}"]
    return {"in_update_window": bool(window and in_window(dt.datetime.now(dt.UTC), window)),
            "window": window, "maintenance": maintenance}
