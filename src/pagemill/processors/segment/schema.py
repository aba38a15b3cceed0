"""``segmentation_schema``: three documented encodings, one internal form.

* name → description map: ``{"Resume": "The applicant's resume or CV"}``;
* ``{"segments": [{"name": ..., "description": ...}]}`` (workflows, auto-segmentation);
* ``{"sections": [...]}`` (SDK docs), items as in ``segments``.

Each may arrive as an object or as a JSON string. Empty or absent means auto-detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.domain.pipelines import decode_json_setting

SETTING = "segmentation_schema"
MAX_SEGMENTS = 200
MAX_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    name: str
    description: str = ""


def parse_segmentation_schema(value: Any) -> list[SegmentSpec]:
    """The segments the schema names, in order; ``[]`` means auto-detection."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    decoded = decode_json_setting(value, SETTING)
    if decoded is None:
        return []
    if not isinstance(decoded, dict):
        raise InvalidInput(
            f"{SETTING} must be an object: a map of segment name to description, "
            '{"segments": [{"name": ..., "description": ...}]} or {"sections": [...]}.'
        )
    listed = _listed(decoded)
    specs = (
        [_item(item, index) for index, item in enumerate(listed)]
        if listed is not None
        else [_pair(name, description) for name, description in decoded.items()]
    )
    if len(specs) > MAX_SEGMENTS:
        raise InvalidInput(f"{SETTING} names {len(specs)} segments; at most {MAX_SEGMENTS}.")
    seen: set[str] = set()
    for spec in specs:
        key = spec.name.casefold()
        if key in seen:
            raise InvalidInput(f"{SETTING} names the segment {spec.name!r} twice.")
        seen.add(key)
    return specs


def _listed(decoded: dict[str, Any]) -> list[Any] | None:
    """The item list of the ``segments``/``sections`` encodings, or None for a plain map."""
    for key in ("segments", "sections"):
        if key in decoded and isinstance(decoded[key], list):
            others = set(decoded) - {key}
            if others:
                raise InvalidInput(
                    f"{SETTING}: with a {key!r} list, no other keys are allowed "
                    f"(found {', '.join(sorted(others))})."
                )
            items: list[Any] = decoded[key]
            return items
    return None


def _item(item: Any, index: int) -> SegmentSpec:
    if isinstance(item, str):
        return _pair(item, "")
    if not isinstance(item, dict):
        raise InvalidInput(f"{SETTING}: segment {index} must be an object with a name.")
    name = item.get("name", item.get("title"))
    return _pair(name, item.get("description", ""), index)


def _pair(name: Any, description: Any, index: int | None = None) -> SegmentSpec:
    where = f"segment {index}" if index is not None else "a segment"
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{SETTING}: {where} needs a non-empty string name.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"{SETTING}: the name of {where} is over {MAX_NAME_CHARS} characters.")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise InvalidInput(f"{SETTING}: the description of {name!r} must be a string.")
    return SegmentSpec(name=name.strip(), description=description.strip())
