"""Legacy workflows: a DAG of ``marker_*`` steps, run as linear pipelines.

A workflow names its steps (``unique_name``) and wires them with ``depends_on``. pagemill runs
the three step types of the document engine — ``marker_parse`` (convert), ``marker_segment``
(segment) and ``marker_extract`` (extract) — and refuses the others with a 422 that says so.
Each of these steps reads one upstream document, so each step depends on exactly one other
(``marker_parse`` on none): the graph is a forest, and every path from a root to a leaf is a
valid pipeline (convert → segment → extract, convert → extract…). A workflow runs each path as
one pipeline execution per input file; steps that several paths share run once per path (the
executor cache reuses identical work between runs).

Settings are those of the pipeline step types, with the workflow forms translated:
``marker_extract.page_schema`` may be a bare map of fields (wrapped as a JSON schema's
``properties``) and ``segment_reference: {"name": ...}`` extracts from that one segment;
``marker_segment.segmentation_schema.segmentation_strategy`` says how to segment
(``custom``: the listed segments; ``document_boundary`` or ``auto``: pagemill's automatic
detection, which looks for the boundaries between documents and sections).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.domain.pipelines import check_composition, decode_json_setting

STEP_TYPES: dict[str, str] = {
    "marker_parse": "convert",
    "marker_segment": "segment",
    "marker_extract": "extract",
}
# Hosted step types pagemill does not run, and why (named in the refusal).
NOT_SUPPORTED = {
    "api_request": "pagemill makes no outbound calls to third-party APIs from workflows",
}
MAX_STEPS = 32
MAX_NAME = 100
SEGMENT_STRATEGIES = ("custom", "document_boundary", "auto")
STRATEGY = "segmentation_strategy"


@dataclass(frozen=True, slots=True)
class WorkflowStepDef:
    unique_name: str
    step_key: str
    settings: dict[str, Any]  # as the client sent them (echoed back)
    depends_on: tuple[str, ...]

    @property
    def step_type(self) -> str:
        """The pipeline step type that runs it."""
        return STEP_TYPES[self.step_key]

    def as_wire(self) -> dict[str, Any]:
        return {
            "step_key": self.step_key,
            "unique_name": self.unique_name,
            "settings": self.settings,
            "depends_on": list(self.depends_on),
        }


@dataclass(frozen=True, slots=True)
class WorkflowPath:
    """One root-to-leaf path and the pipeline that runs it."""

    steps: tuple[str, ...]  # unique names, root first
    pipeline_id: str


@dataclass(frozen=True, slots=True)
class Workflow:
    workflow_id: int
    team_id: str
    name: str
    description: str | None
    steps: tuple[WorkflowStepDef, ...]
    paths: tuple[WorkflowPath, ...]
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class FileRun:
    """One input file of a workflow execution and the pipeline execution of each path."""

    file_url: str
    execution_ids: tuple[str, ...]  # in the order of the workflow's paths


@dataclass(frozen=True, slots=True)
class WorkflowExecution:
    execution_id: int
    workflow_id: int
    team_id: str
    input_config: dict[str, Any]
    runs: tuple[FileRun, ...]
    created: datetime


def parse_workflow_steps(raw_steps: Any) -> list[WorkflowStepDef]:
    """Check the steps and their graph; ``InvalidInput`` names the first fault."""
    if not isinstance(raw_steps, list) or not raw_steps:
        raise InvalidInput("A workflow needs a non-empty list of steps.")
    if len(raw_steps) > MAX_STEPS:
        raise InvalidInput(f"A workflow has at most {MAX_STEPS} steps; got {len(raw_steps)}.")
    steps = [_step(raw, index) for index, raw in enumerate(raw_steps)]
    by_name: dict[str, WorkflowStepDef] = {}
    for step in steps:
        if step.unique_name in by_name:
            raise InvalidInput(f"Two steps are named {step.unique_name!r}; unique_name is unique.")
        by_name[step.unique_name] = step
    for step in steps:
        for parent in step.depends_on:
            if parent not in by_name:
                raise InvalidInput(
                    f"Step {step.unique_name!r} depends on {parent!r}, which is not a step."
                )
        if step.step_key == "marker_parse" and step.depends_on:
            raise InvalidInput(
                f"Step {step.unique_name!r} (marker_parse) parses the input file: it depends "
                "on no other step."
            )
        if step.step_key != "marker_parse" and len(step.depends_on) != 1:
            raise InvalidInput(
                f"Step {step.unique_name!r} ({step.step_key}) reads one upstream document: it "
                f"depends on exactly one step, not {len(step.depends_on)}."
            )
    for path in paths_of(steps):  # a depends_on cycle has no root: caught here too
        check_composition([by_name[name].step_type for name in path])
    reachable = {name for path in paths_of(steps) for name in path}
    cut_off = [s.unique_name for s in steps if s.unique_name not in reachable]
    if cut_off:
        raise InvalidInput(
            f"Step(s) {', '.join(map(repr, cut_off))} do not lead back to a marker_parse step "
            "(a depends_on cycle)."
        )
    return steps


def paths_of(steps: Sequence[WorkflowStepDef]) -> list[tuple[str, ...]]:
    """Every root-to-leaf path, in the order of the steps' first appearance."""
    children: dict[str, list[str]] = {s.unique_name: [] for s in steps}
    for step in steps:
        for parent in step.depends_on:
            if parent in children:
                children[parent].append(step.unique_name)
    found: list[tuple[str, ...]] = []

    def walk(name: str, path: tuple[str, ...]) -> None:
        if name in path or len(path) > MAX_STEPS:
            return
        here = (*path, name)
        if not children[name]:
            found.append(here)
        for child in children[name]:
            walk(child, here)

    for step in steps:
        if not step.depends_on:
            walk(step.unique_name, ())
    return found


