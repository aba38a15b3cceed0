"""Shared builders of the ledger contract suites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.ids import new_execution_id
from pagemill.domain.models import (
    Claim,
    NewExecution,
    StepOutput,
    StepRef,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
RATES = {"convert": 400, "segment": 200, "extract": 600}
LEASE = 30.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def team(ledger: SqlLedger, team_id: str = "team_a") -> str:
    await ledger.tenancy.create_team(team_id, f"name of {team_id}", T0)
    return team_id


def new_execution(
    team_id: str,
    step_types: list[str],
    *,
    pipeline_id: str = "pl_one",
    max_attempts: int = 3,
) -> NewExecution:
    return NewExecution(
        execution_id=new_execution_id(),
        team_id=team_id,
        pipeline_id=pipeline_id,
        pipeline_version=1,
        input_key=f"inputs/{pipeline_id}.pdf",
        config_snapshot={"steps": [{"type": t} for t in step_types]},
        input_config={"page_range": "0-2", "nested": {"ok": True}},
        step_types=step_types,
        step_settings=[{"index": i} for i in range(len(step_types))],
        max_attempts=max_attempts,
    )


def output(ref: StepRef, pages: int = 3) -> StepOutput:
    tag = f"{ref.execution_id}/{ref.step_index}/{ref.attempt}"
    return StepOutput(result_key=f"results/{tag}", checkpoint_id=f"ckpt_{tag}", page_count=pages)


async def claimed(ledger: SqlLedger, worker: str, now: datetime, **kw: Any) -> Claim:
    claim = await ledger.steps.claim_next(worker, now, LEASE, kw.get("step_types"))
    assert claim is not None
    return claim
