"""Pure rules of the pension simulator: CAR, CMRC and CARTI (Monaco).

Why it is shaped this way:

- Every figure the law or the funds publish lives in versioned JSON files under
  `parameters/` (effective date, value, source URL, status). Nothing regulatory is a literal
  here; the only constants are the simulator's own bounds (accepted ages, comparison range).
- Figures that are unverified, assumed, or projected beyond the last known entry are traced
  while computing, and each simulation lists them with their source, so the member sees what
  rests on official figures and what does not.
- All arithmetic is Decimal. Rounding (ROUND_HALF_UP) happens only where stated: points to
  2 decimals per year (CAR financial year, CMRC/CARTI calendar year) and amounts to cents
  (annual = points x point value x (1 + increase), rounded; monthly = rounded annual / 12,
  rounded).

Time conventions, used everywhere:

- A career period runs from `start` to `end`, both days included.
- A month "with activity" is a calendar month with at least one day in a period of the kind.
  A month worked in part counts its salary in proportion to the calendar days worked
  (salary x days / days in the month), and the monthly caps (4 CAR points, CMRC ceilings) are
  prorated the same way, as contribution ceilings are for partial months.
- A pension starts on the first day of a month. "At age N" means the first day of the month
  following the N-th birthday (born 15 March 1965: 1 April 2025 at 60; born 1 March 1965:
  1 April 2025 too). A retirement date that is not the 1st moves to the next 1st.
- Activity stops at the latest the day before the pension starts (a pension before 65 requires
  having stopped all activity; after 65 we assume the same).

No I/O except reading the parameter files; no service framework.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from calendar import monthrange
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

# --------------------------------------------------------------------------- constants

CAR, CMRC, CARTI = "CAR", "CMRC", "CARTI"
SCHEMES = (CAR, CMRC, CARTI)
EMPLOYEE, SELF_EMPLOYED = "employee", "self_employed"
KINDS = (EMPLOYEE, SELF_EMPLOYED)
SEXES = ("F", "M")
ORIGINS = ("recorded", "declared", "projected")
STATUSES = ("official", "unverified", "assumption")
METHODS = ("constant", "yearly_rate", "index")
BEFORE_FIRST = ("error", "hold", "yearly_rate")
CLASSES = (1, 2, 3, 4)

PARAMETERS_DIR = Path(__file__).resolve().parent / "parameters"

# The simulator's own bounds (product choices, not regulatory figures).
MIN_RETIREMENT_AGE = 55
MAX_RETIREMENT_AGE = 75
COMPARISON_LAST_AGE = 70
MAX_YEARLY_SALARY_GROWTH = Decimal("0.2")
MAX_MONTHLY_SALARY = Decimal(1_000_000)
MAX_CAREER_PERIODS = 100
MAX_CHILDREN = 20
MAX_YEARS_RAISED = 16
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 1, 1)  # a retirement date after it would be out of range anyway

MEMO_LIMIT = 100_000  # figures remembered per Parameters (a simulation asks ~10,000)

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")

# Outcomes of a scheme at a retirement date.
PENSION = "pension"
REFUND = "refund"
NOT_ELIGIBLE = "not_eligible"
NOT_YET_AVAILABLE = "not_yet_available"
NO_ACTIVITY = "no_activity"


def _round(value: Decimal, quantum: Decimal = CENT) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> str:
    return f"{_round(value):,.2f} EUR"


def _num(value: Decimal) -> str:
    """A parameter value as published (keeps its decimals), with thousands separators."""
    return f"{value:,}"


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def _shown(value: Decimal, unit: str) -> str:
    if unit == "rate":
        return _pct(value)
    if unit == "flag":
        return "yes" if value else "no"
    return f"{_num(value)} {unit}".rstrip()


def _month_name(d: date) -> str:
    return d.strftime("%B %Y")


# --------------------------------------------------------------------------- parameters


class ParameterError(ValueError):
    """A parameter file is malformed, or a figure is asked for a date nothing covers."""


@dataclass(frozen=True)
class Entry:
    """One published (or assumed) value of a parameter from its effective date."""

    effective_from: date
    value: Decimal
    source: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    label: str
    unit: str
    family: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Rule:
    """How a series is extended beyond its entries (see projection.json)."""

    method: str = "constant"
    rate: str | None = None
    index: str | None = None
    quantum: Decimal | None = None
    before_first: str = "error"
    description: str = "held at its last value until a new one is published."
    back_description: str = ""


@dataclass(frozen=True)
class ParamValue:
    """A figure for a date, with the entry it comes from and how it was obtained.

    `kind` is "in_force" (a published entry applies), "projected" (after the last entry's
    validity, by the projection rule) or "back_projected" (before the first entry). `basis`
    holds the figures a projection used (rate, index) so they can be explained too.
    """

    name: str
    on: date
    value: Decimal
    entry: Entry
    kind: str = "in_force"
    basis: tuple[ParamValue, ...] = ()

    @property
    def projected(self) -> bool:
        return self.kind != "in_force"

    @property
    def status(self) -> str:
        return "assumption" if self.projected else self.entry.status


def _parse_value(raw: Any, where: str) -> Decimal:
    # floats are refused: a binary fraction is not the figure that was published
    if isinstance(raw, bool):
        return Decimal(int(raw))
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, str):
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ParameterError(f"{where}: value {raw!r} is not a number") from None
        if value.is_finite():
            return value
    raise ParameterError(f"{where}: value must be a decimal string or an integer")


def _parse_date(raw: Any, where: str) -> date:
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise ParameterError(f"{where}: {raw!r} is not an ISO date") from None


def _parse_entry(raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise ParameterError(f"{where}: an entry must be an object")
    missing = {"effective_from", "value", "source", "status"} - raw.keys()
    if missing:
        raise ParameterError(f"{where}: missing {', '.join(sorted(missing))}")
    if raw["status"] not in STATUSES:
        raise ParameterError(f"{where}: status must be one of {', '.join(STATUSES)}")
    source = raw["source"]
    if not isinstance(source, str) or not source.startswith(("https://", "http://")):
        raise ParameterError(f"{where}: source must be a URL")
    if raw["status"] != "official" and not raw.get("note"):
        raise ParameterError(f"{where}: a non-official entry needs a note explaining it")
    return Entry(
        effective_from=_parse_date(raw["effective_from"], where),
        value=_parse_value(raw["value"], where),
        source=source,
        status=raw["status"],
        note=str(raw.get("note", "")),
    )


def _parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict) or raw.get("method") not in METHODS:
        raise ParameterError(f"{where}: method must be one of {', '.join(METHODS)}")
    before_first = raw.get("before_first", "error")
    if before_first not in BEFORE_FIRST:
        raise ParameterError(f"{where}: before_first must be one of {', '.join(BEFORE_FIRST)}")
    quantum = raw.get("quantum")
    return Rule(
        method=raw["method"],
        rate=raw.get("rate"),
        index=raw.get("index"),
        quantum=_parse_value(quantum, where) if quantum is not None else None,
        before_first=before_first,
        description=str(raw.get("description", "")),
        back_description=str(raw.get("back_description", "")),
    )


def _parse_file(path: Path) -> tuple[list[Series], dict[str, Rule]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{path.name}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise ParameterError(f"{path.name}: expected an object with 'parameters'")
    family = str(doc.get("family") or path.stem)
    series: list[Series] = []
    for name, spec in doc["parameters"].items():
        where = f"{path.name}:{name}"
        if not isinstance(spec, dict) or not isinstance(spec.get("entries"), list):
            raise ParameterError(f"{where}: expected an object with 'entries'")
        entries = sorted(
            (_parse_entry(e, f"{where}[{i}]") for i, e in enumerate(spec["entries"])),
            key=lambda e: e.effective_from,
        )
        if not entries:
            raise ParameterError(f"{where}: no entries")
        dates = [e.effective_from for e in entries]
        if len(set(dates)) != len(dates):
            raise ParameterError(f"{where}: two entries share an effective date")
        series.append(Series(name, str(spec.get("label", name)), str(spec.get("unit", "")),
                             family, tuple(entries)))
    rules = {
        name: _parse_rule(raw, f"{path.name}:rules.{name}")
        for name, raw in (doc.get("rules") or {}).items()
    }
    return series, rules


class Parameters:
    """Every parameter series, loaded once; `value_on` picks or projects a figure."""

    def __init__(self, series: Iterable[Series], rules: Mapping[str, Rule]) -> None:
        self._series: dict[str, Series] = {}
        for s in series:
            if s.name in self._series:
                raise ParameterError(f"parameter {s.name} is defined twice")
            self._series[s.name] = s
        self._dates = {n: [e.effective_from for e in s.entries] for n, s in self._series.items()}
        self._rules = dict(rules)
        self._memo: dict[tuple[str, date], ParamValue] = {}
        for name, rule in self._rules.items():
            needed = [name] + [n for n in (rule.rate, rule.index) if n]
            unknown = [n for n in needed if n not in self._series]
            if unknown:
                raise ParameterError(f"rule {name}: unknown parameter {', '.join(unknown)}")
            if rule.method == "yearly_rate" and not rule.rate:
                raise ParameterError(f"rule {name}: yearly_rate needs a rate parameter")
            if rule.method == "index" and not rule.index:
                raise ParameterError(f"rule {name}: index needs an index parameter")

    @classmethod
    def load(cls, directory: str | Path = PARAMETERS_DIR) -> Parameters:
        """Every `*.json` of the directory; read once per directory for the process."""
        return _load_parameters(str(Path(directory).resolve()))

    def names(self) -> list[str]:
        return list(self._series)

    def series(self, name: str) -> Series:
        try:
            return self._series[name]
        except KeyError:
            raise ParameterError(f"unknown parameter {name}") from None

    def rule(self, name: str) -> Rule:
        self.series(name)
        return self._rules.get(name, Rule())

    def first_effective(self, name: str) -> date:
        return self.series(name).entries[0].effective_from

    def value_on(self, name: str, when: date) -> ParamValue:
        """The figure in force on `when`: the entry with the latest effective_from <= when.

        Beyond the last entry's validity (its first anniversary for a revalued amount, the
        next change of the index for an indexed one) the projection rule applies and the
        figure is marked projected; before the first entry, the rule's `before_first`.
        """
        key = (name, when)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[key] = self._value_on(name, when)
        return found

    def _value_on(self, name: str, when: date) -> ParamValue:
        series = self.series(name)
        rule = self.rule(name)
        entries = series.entries
        idx = bisect_right(self._dates[name], when) - 1
        if idx < 0:
            return self._before_first(series, rule, when)
        entry = entries[idx]
        in_force = ParamValue(name, when, entry.value, entry)
        if idx < len(entries) - 1 or rule.method == "constant":
            return in_force
        if rule.method == "yearly_rate":
            years = relativedelta(when, entry.effective_from).years
            if years == 0:
                return in_force
            rate = self._latest(rule.rate or "")
            value = entry.value * (ONE + rate.value) ** years
            return ParamValue(name, when, self._quantize(value, rule), entry, "projected",
                              (rate,))
        # index: follows another series by the same percentage since this entry took effect
        now = self.value_on(rule.index or "", when)
        then = self.value_on(rule.index or "", entry.effective_from)
        if not now.projected and now.entry == then.entry:
            return in_force
        value = entry.value * now.value / then.value
        return ParamValue(name, when, self._quantize(value, rule), entry, "projected",
                          (then, now))

    def _before_first(self, series: Series, rule: Rule, when: date) -> ParamValue:
        first = series.entries[0]
        if rule.before_first == "hold":
            return ParamValue(series.name, when, first.value, first, "back_projected")
        if rule.before_first == "yearly_rate" and rule.rate:
            gap = relativedelta(first.effective_from, when)
            years = gap.years + (1 if gap.months or gap.days else 0)
            rate = self._latest(rule.rate)
            value = first.value / (ONE + rate.value) ** years
            return ParamValue(series.name, when, self._quantize(value, rule), first,
                              "back_projected", (rate,))
        raise ParameterError(
            f"{series.name} has no value before {first.effective_from.isoformat()} "
            f"(asked for {when.isoformat()})"
        )

    def _latest(self, name: str) -> ParamValue:
        """A projection rate: its current (last) entry applies to every projected year."""
        last = self.series(name).entries[-1]
        return ParamValue(name, last.effective_from, last.value, last)

    @staticmethod
    def _quantize(value: Decimal, rule: Rule) -> Decimal:
        return _round(value, rule.quantum) if rule.quantum is not None else value


@cache
def _load_parameters(directory: str) -> Parameters:
    root = Path(directory)
    paths = sorted(root.glob("*.json"))
    if not paths:
        raise ParameterError(f"no parameter file in {directory}")
    series: list[Series] = []
    rules: dict[str, Rule] = {}
    for path in paths:
        found, found_rules = _parse_file(path)
        series.extend(found)
        rules.update(found_rules)
    return Parameters(series, rules)


# --------------------------------------------------------------------------- tracing


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
                shown = _shown(entry.value, series.unit)
                wording = "an assumption" if entry.status == "assumption" else "unverified"
                notes.append(AssumptionNote(
                    name, series.label, entry.status, "entry", entry.value,
                    entry.effective_from, entry.source,
                    f"{series.label}: {shown} from {entry.effective_from.isoformat()} is "
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
                            f"({_num(base.value)}{unit} from {base.effective_from.isoformat()}, "
                            f"{base.status}): {rule.description}")
                else:
                    text = (f"{series.label} is back-projected before its first known value "
                            f"({_num(base.value)}{unit} from {base.effective_from.isoformat()}, "
                            f"{base.status}): {rule.back_description or rule.description}")
                text += (f" Used for dates from {first.on.isoformat()} to {last.on.isoformat()}"
                         f" ({_num(first.value)}{unit} to {_num(last.value)}{unit}). "
                         f"Source of the known value: {base.source}")
                notes.append(AssumptionNote(
                    name, series.label, "assumption", kind, last.value, base.effective_from,
                    base.source, text, first.on, last.on,
                ))
        return notes


class _Ctx:
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


# --------------------------------------------------------------------------- dates


def first_of_month_after(day: date) -> date:
    """The first day of the month following `day`'s month."""
    return day.replace(day=1) + relativedelta(months=1)


