"""Timing series and their summaries (percentiles, means), in nanoseconds internally."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

UNITS = {"ms": 1_000_000, "us": 1_000}


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default); q in 0..100."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Series:
    """Samples of one measurement; `tenants` is the tenant-schema count at each sample."""

    key: str
    label: str
    unit: str = "ms"
    samples_ns: list[float] = field(default_factory=list)
    tenants: list[int] = field(default_factory=list)
    note: str = ""

    def add(self, elapsed_ns: float, tenants: int | None = None) -> None:
        self.samples_ns.append(elapsed_ns)
        if tenants is not None:
            self.tenants.append(tenants)

    def _scaled(self, value_ns: float) -> float:
        return value_ns / UNITS[self.unit]

    @property
    def p50(self) -> float:
        return self._scaled(percentile(self.samples_ns, 50))

    @property
    def p95(self) -> float:
        return self._scaled(percentile(self.samples_ns, 95))

    @property
    def mean(self) -> float:
        if not self.samples_ns:
            return math.nan
        return self._scaled(sum(self.samples_ns) / len(self.samples_ns))

    @property
    def tenant_range(self) -> str:
        if not self.tenants:
            return "-"
        low, high = min(self.tenants), max(self.tenants)
        return str(low) if low == high else f"{low}-{high}"

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "unit": self.unit,
            "n": len(self.samples_ns),
            "p50": round(self.p50, 4),
            "p95": round(self.p95, 4),
            "mean": round(self.mean, 4),
            "tenant_schemas": self.tenants or None,
            "samples": [round(self._scaled(value), 4) for value in self.samples_ns],
            "note": self.note or None,
        }


@dataclass
class Ratio:
    label: str
    value: float
    note: str = ""

    def as_dict(self) -> dict:
        return {"label": self.label, "value": round(self.value, 3), "note": self.note or None}


@dataclass
class Check:
    """A design.md target: `value <= limit` passes."""

    label: str
    value: float
    limit: float
    unit: str

    @property
    def passed(self) -> bool:
        return self.value <= self.limit

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "value": round(self.value, 4),
            "limit": self.limit,
            "unit": self.unit,
            "pass": self.passed,
        }


@dataclass
class Section:
    """One benchmark's results, in display order."""

    key: str
    title: str
    series: list[Series] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "series": {series.key: series.as_dict() for series in self.series},
            "ratios": [ratio.as_dict() for ratio in self.ratios],
            "checks": [check.as_dict() for check in self.checks],
            "facts": self.facts,
        }
