"""One way of flattening marshmallow's messages into `errors[]`, each service's codes kept."""

from marshmallow import ValidationError

from services.contracts.simulation import AnonymousSimulationSchema, CodedMessage
from services.kit.errors import marshmallow_errors
from services.pension.simulator.inputs import field_errors


def test_nested_messages_become_dotted_fields_with_codes():
    messages = {"career": {1: {"end": ["Not a valid date."]}},
                "_schema": ["Give retirement_age or retirement_date."],
                "params": {"to": [CodedMessage("Before `from`.", "end_before_start")]}}
    assert marshmallow_errors(messages) == [
        {"field": "career.1.end", "code": "invalid", "detail": "Not a valid date."},
        {"field": "body", "code": "invalid", "detail": "Give retirement_age or retirement_date."},
        {"field": "params.to", "code": "end_before_start", "detail": "Before `from`."},
    ]
    assert marshmallow_errors({"x": ["Must be one of: a, b."]}, "params") == [
        {"field": "params.x", "code": "not_allowed", "detail": "Must be one of: a, b."}]


def test_the_simulator_keeps_its_own_codes_through_the_kit():
    try:
        AnonymousSimulationSchema().load({"date_of_birth": "1970-13-01", "sex": "F",
                                          "retirement_age": 80, "career": [{"kind": "x"}]})
    except ValidationError as exc:
        errors = {e["field"]: e["code"] for e in field_errors(exc.messages)}
    assert errors["date_of_birth"] == "invalid_date"       # the simulator's guess
    assert errors["retirement_age"] == "out_of_range"      # the message's own code
    assert errors["career.0.kind"] == "not_allowed"
    assert errors["career.0.start"] == "required"
