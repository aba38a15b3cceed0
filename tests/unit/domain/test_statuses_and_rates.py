from __future__ import annotations

import pytest

from pagemill.domain.ids import EXECUTION_PREFIX, has_prefix, new_execution_id, new_pipeline_id
from pagemill.domain.rates import execution_rate_breakdown, pipeline_rate
from pagemill.domain.statuses import (
    ExecutionStatus,
    StepStatus,
    can_move_execution,
    can_move_step,
    final_execution_status,
    step_sources,
)

S = StepStatus


def test_step_transitions() -> None:
    assert can_move_step(S.PENDING, S.DISPATCHED)
    assert can_move_step(S.DISPATCHED, S.RUNNING)
    assert can_move_step(S.RUNNING, S.DISPATCHED)  # a retry or a lost lease
    assert can_move_step(S.RUNNING, S.COMPLETED)
    assert not can_move_step(S.PENDING, S.RUNNING)  # must be dispatched first
    assert not can_move_step(S.COMPLETED, S.RUNNING)  # terminal is final
    assert step_sources(S.COMPLETED) == {S.RUNNING}


def test_execution_transitions() -> None:
    assert can_move_execution(ExecutionStatus.PENDING, ExecutionStatus.RUNNING)
    assert not can_move_execution(ExecutionStatus.COMPLETED, ExecutionStatus.RUNNING)
    assert not can_move_execution(ExecutionStatus.PENDING, ExecutionStatus.COMPLETED)


@pytest.mark.parametrize(
    ("steps", "status"),
    [
        ([S.COMPLETED, S.COMPLETED], ExecutionStatus.COMPLETED),
        ([S.COMPLETED, S.FAILED], ExecutionStatus.COMPLETED_WITH_ERRORS),
        ([S.FAILED, S.SKIPPED], ExecutionStatus.FAILED),
        ([S.COMPLETED, S.CANCELLED], ExecutionStatus.CANCELLED),
    ],
)
def test_final_status_from_steps(steps: list[StepStatus], status: ExecutionStatus) -> None:
    assert final_execution_status(steps) is status


def test_ids_have_prefix_and_entropy() -> None:
    ids = {new_execution_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(has_prefix(i, EXECUTION_PREFIX) and len(i) >= 4 + 12 for i in ids)
    assert new_pipeline_id().startswith("pl_")
    assert not has_prefix("pl_a/b", "pl_")


def test_rates_are_additive_and_rounded_up_once() -> None:
    rates = {"convert": 400, "extract": 600}
    quote = pipeline_rate(["convert", "extract"], rates)
    assert quote["rate_per_1000_pages_cents"] == 1000
    bill = execution_rate_breakdown(["convert", "extract"], [True, True], 3, rates)
    assert bill["total_cost_cents"] == 3  # 1.2 + 1.8 cents
    partial = execution_rate_breakdown(["convert", "extract"], [True, False], 1, rates)
    assert partial["total_cost_cents"] == 1  # 0.4 cents, rounded up; the failed step is free
    assert partial["steps"][1]["cost_cents"] == 0
