"""Freezing one kind of step for a new execution: the part custom processors and extraction
schemas do alike.

A ``custom`` step names a custom processor, an ``extract`` step may name a saved schema; each
service resolves the name to the version a run will use and writes it into the step's settings,
so that workers never look it up and a run keeps doing what it was started with. Walking the
steps, and naming the step in a resolution error, is the same for both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pagemill.domain.errors import InvalidInput
from pagemill.domain.pipelines import StepSpec


class StepFreezer(ABC):
    """A service that freezes the steps of ``step_type``; the others pass unchanged."""

    step_type: ClassVar[str]

    @abstractmethod
    async def _freeze_step(
        self, team_id: str, step: StepSpec, settings: dict[str, Any]
    ) -> Mapping[str, Any]:
        """``settings`` (a copy of the step's) as a run of ``step`` must use them; an
        ``InvalidInput`` when what the step names is not usable by the team."""

    async def check_steps(self, team_id: str, steps: Sequence[StepSpec]) -> None:
        """Every step of ``step_type`` must name something usable by the team (422 if not)."""
        await self.freeze_steps(team_id, steps)

    async def freeze_steps(self, team_id: str, steps: Sequence[StepSpec]) -> list[dict[str, Any]]:
        """Each step's settings for a new execution, the ``step_type`` ones frozen."""
        frozen: list[dict[str, Any]] = []
        for index, step in enumerate(steps):
            settings = dict(step.settings)
            if step.type == self.step_type:
                try:
                    settings = dict(await self._freeze_step(team_id, step, settings))
                except InvalidInput as exc:
                    raise InvalidInput(f"Step {index} ({step.type}): {exc.detail}") from exc
            frozen.append(settings)
        return frozen
