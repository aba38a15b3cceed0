"""``Pipeline``: a list of steps checked by the server's own rules before anything runs."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pagemill.domain.errors import InvalidInput
from pagemill.domain.pipelines import parse_steps
from pagemill.processors.registry import ProcessorRegistry


@cache
def builtin_processors() -> ProcessorRegistry:
    """The processors pagemill ships (and the installed custom transforms), built once."""
    return ProcessorRegistry.builtin()


def check_steps(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The checks of the server's create-pipeline: JSON only, the composition rules (convert
    first, extract last, …), then each processor's settings (unknown settings refused).
    Raises ``InvalidInput``."""
    try:
        plain = json.loads(json.dumps(list(steps)))
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"A pipeline's steps must be plain JSON values: {error}") from error
    if not all(isinstance(step, dict) for step in plain):
        raise InvalidInput("Each step must be an object such as {type: convert, settings: {}}.")
    parsed = parse_steps(plain)
    builtin_processors().check_steps([(s.type, s.settings) for s in parsed])
    return [dict(s.raw) for s in parsed]


def read_steps(path: str | Path) -> list[dict[str, Any]]:
    """The steps written in a YAML or JSON file (not checked): a list of steps, or an object
    with ``steps``. Raises ``InvalidInput``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"Cannot read the pipeline file {file}: {error}") from error
    return steps_from_text(text, str(file))


def steps_from_text(text: str, source: str = "the pipeline") -> list[dict[str, Any]]:
    """The steps written in YAML or JSON text (JSON is YAML), not checked."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{source} is not valid YAML or JSON: {error}") from error
    if isinstance(data, dict) and "steps" in data:
        data = data["steps"]
    if not isinstance(data, list) or not all(isinstance(step, dict) for step in data):
        raise InvalidInput(f"{source}: expected a list of steps or an object with steps.")
    return data


class Pipeline:
    """An ordered list of steps, validated like the server validates a pipeline it stores.

    >>> Pipeline([{"type": "convert", "settings": {"output_format": "markdown"}},
    ...           {"type": "extract", "settings": {"page_schema": {"type": "object"}}}])

    Steps that name things of a server's team (a ``custom_processor_id``, an extraction
    ``schema_id``) are checked again when the pipeline runs. Raises ``InvalidInput`` with the
    server's message for a pipeline the server would refuse.
    """

    __slots__ = ("_steps",)

    def __init__(self, steps: Sequence[Mapping[str, Any]]) -> None:
        self._steps = tuple(check_steps(steps))

    @classmethod
    def from_file(cls, path: str | Path) -> Pipeline:
        """A pipeline from a YAML or JSON file: a list of steps, or an object with ``steps``."""
        return cls(read_steps(path))

    @classmethod
    def from_text(cls, text: str, *, source: str = "the pipeline") -> Pipeline:
        """A pipeline from YAML or JSON text (JSON is YAML)."""
        return cls(steps_from_text(text, source))

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The steps, as the HTTP API takes them (a copy)."""
        return json.loads(json.dumps(self._steps))  # type: ignore[no-any-return]

    @property
    def step_types(self) -> list[str]:
        return [str(step["type"]) for step in self._steps]

    def __len__(self) -> int:
        return len(self._steps)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.steps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Pipeline({self.steps!r})"

    def _key(self) -> str:
        return json.dumps(self._steps, sort_keys=True)
