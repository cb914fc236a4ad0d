import datetime

import pytest

from services.auth.identifiers import (
    MAX_CANDIDATES,
    Identifier,
    IdentifierError,
    parse_identifier,
    registration_number_forms,
)

TODAY = datetime.date(2026, 1, 15)


def parse(raw: object) -> Identifier:
    return parse_identifier(raw, today=TODAY)


@pytest.mark.parametrize(
    ("raw", "candidates", "birth_date", "normalized"),
    [
        ("123456-03091985", ("123456",), datetime.date(1985, 9, 3), "123456-03091985"),
        ("1234-29022000", ("1234",), datetime.date(2000, 2, 29), "1234-29022000"),
        ("12345-01011950", ("12345", "712345"), datetime.date(1950, 1, 1), "12345-01011950"),
        ("712345-01011950", ("712345",), datetime.date(1950, 1, 1), "712345-01011950"),
        ("000123-31121999", ("000123",), datetime.date(1999, 12, 31), "000123-31121999"),
        ("1234-01011900", ("1234",), datetime.date(1900, 1, 1), "1234-01011900"),
        ("1234-15012026", ("1234",), TODAY, "1234-15012026"),
    ],
)
def test_valid_identifiers(raw, candidates, birth_date, normalized):
    ident = parse(raw)
    assert ident == Identifier(candidates, birth_date, normalized)
    assert len(ident.candidates) <= MAX_CANDIDATES


@pytest.mark.parametrize(
    "raw",
    [
        "  123456-03091985",
        "123456-03091985\t",
        "\u00a0123456-03091985\u00a0",
        " \t123456-03091985 \n",
    ],
)
def test_surrounding_whitespace_tolerated(raw):
    assert parse(raw).normalized == "123456-03091985"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "123456",
        "123456-",
        "-03091985",
        "123456 - 03091985",
        "123456 -03091985",
        "123456- 03091985",
        "123 456-03091985",
        "123456_03091985",
        "12345603091985",
        "123456-3091985",
        "123456-030919855",
        "123-03091985",
        "1234567-03091985",
        "abcdef-03091985",
        "123456-03/09/1985",
        "123456-03091985-1",
        "123456--03091985",
        "\u0661\u0662\u0663\u0664\u0665\u0666-03091985",  # Arabic-Indic digits
        "123456-\uff10\uff13\uff10\uff19\uff11\uff19\uff18\uff15",  # full-width digits
        "123456-03091985\x00",
        " " * 50 + "123456-03091985",  # 65 characters before stripping
    ],
)
def test_malformed_identifiers(raw):
    with pytest.raises(IdentifierError) as exc:
        parse(raw)
    assert exc.value.code == "invalid_identifier"
    assert "DDMMYYYY" in str(exc.value)
    assert str(exc.value) == exc.value.detail


@pytest.mark.parametrize("raw", [None, 123456, b"123456-03091985", ["123456-03091985"]])
def test_non_string_rejected(raw):
    with pytest.raises(IdentifierError):
        parse(raw)


def test_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse("nope")


def test_length_limit_counts_before_stripping():
    assert parse(" " * 49 + "123456-03091985").candidates == ("123456",)  # 64 chars


@pytest.mark.parametrize(
    "raw",
    ["123456-31022000", "123456-29021900", "123456-32011985", "123456-01131985", "123456-00011985"],
)
def test_nonexistent_date(raw):
    with pytest.raises(IdentifierError) as exc:
        parse(raw)
    assert "that date does not exist" in exc.value.detail
    assert raw.split("-")[1] in exc.value.detail


def test_future_date_rejected():
    with pytest.raises(IdentifierError) as exc:
        parse("123456-16012026")
    assert "future" in exc.value.detail


def test_year_before_1900_rejected():
    with pytest.raises(IdentifierError) as exc:
        parse("123456-31121899")
    assert "1900" in exc.value.detail


def test_default_today_is_monaco_date():
    assert parse_identifier("123456-03091985").birth_date == datetime.date(1985, 9, 3)
    with pytest.raises(IdentifierError):
        parse_identifier("123456-01019999")


def test_details_are_distinct():
    details = set()
    for raw in ("bad", "123456-31022000", "123456-01011800", "123456-01012030"):
        with pytest.raises(IdentifierError) as exc:
            parse(raw)
        details.add(exc.value.detail)
    assert len(details) == 4


@pytest.mark.parametrize(
    ("number", "forms"),
    [
        ("712345", ("712345", "12345")),
        ("123456", ("123456",)),
        ("12345", ("12345",)),
        ("1234", ("1234",)),
        ("7123", ("7123",)),
    ],
)
def test_registration_number_forms(number, forms):
    assert registration_number_forms(number) == forms


def test_self_employed_both_forms_resolve_to_same_number():
    short = parse("12345-03091985")
    full = parse("712345-03091985")
    assert set(full.candidates) <= set(short.candidates)
    assert short.normalized != full.normalized
