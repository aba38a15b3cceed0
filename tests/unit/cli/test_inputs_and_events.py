"""The pieces of the client commands: documents from arguments, Server-Sent Events, and
events derived from successive states of an execution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pagemill.cli.events import apply, changes, progress_from_wire
from pagemill.cli.inputs import InputError, collect
from pagemill.cli.sse import SseEvent, read_events
from pagemill.library import RunProgress, StepProgress


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4")
    return path


def test_documents_from_files_directories_and_globs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    touch(tmp_path / "scans/2024/a.pdf")
    touch(tmp_path / "scans/2025/a.pdf")
    touch(tmp_path / "scans/.hidden/x.pdf")
    touch(tmp_path / "scans/notes.txt")
    touch(tmp_path / "one/a.pdf")

    from_dir = collect(["scans"])
    from_glob = collect(["scans/**/*.pdf"])
    mixed = collect(["one/a.pdf", "scans/2024/a.pdf", "scans/2024", "one/a.pdf"])

    assert [d.name for d in from_dir] == ["2024/a.pdf", "2025/a.pdf", "notes.txt"]
    assert [d.name for d in from_glob] == ["2024/a.pdf", "2025/a.pdf"]
    # Each file once; a name already taken gets a suffix.
    assert [d.name for d in mixed] == ["a.pdf", "a.pdf~2"]
    assert from_dir[0].result_file(Path("out"), 1, "segment") == Path(
        "out/2024/a.pdf/1-segment.json"
    )
    with pytest.raises(InputError, match="no such file"):
        collect(["missing.pdf"])
    with pytest.raises(InputError, match="no file matches"):
        collect(["scans/*.docx"])


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_server_sent_events_are_parsed_as_the_standard_says() -> None:
    stream = lines(
        "retry: 1000", "", ": keep-alive", "",
        "id: 0.1.1", "event: step.dispatched", 'data: {"step_index": 0}', "",
        "event: note", "data: first", "data: second\r", "",
        "id: 0.1.2", "data: plain", "",
        "event: empty", "",
    )  # fmt: skip

    events = [event async for event in read_events(stream)]

    assert events == [
        SseEvent("step.dispatched", '{"step_index": 0}', "0.1.1"),
        SseEvent("note", "first\nsecond", "0.1.1"),  # the last id stays the stream's
        SseEvent("message", "plain", "0.1.2"),
    ]


def state(status: str, *steps: StepProgress) -> RunProgress:
    return RunProgress("pex_1", status, steps)


def test_events_are_derived_from_successive_states() -> None:
    queued = state(
        "pending",
        StepProgress(0, "convert", "dispatched", 1),
        StepProgress(1, "segment", "pending"),
    )
    reading = state(
        "running",
        StepProgress(0, "convert", "running", 1, 3, 10),
        StepProgress(1, "segment", "pending"),
    )
    retried = state(
        "running",
        StepProgress(0, "convert", "dispatched", 2, error="worker lost"),
        StepProgress(1, "segment", "pending"),
    )
    done = state(
        "completed",
        StepProgress(0, "convert", "completed", 2, cache="miss"),
        StepProgress(1, "segment", "completed", 1, cache="hit"),
    )

    history = [
        (e.type, e.data.get("step_index"), e.data.get("attempt"))
        for old, new in [(None, queued), (queued, reading), (reading, retried), (retried, done)]
        for e in changes(old, new)
    ]

    assert history == [
        ("step.dispatched", 0, 1),
        ("step.started", 0, 1),
        ("step.progress", 0, 1),
        ("step.retrying", 0, 2),
        ("step.dispatched", 0, 2),
        ("step.started", 0, 2),
        ("step.completed", 0, 2),
        ("step.dispatched", 1, 1),
        ("step.started", 1, 1),
        ("step.completed", 1, 1),
        ("execution.completed", None, None),
    ]
    assert changes(done, done) == []
    progress = changes(queued, reading)[-1]
    assert (progress.data["pages_done"], progress.data["pages_total"]) == (3, 10)


def test_stream_events_move_the_state_forward() -> None:
    wire = {
        "execution_id": "pex_1",
        "status": "pending",
        "steps": [
            {"step_index": 0, "step_type": "convert", "status": "dispatched", "attempt": 1},
            {"step_index": 1, "step_type": "extract", "status": "pending", "attempt": 0},
        ],
    }
    now = progress_from_wire(wire)
    from pagemill.cli.events import Event

    now = apply(now, Event("step.started", {"step_index": 0, "attempt": 1}))
    now = apply(
        now,
        Event("step.progress", {"step_index": 0, "attempt": 1, "pages_done": 2, "pages_total": 5}),
    )
    assert now.status == "running"
    assert now.current == StepProgress(0, "convert", "running", 1, 2, 5)
    now = apply(
        now, Event("step.completed", {"step_index": 0, "attempt": 1, "cache": {"status": "miss"}})
    )
    now = apply(now, Event("step.failed", {"step_index": 1, "attempt": 1, "error": "no schema"}))
    now = apply(
        now,
        Event(
            "execution.completed",
            {"status": "completed_with_errors", "steps": [{"step_index": 1, "status": "failed"}]},
        ),
    )

    assert now.finished and now.status == "completed_with_errors"
    assert [(s.status, s.cache, s.error) for s in now.steps] == [
        ("completed", "miss", None),
        ("failed", None, "no schema"),
    ]
    assert apply(now, Event("step.started", {"step_index": 9})) == now  # not a step of it
