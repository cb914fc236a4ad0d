"""Liveness and readiness, served over RPC so no internal service opens a port.

Every service inherits `HealthEntrypoints`: `<service>.health()` answers only when
the process consumes from the broker (liveness) and reports its database
(readiness). The gateway aggregates them at `GET /health`; ops probes run
`python -m services.kit.health <service>` (exit 0 when ready).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import sqlalchemy as sa

from services.kit.rpc import rpc


def check_database(store: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with store.read() as session:
            session.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


class HealthEntrypoints:
    """Mixin for service classes that have a `db` dependency."""

    @rpc
    def health(self) -> dict[str, Any]:
        checks = {"database": check_database(self.db), "broker": {"ok": True}}
        return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}


def main(argv: list[str]) -> int:
    import os

    from services.kit.client import RpcClient

    if len(argv) != 2:
        print("usage: python -m services.kit.health <service>", file=sys.stderr)
        return 2
    uri = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    try:
        with RpcClient(uri, timeout=5) as proxy:  # as memberspace-health
            report = getattr(proxy, argv[1]).health()
    except Exception as exc:
        print(f"{argv[1]}: not answering ({type(exc).__name__})")
        return 1
    print(f"{argv[1]}: {'ready' if report['ready'] else 'not ready'} {report['checks']}")
    return 0 if report["ready"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