def birthday(date_of_birth: date, age: int) -> date:
    """The `age`-th birthday (29 February falls on 28 February in common years)."""
    return date_of_birth + relativedelta(years=age)


def date_at_age(date_of_birth: date, age: int) -> date:
    """When a pension "at age N" starts: the 1st of the month after the N-th birthday."""
    return first_of_month_after(birthday(date_of_birth, age))


def normalise_retirement_date(day: date) -> date:
    """Pensions start on a 1st: any other day moves to the 1st of the next month."""
    return day if day.day == 1 else first_of_month_after(day)


def age_on(date_of_birth: date, day: date) -> tuple[int, int]:
    """Completed (years, months) of age on `day`."""
    gap = relativedelta(day, date_of_birth)
    return gap.years, gap.months


def _months_between(start: date, end: date) -> int:
    gap = relativedelta(end, start)
    return gap.years * 12 + gap.months


def financial_year(month: date) -> str:
    """The CAR financial year (1 October to 30 September) of a month, e.g. "2023/2024"."""
    first = month.year if month.month >= 10 else month.year - 1
    return f"{first}/{first + 1}"


def _month_slices(start: date, end: date) -> Iterator[tuple[date, int, int]]:
    """(first day of month, days covered, days in month) for each month of [start, end]."""
    year, number = start.year, start.month
    while (month := date(year, number, 1)) <= end:
        days_in_month = monthrange(year, number)[1]
        lo = max(start, month)
        hi = min(end, month.replace(day=days_in_month))
        yield month, (hi - lo).days + 1, days_in_month
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --------------------------------------------------------------------------- career


@dataclass(frozen=True)
class Period:
    """A stretch of work: employee (monthly gross salary) or self-employed (CARTI class).

    `origin` is "recorded" (the fund's records), "declared" (typed by the member) or
    "projected" (made from the future assumptions).
    """

    kind: str
    start: date
    end: date
    monthly_gross_salary: Decimal | None = None
    contribution_class: int | None = None
    origin: str = "declared"

    @classmethod
    def of(cls, item: Period | Mapping[str, Any], kind: str | None = None) -> Period:
        """A Period from itself or from a dict {start, end, monthly_gross_salary | class}."""
        if isinstance(item, Period):
            return item
        salary = item.get("monthly_gross_salary")
        klass = item.get("contribution_class", item.get("class"))
        kind = item.get("kind") or kind or (EMPLOYEE if salary is not None else SELF_EMPLOYED)
        return cls(
            kind=kind,
            start=_as_date(item["start"]),
            end=_as_date(item["end"]),
            monthly_gross_salary=Decimal(str(salary)) if salary is not None else None,
            contribution_class=int(klass) if klass is not None else None,
            origin=item.get("origin", "declared"),
        )


