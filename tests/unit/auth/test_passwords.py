import dataclasses
import datetime

import pytest

from services.auth.passwords import (
    AGENT_POLICY,
    MEMBER_POLICY,
    PasswordPolicy,
    PasswordViolation,
    PersonalFacts,
    birth_date_forms,
    check_password,
)

BIRTH = datetime.date(1985, 9, 3)
MARIE = PersonalFacts(
    first_name="Marie",
    last_name="Dupont",
    registration_numbers=("123456",),
    birth_date=BIRTH,
)
UNRELATED = PersonalFacts(
    first_name="Jean-Pierre",
    last_name="Lefèvre",
    registration_numbers=("481920",),
    birth_date=datetime.date(1971, 11, 23),
    username="jplefevre",
)


def codes(password, facts=None, policy=MEMBER_POLICY):
    return [v.code for v in check_password(password, facts, policy)]


@pytest.mark.parametrize("password", ["Azur#718", "Init2026", "Port!962", "Lune#305"])
@pytest.mark.parametrize("facts", [None, MARIE, UNRELATED])
def test_good_member_passwords(password, facts):
    assert check_password(password, facts) == []


def test_good_agent_password():
    facts = PersonalFacts(first_name="Anne", last_name="Rossi", username="agent")
    assert check_password("Harbour-Desk-2026", facts, AGENT_POLICY) == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("1234567", "password_too_simple"),
        ("qwerty12", "password_too_simple"),
        ("QWERTY", "password_too_simple"),
        ("Qwert#9z", "password_too_simple"),
        ("azerty1", "password_too_simple"),
        ("AZERT!9z", "password_too_simple"),
        ("qsdfg!9z", "password_too_simple"),
        ("wxcvb!9z", "password_too_simple"),
        ("qwertz!9", "password_too_simple"),
        ("yxcvb!9z", "password_too_simple"),
        ("poiuy!9z", "password_too_simple"),
        ("x09876#z", "password_too_simple"),
        ("abcde!9z", "password_too_simple"),
        ("ZYXWV!9k", "password_too_simple"),
        ("98765!az", "password_too_simple"),
        ("x-67890z", "password_too_simple"),
        ("password", "password_too_simple"),
        ("Pass-Word", "password_too_simple"),  # common once punctuation is stripped
        ("abababa", "password_too_simple"),
        ("aaab123x", "password_repeated_characters"),
        ("x!!!9bcz", "password_repeated_characters"),
        ("abc", "password_length"),
        ("Azur#7189", "password_length"),
        ("", "password_length"),
        ("Azu\x00#718", "password_invalid_characters"),
        ("Azu\u200b#71", "password_invalid_characters"),
        ("Azu\n#718", "password_invalid_characters"),
    ],
)
def test_bad_passwords(password, expected):
    assert expected in codes(password)


@pytest.mark.parametrize(
    "password",
    ["Ab#1357x", "AAbb#19z", "qwe#rty9", "1234#Xyz", "abcd-9Kz", "Zx#7654q"],
)
def test_short_runs_are_fine(password):
    assert "password_too_simple" not in codes(password), password


def test_repetition_is_case_sensitive_and_needs_three():
    assert "password_repeated_characters" not in codes("aaBb#71x")
    assert "password_repeated_characters" not in codes("aAa#719z")
    assert "password_repeated_characters" in codes("aAAA#719")


@pytest.mark.parametrize(("length", "ok"), [(6, False), (7, True), (8, True), (9, False)])
def test_member_length_bounds(length, ok):
    password = "Kz#7q!Mw4"[:length].ljust(length, "p")
    assert ("password_length" not in codes(password)) is ok


def test_length_counts_characters_not_bytes():
    assert "password_length" not in codes("Él€#7ñü")  # 7 characters, more bytes
    assert "password_length" not in codes("E\u0301l€#7ñü")  # decomposed É counts as one


@pytest.mark.parametrize(("length", "ok"), [(11, False), (12, True), (128, True), (129, False)])
def test_agent_length_bounds(length, ok):
    password = ("Harbour-Desk-" * 20)[:length]
    assert ("password_length" not in codes(password, policy=AGENT_POLICY)) is ok


def test_length_details():
    member = check_password("abc")[0].detail
    agent = check_password("Short#1", policy=AGENT_POLICY)[0].detail
    assert "7 or 8 characters" in member
    assert "between 12 and 128 characters" in agent


def test_simplicity_can_be_disabled():
    policy = PasswordPolicy(7, 8, check_simplicity=False)
    assert codes("1234567", policy=policy) == []
    assert codes("aaab123", policy=policy) == ["password_repeated_characters"]


def test_invalid_policy_rejected():
    with pytest.raises(ValueError):
        PasswordPolicy(8, 7, True)


def test_non_string_password_rejected():
    with pytest.raises(TypeError):
        check_password(1234567)


