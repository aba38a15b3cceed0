"""The fill step's settings: ``field_data``, ``context``, ``confidence_threshold`` and the rest."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.processors.fill.matching import Key
from pagemill.processors.step_settings import check_choice, check_pages, refuse_unknown

STEP_TYPE = "fill"
KNOWN_SETTINGS = (
    "field_data",
    "context",
    "confidence_threshold",
    "matching",
    "output_format",
    "page_range",
    "max_pages",
)
MATCHING = ("auto", "offline", "llm")
OUTPUT_FORMATS = ("pdf", "png")
DEFAULT_THRESHOLD = 0.5
MAX_KEYS = 1000
MAX_VALUE_CHARS = 10_000
MAX_CONTEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class FillRequest:
    keys: tuple[Key, ...]
    threshold: float
    context: str | None
    matching: str  # auto | offline | llm
    output_format: str | None  # None: the input's own (pdf for PDFs, png for images)


def parse_fill_settings(settings: Mapping[str, Any]) -> FillRequest:
    refuse_unknown(settings, KNOWN_SETTINGS, STEP_TYPE)
    check_pages(settings)
    check_choice(settings, "matching", MATCHING)
    check_choice(settings, "output_format", OUTPUT_FORMATS)
    context = settings.get("context")
    if context is not None and (not isinstance(context, str) or len(context) > MAX_CONTEXT_CHARS):
        raise InvalidInput(f"Setting 'context' must be a string of at most {MAX_CONTEXT_CHARS}.")
    return FillRequest(
        keys=parse_field_data(settings.get("field_data")),
        threshold=parse_threshold(settings.get("confidence_threshold")),
        context=context or None,
        matching=str(settings.get("matching") or "auto"),
        output_format=settings.get("output_format"),
    )


def parse_field_data(raw: Any) -> tuple[Key, ...]:
    """``{key: {"value": …, "description": …}}`` (or ``{key: value}``), object or JSON string."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"field_data is not valid JSON: {error.msg}.") from error
    if not isinstance(raw, Mapping) or not raw:
        raise InvalidInput(
            'The fill step needs field_data: {"key": {"value": "...", "description": "..."}}.'
        )
    if len(raw) > MAX_KEYS:
        raise InvalidInput(f"field_data has {len(raw)} keys; at most {MAX_KEYS} are accepted.")
    keys: list[Key] = []
    for name, entry in raw.items():
        if not str(name).strip():
            raise InvalidInput("field_data has an empty key.")
        description: Any = ""
        value: Any = entry
        if isinstance(entry, Mapping):
            unknown = sorted(set(entry) - {"value", "description"})
            if unknown:
                raise InvalidInput(
                    f"field_data[{name!r}]: unknown key(s) {', '.join(map(repr, unknown))}; "
                    "each entry has a value and an optional description."
                )
            if "value" not in entry:
                raise InvalidInput(f"field_data[{name!r}] has no value.")
            value, description = entry["value"], entry.get("description") or ""
        if value is None or not isinstance(value, str | int | float | bool):
            raise InvalidInput(
                f"field_data[{name!r}]: the value must be text, a number or true/false."
            )
        if not isinstance(description, str):
            raise InvalidInput(f"field_data[{name!r}]: the description must be text.")
        text = _as_text(value)
        if len(text) > MAX_VALUE_CHARS:
            raise InvalidInput(f"field_data[{name!r}]: the value is longer than {MAX_VALUE_CHARS}.")
        keys.append(Key(str(name), text, description))
    return tuple(keys)


def _as_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_threshold(raw: Any) -> float:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_THRESHOLD
    value = raw
    if isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            value = raw
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise InvalidInput(
            f"Setting 'confidence_threshold' must be a number from 0 to 1, not {raw!r}."
        )
    return float(value)
