"""The ledger's legacy workflows: definitions and their executions.

A workflow keeps its steps and the pipeline that runs each root-to-leaf path; an execution
keeps its input and, per input file, the pipeline execution of each path (whose status lives
with the executions). Everything takes the team: another team's rows are simply not found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from pagemill.domain.workflows import Workflow, WorkflowExecution


class WorkflowLedger(ABC):
    @abstractmethod
    async def create(self, workflow: Workflow) -> Workflow:
        """Insert ``workflow`` (its ``workflow_id`` chosen by the caller); ``Conflict`` when
        the id is taken."""

    @abstractmethod
    async def get(self, team_id: str, workflow_id: int) -> Workflow | None: ...

    @abstractmethod
    async def list_all(self, team_id: str) -> list[Workflow]:
        """The team's workflows, newest first."""

    @abstractmethod
    async def delete(self, team_id: str, workflow_id: int) -> bool:
        """Delete a workflow that has no execution; False when it is not the team's.
        ``Conflict`` when it has executions."""

    @abstractmethod
    async def add_execution(self, execution: WorkflowExecution) -> WorkflowExecution:
        """Insert ``execution`` of an existing workflow of the same team."""

    @abstractmethod
    async def get_execution(self, team_id: str, execution_id: int) -> WorkflowExecution | None: ...
