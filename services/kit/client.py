"""An RPC client for outside callers and our own tools, as a guarded bus wants it.

    with RpcClient("amqp://memberspace-core:...@rabbit:5672/", timeout=10) as rpc:
        member = rpc.auth.find_member("123456")

- Its reply queue is `rpc.reply-<identity>-<uuid>` (exclusive, gone with the
  connection), so broker permissions can tell callers apart; it never declares an
  exchange.
- Every request carries `user_id` (RabbitMQ checks it against the login) and is
  published with confirms: a call the broker refuses fails at once, alone.
- A reply counts only when its `user_id` is the called service's broker user.
- Domain errors come back as the same exceptions as with nameko's proxy.

Not safe to share between greenthreads: one client each.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from kombu import Connection, Consumer, Exchange, Producer, Queue
from nameko.exceptions import deserialize

from services.kit.identities import RPC_EXCHANGE
from services.kit.rpc import reply_is_from, uri_user


class CallRefused(Exception):
    """The broker refused to route this call (a method this identity was not granted)."""


class CallTimeout(Exception):
    pass


class RpcClient:
    def __init__(self, amqp_uri: str, timeout: float = 10.0, *,
                 context_data: dict[str, Any] | None = None, identity: str | None = None,
                 user_id: str | None = None):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.context_data = dict(context_data or {})
        self.user_id = user_id or uri_user(amqp_uri)
        self.identity = identity or self.user_id or "anonymous"
        self._replies: dict[str, Any] = {}

    def __enter__(self) -> RpcClient:
        self.connection = Connection(self.amqp_uri, connect_timeout=10,
                                     transport_options={"confirm_publish": True})
        self.connection.connect()
        self.exchange = Exchange(RPC_EXCHANGE, type="topic", durable=True, no_declare=True)
        self.reply_key = str(uuid.uuid4())
        self.queue = Queue(f"rpc.reply-{self.identity}-{self.reply_key}",
                           exchange=self.exchange, routing_key=self.reply_key,
                           exclusive=True, auto_delete=True)
        self.consume_channel = self.connection.channel()
        self.consumer = Consumer(self.consume_channel, [self.queue],
                                 callbacks=[self._on_reply], accept=["json"], no_ack=True)
        self.consumer.consume()
        self.producer = Producer(self.connection.channel(), serializer="json")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.connection.release()

    def _on_reply(self, body: Any, message: Any) -> None:
        correlation_id = message.properties.get("correlation_id")
        waiting = self._replies.get(correlation_id)
        if waiting is None or waiting["body"] is not None:
            return
        if not reply_is_from(waiting["target"], message.properties.get("user_id")):
            return  # a forged reply: ignored, the real one may still come
        waiting["body"] = body

    def call(self, service: str, method: str, args: tuple, kwargs: dict,
             timeout: float | None = None) -> Any:
        timeout = self.timeout if timeout is None else timeout
        correlation_id = str(uuid.uuid4())
        self._replies[correlation_id] = {"target": service, "body": None}
        headers = {f"nameko.{k}": v for k, v in self.context_data.items() if v is not None}
        headers.setdefault("nameko.correlation_id", uuid.uuid4().hex)
        properties = {"user_id": self.user_id} if self.user_id else {}
        try:
            try:
                self.producer.publish(
                    {"args": list(args), "kwargs": kwargs}, exchange=self.exchange,
                    routing_key=f"{service}.{method}", reply_to=self.reply_key,
                    correlation_id=correlation_id, headers=headers,
                    expiration=timeout, **properties)
            except self.connection.channel_errors as exc:
                # the broker closed the channel: a fresh one for the next call
                self.producer = Producer(self.connection.channel(), serializer="json")
                raise CallRefused(f"{service}.{method}: {exc}") from None
            deadline = time.monotonic() + timeout
            while self._replies[correlation_id]["body"] is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallTimeout(f"{service}.{method} did not answer in {timeout}s")
                try:
                    self.connection.drain_events(timeout=min(left, 1.0))
                except TimeoutError:
                    pass
            body = self._replies[correlation_id]["body"]
        finally:
            self._replies.pop(correlation_id, None)
        if body.get("error"):
            raise deserialize(body["error"])
        return body.get("result")

    def __getattr__(self, service: str) -> _Service:
        if service.startswith("_"):
            raise AttributeError(service)
        return _Service(self, service)


class _Service:
    def __init__(self, client: RpcClient, name: str):
        self._client, self._name = client, name

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, _timeout: float | None = None, **kwargs: Any) -> Any:
            return self._client.call(self._name, method, args, kwargs, _timeout)

        return call
