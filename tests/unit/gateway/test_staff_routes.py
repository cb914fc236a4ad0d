"""The staff's routes: off on a public gateway, each with its role in the OpenAPI."""

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

import gateway.routes  # noqa: F401  (registers the routes)
from gateway.api import AGENT, ROUTES, Router
from gateway.openapi import openapi_document
from gateway.problems import ApiError
from gateway.security import Principal, enforce_role

# the table: what only supervisors may do, today
SUPERVISOR_ROUTES = {
    ("GET", "/api/v1/agent/agents"), ("POST", "/api/v1/agent/agents"),
    ("POST", "/api/v1/agent/agents/<uuid:agent_id>/disable"),
    ("POST", "/api/v1/agent/agents/<uuid:agent_id>/enable"),
    ("POST", "/api/v1/agent/agents/<uuid:agent_id>/reset-factor"),
}
STAFF_PATHS = [("POST", "/api/v1/agent/login"), ("POST", "/api/v1/agent/otp/enrol"),
               ("GET", "/api/v1/agent/requests"),
               ("GET", "/api/v1/agent/members/00000000-0000-0000-0000-000000000001")]


def request(method, path):
    return Request(EnvironBuilder(method=method, path=path).get_environ())


@pytest.mark.parametrize(("method", "path"), STAFF_PATHS)
def test_a_gateway_without_staff_routes_answers_not_found(method, path):
    Router(ROUTES, staff=True).match(request(method, path))
    with pytest.raises(ApiError) as missing:
        Router(ROUTES, staff=False).match(request(method, path))
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    # member routes stay
    Router(ROUTES, staff=False).match(request("GET", "/api/v1/me"))


def test_the_openapi_document_leaves_staff_routes_out_when_they_are_off():
    public = openapi_document(staff=False)["paths"]
    internal = openapi_document(staff=True)["paths"]
    assert not [p for p in public if p.startswith("/api/v1/agent")]
    assert "/api/v1/me" in public
    assert {"/api/v1/agent/login", "/api/v1/agent/otp/enrol", "/api/v1/agent/otp/confirm",
            "/api/v1/agent/agents", "/api/v1/agent/requests"} <= set(internal)


def test_every_staff_route_states_its_role():
    doc = openapi_document(staff=True)["paths"]
    staff = [r for r in ROUTES if r.access == AGENT]
    assert {(r.method, r.path) for r in staff if r.required_role == "supervisor"} \
        == SUPERVISOR_ROUTES
    for r in staff:
        path = r.path.replace("<uuid:", "{").replace("<", "{").replace(">", "}")
        operation = doc[path][r.method.lower()]
        assert operation["x-required-role"] == r.required_role in ("agent", "supervisor")
        assert "role_required" in operation["responses"]["403"]["description"]
        assert r.path.startswith("/api/v1/agent/")


def test_enforce_role():
    agent = Principal("a1", "s1", "desk", False, "agent", roles=("agent",))
    supervisor = Principal("a2", "s2", "desk", False, "agent", roles=("supervisor",))
    enforce_role(agent, "agent")
    enforce_role(supervisor, "agent")
    enforce_role(supervisor, "supervisor")
    with pytest.raises(ApiError) as refused:
        enforce_role(agent, "supervisor")
    assert (refused.value.status, refused.value.code) == (403, "role_required")
