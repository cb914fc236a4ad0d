"""Demo data, put back to its initial state through the services' own RPC methods.

Idempotent, and safe while the suite runs: each demo person is erased (which every
service hears as `auth.member_deleted`) and created again, so every copy and every
event-fed view starts from the same state.
"""

from __future__ import annotations

import time
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy

DEMO_PEOPLE: list[dict[str, Any]] = [
    {
        "login": "123456-03091985",
        "password": "Azur#718",
        "state": "employee, e-mail validated, password already personalised",
        "must_change_password": False,
        "member": {
            "first_name": "Marie", "last_name": "Rocher", "birth_date": "1985-09-03",
            "sex": "F", "email": "marie.rocher@example.mc", "email_validated": True,
            "language": "fr",
            "subscriptions": [{"fund": "CCSS", "registration_number": "123456"}],
        },
    },
    {
        "login": "654321-12121990",
        "password": "Init2026",
        "state": "first connection: must change password, no e-mail",
        "must_change_password": True,
        "member": {
            "first_name": "Luca", "last_name": "Bianchi", "birth_date": "1990-12-12",
            "sex": "M", "email": None, "email_validated": False, "language": "en",
            "subscriptions": [{"fund": "CCSS", "registration_number": "654321"}],
        },
    },
    {
        "login": "12345-15061970",
        "password": "Port!962",
        "state": "self-employed (712345), e-mail validated",
        "must_change_password": False,
        "member": {
            "first_name": "Paul", "last_name": "Garnier", "birth_date": "1970-06-15",
            "sex": "M", "email": "paul.garnier@example.mc", "email_validated": True,
            "language": "fr",
            "subscriptions": [{"fund": "CAMTI", "registration_number": "712345"}],
        },
    },
]


DEMO_AGENT = {"username": "agent", "display_name": "Demo Agent", "roles": ["agent"],
              "password": "Harbour-Desk-2026"}


def _find(proxy: Any, number: str) -> dict[str, Any] | None:
    try:
        return proxy.auth.find_member(number)
    except Exception as exc:  # RemoteError / ServiceError: not found
        if "member_not_found" in str(exc):
            return None
        raise


def seed(amqp_uri: str) -> dict[str, str]:
    """Reset every demo person; returns login -> member_id."""
    ids: dict[str, str] = {}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri, "serializer": "json"}, timeout=30) as proxy:
        for person in DEMO_PEOPLE:
            for sub in person["member"]["subscriptions"]:
                existing = _find(proxy, sub["registration_number"])
                if existing:
                    proxy.auth.delete_member(existing["member_id"])
            created = proxy.auth.create_member(person["member"])
            proxy.auth.set_credentials(created["member_id"], {
                "password": person["password"],
                "must_change_password": person["must_change_password"],
            })
            ids[person["login"]] = created["member_id"]
        _demo_alerts(proxy, ids["123456-03091985"])
        try:
            proxy.auth.delete_agent(DEMO_AGENT["username"])
        except Exception as exc:
            if "agent_not_found" not in str(exc):
                raise
        proxy.auth.create_agent(**DEMO_AGENT)
    return ids


MARIE_ALERTS = [
    {"category": "payments", "title": "Remboursement effectué",
     "body": "Votre remboursement de 23,40 EUR a été versé.", "read": True},
    {"category": "requests", "title": "Demande reçue",
     "body": "Nous avons bien reçu votre demande d'attestation de droits.", "read": True},
    {"category": "documents", "title": "Document reçu",
     "body": "Nous avons bien reçu votre justificatif de domicile.", "read": False},
    {"category": "account", "title": "Nouveau service en ligne",
     "body": "Vous pouvez désormais ajouter votre carte d'immatriculation à votre Wallet.",
     "read": False},
]


def _demo_alerts(proxy: Any, member_id: str) -> None:
    """Marie's alerts, once notifications has heard of her (events are asynchronous)."""
    deadline = time.monotonic() + 30
    for alert in MARIE_ALERTS:
        while True:
            try:
                posted = proxy.notifications.post_alert(
                    member_id, {k: v for k, v in alert.items() if k != "read"})
                break
            except Exception as exc:
                if "member_not_found" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        if alert["read"]:
            proxy.notifications.mark_read(member_id, posted["id"])


def print_logins() -> None:
    print("\ndemo logins (identifier / password):")
    for person in DEMO_PEOPLE:
        name = f"{person['member']['first_name']} {person['member']['last_name']}"
        print(f"  {person['login']:<18} {person['password']:<10} {name}: {person['state']}")
    print(f"agent (POST /api/v1/agent/login): {DEMO_AGENT['username']} / "
          f"{DEMO_AGENT['password']}")
