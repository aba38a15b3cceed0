"""Snapshots to JSON and back, losslessly: aware datetimes, enums and JSON dicts.

The encoding is driven by the dataclass fields of ``Execution`` and ``StepRun``, so a field added
to the domain models travels without changes here; a field the reader does not know is ignored
and a missing one takes its default (rolling upgrades). ``v`` versions the layout.

Progress is stored apart from the snapshot, as ``{"<step>": {"<key>": "<json value>"}}``: the
values stay JSON text so the Lua merge never decodes (and never rounds) them.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson

from pagemill.domain.clock import utc
from pagemill.domain.events import StepState
from pagemill.domain.models import Execution, ExecutionSnapshot, StepRun

VERSION = 1

_Record = TypeVar("_Record", Execution, StepRun)


class DecodeError(ValueError):
    """A stored entry this version cannot read (corrupt, or written by an unknown layout)."""


def encode_snapshot(snapshot: ExecutionSnapshot) -> bytes:
    """The execution and its steps as JSON (progress is stored apart)."""
    return orjson.dumps(
        {
            "v": VERSION,
            "execution": _encode_record(snapshot.execution),
            "steps": [_encode_record(step) for step in snapshot.steps],
        }
    )


def decode_snapshot(raw: bytes | str, progress: bytes | str | None) -> ExecutionSnapshot:
    try:
        data = orjson.loads(raw)
        version = data.get("v") if isinstance(data, dict) else None
        if version != VERSION:
            raise DecodeError(f"unknown snapshot layout {version!r}")
        return ExecutionSnapshot(
            execution=_decode_record(Execution, data["execution"]),
            steps=[_decode_record(StepRun, step) for step in data["steps"]],
            progress=decode_progress(progress),
        )
    except DecodeError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        raise DecodeError(f"unreadable snapshot: {error}") from error


def encode_states(states: Sequence[StepState]) -> str:
    """Steps' states for the event log (``StepState``)."""
    return orjson.dumps([state.to_json() for state in states]).decode()


def decode_states(raw: str) -> tuple[StepState, ...]:
    try:
        return tuple(StepState.from_json(item) for item in orjson.loads(raw))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise DecodeError(f"unreadable step states: {error}") from error


def encode_progress_fields(progress: dict[str, Any]) -> list[str]:
    """``[key, json value, key, json value…]`` for the Lua merge."""
    fields: list[str] = []
    for key, value in progress.items():
        fields += [str(key), orjson.dumps(value).decode()]
    return fields


def decode_progress(raw: bytes | str | None) -> dict[int, dict[str, Any]]:
    if not raw:
        return {}
    data = orjson.loads(raw)
    if not isinstance(data, dict):
        raise DecodeError("progress is not an object")
    return {
        int(step): {key: orjson.loads(value) for key, value in fields.items()}
        for step, fields in data.items()
        if isinstance(fields, dict)
    }


def _encode_record(record: Execution | StepRun) -> dict[str, Any]:
    return {f.name: _encode_value(getattr(record, f.name)) for f in dataclasses.fields(record)}


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _decode_record(cls: type[_Record], data: Any) -> _Record:
    if not isinstance(data, dict):
        raise DecodeError(f"{cls.__name__} is not an object")
    hints = _hints(cls)
    values = {name: _decode_value(hints[name], data[name]) for name in hints if name in data}
    return cls(**values)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """Field name → resolved annotation, per dataclass (computed once)."""
    hints = _HINTS.get(cls)
    if hints is None:
        resolved = typing.get_type_hints(cls)
        hints = _HINTS[cls] = {f.name: resolved[f.name] for f in dataclasses.fields(cls)}
    return hints


def _decode_value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = _concrete(hint)
    if kind is datetime:
        return utc(datetime.fromisoformat(value))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    return value


def _concrete(hint: Any) -> Any:
    """``X | None`` → ``X``; anything else unchanged."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        others = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(others) == 1:
            return others[0]
    return hint
