"""RabbitMQ permissions and topology, generated from `services.kit.identities`.

Three outputs, so that they cannot drift from each other or from the code:

- the local set-up (`apply_local`): one `rabbitmqctl import_definitions` run as root
  under the admin identity by `deploy/infra.py`: the development users with their fixed
  passwords (`dev-passwords.json`, hashed at set-up time), their permissions and topic
  permissions, the exchanges, the durable queues and their bindings;
- `definitions.json`: the same without users or password hashes, for a broker whose
  users come from elsewhere;
- `deploy/k8s/base/broker/`: Messaging Topology Operator resources (User,
  Permission, TopicPermission, Exchange, Queue, Binding); each User's credentials come
  from a Secret `<user>-credentials`.

`python -m deploy.broker write` regenerates the files; a test checks they are current.

The rules: nobody holds `configure` on an exchange (configure includes deleting it),
only on its own queue names; nobody may write to the default exchange (it reaches
every queue by name and skips topic permissions); a caller may publish on
`nameko-rpc` only the `<service>.<method>` keys it is granted, a service also reply
keys (UUIDs); only a source may publish on `<source>.events`, and a subscriber may
bind only the event names it is granted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from services.kit.identities import (
    EVENT_SOURCES,
    IDENTITIES,
    RPC_EXCHANGE,
    Identity,
    deployed,
    pattern_regex,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
K8S_DIR = ROOT / "deploy" / "k8s" / "base" / "broker"
DEFINITIONS = HERE / "definitions.json"
DEV_PASSWORDS = HERE / "dev-passwords.json"
UUID_KEY = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RABBITMQ_CLUSTER = "rabbitmq"  # the RabbitmqCluster the resources refer to
HARNESS_ANY = r"^(?!amq\.).*$"  # local harness: anything but amq.* (the default exchange)


def _alternatives(parts: list[str]) -> str:
    return "^(" + "|".join(parts) + ")$" if parts else "^$"


def own_queues(identity: Identity) -> list[str]:
    """Regexes of the queue names an identity may declare (configure)."""
    if identity.answers_rpc or identity.role == "gateway":
        name = re.escape(identity.service or "")
        queues = [rf"rpc\.reply-{name}-.+", rf"evt-[a-z_]+-[a-z_]+--{name}\..+"]
        if identity.answers_rpc:
            queues.insert(0, rf"rpc-{name}")
        return queues
    user = re.escape(identity.user)
    return [rf"rpc\.reply-{user}-.+", rf"evt-[a-z_]+-[a-z_]+--{user}\..+"]


def permissions(identity: Identity) -> dict[str, str]:
    if identity.local_only:
        return {"configure": HARNESS_ANY, "write": HARNESS_ANY, "read": HARNESS_ANY}
    queues = own_queues(identity)
    rpc = [re.escape(RPC_EXCHANGE)] if identity.calls or identity.answers_rpc else []
    sources = sorted({t.split(".")[0] for t in identity.subscribes})
    return {
        "configure": _alternatives(queues),
        "write": _alternatives(queues + rpc + [re.escape(f"{s}.events")
                                               for s in identity.publishes]),
        "read": _alternatives(queues + rpc + [re.escape(f"{s}.events") for s in sources]),
    }


def topic_permissions(identity: Identity) -> list[dict[str, str]]:
    """What RabbitMQ checks on publish (routing key) and bind (binding key) on topic
    exchanges. The harness has none: every key is allowed to it."""
    if identity.local_only:
        return []
    found = []
    if identity.calls or identity.answers_rpc:
        write = [pattern_regex(p) for p in identity.calls]
        read = [UUID_KEY] if identity.calls else []
        if identity.answers_rpc:
            write.append(UUID_KEY)
            read.insert(0, re.escape(identity.service or "") + r"\.\*")
        found.append({"exchange": RPC_EXCHANGE, "write": _alternatives(write),
                      "read": _alternatives(read)})
    for source in EVENT_SOURCES:
        names = [re.escape(t.split(".", 1)[1]) for t in identity.subscribes
                 if t.split(".")[0] == source]
        if source in identity.publishes or names:
            found.append({"exchange": f"{source}.events",
                          "write": "^.*$" if source in identity.publishes else "^$",
                          "read": _alternatives(names)})
    return found


def service_classes() -> list[type]:
    from deploy.services import SERVICES
    from services.kit.loader import load_service

    return [load_service(path) for path in SERVICES.values()]


def topology(classes: list[type] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Exchanges, durable queues and bindings, before any service starts."""
    from services.kit.handlers import handler_queues
    from services.kit.queues import queue_arguments, quorum_in_environ

    classes = service_classes() if classes is None else classes
    exchanges = [{"name": RPC_EXCHANGE, "type": "topic"}] + [
        {"name": f"{s}.events", "type": "topic"} for s in EVENT_SOURCES]
    queues, bindings = [], []
    for cls in classes:
        if any(i.service == cls.name and i.answers_rpc for i in IDENTITIES):
            queues.append(f"rpc-{cls.name}")
            bindings.append((RPC_EXCHANGE, f"rpc-{cls.name}", f"{cls.name}.*"))
        for queue in handler_queues(cls):
            queues.append(queue.name)
            bindings.append((queue.exchange.name, queue.name, queue.routing_key))
    for identity in deployed():
        if identity.role == "outside":
            for event_type in identity.subscribes:
                source, name = event_type.split(".", 1)
                queue = f"evt-{source}-{name}--{identity.user}.inbox"
                queues.append(queue)
                bindings.append((f"{source}.events", queue, name))
    return {
        "exchanges": [{**e, "durable": True, "auto_delete": False, "internal": False,
                       "arguments": {}} for e in exchanges],
        # quorum queues when AMQP_QUORUM_QUEUES says so, as each service then declares
        # its own (a declaration differing from the admin's would be refused)
        "queues": [{"name": q, "durable": True, "auto_delete": False,
                    "arguments": queue_arguments(quorum_in_environ())} for q in queues],
        "bindings": [{"source": s, "destination": q, "destination_type": "queue",
                      "routing_key": k, "arguments": {}} for s, q, k in bindings],
    }


