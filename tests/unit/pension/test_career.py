"""The online applications' parameters and the career view, without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from services.pension import applications, career
from services.pension.models import AssimilatedPeriod, CareerPeriod, CareerYear


def fields_of(errors: list[dict[str, str]]) -> set[str]:
    return {e["field"] for e in errors}


class FakeSession:
    """read_record's calls: the member by id, then one query per table (counted)."""

    def __init__(self, member: Any, rows: list[Any], years: list[Any] = (),
                 assimilated: list[Any] = ()) -> None:
        self.member, self.queries = member, 0
        self.tables = {CareerPeriod: list(rows), CareerYear: list(years),
                       AssimilatedPeriod: list(assimilated)}

    def get(self, _model: Any, _key: Any) -> Any:
        return self.member

    def scalars(self, statement: Any) -> Any:
        self.queries += 1
        rows = self.tables[statement.column_descriptions[0]["entity"]]
        return SimpleNamespace(all=lambda: list(rows))


MEMBER = SimpleNamespace(member_id="m-1", birth_date=dt.date(1966, 3, 10), sex="F",
                         first_name="Ada", last_name="Test", language="en")
ROWS = [SimpleNamespace(id="p-1", kind="employee", employer="SBM",
                        start=dt.date(1990, 1, 1), end=dt.date(2024, 12, 31),
                        monthly_gross_salary=Decimal("3000.00"), contribution_class=None)]


def test_valid_application_params_pass() -> None:
    assert applications.validate_params("retirement_pension", {
        "retirement_date": "2035-07-01", "stopped_all_activity": True,
        "children": [{"birth_date": "1990-01-01", "years_raised_before_16": 8}]}) == []


def test_a_retirement_date_in_the_last_days_of_9999_is_a_field_error() -> None:
    errors = applications.validate_params("retirement_pension", {"retirement_date": "9999-12-15"})
    assert fields_of(errors) == {"params.retirement_date"}


def test_a_malformed_child_is_a_field_error_not_dropped() -> None:
    for child, field in (
            ({"birth_date": "not a date", "years_raised_before_16": 3},
             "params.children.0.birth_date"),
            ({"birth_date": "1990-01-01"}, "params.children.0.years_raised_before_16"),
            ({"birth_date": "1990-01-01", "years_raised_before_16": 17},
             "params.children.0.years_raised_before_16"),
            ({"birth_date": "1990-01-01", "years_raised_before_16": 3, "name": "x"},
             "params.children.0.name"),
            ("1990-01-01", "params.children.0")):
        errors = applications.validate_params("retirement_pension", {"children": [child]})
        assert fields_of(errors) == {field}, (child, errors)


def test_too_many_children_is_a_field_error() -> None:
    child = {"birth_date": "1990-01-01", "years_raised_before_16": 8}
    errors = applications.validate_params("retirement_pension", {"children": [child] * 21})
    assert fields_of(errors) == {"params.children"}


def test_a_stored_draft_with_bad_params_is_reported_missing_not_raised() -> None:
    missing = applications.check_submission(
        FakeSession(MEMBER, ROWS), "m-1", "retirement_pension",
        {"retirement_date": "9999-12-15", "stopped_all_activity": True}, [],
        today=dt.date(2025, 1, 1))
    assert len(missing) == 1 and "params.retirement_date" in missing[0]


def test_children_count_for_the_mothers_earlier_opening() -> None:
    params: dict[str, Any] = {"retirement_date": "2026-07-01", "stopped_all_activity": True}
    today = dt.date(2025, 1, 1)
    alone = applications.check_submission(FakeSession(MEMBER, ROWS), "m-1",
                                          "retirement_pension", params, [], today=today)
    params["children"] = [{"birth_date": f"199{i}-01-01", "years_raised_before_16": 10}
                          for i in range(3)]
    mother = applications.check_submission(FakeSession(MEMBER, ROWS), "m-1",
                                           "retirement_pension", params, [], today=today)
    assert any("application opens" in m for m in alone)
    assert not any("application opens" in m for m in mother)


def test_the_career_view_reads_each_table_once() -> None:
    session = FakeSession(MEMBER, ROWS)
    view = career.career_view(session, "m-1")
    assert session.queries == 3
    assert view["member_id"] == "m-1"
    assert view["periods"] == [{"id": "p-1", "kind": "employee", "employer": "SBM",
                                "start": "1990-01-01", "end": "2024-12-31",
                                "monthly_gross_salary": "3000.00", "contribution_class": None}]
    assert set(view["schemes"]) == {"CAR", "CMRC", "CARTI"}
