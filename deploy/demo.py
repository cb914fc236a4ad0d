"""Demo data, put back to its initial state through the services' own RPC methods.

Idempotent, and safe while the suite runs: each demo person is erased (which every
service hears as `auth.member_deleted`) and created again, so every copy and every
event-fed view starts from the same state.
"""

from __future__ import annotations

import time
from typing import Any

from services.kit.client import RpcClient

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
    {
        "login": "246810-20051966",
        "password": "Lune#305",
        "state": "employee since 1990, turned 60 in 2026: can apply for her pension",
        "must_change_password": False,
        "member": {
            "first_name": "Sophie", "last_name": "Laurent", "birth_date": "1966-05-20",
            "sex": "F", "email": "sophie.laurent@example.mc", "email_validated": True,
            "language": "fr",
            "subscriptions": [{"fund": "CCSS", "registration_number": "246810"}],
        },
    },
]


DEMO_AGENT = {"username": "agent", "display_name": "Demo Agent", "roles": ["agent"],
              "password": "Harbour-Desk-2026"}
DEMO_SUPERVISOR = {"username": "supervisor", "display_name": "Demo Supervisor",
                   "roles": ["supervisor"], "password": "Lighthouse-Desk-2026"}
# both demo staff accounts are enrolled with this documented TOTP secret (any
# authenticator app, or `python -c "import pyotp; print(pyotp.TOTP('JBSWY3DPEHPK3PXP').now())"`);
# auth accepts it only with AUTH_DEVELOPMENT_FACTOR on, as `make run` sets
DEMO_OTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105
DEMO_STAFF = (DEMO_AGENT, DEMO_SUPERVISOR)


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
    with RpcClient(amqp_uri, timeout=30) as proxy:  # as memberspace-seed
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
        _demo_benefits(proxy, ids)
        _demo_forms(proxy)
        _demo_requests(proxy, ids["123456-03091985"])
        _demo_careers(proxy, ids)
        _demo_staff(proxy)
    return ids


def _demo_staff(proxy: Any) -> None:
    for account in DEMO_STAFF:
        try:
            proxy.auth.delete_agent(account["username"])
        except Exception as exc:
            if "agent_not_found" not in str(exc):
                raise
        proxy.auth.create_agent(**account)
        proxy.auth.enrol_development_factor(account["username"])


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
    for alert in MARIE_ALERTS:
        posted = _when_known(proxy.notifications.post_alert, member_id,
                             {k: v for k, v in alert.items() if k != "read"})
        if alert["read"]:
            proxy.notifications.mark_read(member_id, posted["id"])


