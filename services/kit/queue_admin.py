"""Administering the services' queues: switching their kind, waiting for them.

    python -m services.kit.queue_admin switch quorum|classic <module>:<ServiceClass> [...]
    python -m services.kit.queue_admin wait <module>:<ServiceClass>

(see `services.kit.queues` and deploy/README.md, Quorum queues).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from kombu import Connection, Exchange, Queue
from nameko.rpc import Rpc

from services.kit.handlers import handler_queues
from services.kit.queues import queue_arguments


def rpc_queue(service_name: str, quorum: bool) -> Queue:
    """nameko's `rpc-<service>` queue, as the kit's RPC consumer declares it."""
    return Queue(f"rpc-{service_name}", exchange=Exchange("nameko-rpc", type="topic"),
                 routing_key=f"{service_name}.*", durable=True,
                 queue_arguments=queue_arguments(quorum))


def service_queues(service_cls: type, quorum: bool) -> list[Queue]:
    """A service class's own durable queues: its handlers' queues and its RPC queue."""
    queues = handler_queues(service_cls, quorum)
    if any(isinstance(ep, Rpc) for name in dir(service_cls)
           for ep in getattr(getattr(service_cls, name, None), "nameko_entrypoints", ())):
        queues.append(rpc_queue(service_cls.name, quorum))
    return queues


def declare_queues(amqp_uri: str, service_classes: list[type], quorum: bool) -> list[str]:
    """Declare the classes' handler queues and their exchanges, under an admin identity,
    as the set-up does before a release (a queue that already exists keeps its kind:
    `switch` changes it); their names."""
    names = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for cls in service_classes:
            for queue in handler_queues(cls, quorum):
                # services never declare exchanges (no_declare): the admin does
                channel.exchange_declare(exchange=queue.exchange.name, type="topic",
                                         durable=True, auto_delete=False)
                queue(channel).declare()
                names.append(queue.name)
    return names


def _move(channel: Any, source: str, target: str) -> int:
    """Every message of `source` into `target`, each acked once the broker confirmed it."""
    moved = 0
    channel.confirm_select()
    while True:
        message = channel.basic_get(source, no_ack=False)
        if message is None:
            return moved
        channel.basic_publish(message, exchange="", routing_key=target)
        channel.basic_ack(message.delivery_tag)
        moved += 1


def switch(amqp_uri: str, queues: list[Queue]) -> dict[str, int]:
    """Re-declare each queue with its new arguments, its messages kept.

    Each queue is drained into a classic `<name>.switching` queue, deleted, declared
    anew (with its binding) and filled back. Refuses a queue that has consumers."""
    moved = {}
    with Connection(amqp_uri) as conn:
        for queue in queues:
            # a channel per step: one that read from the old queue must not touch the new
            channel = conn.channel()
            try:
                _, _, consumers = channel.queue_declare(queue.name, passive=True)
            except Exception:  # absent: declare it the new way
                queue(conn.channel()).declare()
                moved[queue.name] = 0
                continue
            if consumers:
                raise RuntimeError(f"{queue.name} has {consumers} consumers: stop them first")
            holding = f"{queue.name}.switching"
            channel.queue_declare(holding, durable=True, auto_delete=False)
            _move(channel, queue.name, holding)
            channel.queue_delete(queue.name)
            channel.close()
            channel = conn.channel()
            queue(channel).declare()
            moved[queue.name] = _move(channel, holding, queue.name)
            channel.queue_delete(holding, if_empty=True)
            channel.close()
    return moved


def missing_queues(amqp_uri: str, queues: list[Queue]) -> list[str]:
    """The names of the queues that do not exist (yet) on the broker."""
    missing = []
    with Connection(amqp_uri, connect_timeout=5) as conn:
        for queue in queues:
            channel = conn.channel()  # a failed passive declare closes its channel
            try:
                channel.queue_declare(queue.name, passive=True)
                channel.close()
            except Exception:
                missing.append(queue.name)
    return missing


def main(argv: list[str]) -> int:
    uri = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    if len(argv) == 3 and argv[1] == "wait":
        import time

        from services.kit.loader import load_service

        queues = handler_queues(load_service(argv[2]))
        while missing := missing_queues(uri, queues):
            print(f"waiting for {len(missing)} queues: {', '.join(missing)}", flush=True)
            time.sleep(5)
        print(f"{len(queues)} queues exist")
        return 0
    if len(argv) < 4 or argv[1] != "switch" or argv[2] not in ("quorum", "classic"):
        print("usage: python -m services.kit.queue_admin switch quorum|classic "
              "<module>:<ServiceClass> [...]\n"
              "       python -m services.kit.queue_admin wait <module>:<ServiceClass>",
              file=sys.stderr)
        return 2
    from services.kit.loader import load_service

    quorum = argv[2] == "quorum"
    queues = [q for path in argv[3:] for q in service_queues(load_service(path), quorum)]
    for name, count in switch(uri, queues).items():
        print(f"{name}: {argv[2]}, {count} messages kept")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
