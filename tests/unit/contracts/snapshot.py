"""The committed shape of every event contract, and the rule it keeps: within a version
a schema may only gain optional fields.

    make event-snapshot     # records services/contracts/event_schemas.json
                            # (refuses a change that breaks a recorded version)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields

from services.contracts.events import EVENT_SCHEMAS

SNAPSHOT = Path(__file__).resolve().parents[3] / "services" / "contracts" / "event_schemas.json"


def describe_field(field: fields.Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(field).__name__, "required": bool(field.required),
                           "allow_none": bool(field.allow_none)}
    if isinstance(field, fields.Nested):
        nested = field.nested() if callable(field.nested) and not isinstance(
            field.nested, type) else field.nested
        out["fields"] = describe_schema(nested if isinstance(nested, type) else type(nested))
    elif isinstance(field, fields.List):
        out["items"] = describe_field(field.inner)
    return out


def describe_schema(schema: type[Schema]) -> dict[str, Any]:
    return {(f.data_key or name): describe_field(f)
            for name, f in sorted(schema().fields.items(), key=lambda kv: kv[1].data_key or kv[0])}


def current() -> dict[str, Any]:
    return {f"{event_type}@{version}": describe_schema(schema)
            for (event_type, version), schema in sorted(EVENT_SCHEMAS.items())}


def breaks(recorded: dict[str, Any], now: dict[str, Any], where: str = "") -> list[str]:
    """What `now` breaks of `recorded` (fields of one schema): a field gone, a type
    changed, a field become required or no longer nullable, a new required field."""
    problems = []
    for name, old in recorded.items():
        path = f"{where}{name}"
        new = now.get(name)
        if new is None:
            problems.append(f"{path}: removed")
            continue
        if new["type"] != old["type"]:
            problems.append(f"{path}: type {old['type']} became {new['type']}")
        if new["required"] and not old["required"]:
            problems.append(f"{path}: became required")
        if old["allow_none"] and not new["allow_none"]:
            problems.append(f"{path}: no longer accepts null")
        if "fields" in old:
            problems += breaks(old["fields"], new.get("fields", {}), f"{path}.")
        if "items" in old:
            problems += breaks({"[]": old["items"]}, {"[]": new.get("items", {})}, f"{path}")
    for name, new in now.items():
        if name not in recorded and new["required"]:
            problems.append(f"{where}{name}: new and required")
    return problems


def incompatible(recorded: dict[str, Any], now: dict[str, Any]) -> dict[str, list[str]]:
    """Per recorded `type@version`, what the current contracts break of it."""
    out = {}
    for key, shape in recorded.items():
        if key not in now:
            out[key] = ["the version is gone (keep it while consumers may rely on it)"]
            continue
        problems = breaks(shape, now[key])
        if problems:
            out[key] = problems
    return out


def main() -> int:
    now = current()
    if SNAPSHOT.exists():
        broken = incompatible(json.loads(SNAPSHOT.read_text()), now)
        if broken:
            for key, problems in broken.items():
                print(f"{key}: {'; '.join(problems)}", file=sys.stderr)
            print("Within a version a schema may only gain optional fields: add a new "
                  "version instead (services/contracts/events.py). Not recorded.",
                  file=sys.stderr)
            return 1
    SNAPSHOT.write_text(json.dumps(now, indent=2, sort_keys=True) + "\n")
    print(f"recorded {len(now)} event contracts in {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
