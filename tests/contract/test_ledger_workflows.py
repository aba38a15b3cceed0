"""The workflows part of the ledger contract, on every SQL dialect."""

from __future__ import annotations

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict
from pagemill.domain.ids import PUBLIC_NUMBER_MAX
from pagemill.domain.workflows import (
    FileRun,
    Workflow,
    WorkflowExecution,
    WorkflowPath,
    WorkflowStepDef,
)
from tests.contract.ledger_kit import T0, at, team

STEPS = (
    WorkflowStepDef("parse", "marker_parse", {"max_pages": 2}, ()),
    WorkflowStepDef(
        "extract", "marker_extract", {"page_schema": {"zeta": {}, "a": {}}}, ("parse",)
    ),
)


def workflow(workflow_id: int, team_id: str = "team_a", seconds: float = 0) -> Workflow:
    return Workflow(
        workflow_id=workflow_id,
        team_id=team_id,
        name="Grüße",
        description=None,
        steps=STEPS,
        paths=(WorkflowPath(("parse", "extract"), "pl_one"),),
        created=at(seconds),
        updated=at(seconds),
    )


async def test_create_get_and_list_newest_first(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")

    first = await ledger.workflows.create(workflow(PUBLIC_NUMBER_MAX))
    second = await ledger.workflows.create(workflow(7, seconds=5))

    assert first == workflow(PUBLIC_NUMBER_MAX)  # the largest public number round-trips
    assert list(first.steps[1].settings["page_schema"]) == ["zeta", "a"]  # order survives
    assert await ledger.workflows.get("team_a", 7) == second
    assert await ledger.workflows.get("team_b", 7) is None
    assert await ledger.workflows.list_all("team_a") == [second, first]
    assert await ledger.workflows.list_all("team_b") == []
    with pytest.raises(Conflict):
        await ledger.workflows.create(workflow(7, team_id="team_b"))


async def test_executions_belong_to_their_team_and_pin_the_workflow(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    await ledger.workflows.create(workflow(11))
    execution = WorkflowExecution(
        execution_id=12,
        workflow_id=11,
        team_id="team_a",
        input_config={"file_urls": ["https://example.com/a.pdf"]},
        runs=(FileRun("https://example.com/a.pdf", ("pex_1", "pex_2")),),
        created=T0,
    )

    stored = await ledger.workflows.add_execution(execution)

    assert stored == execution
    assert await ledger.workflows.get_execution("team_a", 12) == execution
    assert await ledger.workflows.get_execution("team_b", 12) is None
    assert await ledger.workflows.delete("team_b", 11) is False
    with pytest.raises(Conflict):
        await ledger.workflows.delete("team_a", 11)
    await ledger.workflows.create(workflow(13))
    assert await ledger.workflows.delete("team_a", 13) is True
    assert await ledger.workflows.get("team_a", 13) is None
