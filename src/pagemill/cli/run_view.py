"""What ``pagemill run`` shows: a live progress line per document (its current step and pages
done) and a summary table for people, or JSON lines for scripts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from pagemill.cli.events import Event
from pagemill.cli.inputs import InputDocument
from pagemill.library import RunProgress


@dataclass(slots=True)
class StepOutcome:
    index: int
    step_type: str
    status: str
    attempt: int
    cache: str | None = None
    error: str | None = None
    result_file: str | None = None


@dataclass(slots=True)
class DocumentOutcome:
    document: str
    path: str
    status: str = "error"  # the execution's status; "error" when it could not run
    execution_id: str | None = None
    seconds: float = 0.0
    error: str | None = None
    steps: list[StepOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def as_json(self) -> dict[str, Any]:
        return {"type": "document", **asdict(self)}


class RunView(Protocol):
    def submitted(self, document: InputDocument, execution_id: str) -> None: ...

    def event(self, document: InputDocument, event: Event, state: RunProgress) -> None: ...

    def finished(self, outcome: DocumentOutcome) -> None: ...

    def summary(self, outcomes: list[DocumentOutcome], out: Path) -> None: ...

    def close(self) -> None:
        """Stop showing progress (the run could not start)."""


def _pages(state: RunProgress) -> tuple[float, str]:
    """How far the run is in steps (a page fraction within the current one), and a label."""
    done = sum(1 for s in state.steps if s.status == "completed")
    current = state.current
    if current is None:
        return float(done), state.status
    label = f"step {current.index + 1}/{len(state.steps)} {current.step_type} {current.status}"
    fraction = 0.0
    if current.pages_total:
        pages = current.pages_done or 0
        fraction = min(1.0, pages / current.pages_total)
        label += f" · {pages}/{current.pages_total} pages"
    if current.attempt > 1:
        label += f" · attempt {current.attempt}"
    return done + fraction, label


class MarkColumn(ProgressColumn):
    """A spinner while the document runs, then ✓ or ✗."""

    def __init__(self) -> None:
        super().__init__()
        self._spinner = SpinnerColumn()

    def render(self, task: Task) -> Text:
        mark = task.fields.get("mark")
        if mark == "ok":
            return Text("✓", style="green")
        if mark == "failed":
            return Text("✗", style="red")
        rendered = self._spinner.render(task)
        return rendered if isinstance(rendered, Text) else Text(" ")


class ProgressView:
    """One progress line per document on standard error; the summary table on standard
    output."""

    def __init__(self, documents: list[InputDocument], steps: int | None = None) -> None:
        self._console = Console(stderr=True)
        self._progress = Progress(
            MarkColumn(),
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[label]}"),
            TimeElapsedColumn(),
            console=self._console,
        )
        self._tasks: dict[str, TaskID] = {
            d.name: self._progress.add_task(
                d.name, total=steps, start=False, label="waiting", mark=None
            )
            for d in documents
        }
        self._progress.start()

    def submitted(self, document: InputDocument, execution_id: str) -> None:
        task = self._tasks[document.name]
        self._progress.start_task(task)
        self._progress.update(task, label=f"submitted {execution_id}")

    def event(self, document: InputDocument, event: Event, state: RunProgress) -> None:
        done, label = _pages(state)
        self._progress.update(
            self._tasks[document.name], total=len(state.steps), completed=done, label=label
        )

    def finished(self, outcome: DocumentOutcome) -> None:
        label = outcome.status
        if outcome.error:
            label += f": {outcome.error[:80]}"
        task = self._tasks[outcome.document]
        self._progress.start_task(task)
        self._progress.update(task, label=label, mark="ok" if outcome.ok else "failed")
        self._progress.stop_task(task)

    def close(self) -> None:
        self._progress.stop()

    def summary(self, outcomes: list[DocumentOutcome], out: Path) -> None:
        self.close()
        table = Table(
            "document",
            "status",
            "steps",
            "seconds",
            "execution",
            "results or error",
            header_style="bold",
        )
        for o in outcomes:
            completed = sum(1 for s in o.steps if s.status == "completed")
            failed = next((s for s in o.steps if s.error and s.status == "failed"), None)
            error = o.error or (failed.error if failed else None)
            detail = error[:120] if error else str(out / o.document)
            style = "green" if o.ok else "red"
            table.add_row(
                o.document,
                f"[{style}]{o.status}[/]",
                f"{completed}/{len(o.steps)}" if o.steps else "-",
                f"{o.seconds:.1f}",
                o.execution_id or "-",
                detail,
            )
        ok = sum(1 for o in outcomes if o.ok)
        Console().print(table)
        typer.echo(f"{ok} of {len(outcomes)} documents completed; results in {out}", err=True)


class JsonView:
    """A JSON line per document when it ends, then one for the whole run; nothing else."""

    def submitted(self, document: InputDocument, execution_id: str) -> None:
        return None

    def event(self, document: InputDocument, event: Event, state: RunProgress) -> None:
        return None

    def finished(self, outcome: DocumentOutcome) -> None:
        typer.echo(json.dumps(outcome.as_json(), ensure_ascii=False))

    def close(self) -> None:
        return None

    def summary(self, outcomes: list[DocumentOutcome], out: Path) -> None:
        line = {
            "type": "summary",
            "documents": len(outcomes),
            "completed": sum(1 for o in outcomes if o.ok),
            "failed": sum(1 for o in outcomes if not o.ok),
            "out": str(out),
        }
        typer.echo(json.dumps(line))
