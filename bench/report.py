"""Printing the results table and writing the JSON summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .stats import UNITS, Section

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def render(section: Section) -> str:
    lines = [section.title, "=" * len(section.title)]
    header = f"  {'measurement':<44} {'n':>6} {'tenants':>8} {'p50':>9} {'p95':>9} {'mean':>9}"
    lines += [header, "  " + "-" * (len(header) - 2)]
    for series in section.series:
        lines.append(
            f"  {series.label:<44} {len(series.samples_ns):>6} {series.tenant_range:>8} "
            f"{fmt(series.p50):>6} {series.unit} {fmt(series.p95):>6} {series.unit} "
            f"{fmt(series.mean):>6} {series.unit}"
        )
    for series in section.series:
        if series.note:
            lines.append(f"  note: {series.label.split(' ', 1)[0]} {series.note}")
    # Few, slow samples: show each with the tenant count it was taken at.
    for series in section.series:
        if series.tenants and len(series.samples_ns) <= 10:
            scale = UNITS[series.unit]
            pairs = zip(series.samples_ns, series.tenants, strict=True)
            points = ", ".join(f"{fmt(ns / scale)}@{tenants}" for ns, tenants in pairs)
            lines.append(f"  {series.key} {series.unit}@tenants: {points}")
    if section.facts:
        lines.append("  facts:")
        lines += [f"    {key.replace('_', ' ')}: {value}" for key, value in section.facts.items()]
    lines.append("  ratios (same run):")
    lines += [
        f"    {ratio.label:<42} {fmt(ratio.value):>8}x   {ratio.note}" for ratio in section.ratios
    ]
    lines.append("  targets (design.md):")
    for check in section.checks:
        verdict = "PASS" if check.passed else "FAIL"
        lines.append(
            f"    {check.label:<42} {fmt(check.value):>8} {check.unit:<7} "
            f"<= {fmt(check.limit)} {check.unit:<7}  {verdict}"
        )
    return "\n".join(lines)


def write_json(summary: dict, path: Path | None = None) -> Path:
    path = path or RESULTS_DIR / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent == RESULTS_DIR:
        # Self-ignoring directory: results never show up in `git status`.
        (RESULTS_DIR / ".gitignore").write_text("*\n")
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return path
