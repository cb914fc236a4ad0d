"""RPC calls with timeouts, remote errors mapped back to local exception types.

nameko's own `RpcProxy` waits forever when the target is stopped but its queue
lives on. `ServiceRpc` waits at most `timeout` seconds, and gives the request
message the same time-to-live, so a request nobody answered in time is never
executed later. A timeout is `ServiceTimeout` (504) while the target has
consumers, `ServiceUnavailable` (503) when it has none or was never declared; the
calls that follow are then answered 503 at once until a consumer is back (looked
for at most once a second).

The bus is a guarded door (`services.kit.identities`): every request and reply
carries the AMQP `user_id` of the process's broker user, which RabbitMQ checks; a
service answers only callers its allow-list names (deny by default: others get
`forbidden`), takes the caller from that property (`services.kit.context`), and a
caller accepts a reply only when its `user_id` is the callee's user. Nothing here
declares an exchange: the topology is declared once, by the admin set-up.
"""

from __future__ import annotations

import re
import time
import uuid
from functools import partial
from typing import Any
from urllib.parse import unquote, urlparse

import eventlet
from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import ContainerBeingKilled, MalformedRequest, deserialize
from nameko.extensions import DependencyProvider
from nameko.messaging import HeaderEncoder
from nameko.rpc import ReplyListener, Responder, Rpc, RpcConsumer, get_rpc_exchange

from services.kit import identities
from services.kit.context import trusted_context
from services.kit.errors import Forbidden, ServiceError, ServiceTimeout, ServiceUnavailable
from services.kit.logging import get_logger
from services.kit.queues import apply as apply_queue_arguments
from services.kit.queues import quorum_in

log = get_logger(__name__)

REPLY_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def uri_user(amqp_uri: str) -> str | None:
    """The broker user named in an AMQP URI."""
    user = urlparse(amqp_uri).username
    return unquote(user) if user else None


def broker_user(config: dict[str, Any]) -> str | None:
    """This process's broker user: `AMQP_USER_ID` when the broker authenticates by
    certificate, else the user of `AMQP_URI`. Sent as `user_id` on every publish."""
    settings = config.get("SETTINGS")
    return (getattr(settings, "AMQP_USER_ID", None) or config.get("AMQP_USER_ID")
            or uri_user(config[AMQP_URI_CONFIG_KEY]))


def rpc_exchange(config: dict[str, Any]) -> Any:
    """`nameko-rpc`, never declared by a service (the admin set-up declares it)."""
    exchange = get_rpc_exchange(config)
    exchange.no_declare = True
    return exchange


def _identity_kwargs(user: str | None) -> dict[str, str]:
    return {"user_id": user} if user else {}


class _Responder(Responder):
    """Replies without publisher confirms (a reply the broker loses ends as the
    caller's timeout, and every reply saves a broker round trip), signed with the
    service's broker user."""

    def __init__(self, *args: Any, user_id: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.publisher_cls = partial(Publisher, use_confirms=False,
                                     **_identity_kwargs(user_id))


class _RpcConsumer(RpcConsumer):
    """Consumes `rpc-<service>` without declaring `nameko-rpc`; refuses callers the
    allow-list does not name and replies only to reply keys (UUIDs)."""

    def setup(self) -> None:
        super().setup()
        self.queue.exchange.no_declare = True
        apply_queue_arguments(self.queue, quorum_in(self.container.config))
        self.user = broker_user(self.container.config)

    def handle_message(self, body: Any, message: Any) -> None:
        routing_key = message.delivery_info["routing_key"]
        caller = message.properties.get("user_id")
        method = routing_key.split(".", 1)[-1]
        if not identities.may_call(caller, self.container.service_name, method):
            log.warning("rpc_forbidden", caller=caller or "unknown", method=routing_key)
            exc = Forbidden("This caller may not call this method.", code="forbidden")
            self.handle_result(message, None, (Forbidden, exc, None))
            return
        super().handle_message(body, message)

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        reply_to = message.properties.get("reply_to") or ""
        if not REPLY_KEY.match(reply_to):
            # a reply key is a UUID: anything else would make this service publish
            # a call or an event on the caller's behalf
            log.warning("rpc_reply_refused", caller=message.properties.get("user_id"),
                        reply_to=reply_to[:100])
            self.queue_consumer.ack_message(message)
            return result, exc_info
        config = self.container.config
        responder = _Responder(
            config[AMQP_URI_CONFIG_KEY], rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY), user_id=self.user)
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class _Rpc(Rpc):
    rpc_consumer = _RpcConsumer()

    def handle_message(self, body: Any, message: Any) -> None:
        try:
            args, kwargs = body["args"], body["kwargs"]
        except (KeyError, TypeError):
            raise MalformedRequest("Message missing `args` or `kwargs`") from None
        self.check_signature(args, kwargs)
        context_data = trusted_context(self.unpack_message_headers(message),
                                       message.properties.get("user_id"))
        try:
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.rpc_consumer.requeue_message(message)