def definitions(vhost: str, identities: tuple[Identity, ...],
                passwords: dict[str, str] | None = None,
                classes: list[type] | None = None) -> dict[str, Any]:
    """A RabbitMQ definitions document for one virtual host; users (with hashes) only
    when `passwords` is given (the local set-up)."""
    found = topology(classes)
    doc: dict[str, Any] = {"vhosts": [{"name": vhost}]}
    if passwords is not None:
        doc["users"] = [{"name": i.user, "password_hash": password_hash(passwords[i.user]),
                         "hashing_algorithm": "rabbit_password_hashing_sha256",
                         "tags": ""} for i in identities]
    doc["permissions"] = [{"user": i.user, "vhost": vhost, **permissions(i)}
                          for i in identities]
    doc["topic_permissions"] = [{"user": i.user, "vhost": vhost, **t}
                                for i in identities for t in topic_permissions(i)]
    for kind in ("exchanges", "queues", "bindings"):
        doc[kind] = [{**item, "vhost": vhost} for item in found[kind]]
    return doc


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + pw))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def dev_passwords() -> dict[str, str]:
    """The fixed development passwords (never used outside `make run` and tests)."""
    return json.loads(DEV_PASSWORDS.read_text())


def rendered_files() -> dict[Path, str]:
    """Every generated file, path -> content."""
    from deploy.broker import operator

    files = {DEFINITIONS: json.dumps(definitions("/", deployed()), indent=2) + "\n"}
    files.update(operator.files(K8S_DIR, topology(), permissions, topic_permissions))
    from deploy.broker.rpc_doc import RPC_DOC, render_table, with_table

    files[RPC_DOC] = with_table(RPC_DOC.read_text(), render_table(service_classes()))
    return files


def identity_uri(amqp_uri: str, user: str) -> str:
    """`amqp_uri` (its host and virtual host) logged in as `user` with its development
    password (`make run`, the tests, the bench)."""
    from urllib.parse import quote, urlparse

    parts = urlparse(amqp_uri)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(dev_passwords()[user], safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def vhost_of(amqp_uri: str) -> str:
    from urllib.parse import unquote, urlparse

    path = urlparse(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"
