"""Rerun or fork an execution from step k: a new execution that reuses the stored outputs of
the steps before k and runs the rest, with the same steps, another version of the pipeline,
or replacement steps (change the extraction schema without converting again).

The steps before k must be the very work the parent did: the same types with the same
settings as frozen when the parent ran, on the same input, page range and output format;
anything else would pass off the parent's outputs as something they are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.domain.errors import Conflict, InvalidInput
from pagemill.domain.idempotency import IdempotentRequest
from pagemill.domain.models import Execution, ReusedStep, StepRun
from pagemill.domain.statuses import TERMINAL_EXECUTION, StepStatus

# The run overrides that change what the steps before k computed.
_SHAPING = ("page_range", "output_format")


@dataclass(frozen=True, slots=True)
class RerunRequest:
    from_step: int
    version: int | None = None  # another version of the pipeline (0: the draft)
    steps: Sequence[Mapping[str, Any]] | None = None  # replacement steps, all of them
    # Run overrides; None: the parent's.
    page_range: str | None = None
    output_format: str | None = None
    run_evals: bool | None = None
    skip_cache: bool | None = None
    webhook_url: str | None = None
    webhook_events: str | None = None
    traceparent: str | None = None
    idempotency: IdempotentRequest | None = None


def overridden(parent: Execution, request: RerunRequest) -> dict[str, Any]:
    """The run options of the rerun: the request's, else the parent's. ``InvalidInput`` when
    one that shapes the reused steps' outputs differs from the parent's."""
    config = parent.input_config
    values: dict[str, Any] = {}
    for name in ("page_range", "output_format", "run_evals", "skip_cache", "webhook_url"):
        asked = getattr(request, name)
        values[name] = config.get(name) if asked is None else asked
    events = config.get("webhook_events")
    values["webhook_events"] = request.webhook_events or (
        ",".join(events) if isinstance(events, list) else None
    )
    if request.from_step > 0:
        for name in _SHAPING:
            if values[name] != config.get(name):
                raise InvalidInput(
                    f"{name} {values[name]!r} differs from the parent's ({config.get(name)!r}); "
                    f"the steps before from_step were computed with the parent's. Rerun from "
                    "step 0 to change it."
                )
    return values


def reused_steps(
    parent: Execution,
    parent_steps: Sequence[StepRun],
    step_types: Sequence[str],
    step_settings: Sequence[Mapping[str, Any]],
    from_step: int,
) -> tuple[ReusedStep, ...]:
    """The parent's outputs of the steps before ``from_step``, checked to be the same work."""
    if parent.status not in TERMINAL_EXECUTION:
        raise Conflict(f"Execution {parent.execution_id} has not finished; rerun it once it has.")
    if not 0 <= from_step < len(step_types):
        raise InvalidInput(
            f"from_step must be between 0 and {len(step_types) - 1} (the steps of the rerun)."
        )
    reused: list[ReusedStep] = []
    for index in range(from_step):
        if index >= len(parent_steps):
            raise InvalidInput(f"The parent has no step {index} to reuse.")
        step = parent_steps[index]
        if step.status is not StepStatus.COMPLETED or step.result_key is None:
            raise Conflict(
                f"Step {index} of {parent.execution_id} did not complete ({step.status.value}); "
                f"rerun from step {index} or earlier."
            )
        if step.step_type != step_types[index] or dict(step.settings) != dict(step_settings[index]):
            raise InvalidInput(
                f"Step {index} of the rerun is not the parent's step {index} (type or settings "
                "differ), so its output cannot be reused; rerun from an earlier step."
            )
        reused.append(
            ReusedStep(
                result_key=step.result_key,
                checkpoint_id=step.checkpoint_id,
                page_count=parent.page_count or 0,
                source_execution_id=parent.execution_id,
                source_step_index=index,
            )
        )
    return tuple(reused)
