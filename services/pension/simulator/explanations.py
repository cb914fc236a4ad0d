"""What a simulation says about its figures: the trace of every parameter it read, the
assumptions and sources it lists, and the sentences that explain the points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.pension.simulator.figures import (
    num,
    shown,
)
from services.pension.simulator.parameters import Entry, Parameters, ParamValue


@dataclass(frozen=True)
class AssumptionNote:
    """A figure the simulation used that is not an official published value in force."""

    parameter: str
    label: str
    status: str
    kind: str  # "entry" (unverified/assumed entry), "projected" or "back_projected"
    value: Decimal
    effective_from: date
    source: str
    detail: str
    first_used: date | None = None
    last_used: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "label": self.label,
            "status": self.status,
            "kind": self.kind,
            "value": str(self.value),
            "effective_from": self.effective_from.isoformat(),
            "first_used": self.first_used.isoformat() if self.first_used else None,
            "last_used": self.last_used.isoformat() if self.last_used else None,
            "source": self.source,
            "detail": self.detail,
        }


class Trace:
    """Collects every parameter figure a computation used, to explain and source it."""

    def __init__(self) -> None:
        self._order: dict[str, None] = {}
        self._in_force: dict[str, dict[date, Entry]] = {}
        self._projected: dict[tuple[str, str], tuple[ParamValue, ParamValue]] = {}

    def add(self, pv: ParamValue) -> None:
        if not pv.projected and pv.entry.effective_from in self._in_force.get(pv.name, ()):
            return  # already recorded (the common case: one entry used for many months)
        self._order.setdefault(pv.name, None)
        if pv.projected:
            key = (pv.name, pv.kind)
            first, last = self._projected.get(key, (pv, pv))
            self._projected[key] = (pv if pv.on < first.on else first,
                                    pv if pv.on > last.on else last)
        else:
            self._in_force.setdefault(pv.name, {})[pv.entry.effective_from] = pv.entry
        for basis in pv.basis:
            self.add(basis)

    def sources(self, params: Parameters) -> list[dict[str, Any]]:
        """Every entry used, directly or as the base of a projection, with its source."""
        out: list[dict[str, Any]] = []
        for name in self._order:
            series = params.series(name)
            used = dict(self._in_force.get(name, {}))
            for kind in ("projected", "back_projected"):
                if (name, kind) in self._projected:
                    base = self._projected[(name, kind)][0].entry
                    used.setdefault(base.effective_from, base)
            for eff in sorted(used):
                entry = used[eff]
                out.append({"parameter": name, "label": series.label, "unit": series.unit,
                            "effective_from": eff.isoformat(), "value": str(entry.value),
                            "status": entry.status, "source": entry.source})
        return out

    def assumptions(self, params: Parameters) -> list[AssumptionNote]:
        notes: list[AssumptionNote] = []
        for name in self._order:
            series = params.series(name)
            unit = f" {series.unit}" if series.unit and series.unit != "rate" else ""
            for entry in sorted(self._in_force.get(name, {}).values(),
                                key=lambda e: e.effective_from):
                if entry.status == "official":
                    continue
                figure = shown(entry.value, series.unit)
                wording = "an assumption" if entry.status == "assumption" else "unverified"
                notes.append(AssumptionNote(
                    name, series.label, entry.status, "entry", entry.value,
                    entry.effective_from, entry.source,
                    f"{series.label}: {figure} from {entry.effective_from.isoformat()} is "
                    f"{wording}. {entry.note} Source: {entry.source}",
                ))
            for kind in ("projected", "back_projected"):
                if (name, kind) not in self._projected:
                    continue
                first, last = self._projected[(name, kind)]
                base = first.entry
                rule = params.rule(name)
                if kind == "projected":
                    text = (f"{series.label} is projected after its last known value "
                            f"({num(base.value)}{unit} from {base.effective_from.isoformat()}, "
                            f"{base.status}): {rule.description}")
                else:
                    text = (f"{series.label} is back-projected before its first known value "
                            f"({num(base.value)}{unit} from {base.effective_from.isoformat()}, "
                            f"{base.status}): {rule.back_description or rule.description}")
                text += (f" Used for dates from {first.on.isoformat()} to {last.on.isoformat()}"
                         f" ({num(first.value)}{unit} to {num(last.value)}{unit}). "
                         f"Source of the known value: {base.source}")
                notes.append(AssumptionNote(
                    name, series.label, "assumption", kind, last.value, base.effective_from,
                    base.source, text, first.on, last.on,
                ))
        return notes


class Context:
    """Parameters plus the trace of what was used: what every rule function works with."""

    def __init__(self, params: Parameters | None, trace: Trace | None) -> None:
        self.params = params or Parameters.load()
        self.trace = trace

    def pv(self, name: str, when: date) -> ParamValue:
        value = self.params.value_on(name, when)
        if self.trace is not None:
            self.trace.add(value)
        return value

    def get(self, name: str, when: date) -> Decimal:
        return self.pv(name, when).value

    def whole(self, name: str, when: date) -> int:
        return int(self.get(name, when))


def qualifier(pv: ParamValue) -> str:
    """How a sentence qualifies a figure it quotes: "" for an official figure in force;
    otherwise "projected", "unverified", "an assumption", or "projected from an unverified
    figure" (and so on), so that no unverified or projected figure is quoted bare."""
    status = {"official": "", "unverified": "unverified", "assumption": "an assumption"}[
        pv.entry.status]
    if pv.kind == "in_force":
        return status
    moved = "projected" if pv.kind == "projected" else "back-projected"
    if not status:
        return moved
    return f"{moved} from {'an unverified figure' if status == 'unverified' else status}"


def qualified(pv: ParamValue, lead: str = ", ") -> str:
    """`qualifier` ready to append: ", unverified" or ""."""
    q = qualifier(pv)
    return f"{lead}{q}" if q else ""


# Rules the simulation applies that the domain notes do not source: said out loud in every
# answer (`rule_assumptions`) and in docs/pension.md.
RULE_ASSUMPTIONS: tuple[dict[str, str], ...] = (
    {"rule": "stop_all_activity_after_65",
     "detail": "Activity is counted up to the day before the pension starts, also for a "
               "pension starting after 65: the sources require having stopped all activity "
               "only for a pension before 65."},
    {"rule": "deferral_increase_without_cap",
     "detail": "The CAR increase for each quarter a pension starts after 65 has no cap: the "
               "sources give none (and the rate itself is unverified)."},
    {"rule": "one_date_for_every_scheme",
     "detail": "Every scheme's pension starts on the one date chosen (and the online "
               "application asks for one date): the sources do not say whether the schemes "
               "can start on different dates."},
    {"rule": "one_day_counts_as_a_month",
     "detail": "A calendar month with at least one day of work counts as a month, and its "
               "year as a year, for the minimum condition: the sources do not say how a "
               "month worked in part counts."},
)