def _when_known(call: Any, *args: Any) -> Any:
    """Retry while the service has not yet heard of the member (events are async)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return call(*args)
        except Exception as exc:
            if "member_not_found" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _demo_benefits(proxy: Any, ids: dict[str, str]) -> None:
    import datetime as dt

    year = dt.date.today().year
    validity = {"rights_status": "open", "valid_from": f"{year}-01-01",
                "valid_until": f"{year + 1}-12-31"}
    marie, luca, paul = (ids["123456-03091985"], ids["654321-12121990"],
                         ids["12345-15061970"])
    b = proxy.benefits
    _when_known(b.issue_card, marie, {"registration_number": "123456", **validity})
    _when_known(b.issue_card, luca, {"registration_number": "654321", **validity})
    _when_known(b.issue_card, paul, {"registration_number": "712345", **validity})
    b.upsert_beneficiaries(marie, [
        {"id": "B-123456-1", "first_name": "Léa", "last_name": "Rocher",
         "birth_date": "2014-05-17", "relationship": "child"},
        {"id": "B-123456-2", "first_name": "Hugo", "last_name": "Rocher",
         "birth_date": "2017-11-02", "relationship": "child"}])
    b.set_bank_account(marie, "MC5811222000010123456789030")
    b.update_profile(marie, {"address": {"line1": "12, boulevard des Moulins", "line2": None,
                                         "postal_code": "98000", "city": "Monaco",
                                         "country": "MC"},
                             "phone": "+377 93 00 00 00", "mail_channel": "email"})
    b.renew_fse_code(marie)
    practitioners = ["Dr Martin (généraliste)", "Pharmacie du Port", "Dr Costa (pédiatre)",
                     "Laboratoire Riviera"]
    sheets = []
    for i in range(12):
        day = dt.date.today() - dt.timedelta(days=15 + 37 * i)
        charged = 25 + 7 * (i % 5)
        sheets.append({
            "id": f"FSE-123456-{i + 1:03d}", "member_id": marie,
            "beneficiary_id": ["B-123456-1", "B-123456-2", None][i % 3],
            "care_date": day.isoformat(), "practitioner": practitioners[i % 4],
            "acts": [{"code": "G", "label": "Consultation", "amount": f"{charged}.00"}],
            "amount_charged": f"{charged}.00",
            "amount_refunded": f"{charged * 0.7:.2f}" if i else None,
            "refund_status": "paid" if i else "pending"})
    b.upsert_care_sheets(sheets)
    b.ingest_records(marie_ledger(), False)  # a back-fill: no alert floods


def marie_ledger() -> list[dict[str, Any]]:
    """24 months of refunds (some for the children) and monthly family allowances, so
    the 18-month edge shows."""
    import datetime as dt

    today = dt.date.today()
    records: list[dict[str, Any]] = []
    for i in range(48):
        care = today - dt.timedelta(days=8 + 15 * i)
        charged = 25 + 5 * (i % 6)
        records.append({
            "kind": "refund", "record_id": f"R-123456-{i + 1:03d}",
            "registration_number": "123456",
            "beneficiary_id": ["B-123456-1", "B-123456-2", None, None][i % 4],
            "care_date": care.isoformat(),
            "refund_date": (care + dt.timedelta(days=5)).isoformat(),
            "practitioner": ["Dr Martin", "Pharmacie du Port", "Dr Costa"][i % 3],
            "act": ["Consultation", "Médicaments", "Consultation pédiatrique"][i % 3],
            "amount_charged": f"{charged}.00", "refund_base": f"{charged}.00",
            "amount_refunded": f"{charged * 0.7:.2f}",
            "paid_to": "insurer" if i % 5 == 0 else "member"})
    for m in range(24):
        first = (today.replace(day=1) - dt.timedelta(days=31 * m)).replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        records.append({
            "kind": "payment", "record_id": f"P-123456-{first:%Y%m}",
            "registration_number": "123456", "payment_type": "family_allowance",
            "label": "Allocations familiales", "period_start": first.isoformat(),
            "period_end": last.isoformat(),
            "payment_date": min(last + dt.timedelta(days=5), today).isoformat(),
            "amount": "254.31"})
    return records


DEMO_FORMS = [
    ({"id": "demande-remboursement-soins", "title_fr": "Demande de remboursement de soins",
      "title_en": "Claim for reimbursement of care", "category": "health", "fund": "CCSS",
      "updated_on": "2026-01-15"},
     "Assuré / Insured person : ______\n\nN° d'immatriculation / Registration number : "
     "______\n\nJoindre les justificatifs originaux. / Attach the original receipts."),
    ({"id": "demande-pension-retraite", "title_fr": "Demande de pension de retraite",
      "title_en": "Application for a retirement pension", "category": "pensions",
      "fund": "CAR", "updated_on": "2026-01-15"},
     "Nom / Name : ______\n\nDate de naissance / Date of birth : ______"),
    ({"id": "declaration-changement-adresse", "title_fr": "Déclaration de changement d'adresse",
      "title_en": "Change of address", "category": "account", "fund": "CCSS",
      "updated_on": "2025-09-01"},
     "Ancienne adresse / Former address : ______\n\nNouvelle adresse / New address : ______"),
]


def _demo_forms(proxy: Any) -> None:
    """Published again at each seed: moto keeps objects in memory only."""
    for form, text in DEMO_FORMS:
        proxy.documents.publish_form(form, text=text)


def _demo_requests(proxy: Any, marie: str) -> None:
    """A completed certificate, a request in progress, one that needs information."""
    d = proxy.documents
    _when_known(d.create_request, marie, "certificate_of_rights", {})
    in_progress = d.create_request(marie, "data_correction", {
        "field": "address", "new_value": "12, boulevard des Moulins, Monaco",
        "reason": "J'ai déménagé."})
    d.transition_request(in_progress["id"], "in_progress", None)
    needs = d.create_request(marie, "data_correction", {
        "field": "last_name", "new_value": "Rocher-Martin", "reason": "Mariage"})
    d.transition_request(needs["id"], "in_progress", None)
    d.transition_request(needs["id"], "needs_information",
                         "Merci de joindre votre acte de mariage.")


def _demo_careers(proxy: Any, ids: dict[str, str]) -> None:
    import datetime as dt

    today = dt.date.today().isoformat()
    marie, paul, sophie = (ids["123456-03091985"], ids["12345-15061970"],
                           ids["246810-20051966"])
    periods = [
        # Marie: CAR since 2007 (and so CMRC since 2024), two employers
        {"id": "C-123456-1", "member_id": marie, "kind": "employee",
         "employer": "Société des Bains de Mer", "start": "2007-09-01", "end": "2015-06-30",
         "monthly_gross_salary": "2600.00"},
        {"id": "C-123456-2", "member_id": marie, "kind": "employee",
         "employer": "Banque Monégasque", "start": "2015-07-01", "end": today,
         "monthly_gross_salary": "4100.00"},
        # Paul: an earlier CAR period, then self-employed (CARTI) since 1998
        {"id": "C-712345-1", "member_id": paul, "kind": "employee",
         "employer": "Port Hercule SAM", "start": "1991-03-01", "end": "1997-12-31",
         "monthly_gross_salary": "1800.00"},
        {"id": "C-712345-2", "member_id": paul, "kind": "self_employed",
         "start": "1998-01-01", "end": today, "contribution_class": 3},
        # Sophie: CAR since 1990
        {"id": "C-246810-1", "member_id": sophie, "kind": "employee",
         "employer": "Centre Hospitalier Princesse Grace", "start": "1990-01-01",
         "end": today, "monthly_gross_salary": "3300.00"}]
    _when_known(proxy.pension.upsert_career_periods, periods)
    _when_known(proxy.pension.upsert_career_years, *_demo_recorded_years(periods, marie, sophie))


def _demo_recorded_years(periods: list[dict], marie: str, sophie: str) -> tuple[list, list]:
    """What the fund recorded for Marie and Sophie: the points of each completed year (here
    the rules' own figures for their salaries), up to the 2024/2025 CAR financial year and
    the 2025 CMRC year, except Marie's 2019/2020, which the fund has not recorded yet (the
    career view shows it projected); and one assimilated period each."""
    from decimal import Decimal

    from services.pension import simulator
    from services.pension.simulator.calendar import employee_months

    years: list[dict] = []
    for member, skip in ((marie, {"2019/2020"}), (sophie, set())):
        mine = [simulator.Period.of(p) for p in periods if p["member_id"] == member]
        months = employee_months(mine)
        for scheme, points in (("CAR", simulator.car_points(mine)),
                               ("CMRC", simulator.cmrc_points(mine))):
            label = simulator.financial_year if scheme == "CAR" else (lambda m: str(m.year))
            for year, value in points.items():
                if year in skip or year > ("2024/2025" if scheme == "CAR" else "2025"):
                    continue
                salaries = sum((m.earnings for day, m in months.items() if label(day) == year),
                               Decimal(0))
                years.append({"member_id": member, "scheme": scheme, "year": year,
                              "points": str(value),
                              "salaries": str(salaries.quantize(Decimal("0.01")))})
    assimilated = [
        {"id": "A-123456-1", "member_id": marie, "scheme": "CAR", "reason": "maternity",
         "start": "2012-03-01", "end": "2012-06-30", "points": "11.20"},
        {"id": "A-246810-1", "member_id": sophie, "scheme": "CAR", "reason": "sickness",
         "start": "2003-01-06", "end": "2003-02-28", "points": "4.10"}]
    return years, assimilated


def print_logins() -> None:
    print("\ndemo logins (identifier / password):")
    for person in DEMO_PEOPLE:
        name = f"{person['member']['first_name']} {person['member']['last_name']}"
        print(f"  {person['login']:<18} {person['password']:<10} {name}: {person['state']}")
    print("staff (POST /api/v1/agent/login with username, password and otp, the current "
          f"code of the development TOTP secret {DEMO_OTP_SECRET}):")
    for account in DEMO_STAFF:
        print(f"  {account['username']:<18} {account['password']:<22} "
              f"roles: {', '.join(account['roles'])}")
