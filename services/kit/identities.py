"""Who is on the bus: every broker identity, what it may call, publish and hear.

This is the one declaration. From it come the RabbitMQ permissions and topic
permissions (`deploy/broker/`: the local set-up, a definitions file and Messaging
Topology Operator resources), each service's RPC allow-lists (`services.kit.rpc`),
whose context is believed (`services.kit.context`) and the "who may call" column of
`docs/rpc.md`. Nothing here is secret: passwords come from `deploy/broker/` (local
development) or from Secrets (production).

`calls` names `<service>.<method>`; `*` stands for any one name (`*.health`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache, lru_cache

RPC_EXCHANGE = "nameko-rpc"
USER_PREFIX = "memberspace-"
EVENT_SOURCES = ("auth", "benefits", "documents", "requests")

SERVICE = "service"      # a suite service: answers RPC on rpc-<service>
GATEWAY = "gateway"      # the HTTP gateway: calls services for members and agents
TOOL = "tool"            # our own tools (health probe, seeding)
OUTSIDE = "outside"      # a system of the fund or of its partners
HARNESS = "harness"      # test and bench harness: local virtual hosts only


@dataclass(frozen=True)
class Identity:
    user: str
    role: str
    about: str
    service: str | None = None        # the nameko service whose queues it owns
    calls: tuple[str, ...] = ()       # RPC methods it may call
    publishes: tuple[str, ...] = ()   # event sources it publishes (`<source>.events`)
    subscribes: tuple[str, ...] = ()  # event types it may bind a queue to
    relays_context: bool = False      # the member/agent context it sends is believed

    @property
    def answers_rpc(self) -> bool:
        return self.service is not None and self.role != GATEWAY

    @property
    def local_only(self) -> bool:
        return self.role == HARNESS


MEMBER_COPY = ("auth.member_created", "auth.member_updated", "auth.member_deleted")
REQUEST_HOOKS = ("*.validate_params", "*.check_submission", "*.produce_result",
                 "*.params_schema")

GATEWAY_CALLS = (
    "*.health",
    "auth.agent_login", "auth.agent_otp_confirm", "auth.agent_otp_enrol",
    "auth.create_agent", "auth.list_agents", "auth.reset_agent_factor",
    "auth.set_agent_active", "auth.change_password", "auth.check_password",
    "auth.end_other_sessions", "auth.end_session", "auth.list_sessions",
    "auth.forgot_password", "auth.get_member",
    "auth.get_token_keys",
    "auth.list_ended_sessions", "auth.login", "auth.logout", "auth.mconnect_callback",
    "auth.mconnect_exchange", "auth.mconnect_start", "auth.refresh",
    "auth.request_email_change", "auth.reset_password", "auth.set_language",
    "auth.verify_email",
    "benefits.card_status", "benefits.changed_passes", "benefits.get_card",
    "benefits.get_card_keys", "benefits.get_fse_code", "benefits.get_profile",
    "benefits.latest_pass", "benefits.list_care_sheets", "benefits.list_payments",
    "benefits.list_refunds", "benefits.register_pass_device", "benefits.renew_fse_code",
    "benefits.unregister_pass_device", "benefits.update_profile", "benefits.update_window",
    "benefits.validate_profile_changes", "benefits.wallet_pass",
    "documents.accept_upload", "documents.agent_queue", "documents.authorize_download",
    "documents.authorize_form_download", "documents.authorize_request_document",
    "documents.cancel_request", "documents.create_request", "documents.get_document",
    "documents.get_form", "documents.get_request", "documents.list_documents",
    "documents.list_forms", "documents.list_requests", "documents.reply_request",
    "documents.request_types",
    "documents.submit_request", "documents.transition_request",
    "documents.update_request", "documents.verify_certificate",
    "notifications.get_preferences", "notifications.list_alerts",
    "notifications.mark_all_read", "notifications.mark_read",
    "notifications.set_preferences", "notifications.unread_count",
    "pension.get_career", "pension.simulate_anonymous", "pension.simulate_for_member",
)

SEED_CALLS = (
    "auth.find_member", "auth.delete_member", "auth.create_member", "auth.set_credentials",
    "auth.create_agent", "auth.delete_agent", "auth.enrol_development_factor",
    "notifications.post_alert", "notifications.mark_read",
    "benefits.ingest_records", "benefits.renew_fse_code", "benefits.set_bank_account",
    "benefits.update_profile", "benefits.upsert_beneficiaries", "benefits.upsert_care_sheets",
    "benefits.issue_card",
    "documents.publish_form", "documents.create_request", "documents.transition_request",
    "pension.upsert_career_periods", "pension.upsert_career_years",
)

IDENTITIES: tuple[Identity, ...] = (
    Identity("memberspace-auth", SERVICE, "accounts, logins and sessions", service="auth",
             calls=("notifications.send_email_verification",
                    "notifications.send_password_reset"),
             publishes=("auth",), relays_context=True),
    Identity("memberspace-notifications", SERVICE, "alerts and e-mails",
             service="notifications",
             calls=("auth.list_members",),
             subscribes=(
                 *MEMBER_COPY, "auth.login_locked", "auth.password_changed",
                 "auth.email_changed", "benefits.refund_paid", "benefits.payment_made",
                 "requests.status_changed", "documents.document_received")),
    Identity("memberspace-benefits", SERVICE, "cards, care sheets, refunds, payments",
             service="benefits", calls=("auth.list_members",), publishes=("benefits",),
             subscribes=MEMBER_COPY),
    Identity("memberspace-documents", SERVICE, "files and the request registry",
             service="documents",
             calls=("auth.list_members", "benefits.get_card",
                    "benefits.payments_for_statement", "*.export_member_data",
                    *REQUEST_HOOKS),
             publishes=("documents", "requests"), subscribes=MEMBER_COPY,
             relays_context=True),
    Identity("memberspace-pension", SERVICE, "careers and pension simulations",
             service="pension", calls=("auth.list_members",), subscribes=MEMBER_COPY),
    Identity("memberspace-gateway", GATEWAY, "the HTTP gateway", service="gateway",
             calls=GATEWAY_CALLS,
             subscribes=("auth.sessions_ended", "auth.member_updated"),
             relays_context=True),
    Identity("memberspace-health", TOOL, "the health probe (python -m services.kit.health)",
             calls=("*.health",)),
    Identity("memberspace-seed", TOOL, "make seed: the demo data", calls=SEED_CALLS),
    Identity("memberspace-practitioners", OUTSIDE,
             "practitioners' systems: care sheets by FSE code, card status",
             calls=("benefits.care_sheets_for_code", "benefits.card_status")),
    Identity("memberspace-core", OUTSIDE,
             "the fund's core systems: members, credentials, ledger, careers, forms",
             calls=("auth.create_member", "auth.update_member", "auth.find_member",
                    "auth.get_member", "auth.delete_member", "auth.set_credentials",
                    "auth.create_agent", "auth.delete_agent",
                    "benefits.ingest_records", "benefits.import_feeds", "benefits.issue_card",
                    "benefits.upsert_beneficiaries", "benefits.upsert_care_sheets",
                    "benefits.set_bank_account", "notifications.post_alert",
                    "documents.publish_form", "documents.withdraw_form",
                    "documents.agent_queue", "documents.transition_request",
                    "pension.upsert_career_periods", "pension.upsert_career_years"),
             subscribes=(*MEMBER_COPY, "requests.status_changed",
                         "documents.document_received")),
    Identity("memberspace-subscriber", OUTSIDE,
             "a subscriber to members' payment and request events",
             subscribes=("benefits.refund_paid", "benefits.payment_made",
                         "requests.status_changed")),
    Identity("memberspace-tests", HARNESS, "the test harness (test virtual hosts only)",
             calls=("*",), relays_context=True),
    Identity("memberspace-bench", HARNESS, "the benchmark harness (its virtual host only)",
             calls=("*",), relays_context=True),
)


@cache
def by_user(user: str | None) -> Identity | None:
    return next((i for i in IDENTITIES if i.user == user), None)


def service_user(service: str) -> str:
    """The broker user a suite service connects as."""
    declared = next((i for i in IDENTITIES if i.service == service), None)
    return declared.user if declared else f"{USER_PREFIX}{service}"


def deployed() -> tuple[Identity, ...]:
    """The identities of a real deployment (no test or bench harness)."""
    return tuple(i for i in IDENTITIES if not i.local_only)


@lru_cache(maxsize=4096)
def may_call(user: str | None, service: str, method: str) -> bool:
    """Deny by default: `user` may call `service.method` only if declared."""
    identity = by_user(user)
    if identity is None:
        return False
    key = f"{service}.{method}"
    return any(fnmatchcase(key, pattern) if "." in pattern else pattern == "*"
               for pattern in identity.calls)


def callers_of(service: str, method: str, *, include_local: bool = False) -> list[str]:
    pool = IDENTITIES if include_local else deployed()
    return [i.user for i in pool if may_call(i.user, service, method)]


def relays_context(user: str | None) -> bool:
    identity = by_user(user)
    return bool(identity and identity.relays_context)


def pattern_regex(pattern: str) -> str:
    """`auth.login` / `*.health` as a regex over routing keys (names are [a-z_])."""
    if pattern == "*":
        return r"[^.]+\.[^.]+"
    return r"\.".join(r"[^.]+" if part == "*" else re.escape(part)
                      for part in pattern.split("."))
