"""Pipelines: step lists, composition rules and version selection."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.domain.errors import InvalidInput, NotFound
from pagemill.domain.eval_rubrics import STEP_RUBRIC, rubric_id_of

STEP_TYPES = ("convert", "segment", "extract", "custom", "fill")

# Which step types may directly follow which: the hosted API's composition rules (every
# pipeline starts with convert or is a lone fill; extract is always last).
_MAY_FOLLOW: dict[str, frozenset[str]] = {
    "segment": frozenset({"convert"}),
    "custom": frozenset({"convert"}),
    "extract": frozenset({"convert", "segment", "custom"}),
}

MAX_STEPS = 16


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step of a pipeline as the client wrote it; ``raw`` is echoed back verbatim."""

    type: str
    settings: Mapping[str, Any]
    raw: Mapping[str, Any]


def parse_steps(steps: Sequence[Mapping[str, Any]]) -> list[StepSpec]:
    """Check the shape of each step and the composition rules; return the parsed steps."""
    if not steps:
        raise InvalidInput("A pipeline needs at least one step.")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(f"A pipeline has at most {MAX_STEPS} steps; got {len(steps)}.")
    parsed: list[StepSpec] = []
    for index, step in enumerate(steps):
        step_type = step.get("type")
        if step_type not in STEP_TYPES:
            raise InvalidInput(
                f"Step {index}: unknown step type {step_type!r}; "
                f"expected one of {', '.join(STEP_TYPES)}."
            )
        settings = step.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise InvalidInput(f"Step {index} ({step_type}): settings must be an object.")
        if step_type == "custom" and not step.get("custom_processor_id"):
            raise InvalidInput(f"Step {index} (custom): custom_processor_id is required.")
        rubric_id_of(step.get(STEP_RUBRIC), f"Step {index} ({step_type})")
        parsed.append(StepSpec(type=str(step_type), settings=dict(settings), raw=dict(step)))
    check_composition([s.type for s in parsed])
    return parsed


def check_composition(types: Sequence[str]) -> None:
    """Enforce: convert first (or a lone fill); extract terminal; segment/custom after convert."""
    if types[0] == "fill":
        if len(types) != 1:
            raise InvalidInput("A fill step must be the only step of its pipeline.")
        return
    if types[0] != "convert":
        raise InvalidInput(f"The first step must be convert; got {types[0]}.")
    for index in range(1, len(types)):
        previous, current = types[index - 1], types[index]
        if current == "convert":
            raise InvalidInput(f"Step {index}: convert may only be the first step.")
        if current == "fill":
            raise InvalidInput(f"Step {index}: fill must be the only step of its pipeline.")
        if previous == "extract":
            raise InvalidInput(f"Step {index}: extract must be the last step.")
        if previous not in _MAY_FOLLOW[current]:
            raise InvalidInput(f"Step {index}: {current} may not follow {previous}.")


def select_version(requested: int | None, active_version: int, published: Sequence[int]) -> int:
    """Return the version number to run: 0 means the draft.

    omitted → the active published version, or the draft when nothing is published;
    0 → the draft; N → version N, which must exist.
    """
    if requested is None:
        return active_version
    if requested < 0:
        raise InvalidInput("version must be 0 (draft) or a published version number.")
    if requested == 0 or requested in published:
        return requested
    raise NotFound(f"Pipeline version {requested} not found")


def decode_json_setting(value: Any, name: str) -> Any:
    """Settings such as ``page_schema`` arrive as an object or as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"{name} is not valid JSON: {exc.msg} at position {exc.pos}."
            ) from exc
    return value


def default_pipeline_name(pipeline_id: str) -> str:
    return f"Untitled pipeline {pipeline_id[-6:]}"
