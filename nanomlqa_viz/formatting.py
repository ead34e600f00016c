"""How numbers are written on every page and in the CLI: tie intervals, tie-aware metric ranges, rates with n."""

from __future__ import annotations

import math

TIE_NOTE = (
    "Tie-aware: each metric is the expected value over a random order of passages with equal scores, "
    "[worst–best] when the positive comes last / first among them."
)
"""The one line every page shows under tie-aware metrics."""


def format_interval(first: int, last: int) -> str:
    """``"7"`` or ``"2–9,731"``: the ranks a passage could hold among equal scores."""
    return f"{first:,}" if first == last else f"{first:,}–{last:,}"


def format_tie_range(expected: float, worst: float, best: float, *, digits: int = 3) -> str:
    """``"0.058 [0.000–0.140]"``, or the value alone when ties cannot change it."""
    if any(not math.isfinite(v) for v in (expected, worst, best)):
        return "—"
    value = f"{expected:.{digits}f}"
    if round(worst, digits + 1) == round(best, digits + 1):
        return value
    return f"{value} [{worst:.{digits}f}–{best:.{digits}f}]"


def format_range(worst: float, best: float, *, digits: int = 3) -> str:
    """``"0.000–0.140"``: what a metric could be, from the worst to the best order of tied scores."""
    if not (math.isfinite(worst) and math.isfinite(best)):
        return "—"
    return (
        f"{worst:.{digits}f}" if round(worst, digits + 1) == round(best, digits + 1) else f"{worst:.{digits}f}–{best:.{digits}f}"
    )


def format_rate(hits: int, n: int) -> str:
    """``"34/196 (17%)"``: a rate with its n."""
    return f"{hits:,}/{n:,} ({hits / n:.0%})" if n else "—"
