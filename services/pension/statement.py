"""The certified career statement: only what the fund recorded.

It prints the member's identity, the recorded periods (employer or activity), the points
the fund recorded per year and scheme, the assimilated periods with their credited points,
the totals of those, and the date of the data. Nothing computed from salaries, projected or
assumed is printed, since the verification code certifies every figure on the page; a
year with periods but no recorded points is simply absent (the career view and the
simulations show it, marked projected).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session as DbSession

from services.kit import clock
from services.pension import simulator
from services.pension.career import Record, read_record

REASONS = {
    "fr": {"sickness": "maladie", "maternity": "maternité", "unemployment": "chômage",
           "military_service": "service militaire", "invalidity": "invalidité"},
    "en": {"sickness": "sickness", "maternity": "maternity", "unemployment": "unemployment",
           "military_service": "military service", "invalidity": "invalidity"},
}
KINDS = {"fr": {"employee": "salarié", "self_employed": "travailleur indépendant"},
         "en": {"employee": "employee", "self_employed": "self-employed"}}
WORDS = {
    "fr": {"title": "Relevé de carrière", "identity": "Identité", "born": "Date de naissance",
           "number": "Numéro d'immatriculation", "data": "Données enregistrées au",
           "periods": "Périodes d'activité", "assimilated": "Périodes assimilées",
           "totals": "Totaux enregistrés", "scheme": "Régime", "year": "Année",
           "points": "Points", "months": "mois", "none": "aucune",
           "cmrc_months": "mois depuis le {start} (début de la CMRC)",
           "only": "Ce relevé ne contient que les chiffres enregistrés par la caisse. Les "
                   "années sans points enregistrés et toute projection n'y figurent pas "
                   "(voir votre espace, carrière et simulations)."},
    "en": {"title": "Career statement", "identity": "Identity", "born": "Date of birth",
           "number": "Registration number", "data": "Data recorded as of",
           "periods": "Periods of activity", "assimilated": "Assimilated periods",
           "totals": "Recorded totals", "scheme": "Scheme", "year": "Year",
           "points": "Points", "months": "months", "none": "none",
           "cmrc_months": "months since {start} (the CMRC's start)",
           "only": "This statement holds only the figures the fund recorded. Years without "
                   "recorded points and any projection are not on it (see your space, "
                   "career and simulations)."},
}


@dataclass(frozen=True)
class StatementContent:
    """What the statement prints, as text: sections of (label, value) rows and the table of
    recorded points per year."""

    language: str
    title: str
    holder_name: str
    sections: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]], ...]
    table: tuple[tuple[str, str, str], ...]


def _d(day: Any) -> str:
    return day.strftime("%d/%m/%Y")


def content(record: Record) -> StatementContent:
    member = record.member
    lang = "en" if member.language == "en" else "fr"
    w = WORDS[lang]
    numbers = ", ".join(f"{s.get('registration_number')} ({s.get('fund')})"
                        for s in member.subscriptions or [] if s.get("registration_number"))
    stamp = record.data_date()
    identity = ((w["born"], _d(member.birth_date)), (w["number"], numbers or w["none"]),
                (w["data"], _d(clock.monaco_date(stamp)) if stamp else w["none"]))
    periods = tuple(
        (f"{_d(p.start)} - {_d(p.end)}",
         p.employer or (KINDS[lang].get(p.kind, p.kind)
                        + (f" (CARTI {p.contribution_class})"
                           if p.kind == "self_employed" else "")))
        for p in record.periods)
    assimilated = tuple(
        (f"{_d(a.start)} - {_d(a.end)}",
         f"{a.scheme}, {REASONS[lang].get(a.reason, a.reason)}: {a.points} {w['points']}")
        for a in record.assimilated)
    table = tuple((y.scheme, y.year, str(y.points)) for y in record.years)
    totals = []
    cmrc_start = simulator.cmrc_start()
    sim_periods = record.simulator_periods()
    for scheme in simulator.SCHEMES:
        recorded = sum((y.points for y in record.years if y.scheme == scheme), Decimal(0))
        credited = sum((a.points for a in record.assimilated if a.scheme == scheme),
                       Decimal(0))
        kind = simulator.SELF_EMPLOYED if scheme == simulator.CARTI else simulator.EMPLOYEE
        since = cmrc_start if scheme == simulator.CMRC else None
        months = simulator.months_with_activity(sim_periods, kind, since)
        unit = (w["cmrc_months"].format(start=_d(cmrc_start)) if since else w["months"])
        extra = f" + {credited} ({w['assimilated'].lower()})" if credited else ""
        totals.append((scheme, f"{recorded}{extra} {w['points'].lower()}, {months} {unit}"))
    return StatementContent(
        lang, w["title"], f"{member.first_name} {member.last_name.upper()}",
        ((w["identity"], identity, ()),
         (w["periods"], periods or ((w["none"], ""),), ()),
         (w["assimilated"], assimilated or ((w["none"], ""),), ()),
         (w["totals"], tuple(totals), (w["only"],))),
        ((w["scheme"], w["year"], w["points"]), *table))


def statement_document(session: DbSession, request: dict[str, Any],
                       public_base_url: str) -> tuple[bytes, str]:
    """The PDF and its verification code (the code certifies recorded figures only)."""
    from services.kit.offload import off_loop
    from services.kit.pdf import (
        DocumentSection,
        IssuedDocument,
        build_verification_url,
        new_verification_code,
        render_pdf,
    )

    c = content(read_record(session, request.get("member_id") or ""))
    code = new_verification_code()
    document = IssuedDocument(
        title=c.title, holder_name=c.holder_name,
        sections=[DocumentSection(heading, rows=rows, paragraphs=paragraphs)
                  for heading, rows, paragraphs in c.sections],
        verification_code=code, verification_url=build_verification_url(public_base_url, code),
        issued_at=clock.now(), language=c.language,
        table=[list(r) for r in c.table] if len(c.table) > 1 else None)
    return off_loop(render_pdf, document), code