@dataclass(frozen=True)
class Child:
    birth_date: date
    years_raised_before_16: int


def _periods(periods: Iterable[Period | Mapping[str, Any]], kind: str) -> list[Period]:
    out = [Period.of(p, kind) for p in periods]
    return [p for p in out if p.kind == kind and p.end >= p.start]


@dataclass
class _EmployeeMonth:
    earnings: Decimal = ZERO
    fraction: Decimal = ZERO
    projected: bool = False


def _employee_months(periods: Iterable[Period | Mapping[str, Any]],
                     since: date | None = None) -> dict[date, _EmployeeMonth]:
    """Month -> earnings, worked fraction, projected. Shared and cached: do not mutate."""
    return _employee_months_of(tuple(_periods(periods, EMPLOYEE)), since)


@lru_cache(maxsize=128)
def _employee_months_of(periods: tuple[Period, ...],
                        since: date | None) -> dict[date, _EmployeeMonth]:
    months: dict[date, _EmployeeMonth] = {}
    for period in periods:
        salary = period.monthly_gross_salary or ZERO
        for month, days, days_in_month in _month_slices(period.start, period.end):
            if since is not None and month < since:
                continue
            m = months.setdefault(month, _EmployeeMonth())
            m.earnings += salary * days / days_in_month
            m.fraction = min(ONE, m.fraction + Decimal(days) / days_in_month)
            m.projected = m.projected or period.origin == "projected"
    return dict(sorted(months.items()))


def _self_employed_months(periods: Iterable[Period | Mapping[str, Any]],
                          since: date | None = None) -> dict[date, tuple[int, bool]]:
    """Month -> (class, projected). Two periods in one month: the one covering more days wins
    (a tie goes to the higher class), since a month is contributed once, in one class."""
    return _self_employed_months_of(tuple(_periods(periods, SELF_EMPLOYED)), since)


@lru_cache(maxsize=128)
def _self_employed_months_of(periods: tuple[Period, ...],
                             since: date | None) -> dict[date, tuple[int, bool]]:
    best: dict[date, tuple[int, int, bool]] = {}
    for period in periods:
        klass = period.contribution_class or 0
        for month, days, _ in _month_slices(period.start, period.end):
            if since is not None and month < since:
                continue
            current = best.get(month)
            if current is None or (days, klass) > current[:2]:
                best[month] = (days, klass, period.origin == "projected")
    return {m: (v[1], v[2]) for m, v in sorted(best.items())}


def months_with_activity(periods: Iterable[Period | Mapping[str, Any]], kind: str,
                         since: date | None = None) -> int:
    """Calendar months with at least one day of activity of the kind."""
    if kind == EMPLOYEE:
        return len(_employee_months(periods, since))
    return len(_self_employed_months(periods, since))


def years_with_activity(periods: Iterable[Period | Mapping[str, Any]], kind: str,
                        since: date | None = None) -> int:
    """Calendar years with at least one month of activity of the kind."""
    months = (_employee_months(periods, since) if kind == EMPLOYEE
              else _self_employed_months(periods, since))
    return len({m.year for m in months})


# --------------------------------------------------------------------------- points


@dataclass(frozen=True)
class Accrual:
    """Points of one scheme per year (each rounded to 2 decimals) and the months behind."""

    scheme: str
    points_by_year: dict[str, Decimal]
    months: tuple[date, ...]
    projected_months: int

    @property
    def points(self) -> Decimal:
        return sum(self.points_by_year.values(), ZERO)

    @property
    def years(self) -> int:
        return len({m.year for m in self.months})


def _car_accrual(ctx: _Ctx, periods: Iterable[Period | Mapping[str, Any]]) -> Accrual:
    months = _employee_months(periods)
    totals: dict[str, Decimal] = {}
    for month, act in months.items():
        base = ctx.get("car_base_salary", month)
        cap = ctx.get("car_max_points_per_month", month) * act.fraction
        label = financial_year(month)
        totals[label] = totals.get(label, ZERO) + min(act.earnings / base, cap)
    return Accrual(CAR, {k: _round(v) for k, v in totals.items()}, tuple(months),
                   sum(1 for a in months.values() if a.projected))


def car_points(periods: Iterable[Period | Mapping[str, Any]], params: Parameters | None = None,
               trace: Trace | None = None) -> dict[str, Decimal]:
    """CAR points per financial year ("2023/2024" = 1 Oct 2023 to 30 Sep 2024).

    Each month: gross salary earned that month / base salary in force on the 1st of the
    month, capped at 4 points (prorated for a month worked in part). The year's total is
    rounded to 2 decimals (half up); months are not rounded one by one.
    """
    return _car_accrual(_Ctx(params, trace), periods).points_by_year


@dataclass(frozen=True)
class CmrcMonth:
    """One month of CMRC: salary split in tranches, rights-generating contribution, points."""

    month: date
    salary: Decimal
    tranche_a: Decimal
    tranche_b: Decimal
    contribution_a: Decimal
    contribution_b: Decimal
    reference_salary: Decimal

    @property
    def contribution(self) -> Decimal:
        return self.contribution_a + self.contribution_b

    @property
    def points(self) -> Decimal:
        return self.contribution / self.reference_salary


def _cmrc_month(ctx: _Ctx, salary: Decimal, month: date, fraction: Decimal = ONE) -> CmrcMonth:
    ceiling = ctx.get("cmrc_tranche_a_ceiling", month) * fraction
    top = ceiling * ctx.get("cmrc_tranche_b_ceiling_multiple", month)
    tranche_a = min(salary, ceiling)
    tranche_b = max(ZERO, min(salary, top) - ceiling)
    return CmrcMonth(
        month, salary, tranche_a, tranche_b,
        tranche_a * ctx.get("cmrc_rate_a", month),
        tranche_b * ctx.get("cmrc_rate_b", month),
        ctx.get("cmrc_reference_salary", month),
    )


def cmrc_month(salary: Decimal, month: date, params: Parameters | None = None,
               trace: Trace | None = None) -> CmrcMonth:
    """The CMRC split of one full month's gross salary (tranche A to the ceiling, B above)."""
    return _cmrc_month(_Ctx(params, trace), salary, month)


def cmrc_start(params: Parameters | None = None) -> date:
    """The CMRC exists from the first effective date of its price of a point (2024-01-01)."""
    return (params or Parameters.load()).first_effective("cmrc_reference_salary")


def _cmrc_accrual(ctx: _Ctx, periods: Iterable[Period | Mapping[str, Any]]) -> Accrual:
    months = _employee_months(periods, since=cmrc_start(ctx.params))
    totals: dict[str, Decimal] = {}
    for month, act in months.items():
        label = str(month.year)
        totals[label] = totals.get(label, ZERO) + _cmrc_month(
            ctx, act.earnings, month, act.fraction).points
    return Accrual(CMRC, {k: _round(v) for k, v in totals.items()}, tuple(months),
                   sum(1 for a in months.values() if a.projected))


def cmrc_points(periods: Iterable[Period | Mapping[str, Any]], params: Parameters | None = None,
                trace: Trace | None = None) -> dict[str, Decimal]:
    """CMRC points per calendar year, from 2024-01-01 only.

    Each month: (tranche A up to the ceiling x 7.87 % + tranche B from the ceiling up to
    8 x the ceiling x 21.59 %) / reference salary in force; ceilings prorated for a month
    worked in part; the year's total rounded to 2 decimals.
    """
    return _cmrc_accrual(_Ctx(params, trace), periods).points_by_year


def _carti_accrual(ctx: _Ctx, periods: Iterable[Period | Mapping[str, Any]]) -> Accrual:
    months = _self_employed_months(periods)
    totals: dict[str, Decimal] = {}
    for month, (klass, _) in months.items():
        label = str(month.year)
        points = ctx.get(f"carti_points_per_month_class_{klass}", month)
        totals[label] = totals.get(label, ZERO) + points
    return Accrual(CARTI, {k: _round(v) for k, v in totals.items()}, tuple(months),
                   sum(1 for _, projected in months.values() if projected))


def carti_points(periods: Iterable[Period | Mapping[str, Any]], params: Parameters | None = None,
                 trace: Trace | None = None) -> dict[str, Decimal]:
    """CARTI points per calendar year: class N earns N points for each month contributed
    (a month with any day of self-employment counts once, in one class)."""
    return _carti_accrual(_Ctx(params, trace), periods).points_by_year