@pytest.mark.parametrize(
    ("password", "facts"),
    [
        ("Marie#85", PersonalFacts(first_name="Marie")),
        ("mARIE#85", PersonalFacts(first_name="Marie")),
        ("Dupont#8", PersonalFacts(last_name="Dupont")),
        ("elodie1!", PersonalFacts(first_name="Élodie")),
        ("Élodie1!", PersonalFacts(first_name="Elodie")),
        ("ELODIE1!", PersonalFacts(first_name="élodie")),
        ("Jean#975", PersonalFacts(first_name="Jean-Pierre")),
        ("Pierre#9", PersonalFacts(first_name="Jean-Pierre")),
        ("jeanpie1", PersonalFacts(first_name="Jean Pie")),
        ("Annie#97", PersonalFacts(last_name="D'Annie")),
        ("Fontaine", PersonalFacts(last_name="de La Fontaine")),
        ("Müller#9", PersonalFacts(last_name="Muller")),
        ("x123456y", PersonalFacts(registration_numbers=("123456",))),
        ("Kz748213", PersonalFacts(registration_numbers=("748213",))),
        ("Kz#48213", PersonalFacts(registration_numbers=("748213",))),  # self-employed short form
        ("Kz#9183!", PersonalFacts(registration_numbers=("9183",))),
        ("xjdupont", PersonalFacts(username="jdupont")),
        ("J.Dupont!", PersonalFacts(username="jdupont")),
        ("Jdupont!", PersonalFacts(username="j.dupont")),
    ],
)
def test_obvious_passwords(password, facts):
    assert "password_obvious" in codes(password, facts, AGENT_POLICY)


@pytest.mark.parametrize(
    "written",
    [
        "03091985",  # DDMMYYYY
        "030985",  # DDMMYY
        "19850903",  # YYYYMMDD
        "09031985",  # MMDDYYYY
        "850903",  # YYMMDD
        "03/09/1985",
        "03-09-1985",
        "03.09.1985",
        "03/09/85",
        "1985-09-03",
        "1985",  # year alone
        "0309",  # DDMM
    ],
)
def test_birth_date_forms(written):
    assert written in birth_date_forms(BIRTH)
    password = f"Kq#{written}!"
    facts = PersonalFacts(birth_date=BIRTH)
    assert "password_obvious" in codes(password, facts, AGENT_POLICY)
    detail = check_password(password, facts, AGENT_POLICY)[-1].detail
    assert "date of birth" in detail


def test_birth_date_member_example():
    result = codes("03091985", PersonalFacts(birth_date=BIRTH))
    assert "password_obvious" in result


@pytest.mark.parametrize(
    "facts",
    [
        PersonalFacts(first_name="Al", last_name="Li", username="jo"),  # too short to look for
        PersonalFacts(registration_numbers=("712",)),
        PersonalFacts(),
    ],
)
def test_short_facts_are_ignored(facts):
    assert codes("Alijo#71", facts) == []


def test_no_facts_no_obviousness_check():
    assert "password_obvious" not in codes("Marie#85")


def test_marie_example():
    assert codes("Marie#85", MARIE) == ["password_obvious"]
    assert "your first name" in check_password("Marie#85", MARIE)[0].detail


def test_all_violations_reported_together():
    facts = PersonalFacts(first_name="Marie", birth_date=BIRTH)
    result = check_password("marie\x0012345555", facts)
    assert [v.code for v in result] == [
        "password_invalid_characters",
        "password_length",
        "password_repeated_characters",
        "password_too_simple",
        "password_obvious",
    ]
    assert all(isinstance(v, PasswordViolation) for v in result)


def test_obvious_detail_lists_every_fact():
    detail = check_password("Marie123456030919851985", MARIE, AGENT_POLICY)[-1].detail
    for label in ("first name", "registration number", "date of birth"):
        assert label in detail
    assert "last name" not in detail


def test_too_simple_detail_lists_every_reason():
    detail = check_password("qwerty12345")[-1].detail
    assert "commonly used" in detail
    assert "consecutive letters or digits" in detail
    assert "keyboard" in detail


@pytest.mark.parametrize(
    "password",
    [
        "1234567",
        "qwerty12",
        "QWERTY",
        "azerty1",
        "aaab123x",
        "Marie#85",
        "03091985",
        "x123456y",
        "letmein",
        "marie\x0012345555",
        "Harbour",
        "abcdefghij" * 13,
    ],
)
def test_details_never_echo_password_or_facts(password):
    for policy in (MEMBER_POLICY, AGENT_POLICY):
        for v in check_password(password, MARIE, policy):
            assert password.lower() not in v.detail.lower()
            for secret in ("marie", "dupont", "123456", "1985", "0309"):
                assert secret not in v.detail.lower()


def test_violations_are_immutable():
    violation = check_password("abc")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        violation.code = "other"
