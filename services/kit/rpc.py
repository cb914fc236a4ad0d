"""RPC calls with timeouts, remote errors mapped back to local exception types.

nameko's own `RpcProxy` waits forever when the target is stopped but its queue
lives on. `ServiceRpc` waits at most `timeout` seconds, and gives the request
message the same time-to-live, so a request nobody answered in time is never
executed later. A timeout is `ServiceTimeout` (504) while the target has
consumers, `ServiceUnavailable` (503) when it has none or was never declared; the
calls that follow are then answered 503 at once until a consumer is back (looked
for at most once a second).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

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
from nameko.exceptions import deserialize
from nameko.extensions import DependencyProvider
from nameko.messaging import HeaderEncoder
from nameko.rpc import ReplyListener, Responder, Rpc, RpcConsumer, get_rpc_exchange

from services.kit.errors import ServiceError, ServiceTimeout, ServiceUnavailable
from services.kit.logging import get_logger

log = get_logger(__name__)


class _UnconfirmedPublisher(Publisher):
    use_confirms = False


class _Responder(Responder):
    """Replies without publisher confirms: a reply the broker loses ends as the
    caller's timeout, and every reply saves a broker round trip."""

    publisher_cls = _UnconfirmedPublisher


class _RpcConsumer(RpcConsumer):
    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        config = self.container.config
        responder = _Responder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class _Rpc(Rpc):
    rpc_consumer = _RpcConsumer()


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

    reply_listener = ReplyListener()

    def __init__(self, target_service: str, timeout: float | None = None):
        self.target_service = target_service
        self.timeout = timeout

    def setup(self) -> None:
        config = self.container.config
        self.amqp_uri = config["AMQP_URI"]
        self.exchange = get_rpc_exchange(config)
        self.default_timeout = self.timeout or config["SETTINGS"].RPC_TIMEOUT
        # No publisher confirms: they cost a broker round trip per call. A request the
        # broker drops ends as a timeout, like a lost reply; an absent target is found
        # on the timeout by its consumer count, and then answered at once until it is
        # back (see `absent`).
        self.publisher = Publisher(self.amqp_uri, use_confirms=False, serializer="json")
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
        events = self.reply_listener._reply_events
        reply = self.reply_listener.get_reply_event(correlation_id)
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
        except BaseException:
            events.pop(correlation_id, None)  # no reply will ever come for it
            raise
        body = None
        with eventlet.Timeout(timeout, False):
            body = reply.wait()
        if body is None:
            events.pop(correlation_id, None)
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