class _ReplyListener(ReplyListener):
    """Listens on `rpc.reply-<service>-<uuid>` without declaring `nameko-rpc`, and
    accepts a reply only from the broker user of the service that was called."""

    def setup(self) -> None:
        super().setup()
        self.queue.exchange.no_declare = True
        self._expected: dict[str, str | None] = {}

    def expect(self, correlation_id: str, target: str) -> Any:
        self._expected[correlation_id] = target
        return self.get_reply_event(correlation_id)

    def forget(self, correlation_id: str) -> None:
        self._reply_events.pop(correlation_id, None)
        self._expected.pop(correlation_id, None)

    def handle_message(self, body: Any, message: Any) -> None:
        correlation_id = message.properties.get("correlation_id")
        target = self._expected.get(correlation_id)
        if target is not None and not reply_is_from(target, message.properties.get("user_id")):
            self.queue_consumer.ack_message(message)
            log.warning("rpc_reply_ignored", target=target,
                        sender=message.properties.get("user_id") or "unknown")
            return
        self._expected.pop(correlation_id, None)
        super().handle_message(body, message)


def reply_is_from(target: str, sender: str | None) -> bool:
    """A reply counts only when sent by the called service's broker user (a service
    the declaration does not know, e.g. a test's, may answer as a harness user)."""
    expected = identities.service_user(target)
    if identities.by_user(expected) is not None:
        return sender == expected
    identity = identities.by_user(sender)
    return identity is not None and identity.local_only


def rpc(fn: Any = None, **kwargs: Any) -> Any:
    """nameko's `@rpc`, with domain errors (`ServiceError`) treated as expected and
    replies sent without publisher confirms. Use it for every method of a service
    (one RPC consumer per service)."""
    kwargs.setdefault("expected_exceptions", (ServiceError,))
    if fn is None:
        return _Rpc.decorator(**kwargs)
    return _Rpc.decorator(**kwargs)(fn)


class InternalServiceError(ServiceError):
    """A remote call failed for a reason that is not a domain error (a bug)."""

    status = 500
    code = "internal_error"


def consumer_count(amqp_uri: str, service: str) -> int:
    """How many workers listen on `service`'s RPC queue (0 if it does not exist)."""
    try:
        with Connection(amqp_uri, connect_timeout=2) as conn:
            _, _, consumers = conn.default_channel.queue_declare(
                queue=f"rpc-{service}", passive=True
            )
            return consumers
    except Exception:
        return 0