# --------------------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class Eligibility:
    """The minimum-duration condition of a scheme, counted on the career up to a date."""

    scheme: str
    met: bool
    months: int
    years: int
    required_months: int
    required_years: int | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"met": self.met, "months": self.months, "years": self.years,
                "required_months": self.required_months,
                "required_years": self.required_years, "reason": self.reason}


def _minimum_condition(ctx: _Ctx, scheme: str, periods: list[Period], on: date) -> Eligibility:
    if scheme == CARTI:
        months = months_with_activity(periods, SELF_EMPLOYED)
        years = years_with_activity(periods, SELF_EMPLOYED)
        needed = ctx.whole("carti_min_monthly_contributions", on)
        met = months >= needed
        reason = (f"Minimum condition {'met' if met else 'not met'}: {months} monthly "
                  f"contributions to the CARTI (at least {needed} needed).")
        return Eligibility(scheme, met, months, years, needed, None, reason)
    since = None
    scope = "salaried work"
    if scheme == CMRC and not ctx.whole("cmrc_condition_counts_all_salaried_periods", on):
        since = cmrc_start(ctx.params)
        scope = f"salaried work since {since.isoformat()}"
    months = months_with_activity(periods, EMPLOYEE, since)
    years = years_with_activity(periods, EMPLOYEE, since)
    need_years = ctx.whole("car_cmrc_min_years", on)
    need_months = ctx.whole("car_cmrc_min_months", on)
    met = months >= need_months and years >= need_years
    reason = (f"Minimum condition {'met' if met else 'not met'}: {scope} in {years} "
              f"different calendar year(s) (at least {need_years} needed) and {months} "
              f"month(s) (at least {need_months} needed). A calendar year counts if it has at "
              f"least one month of salaried work; assimilated periods (sickness, maternity, "
              f"unemployment...) are not simulated.")
    return Eligibility(scheme, met, months, years, need_months, need_years, reason)


def minimum_condition(scheme: str, periods: Iterable[Period | Mapping[str, Any]], on: date,
                      params: Parameters | None = None,
                      trace: Trace | None = None) -> Eligibility:
    """CAR/CMRC: >= 10 calendar years with salaried work and >= 60 months; CARTI: >= 120
    monthly contributions. `on` picks the rules in force (and the CMRC counting basis)."""
    kind = SELF_EMPLOYED if scheme == CARTI else EMPLOYEE
    return _minimum_condition(_Ctx(params, trace), scheme, _periods(periods, kind), on)


@dataclass(frozen=True)
class EarliestDate:
    """When a scheme's pension can start at the earliest, and its normal date."""

    scheme: str
    date: date
    age: int
    normal_date: date
    normal_age: int
    rule: str  # "standard", "mother", "incapacity" or "normal"
    reason: str
    request_opens: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "age": self.age, "rule": self.rule,
                "normal_date": self.normal_date.isoformat(), "normal_age": self.normal_age,
                "request_opens": self.request_opens.isoformat() if self.request_opens else None,
                "reason": self.reason}


def _mother_date(ctx: _Ctx, date_of_birth: date, sex: str, children: Iterable[Child],
                 on: date) -> date | None:
    """The mother's early date, or None. The third child (in the order the 8 years are
    completed, counted from birth) must have been raised 8 years by then."""
    if sex != "F":
        return None
    need_children = ctx.whole("mother_min_children", on)
    need_years = ctx.whole("mother_min_years_raised", on)
    reached = sorted(birthday(c.birth_date, need_years) for c in children
                     if c.years_raised_before_16 >= need_years)
    if len(reached) < need_children:
        return None
    at_age = date_at_age(date_of_birth, ctx.whole("car_cmrc_mother_age", on))
    return max(at_age, first_of_month_after(reached[need_children - 1]))


def _earliest(ctx: _Ctx, scheme: str, date_of_birth: date, sex: str,
              children: Iterable[Child], incapacity: bool, on: date) -> EarliestDate:
    if scheme == CARTI:
        normal_age = ctx.whole("carti_normal_age", on)
        normal = date_at_age(date_of_birth, normal_age)
        if incapacity:
            age = ctx.whole("carti_incapacity_age", on)
            return EarliestDate(
                scheme, date_at_age(date_of_birth, age), age, normal, normal_age, "incapacity",
                f"CARTI: normally from {normal_age}; from {age} without reduction for a "
                f"medically recognised incapacity to work (declared, to be recognised by the "
                f"fund's doctor): first day of the month after your {age}th birthday.")
        return EarliestDate(
            scheme, normal, normal_age, normal, normal_age, "normal",
            f"CARTI: from {normal_age}, the first day of the month after your {normal_age}th "
            f"birthday (earlier only for a medically recognised incapacity).")
    normal_age = ctx.whole("car_cmrc_normal_age", on)
    normal = date_at_age(date_of_birth, normal_age)
    age = ctx.whole("car_cmrc_earliest_age", on)
    earliest = date_at_age(date_of_birth, age)
    rule = "standard"
    reason = (f"{scheme}: the right opens at {normal_age}; it can be taken without reduction "
              f"from {age}, the first day of the month after your {age}th birthday, provided "
              f"all activity has stopped.")
    mother = _mother_date(ctx, date_of_birth, sex, children, on)
    if mother is not None and mother < earliest:
        earliest = mother
        age = age_on(date_of_birth, mother)[0]
        rule = "mother"
        reason = (f"{scheme}: as a mother who raised at least "
                  f"{ctx.whole('mother_min_children', on)} children for at least "
                  f"{ctx.whole('mother_min_years_raised', on)} years each before their 16th "
                  f"birthday, from {earliest.isoformat()}: the first day of the month after "
                  f"your {ctx.whole('car_cmrc_mother_age', on)}th birthday, or after the date "
                  f"the third child had been raised 8 years if later.")
    opens = None
    if scheme == CAR:
        # the online request opens the month before the birthday of the earliest age, i.e.
        # two months before the earliest date (the 1st of the month after that birthday)
        opens = earliest - relativedelta(months=2)
    return EarliestDate(scheme, earliest, age, normal, normal_age, rule, reason, opens)


def earliest_date(scheme: str, date_of_birth: date, sex: str, children: Iterable[Child] = (),
                  incapacity: bool = False, on: date | None = None,
                  params: Parameters | None = None,
                  trace: Trace | None = None) -> EarliestDate:
    """CAR/CMRC: 1st of the month after the 60th birthday, or the 55th for a woman who raised
    >= 3 children >= 8 years each before 16 (not before the 3rd child's 8 years are done);
    CARTI: 65, or 60 with a recognised incapacity. `on`: the rules in force (default today)."""
    return _earliest(_Ctx(params, trace), scheme, date_of_birth, sex, tuple(children),
                     incapacity, on or date.today())


# --------------------------------------------------------------------------- amounts


def pension_amounts(points: Decimal, point_value: Decimal,
                    increase: Decimal = ZERO) -> tuple[Decimal, Decimal]:
    """(annual, monthly) gross: annual = points x value x (1 + increase) to the cent;
    monthly = annual / 12 to the cent."""
    annual = _round(points * point_value * (ONE + increase))
    return annual, _round(annual / 12)


def _car_deferral(ctx: _Ctx, date_of_birth: date, retirement_date: date) -> tuple[int, Decimal]:
    normal = date_at_age(date_of_birth, ctx.whole("car_cmrc_normal_age", retirement_date))
    if retirement_date <= normal:
        return 0, ZERO
    quarters = _months_between(normal, retirement_date) // 3
    return quarters, quarters * ctx.get("car_deferral_increase_per_quarter", retirement_date)


def car_deferral(date_of_birth: date, retirement_date: date, params: Parameters | None = None,
                 trace: Trace | None = None) -> tuple[int, Decimal]:
    """(full quarters elapsed since the normal date at 65, total increase rate)."""
    return _car_deferral(_Ctx(params, trace), date_of_birth, retirement_date)


def _car_refund(ctx: _Ctx, points: Decimal, request_date: date) -> Decimal:
    rate = ctx.get("car_employee_rate", request_date)
    return _round(points * rate * ctx.get("car_base_salary", request_date))


def car_refund(points: Decimal, request_date: date, params: Parameters | None = None,
               trace: Trace | None = None) -> Decimal:
    """One-off refund of the employee share when the CAR condition is not met:
    points from activity x employee rate x base salary at the request date, to the cent."""
    return _car_refund(_Ctx(params, trace), points, request_date)


