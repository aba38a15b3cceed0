"""Eval rubrics: a team's saved, versioned eval definitions, and freezing them into a run.

Versions are immutable: a changed ``eval_definition`` is stored as a new version and becomes
current; ``name``, ``description`` and ``archived`` are edited in place. A rubric's public id is
an integer on the wire (as on the hosted API), kept in the ledger written in decimal.

When a run sets ``run_evals``, ``freeze_for_run`` resolves every step's ``eval_rubric_id`` to
the rubric's current definition, which the execution stores in that step's settings (under
``EVAL_KEY``): workers never look a rubric up, and a run keeps the rules it started with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import InvalidInput, NotFound
from pagemill.domain.eval_rubrics import (
    EVAL_DEFINITION,
    EVAL_RUBRICS,
    STEP_RUBRIC,
    EvalDefinition,
    check_stored_definition,
    parse_eval_definition,
    rubric_id_of,
)
from pagemill.domain.pipelines import StepSpec
from pagemill.domain.versioned import VersionedResource
from pagemill.ports.ledger.catalog import VersionedStore
from pagemill.services.versioned import VersionedResources, label_changes

UPDATABLE = frozenset({"name", "description", EVAL_DEFINITION, "archived"})


class EvalRubricService:
    def __init__(self, store: VersionedStore, clock: Clock) -> None:
        self._resources = VersionedResources(
            EVAL_RUBRICS,
            store,
            clock,
            archived_hint=f'; unarchive it ("archived": false) to store a new {EVAL_DEFINITION}',
        )

    async def create(
        self, team_id: str, name: str, definition: Any, description: str | None
    ) -> VersionedResource:
        return await self._resources.create(team_id, name, definition, description)

    async def get(self, team_id: str, rubric_id: int) -> VersionedResource:
        return await self._resources.get(team_id, str(rubric_id))

    async def list_rubrics(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[VersionedResource], int]:
        """Most recently updated first."""
        return await self._resources.page(
            team_id, include_archived=include_archived, limit=limit, offset=offset
        )

    async def update(
        self, team_id: str, rubric_id: int, changes: Mapping[str, Any]
    ) -> VersionedResource:
        """Apply ``changes`` (the fields the client sent); a ``description`` of None clears it,
        None elsewhere means "unchanged"."""
        public_id = str(rubric_id)
        columns = label_changes(changes, UPDATABLE)
        definition = changes.get(EVAL_DEFINITION)
        current = await self._resources.get(team_id, public_id)
        if definition is None or check_stored_definition(definition) == current.payload:
            if not columns:
                return current
            return await self._resources.update(team_id, public_id, **columns)
        return await self._resources.add_version(team_id, public_id, definition, **columns)

    async def archive(self, team_id: str, rubric_id: int) -> VersionedResource:
        return await self._resources.update(team_id, str(rubric_id), archived=True)

    async def definition(self, team_id: str, rubric_id: int) -> EvalDefinition | None:
        """The rules of the team's rubric as it is now (a batch run scores each file with
        them); None when it is not the team's, does not exist or is archived."""
        try:
            rubric = await self._resources.get(team_id, str(rubric_id))
        except NotFound:
            return None
        return None if rubric.archived else parse_eval_definition(rubric.payload)

    async def check_steps(self, team_id: str, steps: Sequence[StepSpec]) -> None:
        """Every ``eval_rubric_id`` names a usable rubric of the team (422 if not): a pipeline
        is checked when it is saved, not first when a run asks for evaluations."""
        await self._frozen(team_id, steps)

    async def freeze_for_run(
        self, team_id: str, steps: Sequence[StepSpec]
    ) -> list[dict[str, Any] | None]:
        """Per step, the rubric its run checks the result against (``{"id", "version",
        "name", "definition"}``), or None for a step that names none; ``InvalidInput`` (422)
        when a named rubric is not the team's, is archived, or when no step names one
        (``run_evals`` would otherwise do nothing)."""
        frozen = await self._frozen(team_id, steps)
        if all(rubric is None for rubric in frozen):
            raise InvalidInput(
                "run_evals: no step of this pipeline names an eval_rubric_id, so there is "
                "nothing to evaluate; add one to a step or run without run_evals."
            )
        return frozen

    async def _frozen(self, team_id: str, steps: Sequence[StepSpec]) -> list[dict[str, Any] | None]:
        frozen: list[dict[str, Any] | None] = []
        for index, step in enumerate(steps):
            where = f"Step {index} ({step.type})"
            rubric_id = rubric_id_of(step.raw.get(STEP_RUBRIC), where)
            if rubric_id is None:
                frozen.append(None)
                continue
            try:
                rubric = await self._resources.get(team_id, str(rubric_id))
            except NotFound as exc:
                raise InvalidInput(f"{where}: eval rubric {rubric_id} not found.") from exc
            if rubric.archived:
                raise InvalidInput(f"{where}: eval rubric {rubric_id} is archived.")
            frozen.append(
                {
                    "id": rubric_id,
                    "version": rubric.current_version,
                    "name": rubric.name,
                    "definition": rubric.payload,
                }
            )
        return frozen
