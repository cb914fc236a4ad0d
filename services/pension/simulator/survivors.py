"""What a survivor would receive, for information: a widow or widower receives a share of
the member's pension (60 % of the points, from `parameters/survivors.json`: official for the
CMRC, unverified for the CAR). No survivor rule was collected for the CARTI."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.pension.simulator.amounts import SchemeResult, pension_amounts
from services.pension.simulator.explanations import Context, qualifier
from services.pension.simulator.figures import CAR, CARTI, CMRC, PENSION, money, pct, rounded

SHARE_PARAMETER = {CAR: "car_survivor_share", CMRC: "cmrc_survivor_share"}
ORPHANS = ("Orphans receive a pension to 18, or to 25 while a student or an apprentice "
           "(rates not simulated); an orphan's application is made on paper.")


def survivor_information(ctx: Context, schemes: dict[str, SchemeResult],
                         on: date) -> dict[str, Any]:
    """Per paying scheme, the survivor's share of the member's pension at the start date."""
    out: dict[str, Any] = {}
    lines: list[str] = []
    for scheme, result in schemes.items():
        if result.outcome != PENSION or result.point_value is None:
            continue
        if scheme == CARTI:
            lines.append("CARTI: no survivor's rule is in the sources collected; a survivor's "
                         "CARTI pension is not estimated.")
            continue
        share = ctx.pv(SHARE_PARAMETER[scheme], on)
        annual, monthly = pension_amounts(result.points * share.value, result.point_value,
                                          result.increase_rate)
        out[scheme] = {"share": str(share.value), "share_status": share.status,
                       "annual_gross": str(rounded(annual)),
                       "monthly_gross": str(rounded(monthly)), "source": share.entry.source}
        q = qualifier(share)
        lines.append(f"{scheme}: a widow or widower would receive {pct(share.value)} of the "
                     f"member's points{f' ({q}, see the assumptions)' if q else ''}"
                     f": {money(monthly)} gross a month ({money(annual)} a year) on the "
                     f"figures of this simulation, for information.")
    lines.append(ORPHANS)
    return {"schemes": out, "explanations": lines}
