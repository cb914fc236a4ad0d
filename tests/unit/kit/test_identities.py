"""The broker declaration: deny by default, matches the code, generated files current."""

from __future__ import annotations

import re

from nameko.events import SERVICE_POOL, EventHandler

from deploy.broker import permissions, rendered_files, service_classes, topic_permissions
from services.kit.context import trusted_context
from services.kit.identities import IDENTITIES, by_user, may_call, service_user


def test_allow_lists_deny_by_default():
    assert may_call("memberspace-practitioners", "benefits", "care_sheets_for_code")
    assert may_call("memberspace-practitioners", "benefits", "card_status")
    assert not may_call("memberspace-practitioners", "auth", "set_credentials")
    assert not may_call("memberspace-practitioners", "benefits", "export_member_data")
    assert not may_call(None, "auth", "get_member")
    assert not may_call("guest", "auth", "get_member")
    assert not may_call("memberspace-subscriber", "auth", "get_member")
    assert may_call("memberspace-gateway", "pension", "health")
    assert not may_call("memberspace-gateway", "auth", "set_credentials")
    assert may_call("memberspace-documents", "reqowner", "validate_params")


def test_nobody_configures_an_exchange_or_writes_the_default_one():
    for identity in IDENTITIES:
        granted = permissions(identity)
        assert not re.match(granted["write"], "amq.default"), identity.user
        if identity.local_only:  # the harness declares its test sources' exchanges
            continue
        for resource in ("amq.default", "nameko-rpc", "auth.events"):
            assert not re.match(granted["configure"], resource), (identity.user, resource)
        if not identity.local_only:
            writes = [t for t in topic_permissions(identity) if t["exchange"] == "auth.events"]
            assert (identity.user == "memberspace-auth") == any(
                t["write"] == "^.*$" for t in writes)


def test_every_handler_is_declared_and_every_service_has_an_identity():
    for cls in service_classes():
        identity = by_user(service_user(cls.name))
        assert identity is not None, cls.name
        bound = {f"{e.source_service}.{e.event_type}" for name in dir(cls)
                 for e in getattr(getattr(cls, name, None), "nameko_entrypoints", ())
                 if isinstance(e, EventHandler)}
        assert bound == set(identity.subscribes), cls.name
        pooled = [e for name in dir(cls)
                  for e in getattr(getattr(cls, name, None), "nameko_entrypoints", ())
                  if isinstance(e, EventHandler) and e.handler_type == SERVICE_POOL]
        assert all(e.source_service in ("auth", "benefits", "documents", "requests")
                   for e in pooled)


def test_generated_files_are_current():
    """`python -m deploy.broker write` after changing the declaration."""
    stale = [str(path) for path, content in rendered_files().items()
             if not path.exists() or path.read_text() != content]
    assert stale == []


def test_context_is_believed_only_from_relaying_identities():
    claimed = {"correlation_id": "c", "actor_type": "member", "actor_id": "m1",
               "session_id": "s1", "roles": ["supervisor"]}
    assert trusted_context(claimed, "memberspace-gateway")["actor_id"] == "m1"
    outside = trusted_context(claimed, "memberspace-core")
    assert outside == {"correlation_id": "c", "caller": "memberspace-core",
                       "actor_type": "system", "actor_id": "memberspace-core",
                       "claimed_actor": "member:m1"}
    forged = trusted_context({**claimed, "caller": "memberspace-gateway"}, "memberspace-core")
    assert forged["caller"] == "memberspace-core"


def test_the_gateway_may_call_every_method_its_routes_call():
    """Deny by default: a route calling a method missing from the gateway's allow-list
    would answer 403 forbidden to every member."""
    import fnmatch
    import re
    from pathlib import Path

    from services.kit.identities import GATEWAY_CALLS

    called = set()
    for path in Path("gateway").rglob("*.py"):
        called |= set(re.findall(
            r"services\.((?:auth|benefits|documents|notifications|pension)\.[a-z_]+)\(",
            path.read_text()))
    assert called
    missing = sorted(m for m in called
                     if not any(fnmatch.fnmatch(m, pattern) for pattern in GATEWAY_CALLS))
    assert not missing, f"add to GATEWAY_CALLS: {missing}"
