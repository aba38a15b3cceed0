"""Typed results of the library API: a conversion, a segmentation, an extraction, a step of a
run, a whole run, and the progress of a run while it goes.

Each typed result is read from the step-result payload the server stores (the same JSON the
HTTP API's ``…/steps/{i}/result`` returns), which stays available as ``raw``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TERMINAL_STATUSES = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass(frozen=True, slots=True)
class ConversionResult:
    """A document converted (``convert``, and ``custom`` steps, whose output is a document).

    Only the formats asked for (``output_format``, ``markdown`` by default) are set; the
    others are None.
    """

    output_format: str
    page_count: int
    markdown: str | None = None
    html: str | None = None
    json: dict[str, Any] | None = None
    chunks: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # name → base64 (include_images)
    runtime: float | None = None  # seconds the processor took
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ConversionResult:
        def optional_dict(key: str) -> dict[str, Any] | None:
            value = payload.get(key)
            return dict(value) if isinstance(value, Mapping) else None

        markdown, html = payload.get("markdown"), payload.get("html")
        runtime = payload.get("runtime")
        return cls(
            output_format=str(payload.get("output_format") or ""),
            page_count=int(payload.get("page_count") or 0),
            markdown=markdown if isinstance(markdown, str) else None,
            html=html if isinstance(html, str) else None,
            json=optional_dict("json"),
            chunks=optional_dict("chunks"),
            metadata=_dict(payload.get("metadata")),
            images={str(k): str(v) for k, v in _dict(payload.get("images")).items()},
            runtime=float(runtime) if isinstance(runtime, int | float) else None,
            raw=dict(payload),
        )


@dataclass(frozen=True, slots=True)
class SegmentationResult:
    """A document split into named sections (``segment``): each segment has a ``name`` and
    its ``pages``."""

    segments: list[dict[str, Any]]
    method: str  # schema_matching or auto_detected
    page_count: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SegmentationResult:
        results = _dict(payload.get("segmentation_results"))
        segments = results.get("segments")
        return cls(
            segments=[dict(s) for s in segments] if isinstance(segments, list) else [],
            method=str(_dict(results.get("metadata")).get("segmentation_method") or ""),
            page_count=int(payload.get("page_count") or 0),
            raw=dict(payload),
        )


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    """Structured data extracted by a JSON schema (``extract``): ``data`` holds the fields
    (and ``<field>_citations``), ``metadata`` how they were found."""

    data: dict[str, Any]
    page_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ExtractionResult:
        text = payload.get("extraction_schema_json")
        data = json.loads(text) if isinstance(text, str) and text else {}
        return cls(
            data=data if isinstance(data, dict) else {"value": data},
            page_count=int(payload.get("page_count") or 0),
            metadata=_dict(payload.get("metadata")),
            raw=dict(payload),
        )


StepOutput = ConversionResult | SegmentationResult | ExtractionResult

_OUTPUTS: dict[str, type[ConversionResult] | type[SegmentationResult] | type[ExtractionResult]] = {
    "convert": ConversionResult,
    "custom": ConversionResult,
    "segment": SegmentationResult,
    "extract": ExtractionResult,
}


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step of a run: how it ended and, when it completed, its result.

    ``output`` is the typed result of ``convert``/``custom`` (``ConversionResult``),
    ``segment`` (``SegmentationResult``) and ``extract`` (``ExtractionResult``) steps; other
    step types have only ``raw``.
    """

    index: int
    step_type: str
    status: str  # completed, failed, skipped, cancelled
    attempt: int
    error: str | None = None
    cache: str | None = None  # the executor cache's outcome: hit, miss or bypass
    output: StepOutput | None = None
    raw: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    @classmethod
    def of(cls, progress: StepProgress, payload: Mapping[str, Any] | None) -> StepResult:
        """The step as ``progress`` last saw it, with its stored ``payload`` when completed."""
        kind = _OUTPUTS.get(progress.step_type)
        output = kind.from_payload(payload) if kind is not None and payload else None
        return cls(
            index=progress.index,
            step_type=progress.step_type,
            status=progress.status,
            attempt=progress.attempt,
            error=progress.error,
            cache=progress.cache,
            output=output,
            raw=dict(payload) if payload is not None else None,
        )


@dataclass(frozen=True, slots=True)
class RunResult:
    """A pipeline run on one document, ended: its status and every step's result."""

    execution_id: str
    pipeline_id: str
    status: str  # completed, completed_with_errors, failed, cancelled
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    @property
    def final(self) -> StepResult:
        """The last step: the pipeline's answer when the run completed."""
        return self.steps[-1]


@dataclass(frozen=True, slots=True)
class StepProgress:
    """A step of a run as last seen: its status, attempt and, while it runs, pages done."""

    index: int
    step_type: str
    status: str
    attempt: int = 0
    pages_done: int | None = None
    pages_total: int | None = None
    error: str | None = None
    cache: str | None = None


@dataclass(frozen=True, slots=True)
class RunProgress:
    """A run as last seen, given to ``on_progress`` callbacks each time it changes."""

    execution_id: str
    status: str
    steps: tuple[StepProgress, ...]

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def current(self) -> StepProgress | None:
        """The step running or queued now (None once the run has ended)."""
        if self.finished:
            return None
        return next(
            (s for s in self.steps if s.status in ("running", "dispatched")),
            None,
        )
