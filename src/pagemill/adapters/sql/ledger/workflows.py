"""The workflow ledger on SQL: legacy workflow definitions and their executions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pagemill.adapters.sql.database import Database, from_db, to_db
from pagemill.adapters.sql.tables import workflow_executions, workflows
from pagemill.domain.errors import Conflict
from pagemill.domain.workflows import (
    FileRun,
    Workflow,
    WorkflowExecution,
    WorkflowPath,
    WorkflowStepDef,
)
from pagemill.ports.ledger.workflows import WorkflowLedger


def _workflow(row: sa.Row[Any]) -> Workflow:
    m = row._mapping
    return Workflow(
        workflow_id=m[workflows.c.id],
        team_id=m[workflows.c.team_id],
        name=m[workflows.c.name],
        description=m[workflows.c.description],
        steps=tuple(
            WorkflowStepDef(
                unique_name=s["unique_name"],
                step_key=s["step_key"],
                settings=dict(s["settings"]),
                depends_on=tuple(s["depends_on"]),
            )
            for s in m[workflows.c.steps]
        ),
        paths=tuple(
            WorkflowPath(steps=tuple(p["steps"]), pipeline_id=p["pipeline_id"])
            for p in m[workflows.c.paths]
        ),
        created=from_db(m[workflows.c.created]),
        updated=from_db(m[workflows.c.updated]),
    )


def _execution(row: sa.Row[Any]) -> WorkflowExecution:
    m = row._mapping
    return WorkflowExecution(
        execution_id=m[workflow_executions.c.id],
        workflow_id=m[workflow_executions.c.workflow_id],
        team_id=m[workflow_executions.c.team_id],
        input_config=dict(m[workflow_executions.c.input_config]),
        runs=tuple(
            FileRun(file_url=r["file_url"], execution_ids=tuple(r["execution_ids"]))
            for r in m[workflow_executions.c.runs]
        ),
        created=from_db(m[workflow_executions.c.created]),
    )


def _mine(workflow_id: int, team_id: str) -> sa.ColumnElement[bool]:
    return (workflows.c.id == workflow_id) & (workflows.c.team_id == team_id)


class SqlWorkflowLedger(WorkflowLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, workflow: Workflow) -> Workflow:
        values = {
            "id": workflow.workflow_id,
            "team_id": workflow.team_id,
            "name": workflow.name,
            "description": workflow.description,
            "steps": [s.as_wire() for s in workflow.steps],
            "paths": [
                {"steps": list(p.steps), "pipeline_id": p.pipeline_id} for p in workflow.paths
            ],
            "created": to_db(workflow.created),
            "updated": to_db(workflow.updated),
        }
        async with self._db.write() as conn:
            await conn.execute(sa.insert(workflows).values(values))
            row = await conn.execute(sa.select(workflows).where(workflows.c.id == values["id"]))
            return _workflow(row.one())

    async def get(self, team_id: str, workflow_id: int) -> Workflow | None:
        row = await self._db.fetch_one(sa.select(workflows).where(_mine(workflow_id, team_id)))
        return None if row is None else _workflow(row)

    async def list_all(self, team_id: str) -> list[Workflow]:
        newest = (
            sa.select(workflows)
            .where(workflows.c.team_id == team_id)
            .order_by(workflows.c.created.desc(), workflows.c.id.desc())
        )
        async with self._db.read() as conn:
            return [_workflow(row) for row in await conn.execute(newest)]

    async def delete(self, team_id: str, workflow_id: int) -> bool:
        async with self._db.write() as conn:
            found = (
                await conn.execute(sa.select(workflows.c.id).where(_mine(workflow_id, team_id)))
            ).first()
            if found is None:
                return False
            used = await conn.execute(
                sa.select(sa.func.count())
                .select_from(workflow_executions)
                .where(workflow_executions.c.workflow_id == workflow_id)
            )
            if used.scalar_one():
                raise Conflict(f"Workflow {workflow_id} has executions and cannot be deleted.")
            await conn.execute(sa.delete(workflows).where(_mine(workflow_id, team_id)))
            return True

    async def add_execution(self, execution: WorkflowExecution) -> WorkflowExecution:
        values = {
            "id": execution.execution_id,
            "workflow_id": execution.workflow_id,
            "team_id": execution.team_id,
            "input_config": execution.input_config,
            "runs": [
                {"file_url": r.file_url, "execution_ids": list(r.execution_ids)}
                for r in execution.runs
            ],
            "created": to_db(execution.created),
        }
        async with self._db.write() as conn:
            await conn.execute(sa.insert(workflow_executions).values(values))
            row = await conn.execute(
                sa.select(workflow_executions).where(
                    workflow_executions.c.id == execution.execution_id
                )
            )
            return _execution(row.one())

    async def get_execution(self, team_id: str, execution_id: int) -> WorkflowExecution | None:
        row = await self._db.fetch_one(
            sa.select(workflow_executions).where(
                (workflow_executions.c.id == execution_id)
                & (workflow_executions.c.team_id == team_id)
            )
        )
        return None if row is None else _execution(row)