# --------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class FutureAssumptions:
    """How the career goes on from today until the stop date."""

    monthly_gross_salary: Decimal | None = None
    contribution_class: int | None = None
    yearly_salary_growth: Decimal | None = None  # None: the projection default
    stop_date: date | None = None  # None: the day before the pension starts


@dataclass(frozen=True)
class SimulationInputs:
    """Everything a simulation needs; exactly one of retirement_age / retirement_date."""

    date_of_birth: date
    sex: str
    career: tuple[Period, ...] = ()
    retirement_age: int | None = None
    retirement_date: date | None = None
    children: tuple[Child, ...] = ()
    incapacity: bool = False
    future: FutureAssumptions = field(default_factory=FutureAssumptions)
    today: date = field(default_factory=date.today)

    def __post_init__(self) -> None:
        if (self.retirement_age is None) == (self.retirement_date is None):
            raise ValueError("give exactly one of retirement_age and retirement_date")

    def resolved_retirement_date(self) -> date:
        if self.retirement_date is not None:
            return normalise_retirement_date(self.retirement_date)
        return date_at_age(self.date_of_birth, self.retirement_age or 0)


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    request_date: date
    points: Decimal
    employee_rate: Decimal
    base_salary: Decimal
    base_salary_projected: bool

    def as_dict(self) -> dict[str, Any]:
        return {"amount": str(_round(self.amount)), "request_date": self.request_date.isoformat(),
                "points": str(_round(self.points)), "employee_rate": str(self.employee_rate),
                "base_salary": str(_round(self.base_salary)),
                "base_salary_projected": self.base_salary_projected}


@dataclass(frozen=True)
class SchemeResult:
    """One scheme at one retirement date: points, amounts, eligibility and why."""

    scheme: str
    outcome: str
    points: Decimal
    points_by_year: dict[str, Decimal]
    months_with_activity: int
    years_with_activity: int
    projected_months: int
    point_value: Decimal | None
    point_value_projected: bool
    point_value_status: str | None
    deferral_quarters: int
    increase_rate: Decimal
    annual_gross: Decimal
    monthly_gross: Decimal
    eligibility: Eligibility
    earliest: EarliestDate
    refund: Refund | None
    explanations: tuple[str, ...]

    @property
    def eligible(self) -> bool:
        return self.outcome == PENSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "outcome": self.outcome,
            "eligible": self.eligible,
            "points": str(_round(self.points)),
            "points_by_year": {k: str(v) for k, v in self.points_by_year.items()},
            "months_with_activity": self.months_with_activity,
            "years_with_activity": self.years_with_activity,
            "projected_months": self.projected_months,
            "point_value": str(self.point_value) if self.point_value is not None else None,
            "point_value_projected": self.point_value_projected,
            "point_value_status": self.point_value_status,
            "deferral_quarters": self.deferral_quarters,
            "increase_rate": str(self.increase_rate),
            "annual_gross": str(_round(self.annual_gross)),
            "monthly_gross": str(_round(self.monthly_gross)),
            "minimum_condition": self.eligibility.as_dict(),
            "earliest": self.earliest.as_dict(),
            "refund": self.refund.as_dict() if self.refund else None,
            "explanations": list(self.explanations),
        }


