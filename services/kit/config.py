"""Typed settings read from environment variables and validated at start.

Each service declares a marshmallow schema whose field names are the environment
variable names; a wrong or missing value stops the service with a message that
names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from nameko.extensions import DependencyProvider


class ConfigError(SystemExit):
    """Raised (and exits the process) when the environment is not usable."""

    def __init__(self, problems: Mapping[str, Any]):
        lines = [f"  {name}: {' '.join(_flatten(msg))}" for name, msg in sorted(problems.items())]
        super().__init__("invalid configuration:\n" + "\n".join(lines))
        self.problems = dict(problems)


class StartRefused(Exception):
    """Raised by a dependency provider's `setup` when what it needs is unusable (a
    malformed data file, say); the runner prints it and exits 78, as for bad settings."""


def _flatten(msg: Any) -> list[str]:
    if isinstance(msg, (list, tuple)):
        return [m for item in msg for m in _flatten(item)]
    if isinstance(msg, dict):
        return [m for item in msg.values() for m in _flatten(item)]
    return [str(msg)]


class Url(fields.String):
    """A connection URL: must have a scheme from an allowed set."""

    def __init__(self, schemes: tuple[str, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.schemes = schemes

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        scheme = text.split("://", 1)[0] if "://" in text else ""
        if scheme not in self.schemes:
            raise ValidationError(f"must be a URL starting with one of {', '.join(self.schemes)}://")
        return text


class Flag(fields.Boolean):
    """Environment booleans: 1/0, true/false, yes/no, on/off."""


class BaseSettings(Schema):
    """Settings every service shares."""

    class Meta:
        unknown = EXCLUDE

    AMQP_URI = Url(("amqp", "amqps"), load_default="amqp://guest:guest@127.0.0.1:5672/")
    # the broker user RabbitMQ knows this process as, when it authenticates by
    # certificate (otherwise the user of AMQP_URI): sent as user_id on every publish
    AMQP_USER_ID = fields.String(load_default=None)
    AMQP_QUORUM_QUEUES = Flag(load_default=False)  # services.kit.queues
    LOG_LEVEL = fields.String(
        load_default="INFO",
        validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]),
    )
    LOG_FORMAT = fields.String(load_default="json", validate=validate.OneOf(["json", "console"]))
    MAX_WORKERS = fields.Integer(load_default=20, validate=validate.Range(1, 1000))
    RPC_TIMEOUT = fields.Float(load_default=10.0, validate=validate.Range(0.1, 300))
    TIMEZONE = fields.String(load_default="Europe/Monaco")
    AUDIT_RETENTION_DAYS = fields.Integer(load_default=730, validate=validate.Range(30, 3650))
    # /metrics, /livez and /readyz (services.kit.probes); 0 = not served
    METRICS_PORT = fields.Integer(load_default=0, validate=validate.Range(0, 65535))
    METRICS_ADDRESS = fields.String(load_default="0.0.0.0")  # noqa: S104 (probes come from outside)


def local_database_url(database: str) -> str:
    """A database of the local PostgreSQL server (127.0.0.1, user postgres): what
    `make run`, the tests and the bench use while no URL is configured."""
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"


def database_url_field(service: str) -> Url:
    """`<SERVICE>_DATABASE_URL`, defaulting to a database named for the service."""
    return Url(("postgresql", "postgresql+psycopg2"),
               load_default=local_database_url(f"memberspace_{service}"))


def load_settings(schema_cls: type[Schema],
                  environ: Mapping[str, str] | None = None) -> SimpleNamespace:
    """Read and validate settings; raises ConfigError naming each bad variable."""
    env = os.environ if environ is None else environ
    data = {name: env[name] for name in schema_cls().fields if name in env and env[name] != ""}
    try:
        loaded = schema_cls().load(data)
    except ValidationError as exc:
        raise ConfigError(exc.messages) from None
    return SimpleNamespace(**loaded)



class Settings(DependencyProvider):
    """Dependency: the container's validated settings (`self.settings.AMQP_URI`)."""

    def get_dependency(self, worker_ctx: Any) -> SimpleNamespace:
        return self.container.config["SETTINGS"]
