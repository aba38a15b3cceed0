"""What runs are made of: their options, their input documents, and the views of executions
the execution service answers with."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pagemill.domain.errors import InvalidInput
from pagemill.domain.idempotency import IdempotentRequest
from pagemill.domain.models import Execution, StepRun
from pagemill.domain.pipelines import StepSpec

OUTPUT_FORMATS = frozenset({"markdown", "html", "json", "chunks"})

# (team_id, steps) → each step's settings as the workers will see them; may refuse a step.
StepSettingsHook = Callable[[str, Sequence[StepSpec]], Awaitable[list[dict[str, Any]]]]
# (team_id, "datalab://file-N") → a copy of the team's uploaded file as a run's document.
FileResolver = Callable[[str, str], Awaitable["StoredDocument"]]
# (team_id, steps) → per step, the eval rubric a ``run_evals`` run checks its result against.
EvalHook = Callable[[str, Sequence[StepSpec]], Awaitable[list[dict[str, Any] | None]]]


def chain_step_settings_hooks(*hooks: StepSettingsHook) -> StepSettingsHook:
    """One hook that runs ``hooks`` in order, each on the settings the previous one returned
    (custom processors freeze ``custom`` steps, extraction schemas ``extract`` steps)."""

    async def chained(team_id: str, steps: Sequence[StepSpec]) -> list[dict[str, Any]]:
        current = list(steps)
        for hook in hooks:
            settings = await hook(team_id, current)
            current = [
                dataclasses.replace(s, settings=new)
                for s, new in zip(current, settings, strict=True)
            ]
        return [dict(s.settings) for s in current]

    return chained


@dataclass(frozen=True, slots=True)
class RunOptions:
    page_range: str | None = None
    output_format: str | None = None
    run_evals: bool = False
    skip_cache: bool = False
    webhook_url: str | None = None
    version: int | None = None
    webhook_events: str | None = None  # extension: "execution" (default) and/or "step"
    traceparent: str | None = None  # the caller's W3C trace context, when it sent one
    # extension: sent with an Idempotency-Key, the same request gives the same execution
    idempotency: IdempotentRequest | None = None

    def fingerprinted(self) -> dict[str, Any]:
        """The options that make two requests different (an idempotency fingerprint's)."""
        return {
            "page_range": self.page_range,
            "output_format": self.output_format,
            "run_evals": self.run_evals,
            "skip_cache": self.skip_cache,
            "webhook_url": self.webhook_url,
            "version": self.version,
            "webhook_events": self.webhook_events,
        }


@dataclass(frozen=True, slots=True)
class StoredDocument:
    key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    file_url: str | None = None
    charged_to: str | None = None  # the team whose storage quota counts these bytes
    borrowed: bool = False  # another run's blob (a checkpoint): never deleted by this one

    def renamed(self, filename: str, content_type: str) -> StoredDocument:
        return dataclasses.replace(
            self, filename=clean_filename(filename), content_type=content_type
        )


@dataclass(frozen=True, slots=True)
class ExecutionView:
    execution: Execution
    steps: list[StepRun]
    source: Literal["ledger", "live"]
    progress: dict[int, dict[str, Any]] = field(default_factory=dict)
    replayed: bool = False  # the answer to an earlier request with the same Idempotency-Key


def check_output_format(value: str) -> None:
    formats = [f.strip() for f in value.split(",")]
    unknown = [f for f in formats if f not in OUTPUT_FORMATS]
    if unknown or not formats:
        raise InvalidInput(
            f"output_format {value!r} is not valid; use one or more of "
            f"{', '.join(sorted(OUTPUT_FORMATS))}, comma-separated."
        )


def clean_filename(name: str) -> str:
    """Keep a display name only: no directories, no control characters, bounded length."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:255] or "document"
