"""Identifiers: the one way the services read a member, request or document id."""

from __future__ import annotations

import uuid
from typing import Any


def parse_uuid(value: Any) -> str | None:
    """`value` as a canonical UUID string (lower case, hyphens), or None when it is none:
    the caller decides what that means (a 404 for an id in a path, a 422 in a body)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
