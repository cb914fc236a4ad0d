"""Staff roles: what each grants, and the per-method check services make."""

import pytest

from services.kit.context import context_from_data
from services.kit.errors import Forbidden
from services.kit.roles import AGENT, SUPERVISOR, has_role, require_role


def ctx(actor_type, roles=None):
    data = {"actor_type": actor_type, "actor_id": "a1"}
    if roles is not None:
        data["actor_roles"] = roles
    return context_from_data(data)


def test_a_supervisor_has_every_agent_role_but_not_the_reverse():
    assert has_role([SUPERVISOR], AGENT) and has_role([SUPERVISOR], SUPERVISOR)
    assert has_role([AGENT], AGENT) and not has_role([AGENT], SUPERVISOR)
    assert not has_role([], AGENT) and not has_role(["admin"], AGENT)


def test_roles_travel_in_the_context_as_a_comma_separated_string():
    assert ctx("agent", "agent,supervisor").roles == ("agent", "supervisor")
    assert ctx("agent").roles == () and ctx("agent", ["agent"]).roles == ()


@pytest.mark.parametrize(("actor_type", "roles", "needed", "ok"), [
    ("agent", "agent", AGENT, True),
    ("agent", "agent", SUPERVISOR, False),
    ("agent", "supervisor", SUPERVISOR, True),
    ("agent", "", AGENT, False),
    ("member", "supervisor", AGENT, False),  # a member never passes, whatever it claims
    ("system", None, SUPERVISOR, True),  # the fund's own systems
])
def test_require_role(actor_type, roles, needed, ok):
    if ok:
        require_role(ctx(actor_type, roles), needed)
    else:
        with pytest.raises(Forbidden) as refused:
            require_role(ctx(actor_type, roles), needed)
        assert refused.value.code == "role_required"