class ServiceRpc(DependencyProvider, HeaderEncoder):
    """`self.auth.get_member(member_id)`, bounded by a timeout."""

    reply_listener = _ReplyListener()

    def __init__(self, target_service: str, timeout: float | None = None):
        self.target_service = target_service
        self.timeout = timeout

    def setup(self) -> None:
        config = self.container.config
        self.amqp_uri = config["AMQP_URI"]
        self.exchange = rpc_exchange(config)
        self.default_timeout = self.timeout or config["SETTINGS"].RPC_TIMEOUT
        # Publisher confirms: a request the broker refuses (a key this service was not
        # granted) fails that call alone, at once. An absent target is found on the
        # timeout by its consumer count, and then answered at once until it is back
        # (see `absent`).
        self.publisher = Publisher(self.amqp_uri, use_confirms=True, serializer="json",
                                   **_identity_kwargs(broker_user(config)))
        self.absent = False
        self.absent_until = 0.0

    def get_dependency(self, worker_ctx: Any) -> RemoteService:
        return RemoteService(self, worker_ctx)

    def call(self, worker_ctx: Any, method: str, args: tuple, kwargs: dict,
             timeout: float | None = None) -> Any:
        timeout = timeout or self.default_timeout
        if self.absent:
            # each look costs a connection to the broker: at most one a second, and the
            # calls meanwhile (or during the look) are answered at once
            if time.monotonic() < self.absent_until:
                raise ServiceUnavailable(f"The {self.target_service} service is not available.")
            self.absent_until = time.monotonic() + 1.0
            if consumer_count(self.amqp_uri, self.target_service) == 0:
                raise ServiceUnavailable(f"The {self.target_service} service is not available.")
            self.absent = False
        correlation_id = str(uuid.uuid4())
        reply = self.reply_listener.expect(correlation_id, self.target_service)
        try:
            self.publisher.publish(
                {"args": args, "kwargs": kwargs},
                exchange=self.exchange,
                routing_key=f"{self.target_service}.{method}",
                reply_to=self.reply_listener.routing_key,
                correlation_id=correlation_id,
                extra_headers=self.get_message_headers(worker_ctx),
                expiration=timeout,
            )
        except BaseException as exc:
            self.reply_listener.forget(correlation_id)  # no reply will ever come for it
            if type(exc).__name__ in ("AccessRefused", "PreconditionFailed", "NotFound"):
                log.error("rpc_publish_refused", target=self.target_service, method=method,
                          error=str(exc)[:300])
                raise Forbidden("The broker refused this call.", code="forbidden") from None
            raise
        body = None
        with eventlet.Timeout(timeout, False):
            body = reply.wait()
        if body is None:
            self.reply_listener.forget(correlation_id)
            if consumer_count(self.amqp_uri, self.target_service) == 0:
                self.absent, self.absent_until = True, time.monotonic() + 1.0
                raise ServiceUnavailable(f"The {self.target_service} service is not available.")
            raise ServiceTimeout(f"The {self.target_service} service did not answer in time.")
        error = body.get("error")
        if error:
            exc = deserialize(error)
            if isinstance(exc, ServiceError):
                raise exc
            args = error.get("exc_args") or ()
            if len(args) == 4 and isinstance(args[1], str) and str(args[2]).isdigit():
                # a ServiceError subclass this process does not import: same contract
                raise ServiceError(*args)
            log.error("remote_error", target=self.target_service, method=method,
                      exc_type=error.get("exc_type"), value=error.get("value"))
            raise InternalServiceError("An internal error occurred.")
        return body["result"]


def _for_target(provider: ServiceRpc, target: str) -> ServiceRpc:
    """A sibling client for another service, sharing the reply listener and publisher
    (`AnyServiceRpc`: targets named at run time, e.g. from configuration)."""
    siblings = provider.__dict__.setdefault("_siblings", {})
    if target not in siblings:
        sibling = object.__new__(type(provider))
        sibling.__dict__.update({k: v for k, v in provider.__dict__.items()
                                 if k != "_siblings"})
        sibling.target_service, sibling.absent, sibling.absent_until = target, False, 0.0
        siblings[target] = sibling
    return siblings[target]


class AnyServiceRpc(ServiceRpc):
    """`self.services.service("pension").validate_params(...)`: for targets named by
    configuration rather than in code."""

    def __init__(self, timeout: float | None = None):
        super().__init__("__any__", timeout)

    def get_dependency(self, worker_ctx: Any) -> Any:
        provider = self

        class Targets:
            def service(self, name: str) -> RemoteService:
                return RemoteService(_for_target(provider, name), worker_ctx)

        return Targets()


class RemoteService:
    def __init__(self, provider: ServiceRpc, worker_ctx: Any):
        self._provider = provider
        self._worker_ctx = worker_ctx

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, _timeout: float | None = None, **kwargs: Any) -> Any:
            return self._provider.call(self._worker_ctx, method, args, kwargs, _timeout)

        return call
