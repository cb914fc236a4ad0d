"""Start one service: `python -m services.kit.runner services.auth.service:AuthService`.

Monkey-patches eventlet and psycopg2 first, validates the service's settings
(exiting with a message that names any bad variable), configures logging and the
JSON codec of messages (`services.kit.wire`), checks its broker access, runs the
nameko container and stops it cleanly on SIGINT/SIGTERM.

The broker check logs in as the service's own user and declares the queues it will
consume, as nameko will: an access the broker refuses stops the service with exit 78
and one line naming the resource and the identity (reconnecting would never help); a
missing exchange or queue (the admin set-up not applied yet) leaves it not ready,
retrying every few seconds. Used by `make run`, the
tests and each `deploy/` unit alike.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

from nameko.runners import ServiceRunner  # noqa: E402

from services.kit.config import ConfigError, StartRefused, load_settings  # noqa: E402
from services.kit.loader import load_service  # noqa: E402
from services.kit.logging import configure_logging, get_logger  # noqa: E402
from services.kit.probes import instrument  # noqa: E402
from services.kit.probes import serve as serve_probes  # noqa: E402
from services.kit.production import (  # noqa: E402
    development_defaults,
    is_production,
    refusal_line,
)
from services.kit.wire import install as install_wire_json  # noqa: E402


def nameko_config(settings: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The nameko container config for a service's validated settings."""
    config = {
        "AMQP_URI": settings.AMQP_URI,
        "max_workers": settings.MAX_WORKERS,
        "serializer": "json",
        "SETTINGS": settings,
        # exchanges are the admin set-up's (deploy/broker/): a service may not
        # declare (configure) them
        "DECLARE_EVENT_EXCHANGES": False,
    }
    address = getattr(settings, "WEB_SERVER_ADDRESS", None)
    if address:
        config["WEB_SERVER_ADDRESS"] = address
    config.update(extra or {})
    return config


def own_queues(service_cls: type, config: dict[str, Any]) -> list[Any]:
    """The durable queues the service consumes (its RPC queue, its event handlers')."""
    from kombu import Queue
    from nameko.rpc import Rpc

    from services.kit.handlers import handler_queues
    from services.kit.rpc import rpc_exchange

    name = service_cls.name
    queues = []
    if any(isinstance(e, Rpc) for attr in dir(service_cls)
           for e in getattr(getattr(service_cls, attr, None), "nameko_entrypoints", ())):
        queues.append(Queue(f"rpc-{name}", exchange=rpc_exchange(config),
                            routing_key=f"{name}.*", durable=True))
    return queues + handler_queues(service_cls)


def check_broker_access(service_cls: type, config: dict[str, Any], retry: float = 3.0) -> None:
    """Raises StartRefused when the broker refuses the service's user anything it
    needs; waits while the topology is missing or the broker does not answer."""
    from amqp.exceptions import AccessRefused, NotFound
    from kombu import Connection

    from services.kit.rpc import broker_user

    log = get_logger(__name__)
    user = broker_user(config)
    queues = own_queues(service_cls, config)
    while True:
        try:
            with Connection(config["AMQP_URI"], connect_timeout=5) as conn:
                conn.connect()
                for queue in queues:
                    channel = conn.channel()
                    try:
                        queue(channel).declare()
                    finally:
                        channel.close()
            return
        except AccessRefused as exc:
            raise StartRefused(f"broker access refused to {user}: "
                               f"{getattr(exc, 'reply_text', None) or exc}") from None
        except NotFound as exc:
            log.warning("broker_topology_missing", user=user,
                        error=str(getattr(exc, "reply_text", None) or exc)[:300])
        except OSError as exc:
            log.warning("broker_not_answering", user=user, error=type(exc).__name__)
        eventlet.sleep(retry)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m services.kit.runner <module>:<ServiceClass>", file=sys.stderr)
        return 2
    service_cls = load_service(argv[1])
    try:
        settings = load_settings(service_cls.settings_schema)
    except ConfigError as exc:
        print(f"{service_cls.name}: {exc.code}", file=sys.stderr)
        return 78  # EX_CONFIG
    if is_production() and (problems := development_defaults(settings)):
        print(refusal_line(service_cls.name, problems), file=sys.stderr)
        return 78  # EX_CONFIG
    configure_logging(service_cls.name, settings.LOG_LEVEL, settings.LOG_FORMAT)
    install_wire_json()
    log = get_logger(__name__)
    config = nameko_config(settings)
    try:
        check_broker_access(service_cls, config)
    except StartRefused as exc:
        print(f"{service_cls.name}: {exc}", file=sys.stderr)
        return 78  # EX_CONFIG
    runner = ServiceRunner(config)
    runner.add_service(service_cls)
    container = runner.service_map[service_cls.name]
    instrument(container)  # RPC, event and HTTP metrics (services.kit.metrics)

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("service_stopping", signal=signum)
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runner.start()
        serve_probes(container, settings)  # /metrics /livez /readyz on METRICS_PORT
    except StartRefused as exc:  # a dependency provider cannot work with what it found
        print(f"{service_cls.name}: {exc}", file=sys.stderr)
        runner.kill()
        return 78  # EX_CONFIG
    log.info("service_started", pid=os.getpid())
    try:
        runner.wait()
    except Exception:
        log.exception("service_crashed")
        runner.kill()
        return 1
    log.info("service_stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
