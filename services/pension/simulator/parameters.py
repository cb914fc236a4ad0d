"""Regulatory figures: the versioned parameter files and the figure in force on a date.

Every figure the law or the funds publish lives in versioned JSON files under
`services/pension/parameters/` (effective date, value, source URL, status). Figures that
are unverified, assumed, or projected beyond the last known entry are marked so, for
`explanations.Trace` to list them with their source.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from services.pension.simulator.figures import ONE, rounded

STATUSES = ("official", "unverified", "assumption")
METHODS = ("constant", "yearly_rate", "index")
BEFORE_FIRST = ("error", "hold", "yearly_rate")
PARAMETERS_DIR = Path(__file__).resolve().parent.parent / "parameters"
MEMO_LIMIT = 100_000  # figures remembered per Parameters (a simulation asks ~10,000)




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
        return rounded(value, rule.quantum) if rule.quantum is not None else value


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
