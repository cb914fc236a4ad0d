import uuid

import pytest

from services.kit.ids import parse_uuid


def test_a_uuid_in_any_accepted_spelling_is_its_canonical_text():
    value = uuid.uuid4()
    for spelling in (str(value), str(value).upper(), value.hex, f"{{{value}}}", value):
        assert parse_uuid(spelling) == str(value)


@pytest.mark.parametrize("value", [None, "", "not-a-uuid", 42, ["a"], {"a": 1}, b"x" * 16,
                                   "12345678-1234-1234-1234-1234567890123"])
def test_anything_else_is_none(value):
    assert parse_uuid(value) is None