@dataclass(frozen=True)
class ComparisonRow:
    age: int
    retirement_date: date
    monthly_gross: dict[str, Decimal]
    outcomes: dict[str, str]
    refunds: dict[str, Decimal]

    @property
    def total_monthly_gross(self) -> Decimal:
        return sum(self.monthly_gross.values(), ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {"age": self.age, "retirement_date": self.retirement_date.isoformat(),
                "monthly_gross": {k: str(_round(v)) for k, v in self.monthly_gross.items()},
                "total_monthly_gross": str(_round(self.total_monthly_gross)),
                "outcomes": dict(self.outcomes),
                "refunds": {k: str(_round(v)) for k, v in self.refunds.items()}}


@dataclass(frozen=True)
class Simulation:
    as_of: date
    date_of_birth: date
    sex: str
    retirement_date: date
    retirement_age: tuple[int, int]
    stop_date: date
    schemes: dict[str, SchemeResult]
    comparison: tuple[ComparisonRow, ...]
    assumptions: tuple[AssumptionNote, ...]
    sources: tuple[dict[str, Any], ...]
    explanations: tuple[str, ...]

    @property
    def total_annual_gross(self) -> Decimal:
        return sum((s.annual_gross for s in self.schemes.values()), ZERO)

    @property
    def total_monthly_gross(self) -> Decimal:
        return sum((s.monthly_gross for s in self.schemes.values()), ZERO)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts and points as strings with 2 decimals, dates ISO."""
        years, months = self.retirement_age
        return {
            "as_of": self.as_of.isoformat(),
            "date_of_birth": self.date_of_birth.isoformat(),
            "sex": self.sex,
            "retirement_date": self.retirement_date.isoformat(),
            "retirement_age": {"years": years, "months": months},
            "stop_date": self.stop_date.isoformat(),
            "currency": "EUR",
            "schemes": {k: v.as_dict() for k, v in self.schemes.items()},
            "total": {"annual_gross": str(_round(self.total_annual_gross)),
                      "monthly_gross": str(_round(self.total_monthly_gross))},
            "comparison": [row.as_dict() for row in self.comparison],
            "assumptions": [a.as_dict() for a in self.assumptions],
            "sources": list(self.sources),
            "explanations": list(self.explanations),
        }


@dataclass(frozen=True)
class _Scenario:
    retirement_date: date
    stop_date: date
    career: tuple[Period, ...]
    schemes: dict[str, SchemeResult]
    notes: tuple[str, ...]


def _stop_date(inputs: SimulationInputs, retirement_date: date) -> date:
    last_day = retirement_date - timedelta(days=1)
    stop = inputs.future.stop_date
    return last_day if stop is None else min(stop, last_day)


def project_career(inputs: SimulationInputs, retirement_date: date,
                   params: Parameters | None = None,
                   trace: Trace | None = None) -> tuple[list[Period], date, list[str]]:
    """The career the pension is computed on: the given periods clipped at the stop date,
    plus the future activity from the assumptions (see `_project`). Returns (periods, stop
    date, explanation lines)."""
    return _project(_Ctx(params, trace), inputs, retirement_date)


def _project(ctx: _Ctx, inputs: SimulationInputs,
             retirement_date: date) -> tuple[list[Period], date, list[str]]:
    """Given periods are clipped at the stop date. Future activity starts today, or the day
    after the last given period of the kind if that is later, and runs to the stop date:
    employee at the future salary raised by the yearly growth on each anniversary of its
    start (rounded to the cent), self-employed in the future class."""
    stop = _stop_date(inputs, retirement_date)
    notes: list[str] = []
    career: list[Period] = []
    for period in inputs.career:
        if period.start > stop:
            notes.append(f"A {period.kind.replace('_', '-')} period from "
                         f"{period.start.isoformat()} starts after the stop date "
                         f"{stop.isoformat()} and is not counted.")
            continue
        if period.end > stop:
            notes.append(f"A {period.kind.replace('_', '-')} period ending "
                         f"{period.end.isoformat()} is counted up to the stop date "
                         f"{stop.isoformat()} only.")
            period = replace(period, end=stop)
        career.append(period)

    def future_start(kind: str) -> date:
        ends = [p.end for p in inputs.career if p.kind == kind]
        return max([inputs.today, *(e + timedelta(days=1) for e in ends)])

    future = inputs.future
    if future.monthly_gross_salary is not None:
        start = future_start(EMPLOYEE)
        if start > stop:
            notes.append("No future salaried work is added: the stop date "
                         f"{stop.isoformat()} is not after {start.isoformat()}.")
        else:
            if future.yearly_salary_growth is not None:
                growth = future.yearly_salary_growth
                said = "your assumption"
            else:
                growth = ctx.get("projection_salary_growth", inputs.today)
                said = "default assumption, as you gave none"
            years = 0
            while True:
                seg_start = start + relativedelta(years=years)
                if seg_start > stop:
                    break
                seg_end = min(stop, start + relativedelta(years=years + 1) - timedelta(days=1))
                salary = _round(future.monthly_gross_salary * (ONE + growth) ** years)
                career.append(Period(EMPLOYEE, seg_start, seg_end, salary, None, "projected"))
                years += 1
            notes.append(
                f"Future salaried work assumed from {start.isoformat()} to {stop.isoformat()} "
                f"at {_money(future.monthly_gross_salary)} gross a month, raised by "
                f"{_pct(growth)} a year ({said}).")
    if future.contribution_class is not None:
        start = future_start(SELF_EMPLOYED)
        if start > stop:
            notes.append("No future self-employment is added: the stop date "
                         f"{stop.isoformat()} is not after {start.isoformat()}.")
        else:
            career.append(Period(SELF_EMPLOYED, start, stop, None, future.contribution_class,
                                 "projected"))
            quarterly = ctx.pv(f"carti_quarterly_contribution_class_{future.contribution_class}",
                               inputs.today)
            notes.append(
                f"Future self-employment assumed from {start.isoformat()} to {stop.isoformat()} "
                f"in CARTI class {future.contribution_class} ({future.contribution_class} "
                f"point(s) a month; contribution {_money(quarterly.value)} a quarter today).")
    if future.monthly_gross_salary is None and future.contribution_class is None:
        notes.append("No future activity is assumed beyond the periods given (no future "
                     "salary or CARTI class was given).")
    return career, stop, notes


def _scheme(ctx: _Ctx, inputs: SimulationInputs, scheme: str, career: list[Period],
            retirement_date: date) -> SchemeResult:
    today = inputs.today
    if scheme == CAR:
        accrual = _car_accrual(ctx, career)
    elif scheme == CMRC:
        accrual = _cmrc_accrual(ctx, career)
    else:
        accrual = _carti_accrual(ctx, career)
    kind = SELF_EMPLOYED if scheme == CARTI else EMPLOYEE
    eligibility = _minimum_condition(ctx, scheme, _periods(career, kind), today)
    earliest = _earliest(ctx, scheme, inputs.date_of_birth, inputs.sex, inputs.children,
                         inputs.incapacity, today)
    points = accrual.points
    lines: list[str] = []
    empty = dict(point_value=None, point_value_projected=False, point_value_status=None,
                 deferral_quarters=0, increase_rate=ZERO, annual_gross=ZERO,
                 monthly_gross=ZERO, refund=None)
    base = dict(scheme=scheme, points=points, points_by_year=accrual.points_by_year,
                months_with_activity=len(accrual.months), years_with_activity=accrual.years,
                projected_months=accrual.projected_months, eligibility=eligibility,
                earliest=earliest)
    if not accrual.months:
        what = {CAR: "salaried work", CMRC: "salaried work since "
                f"{cmrc_start(ctx.params).isoformat()}", CARTI: "self-employment"}[scheme]
        lines.append(f"{scheme}: no {what} in the career, so no {scheme} pension.")
        return SchemeResult(outcome=NO_ACTIVITY, explanations=tuple(lines), **base, **empty)

    lines.append(_points_line(ctx, scheme, accrual))
    lines.append(eligibility.reason)
    lines.append(earliest.reason)
    value_name = {CAR: "car_point_value", CMRC: "cmrc_service_value",
                  CARTI: "carti_point_value"}[scheme]
    if retirement_date < earliest.date:
        lines.append(f"{scheme}: not available on {retirement_date.isoformat()}, before the "
                     f"earliest date {earliest.date.isoformat()}; nothing is counted for it at "
                     f"that date.")
        return SchemeResult(outcome=NOT_YET_AVAILABLE, explanations=tuple(lines), **base,
                            **empty)
    if not eligibility.met:
        if scheme != CAR:
            lines.append(f"{scheme}: no pension, as the minimum condition is not met (the "
                         f"sources describe no refund for the {scheme}).")
            return SchemeResult(outcome=NOT_ELIGIBLE, explanations=tuple(lines), **base,
                                **empty)
        request = max(retirement_date, earliest.normal_date)
        rate = ctx.get("car_employee_rate", request)
        salary = ctx.pv("car_base_salary", request)
        amount = _car_refund(ctx, points, request)
        refund = Refund(amount, request, points, rate, salary.value, salary.projected)
        lines.append(
            f"CAR: as the minimum condition is not met, no pension is paid; instead the "
            f"employee contributions are refunded once: {_round(points)} points x "
            f"{_pct(rate)} (employee rate) x {_money(salary.value)} (base salary on "
            f"{request.isoformat()}{', projected' if salary.projected else ''}) = "
            f"{_money(amount)}.")
        outcome = REFUND
        if retirement_date < earliest.normal_date:
            outcome = NOT_ELIGIBLE
            lines.append(f"CAR: the refund can be requested from {request.isoformat()} "
                         f"(the normal date at {earliest.normal_age}), not before.")
        return SchemeResult(outcome=outcome, explanations=tuple(lines), **base,
                            **{**empty, "refund": refund})

    value = ctx.pv(value_name, retirement_date)
    quarters, increase = (_car_deferral(ctx, inputs.date_of_birth, retirement_date)
                          if scheme == CAR else (0, ZERO))
    annual, monthly = pension_amounts(points, value.value, increase)
    label = ctx.params.series(value_name).label
    flag = ("projected" if value.projected
            else "" if value.status == "official" else value.status)
    lines.append(f"{label} on {retirement_date.isoformat()}: {_num(value.value)} EUR a year per "
                 f"point{f' ({flag}, see the assumptions)' if flag else ''}.")
    if quarters:
        per = ctx.pv("car_deferral_increase_per_quarter", retirement_date)
        lines.append(f"CAR: starting {quarters} full quarter(s) after the normal date "
                     f"{earliest.normal_date.isoformat()} increases the pension by {quarters} x "
                     f"{_pct(per.value)} = {_pct(increase)} (rate {per.status}).")
        factor = f" x (1 + {_pct(increase)})"
    else:
        factor = ""
    lines.append(f"{scheme}: annual gross pension = {_round(points)} points x "
                 f"{_num(value.value)} EUR{factor} = {_money(annual)}; monthly = annual / 12 = "
                 f"{_money(monthly)}.")
    if scheme == CARTI and retirement_date > earliest.normal_date:
        lines.append("CARTI: there is no percentage increase for starting after 65; the "
                     "months contributed until then simply keep earning points.")
    if scheme == CMRC and retirement_date > earliest.normal_date:
        lines.append("CMRC: no increase for starting after 65 is applied (none is documented "
                     "in the sources).")
    if retirement_date < earliest.normal_date:
        lines.append(f"{scheme}: a pension before {earliest.normal_age} requires having "
                     f"stopped all activity; the simulation stops it the day before.")
    return SchemeResult(
        outcome=PENSION, explanations=tuple(lines), **base,
        **{**empty, "point_value": value.value, "point_value_projected": value.projected,
           "point_value_status": value.status, "deferral_quarters": quarters,
           "increase_rate": increase, "annual_gross": annual, "monthly_gross": monthly},
    )


def _points_line(ctx: _Ctx, scheme: str, accrual: Accrual) -> str:
    first, last = accrual.months[0], accrual.months[-1]
    projected = (f", of which {accrual.projected_months} projected from your assumptions"
                 if accrual.projected_months else "")
    head = (f"{scheme}: {_round(accrual.points)} points from {len(accrual.months)} month(s) "
            f"between {_month_name(first)} and {_month_name(last)}{projected}.")
    if scheme == CAR:
        sample = ctx.pv("car_base_salary", last)
        cap = _num(ctx.get("car_max_points_per_month", last))
        return head + (
            " Each month's gross salary is divided by the CAR base salary in force that month "
            f"(for instance {_money(sample.value)} in {_month_name(last)}"
            f"{', projected' if sample.projected else ''}), with at most {cap} points a month; "
            "points are added per financial year (1 October to 30 September) and each year's "
            "total is rounded to 2 decimals. A month worked in part counts its salary, and the "
            "cap, in proportion to the days worked.")
    if scheme == CMRC:
        ceiling = ctx.pv("cmrc_tranche_a_ceiling", last)
        return head + (
            f" Each month, the salary up to the CMRC ceiling ({_money(ceiling.value)} in "
            f"{_month_name(last)}{', projected' if ceiling.projected else ''}; tranche A) "
            f"generates {_pct(ctx.get('cmrc_rate_a', last))} and the part above, up to "
            f"{_num(ctx.get('cmrc_tranche_b_ceiling_multiple', last))} times the ceiling "
            f"(tranche B), {_pct(ctx.get('cmrc_rate_b', last))}; that contribution divided by "
            "the reference salary (the price of a point) gives the points, totalled per "
            "calendar year and rounded to 2 decimals. Only months from "
            f"{_month_name(cmrc_start(ctx.params))} count.")
    return head + (" Each month contributed in class N earns N points (class 1 to 4); points "
                   "are totalled per calendar year.")


def _scenario(ctx: _Ctx, inputs: SimulationInputs, retirement_date: date) -> _Scenario:
    career, stop, notes = _project(ctx, inputs, retirement_date)
    schemes = {s: _scheme(ctx, inputs, s, career, retirement_date) for s in SCHEMES}
    return _Scenario(retirement_date, stop, tuple(career), schemes, tuple(notes))


def simulate(inputs: SimulationInputs, params: Parameters | None = None) -> Simulation:
    """Project the career, then compute each scheme at the retirement date, and compare
    retirement at each whole age from the earliest to 70 (ages whose date is past skipped)."""
    trace = Trace()
    ctx = _Ctx(params, trace)
    retirement = inputs.resolved_retirement_date()
    main = _scenario(ctx, inputs, retirement)

    active = [r.earliest.age for r in main.schemes.values() if r.outcome != NO_ACTIVITY]
    first_age = min(active) if active else ctx.whole("car_cmrc_earliest_age", inputs.today)
    rows: list[ComparisonRow] = []
    for age in range(first_age, COMPARISON_LAST_AGE + 1):
        day = date_at_age(inputs.date_of_birth, age)
        if day < inputs.today:
            continue
        sc = main if day == retirement else _scenario(ctx, inputs, day)
        rows.append(ComparisonRow(
            age, day,
            {s: r.monthly_gross for s, r in sc.schemes.items()},
            {s: r.outcome for s, r in sc.schemes.items()},
            {s: r.refund.amount for s, r in sc.schemes.items()
             if r.refund is not None and r.outcome == REFUND},
        ))

    years, months = age_on(inputs.date_of_birth, retirement)
    lines: list[str] = []
    how = (f"at the age you chose ({inputs.retirement_age})" if inputs.retirement_age is not None
           else "on the date you chose")
    lines.append(f"Pension start {how}: {retirement.isoformat()}, aged {years} years and "
                 f"{months} month(s); pensions start on the first day of a month, the month "
                 f"after the birthday.")
    if inputs.retirement_date is not None and inputs.retirement_date != retirement:
        lines.append(f"The date you gave, {inputs.retirement_date.isoformat()}, is moved to "
                     f"the first day of the next month, {retirement.isoformat()}.")
    lines.append(f"Activity is counted up to {main.stop_date.isoformat()}"
                 f"{' (your stop date)' if inputs.future.stop_date == main.stop_date else ''}.")
    lines.extend(main.notes)
    paying = [s for s, r in main.schemes.items() if r.outcome == PENSION]
    total_m = sum((main.schemes[s].monthly_gross for s in paying), ZERO)
    total_a = sum((main.schemes[s].annual_gross for s in paying), ZERO)
    lines.append(f"Total: {_money(total_m)} gross a month ({_money(total_a)} a year) from "
                 f"{', '.join(paying) if paying else 'no scheme'}. Amounts are gross, before "
                 f"social contributions and tax; points credited for compensated interruptions "
                 f"(sickness, maternity, invalidity, unemployment) are not simulated.")
    if rows:
        lines.append(f"The comparison shows the total monthly amount for a pension starting at "
                     f"each whole age from {rows[0].age} to {COMPARISON_LAST_AGE}, with the "
                     f"activity continuing until then unless you gave a stop date.")
    notes = trace.assumptions(ctx.params)
    lines.extend(n.detail for n in notes)
    return Simulation(
        as_of=inputs.today, date_of_birth=inputs.date_of_birth, sex=inputs.sex,
        retirement_date=retirement, retirement_age=(years, months),
        stop_date=main.stop_date, schemes=main.schemes, comparison=tuple(rows),
        assumptions=tuple(notes), sources=tuple(trace.sources(ctx.params)),
        explanations=tuple(lines),
    )


# --------------------------------------------------------------------------- validation


class _Msg(str):
    """A validation message carrying its stable error code through marshmallow."""

    code: str

    def __new__(cls, detail: str, code: str) -> _Msg:
        msg = super().__new__(cls, detail)
        msg.code = code
        return msg


def _range(low: Decimal | int, high: Decimal | int | None = None, *, code: str = "out_of_range",
           detail: str | None = None) -> Any:
    def check(value: Any) -> None:
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise ValidationError(_Msg(detail or f"Must be {bounds}.", code))
    return check


_salary = _range(0, MAX_MONTHLY_SALARY, detail="A monthly gross salary is between 0 and "
                 f"{MAX_MONTHLY_SALARY}.")


def _salary_check(value: Decimal) -> None:
    if value < 0:
        raise ValidationError(_Msg("A salary cannot be negative.", "negative"))
    _salary(value)


_class_check = _range(1, 4, code="not_allowed", detail="The CARTI class is 1, 2, 3 or 4.")


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(value: str) -> None:
        if value not in choices:
            raise ValidationError(_Msg(f"Must be one of: {', '.join(choices)}.", "not_allowed"))
    return check


def _date_field(**kwargs: Any) -> fields.Date:
    return fields.Date(error_messages={"invalid": "Not a valid date (expected YYYY-MM-DD)."},
                       **kwargs)


def retirement_date_check(value: date) -> None:
    """Refuse a retirement date after LATEST_DATE: moving one of the last days of 9999 to
    the next 1st would overflow the year before any age check could answer."""
    if value > LATEST_DATE:
        raise ValidationError(_Msg("The retirement date is too far in the future.",
                                   "out_of_range"))


class ChildSchema(Schema):
    class Meta:
        unknown = RAISE

    birth_date = _date_field(required=True)
    years_raised_before_16 = fields.Integer(required=True, strict=True,
                                            validate=_range(0, MAX_YEARS_RAISED))


class CareerPeriodSchema(Schema):
    """{kind: employee, monthly_gross_salary, start, end} | {kind: self_employed, class, ...}"""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=_one_of(KINDS))
    start = _date_field(required=True)
    end = _date_field(required=True)
    monthly_gross_salary = fields.Decimal(validate=_salary_check)
    contribution_class = fields.Integer(data_key="class", strict=True, validate=_class_check)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _consistent(self, data: dict, original: Any, **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            errors["end"] = [_Msg("The period ends before it starts.", "end_before_start")]
        if start and start < EARLIEST_DATE:
            errors["start"] = [_Msg("The date is too far in the past.", "out_of_range")]
        raw = original if isinstance(original, Mapping) else {}
        kind = data.get("kind")
        if kind == EMPLOYEE:
            if "monthly_gross_salary" not in raw:
                errors["monthly_gross_salary"] = [_Msg(
                    "An employee period needs a monthly gross salary.", "required")]
            if "class" in raw:
                errors["class"] = [_Msg("Only a self-employed period has a class.", "not_allowed")]
        elif kind == SELF_EMPLOYED:
            if "class" not in raw:
                errors["class"] = [_Msg("A self-employed period needs a class (1 to 4).",
                                        "required")]
            if "monthly_gross_salary" in raw:
                errors["monthly_gross_salary"] = [_Msg(
                    "Only an employee period has a salary.", "not_allowed")]
        if errors:
            raise ValidationError(errors)


class _AssumptionFields(Schema):
    class Meta:
        unknown = RAISE

    retirement_age = fields.Integer(strict=True, validate=_range(
        MIN_RETIREMENT_AGE, MAX_RETIREMENT_AGE,
        detail=f"The retirement age must be between {MIN_RETIREMENT_AGE} and "
               f"{MAX_RETIREMENT_AGE}."))
    retirement_date = _date_field(validate=retirement_date_check)
    children = fields.List(fields.Nested(ChildSchema), load_default=list,
                           validate=validate.Length(max=MAX_CHILDREN))
    incapacity = fields.Boolean(load_default=False)
    future_monthly_gross_salary = fields.Decimal(allow_none=True, validate=_salary_check)
    future_class = fields.Integer(allow_none=True, strict=True, validate=_class_check)
    yearly_salary_growth = fields.Decimal(allow_none=True, validate=_range(
        ZERO, MAX_YEARLY_SALARY_GROWTH,
        detail=f"The yearly salary growth must be between 0 and {MAX_YEARLY_SALARY_GROWTH}."))
    stop_date = _date_field(allow_none=True)

    def __init__(self, *, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today or date.today()

    def _assumption_errors(self, data: dict, raw: Mapping[str, Any],
                           date_of_birth: date | None) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        has_age, has_date = "retirement_age" in raw, "retirement_date" in raw
        if has_age and has_date:
            errors["retirement_date"] = [_Msg(
                "Give retirement_age or retirement_date, not both.", "exclusive")]
        elif not has_age and not has_date:
            errors["retirement_age"] = [_Msg(
                "Give retirement_age or retirement_date.", "required")]
        retirement = None
        if date_of_birth is not None:
            if data.get("retirement_age") is not None and not has_date:
                retirement = date_at_age(date_of_birth, data["retirement_age"])
            elif data.get("retirement_date") is not None and not has_age:
                retirement = normalise_retirement_date(data["retirement_date"])
                age = age_on(date_of_birth, retirement)[0]
                if not MIN_RETIREMENT_AGE <= age <= MAX_RETIREMENT_AGE:
                    errors["retirement_date"] = [_Msg(
                        f"At that date you would be {age}; the retirement age must be between "
                        f"{MIN_RETIREMENT_AGE} and {MAX_RETIREMENT_AGE}.", "out_of_range")]
                    retirement = None
        if retirement is not None and retirement < self.today.replace(day=1):
            name = "retirement_date" if has_date else "retirement_age"
            errors[name] = [_Msg(
                f"The pension would start on {retirement.isoformat()}, which is past; choose "
                f"a later age or date.", "in_past")]
            retirement = None
        stop = data.get("stop_date")
        if stop is not None:
            if retirement is not None and stop >= retirement:
                errors["stop_date"] = [_Msg(
                    f"The stop date must be before the pension starts "
                    f"({retirement.isoformat()}).", "after_retirement")]
            elif date_of_birth is not None and stop <= date_of_birth:
                errors["stop_date"] = [_Msg("The stop date is before the date of birth.",
                                            "before_birth")]
        child_errors: dict[int, dict[str, list[str]]] = {}
        for i, child in enumerate(data.get("children") or []):
            born = child.get("birth_date") if isinstance(child, Mapping) else None
            if born is None:
                continue
            if born > self.today:
                child_errors[i] = {"birth_date": [_Msg("The birth date is in the future.",
                                                       "in_future")]}
            elif date_of_birth is not None and born <= date_of_birth:
                child_errors[i] = {"birth_date": [_Msg(
                    "A child cannot be born before the parent.", "before_parent_birth")]}
        if child_errors:
            errors["children"] = child_errors
        return errors


class MemberAssumptionsSchema(_AssumptionFields):
    """The logged-in variant: identity and recorded career come from the fund's records,
    the body only carries the assumptions. Pass `date_of_birth` to check the ages."""

    def __init__(self, *, date_of_birth: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.date_of_birth = date_of_birth

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _domain(self, data: dict, original: Any, **_: Any) -> None:
        raw = original if isinstance(original, Mapping) else {}
        errors = self._assumption_errors(data, raw, self.date_of_birth)
        if errors:
            raise ValidationError(errors)


class AnonymousSimulationSchema(_AssumptionFields):
    """The public simulator's body: identity, career and assumptions."""

    date_of_birth = _date_field(required=True)
    sex = fields.String(required=True, validate=_one_of(SEXES))
    career = fields.List(fields.Nested(CareerPeriodSchema), load_default=list,
                         validate=validate.Length(max=MAX_CAREER_PERIODS))

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _domain(self, data: dict, original: Any, **_: Any) -> None:
        raw = original if isinstance(original, Mapping) else {}
        errors: dict[str, Any] = {}
        dob = data.get("date_of_birth")
        if dob is not None and dob > self.today:
            errors["date_of_birth"] = [_Msg("The date of birth is in the future.", "in_future")]
            dob = None
        elif dob is not None and dob < EARLIEST_DATE:
            errors["date_of_birth"] = [_Msg("The date of birth is too far in the past.",
                                            "out_of_range")]
            dob = None
        errors.update(self._assumption_errors(data, raw, dob))
        career_errors = _career_errors(data.get("career") or [], dob)
        if career_errors:
            errors["career"] = career_errors
        if errors:
            raise ValidationError(errors)


def _career_errors(items: list[Any], date_of_birth: date | None) -> dict[int, dict[str, list]]:
    """Periods starting before birth, and overlapping periods of one kind (a month of the
    same scheme cannot be worked twice: one salary per employee month, one class)."""
    errors: dict[int, dict[str, list]] = {}
    spans: list[tuple[int, str, date, date]] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        start, end, kind = item.get("start"), item.get("end"), item.get("kind")
        if date_of_birth is not None and start is not None and start < date_of_birth:
            errors.setdefault(i, {})["start"] = [_Msg("The period starts before the date of "
                                                      "birth.", "before_birth")]
        if start is not None and end is not None and end >= start and kind in KINDS:
            spans.append((i, kind, start, end))
    for a, (i, kind, start, end) in enumerate(spans):
        for j, other_kind, other_start, other_end in spans[:a]:
            if kind == other_kind and start <= other_end and other_start <= end:
                errors.setdefault(i, {})["start"] = [_Msg(
                    f"This {kind.replace('_', '-')} period overlaps career period {j}.",
                    "overlap")]
                break
    return errors


def field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten marshmallow's nested messages into [{field, code, detail}] ("career.1.end")."""
    out: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            if key == "_schema":
                name = prefix or "body"
            out.extend(field_errors(value, name))
        return out
    for msg in messages if isinstance(messages, list) else [messages]:
        if isinstance(msg, Mapping | list):
            out.extend(field_errors(msg, prefix))
            continue
        code = getattr(msg, "code", None) or _code_for(str(msg))
        out.append({"field": prefix or "body", "code": code, "detail": str(msg)})
    return out


def _code_for(message: str) -> str:
    lowered = message.lower()
    if "missing data" in lowered:
        return "required"
    if "unknown field" in lowered:
        return "unknown_field"
    if "not a valid date" in lowered:
        return "invalid_date"
    if "may not be null" in lowered:
        return "null"
    if "length" in lowered or "longer" in lowered:
        return "too_many"
    return "invalid"


def _future(data: Mapping[str, Any]) -> FutureAssumptions:
    return FutureAssumptions(
        monthly_gross_salary=data.get("future_monthly_gross_salary"),
        contribution_class=data.get("future_class"),
        yearly_salary_growth=data.get("yearly_salary_growth"),
        stop_date=data.get("stop_date"),
    )


def _children(data: Mapping[str, Any]) -> tuple[Child, ...]:
    return tuple(Child(c["birth_date"], c["years_raised_before_16"])
                 for c in data.get("children") or [])


def validate_inputs(raw: Any, today: date | None = None
                    ) -> tuple[SimulationInputs | None, list[dict[str, str]]]:
    """The anonymous simulator's body -> (inputs, []) or (None, [{field, code, detail}])."""
    today = today or date.today()
    if not isinstance(raw, Mapping):
        return None, [{"field": "body", "code": "invalid", "detail": "Expected a JSON object."}]
    try:
        data = AnonymousSimulationSchema(today=today).load(raw)
    except ValidationError as exc:
        return None, field_errors(exc.messages)
    career = tuple(
        Period(p["kind"], p["start"], p["end"], p.get("monthly_gross_salary"),
               p.get("contribution_class"), "declared")
        for p in data["career"]
    )
    return SimulationInputs(
        date_of_birth=data["date_of_birth"], sex=data["sex"], career=career,
        retirement_age=data.get("retirement_age"), retirement_date=data.get("retirement_date"),
        children=_children(data), incapacity=data["incapacity"], future=_future(data),
        today=today,
    ), []


def validate_member_inputs(raw: Any, *, date_of_birth: date, sex: str,
                           career: Iterable[Period | Mapping[str, Any]] = (),
                           today: date | None = None
                           ) -> tuple[SimulationInputs | None, list[dict[str, str]]]:
    """The logged-in variant: assumptions from the body, identity and the recorded career
    from the fund (periods given as Period or dicts; origin defaults to "recorded")."""
    today = today or date.today()
    if not isinstance(raw, Mapping):
        return None, [{"field": "body", "code": "invalid", "detail": "Expected a JSON object."}]
    try:
        data = MemberAssumptionsSchema(today=today, date_of_birth=date_of_birth).load(raw)
    except ValidationError as exc:
        return None, field_errors(exc.messages)
    periods = tuple(
        p if isinstance(p, Period) else Period.of({"origin": "recorded", **p}) for p in career
    )
    return SimulationInputs(
        date_of_birth=date_of_birth, sex=sex, career=periods,
        retirement_age=data.get("retirement_age"), retirement_date=data.get("retirement_date"),
        children=_children(data), incapacity=data["incapacity"], future=_future(data),
        today=today,
    ), []
