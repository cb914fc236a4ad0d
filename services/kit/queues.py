"""Which kind of queue the suite declares: classic, or quorum behind `AMQP_QUORUM_QUEUES`.

Every declaration of a service's own queues (`rpc-<service>`, the event handlers'
`evt-...` queues) takes its arguments from `queue_arguments`: the kit's RPC consumer,
its event handler, `declare_queues` and the deploy topology. nameko's reply queues and
the gateway's broadcast queues stay classic (they are exclusive or auto-deleted, which
quorum queues cannot be).

A quorum queue gets a large finite delivery limit: `-1` means unlimited only from
RabbitMQ 4.0; on 3.x a message would be dropped at its first requeue.

An existing queue keeps its type: declaring it again with other arguments fails
(`PRECONDITION_FAILED`). `services.kit.queue_admin`'s `switch` moves queues to the
other kind, their messages kept:

    python -m services.kit.queue_admin switch quorum|classic <module>:<ServiceClass> [...]

with `AMQP_URI` set and the services' consumers stopped (it refuses a queue that has any).

    python -m services.kit.queue_admin wait <module>:<ServiceClass>

returns once every event handler queue of the class exists (declared by the deploy's
broker topology), checking every 5 s: a Kubernetes initContainer, so that a service is
not ready before the queues its events need exist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from kombu import Queue
from nameko.events import SERVICE_POOL, EventHandler

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
