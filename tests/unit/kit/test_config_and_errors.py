import pytest
from marshmallow import fields
from nameko.exceptions import deserialize, serialize

from services.kit.config import BaseSettings, ConfigError, load_settings
from services.kit.errors import NotFound, ServiceError, ValidationFailed, marshmallow_errors


class DemoSettings(BaseSettings):
    DEMO_PORT = fields.Integer(required=True)


def test_settings_defaults_and_types():
    settings = load_settings(DemoSettings, {"DEMO_PORT": "8080", "LOG_LEVEL": "DEBUG"})
    assert settings.DEMO_PORT == 8080 and settings.LOG_LEVEL == "DEBUG"
    assert settings.AMQP_URI.startswith("amqp://")


def test_bad_settings_name_the_variable():
    with pytest.raises(ConfigError) as err:
        load_settings(DemoSettings, {"DEMO_PORT": "eighty", "AMQP_URI": "http://x",
                                     "LOG_LEVEL": "LOUD"})
    message = str(err.value.code)
    for name in ("DEMO_PORT", "AMQP_URI", "LOG_LEVEL"):
        assert name in message
    with pytest.raises(ConfigError) as err:
        load_settings(DemoSettings, {})
    assert "DEMO_PORT" in str(err.value.code)


def test_service_errors_survive_the_wire():
    for original in (NotFound("gone", code="member_not_found"),
                     ValidationFailed.of([{"field": "a", "code": "b", "detail": "c"}]),
                     ServiceError("teapot", code="teapot", status=418)):
        back = deserialize(serialize(original))
        assert type(back) is type(original)
        assert (back.code, back.status, back.detail, back.extra) == (
            original.code, original.status, original.detail, original.extra)


def test_marshmallow_messages_become_field_errors():
    errors = marshmallow_errors({"a": ["Missing data for required field."],
                                 "b": {"c": ["Not a valid string."]},
                                 "d": ["Unknown field."]})
    assert {(e["field"], e["code"]) for e in errors} == {
        ("a", "required"), ("b.c", "invalid"), ("d", "unknown_field")}
