"""What the registry's own automatic types produce: certificates (PDF, with a
verification code and its QR code) and the right-of-access file (JSON)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from services.documents.members import Member
from services.kit.offload import off_loop
from services.kit.pdf import (
    DocumentSection,
    IssuedDocument,
    build_verification_url,
    new_verification_code,
    render_pdf,
)

TITLES = {
    "certificate_of_rights": ("Attestation de droits", "Certificate of rights"),
    "payment_certificate": ("Attestation de paiements", "Payment certificate"),
    "annual_tax_statement": ("Relevé fiscal annuel", "Annual tax statement"),
    "affiliation_certificate": ("Attestation d'affiliation", "Affiliation certificate"),
}
EXPORTING_SERVICES = ("auth", "notifications", "benefits", "documents", "pension")


def _label(fr: str, en: str, language: str) -> str:
    return fr if language == "fr" else en


def certificate(request_type: str, member: Member, data: dict[str, Any],
                public_base_url: str) -> tuple[bytes, str]:
    """The PDF (rendered off the event loop) and its new verification code."""
    lang = "fr" if member.language != "en" else "en"
    code = new_verification_code()
    holder = f"{member.first_name} {member.last_name.upper()}"
    identity = DocumentSection(
        _label("Assuré", "Member", lang),
        rows=[(_label("Nom", "Name", lang), holder),
              (_label("Date de naissance", "Date of birth", lang),
               member.birth_date.strftime("%d/%m/%Y")),
              (_label("Immatriculation", "Registration", lang),
               ", ".join(f"{s['registration_number']} ({s['fund']})"
                         for s in member.subscriptions))])
    sections, table = [identity], None
    if request_type == "certificate_of_rights":
        card = data.get("card") or {}
        sections.append(DocumentSection(_label("Droits", "Rights", lang), rows=[
            (_label("Caisse", "Fund", lang), card.get("fund", "-")),
            (_label("Statut", "Status", lang), card.get("rights_status", "-")),
            (_label("Valable du", "Valid from", lang), card.get("valid_from", "-")),
            (_label("Valable au", "Valid until", lang), card.get("valid_until", "-"))]))
        beneficiaries = card.get("beneficiaries") or []
        if beneficiaries:
            table = [[_label("Ayant droit", "Beneficiary", lang),
                      _label("Né(e) le", "Born", lang)]] + [
                [f"{b['first_name']} {b['last_name']}", b["birth_date"]]
                for b in beneficiaries]
    elif request_type in ("payment_certificate", "annual_tax_statement"):
        payments = data.get("payments") or {"items": [], "totals": {"amount": "0.00"}}
        sections.append(DocumentSection(_label("Période", "Period", lang), rows=[
            (_label("Du", "From", lang), data.get("from", "")),
            (_label("Au", "To", lang), data.get("to", "")),
            (_label("Total versé", "Total paid", lang),
             f"{payments['totals'].get('amount', '0.00')} EUR")]))
        table = [[_label("Date", "Date", lang), _label("Prestation", "Benefit", lang),
                  _label("Montant", "Amount", lang)]] + [
            [p["payment_date"], p.get("label") or p["payment_type"], f"{p['amount']} EUR"]
            for p in payments["items"]]
    else:  # affiliation
        sections.append(DocumentSection(_label("Affiliation", "Affiliation", lang),
                                        paragraphs=[_label(
                                            "La personne ci-dessus est affiliée aux Caisses "
                                            "Sociales de Monaco.",
                                            "The person above is affiliated with the Caisses "
                                            "Sociales de Monaco.", lang)]))
    document = IssuedDocument(
        title=_label(*TITLES[request_type], lang), holder_name=holder, sections=sections,
        verification_code=code, verification_url=build_verification_url(public_base_url, code),
        issued_at=dt.datetime.now(dt.UTC), language=lang, table=table)
    return off_loop(render_pdf, document), code


def data_access(member_id: str, fetch: Callable[[str], dict[str, Any]]) -> bytes:
    """Every service's `export_member_data`, and a note for any part not gathered."""
    parts: dict[str, Any] = {}
    missing: list[dict[str, str]] = []
    for service in EXPORTING_SERVICES:
        try:
            parts[service] = fetch(service)
        except Exception as exc:
            missing.append({"service": service, "reason": getattr(exc, "code",
                                                                  type(exc).__name__)})
    document = {"member_id": member_id, "generated_at": dt.datetime.now(dt.UTC).isoformat(),
                "parts": parts, "not_gathered": missing}
    return json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()
