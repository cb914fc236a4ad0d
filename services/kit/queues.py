"""Which kind of queue the suite declares: classic, or quorum behind `AMQP_QUORUM_QUEUES`.

Every declaration of a service's own queues (`rpc-<service>`, the event handlers'
`evt-...` queues) takes its arguments from `queue_arguments`: the kit's RPC consumer,
its event handler, `declare_queues` and the deploy topology. nameko's reply queues and
the gateway's broadcast queues stay classic (they are exclusive or auto-deleted, which
quorum queues cannot be).

A quorum queue gets a large finite delivery limit: `-1` means unlimited only from
RabbitMQ 4.0; on 3.x a message would be dropped at its first requeue.

An existing queue keeps its type: declaring it again with other arguments fails
(`PRECONDITION_FAILED`). `switch` moves queues to the other kind, their messages kept:

    python -m services.kit.queues switch quorum|classic <module>:<ServiceClass> [...]

with `AMQP_URI` set and the services' consumers stopped (it refuses a queue that has any).

    python -m services.kit.queues wait <module>:<ServiceClass>

returns once every event handler queue of the class exists (declared by the deploy's
broker topology), checking every 5 s: a Kubernetes initContainer, so that a service is
not ready before the queues its events need exist.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from kombu import Connection, Exchange, Queue
from nameko.events import SERVICE_POOL, EventHandler
from nameko.rpc import Rpc

DELIVERY_LIMIT = 1_000_000
TRUE = {"1", "true", "yes", "on", "t", "y"}


def queue_arguments(quorum: bool) -> dict[str, Any]:
    """The declaration arguments of a service's durable queues."""
    if not quorum:
        return {}
    return {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT}


def quorum_in(config: Mapping[str, Any]) -> bool:
    """The setting, from a nameko container's config (its validated `SETTINGS`)."""
    return bool(getattr(config.get("SETTINGS"), "AMQP_QUORUM_QUEUES", False))


def quorum_in_environ(environ: Mapping[str, str] | None = None) -> bool:
    """The setting, from the environment (for commands run outside a service)."""
    value = (os.environ if environ is None else environ).get("AMQP_QUORUM_QUEUES", "")
    return value.strip().lower() in TRUE


def apply(queue: Queue, quorum: bool) -> Queue:
    queue.queue_arguments = {**(queue.queue_arguments or {}), **queue_arguments(quorum)}
    return queue


class ServiceEventHandler(EventHandler):
    """nameko's event handler, its service-pool queue declared per the setting."""

    def setup(self) -> None:
        super().setup()
        if self.handler_type is SERVICE_POOL:
            apply(self.queue, quorum_in(self.container.config))


def rpc_queue(service_name: str, quorum: bool) -> Queue:
    """nameko's `rpc-<service>` queue, as the kit's RPC consumer declares it."""
    return Queue(f"rpc-{service_name}", exchange=Exchange("nameko-rpc", type="topic"),
                 routing_key=f"{service_name}.*", durable=True,
                 queue_arguments=queue_arguments(quorum))


def service_queues(service_cls: type, quorum: bool) -> list[Queue]:
    """A service class's own durable queues: its handlers' queues and its RPC queue."""
    from services.kit.handlers import handler_queues

    queues = handler_queues(service_cls, quorum)
    if any(isinstance(ep, Rpc) for name in dir(service_cls)
           for ep in getattr(getattr(service_cls, name, None), "nameko_entrypoints", ())):
        queues.append(rpc_queue(service_cls.name, quorum))
    return queues


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

        from services.kit.handlers import handler_queues
        from services.kit.loader import load_service

        queues = handler_queues(load_service(argv[2]))
        while missing := missing_queues(uri, queues):
            print(f"waiting for {len(missing)} queues: {', '.join(missing)}", flush=True)
            time.sleep(5)
        print(f"{len(queues)} queues exist")
        return 0
    if len(argv) < 4 or argv[1] != "switch" or argv[2] not in ("quorum", "classic"):
        print("usage: python -m services.kit.queues switch quorum|classic "
              "<module>:<ServiceClass> [...]\n"
              "       python -m services.kit.queues wait <module>:<ServiceClass>",
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