def pipeline_steps(steps: Sequence[WorkflowStepDef], path: Sequence[str]) -> list[dict[str, Any]]:
    """The pipeline steps that run ``path``, their settings translated."""
    by_name = {s.unique_name: s for s in steps}
    return [
        {"type": by_name[name].step_type, "settings": pipeline_settings(by_name[name])}
        for name in path
    ]


def pipeline_settings(step: WorkflowStepDef) -> dict[str, Any]:
    settings = dict(step.settings)
    if step.step_key == "marker_extract" and "page_schema" in settings:
        settings["page_schema"] = _as_schema(settings["page_schema"])
    if step.step_key == "marker_segment" and "segmentation_schema" in settings:
        settings["segmentation_schema"] = _segmentation(settings["segmentation_schema"])
    return settings


def _as_schema(value: Any) -> Any:
    """A bare map of fields (``{"title": {"type": "string"}}``) as a JSON schema."""
    decoded = decode_json_setting(value, "page_schema")
    if (
        isinstance(decoded, dict)
        and decoded
        and "properties" not in decoded
        and all(isinstance(v, dict) for v in decoded.values())
    ):
        return {"type": "object", "properties": decoded}
    return decoded


def _segmentation(value: Any) -> Any:
    decoded = decode_json_setting(value, "segmentation_schema")
    if not isinstance(decoded, dict) or STRATEGY not in decoded:
        return decoded
    strategy = decoded[STRATEGY]
    if strategy not in SEGMENT_STRATEGIES:
        raise InvalidInput(
            f"segmentation_schema.{STRATEGY} must be one of {', '.join(SEGMENT_STRATEGIES)}, "
            f"not {strategy!r}."
        )
    rest = {k: v for k, v in decoded.items() if k != STRATEGY}
    if strategy != "custom":
        if rest.get("segments") or rest.get("sections"):
            raise InvalidInput(
                f"segmentation_schema: {STRATEGY} {strategy!r} detects the segments; list "
                f"segments only with {STRATEGY} 'custom'."
            )
        return {}
    if not rest:
        raise InvalidInput(
            f"segmentation_schema: {STRATEGY} 'custom' needs the segments to find "
            '({"segments": [{"name": ..., "description": ...}]}).'
        )
    return rest


def _step(raw: Any, index: int) -> WorkflowStepDef:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"Step {index} must be an object.")
    step_key = raw.get("step_key")
    if step_key in NOT_SUPPORTED:
        raise InvalidInput(
            f"Step {index}: the {step_key} step type is not supported: "
            f"{NOT_SUPPORTED[step_key]}. Supported: {', '.join(STEP_TYPES)}."
        )
    if step_key not in STEP_TYPES:
        raise InvalidInput(
            f"Step {index}: unknown step_key {step_key!r}; expected one of {', '.join(STEP_TYPES)}."
        )
    name = raw.get("unique_name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput(
            f"Step {index}: unique_name must be a non-empty string of at most {MAX_NAME} "
            "characters."
        )
    settings = raw.get("settings")
    settings = {} if settings is None else settings
    if not isinstance(settings, Mapping):
        raise InvalidInput(f"Step {index} ({name}): settings must be an object.")
    depends_on = raw.get("depends_on")
    depends_on = [] if depends_on is None else depends_on
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise InvalidInput(f"Step {index} ({name}): depends_on must be a list of step names.")
    return WorkflowStepDef(
        unique_name=name,
        step_key=str(step_key),
        settings=dict(settings),
        depends_on=tuple(dict.fromkeys(depends_on)),
    )
