"""Career statement, retirement simulations (the member's and an anonymous one)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from gateway.api import EXTRA_SCHEMAS, MEMBER, Call, read_json, route
from services.contracts.simulation import AnonymousSimulationSchema, MemberAssumptionsSchema

SIMULATION_BODY_LIMIT = 64 * 1024


class Career(Schema):
    member_id = fields.String()
    periods = fields.List(fields.Dict())
    assimilated_periods = fields.List(fields.Dict(), metadata={
        "description": "compensated interruptions the fund recorded (sickness, maternity, "
                       "unemployment, military service, invalidity) with their points"})
    schemes = fields.Dict(metadata={"description": "CAR, CMRC, CARTI: points by year, each "
                                                   "year recorded by the fund or projected, "
                                                   "totals, months and years with activity, "
                                                   "the minimum condition so far"})


EXTRA_SCHEMAS["AnonymousSimulation"] = AnonymousSimulationSchema
EXTRA_SCHEMAS["MemberSimulationAssumptions"] = MemberAssumptionsSchema


@route("GET", "/api/v1/me/career", access=MEMBER, response=Career,
       summary="The member's career per scheme (CAR, CMRC, CARTI), with points and the "
               "eligibility facts so far", tags=("pension",))
def get_career(call: Call) -> Any:
    return call.services.pension.get_career(call.member_id)


@route("POST", "/api/v1/pension/simulations", access=MEMBER,
       summary="Simulate the member's retirement: recorded career plus assumptions "
               "(body: MemberSimulationAssumptions)", tags=("pension",),
       problems=((422, "validation_failed"),))
def simulate(call: Call) -> Any:
    body = read_json(call.request, SIMULATION_BODY_LIMIT)
    return call.services.pension.simulate_for_member(call.member_id, body)


@route("POST", "/api/v1/pension/simulations/anonymous", rate_limit="simulation",
       summary="Simulate a hypothetical career, no account needed (body: "
               "AnonymousSimulation); nothing is stored", tags=("pension",),
       problems=((422, "validation_failed"), (429, "too_many_requests")))
def simulate_anonymous(call: Call) -> Any:
    return call.services.pension.simulate_anonymous(
        read_json(call.request, SIMULATION_BODY_LIMIT))
