"""Per-processor rates in cents per 1,000 pages and the billing breakdown of an execution."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

# Defaults (documented in docs/configuration.md); operators override them by setting.
DEFAULT_RATES_CENTS_PER_1000_PAGES: Mapping[str, int] = {
    "convert": 400,
    "segment": 200,
    "extract": 600,
    "custom": 300,
    "fill": 500,
}


def pipeline_rate(step_types: Sequence[str], rates: Mapping[str, int]) -> dict[str, Any]:
    """The ``/rate`` answer: additive per-processor rates."""
    lines = [
        {"step_index": i, "step_type": t, "rate_per_1000_pages_cents": rates.get(t, 0)}
        for i, t in enumerate(step_types)
    ]
    total = sum(rates.get(t, 0) for t in step_types)
    return {
        "rate_per_1000_pages_cents": total,
        "rate_breakdown": {
            "steps": lines,
            "by_processor": {t: rates.get(t, 0) for t in dict.fromkeys(step_types)},
        },
    }


def execution_rate_breakdown(
    step_types: Sequence[str],
    step_completed: Sequence[bool],
    page_count: int,
    rates: Mapping[str, int],
) -> dict[str, Any]:
    """What an execution costs: only completed steps are charged; the total is rounded up to
    the cent once (per-step lines keep fractions, so rounding is not paid per step)."""
    lines: list[dict[str, Any]] = []
    costs: list[float] = []
    for index, (step_type, done) in enumerate(zip(step_types, step_completed, strict=True)):
        rate = rates.get(step_type, 0)
        cents = round(rate * page_count / 1000, 4) if done else 0.0
        costs.append(cents)
        lines.append(
            {
                "step_index": index,
                "step_type": step_type,
                "rate_per_1000_pages_cents": rate,
                "pages": page_count if done else 0,
                "cost_cents": cents,
            }
        )
    return {
        "page_count": page_count,
        "rate_per_1000_pages_cents": sum(rates.get(t, 0) for t in step_types),
        "steps": lines,
        "total_cost_cents": math.ceil(sum(costs) - 1e-9),
    }
