"""``page_schema``: reading it, walking its fields, and validating what was extracted.

Validation never fails an extraction: a value the schema refuses is dropped (the smallest
part that fails — one key of one line item rather than the whole list) and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.validators import validator_for

from pagemill.domain.extraction_schemas import check_json_schema
from pagemill.domain.pipelines import decode_json_setting

SETTING = "page_schema"
MAX_DEPTH = 8
MAX_PRUNES = 500


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str
    path: tuple[str, ...]
    kind: str  # string | number | integer | boolean | object | array
    fmt: str | None = None
    enum: tuple[Any, ...] | None = None
    description: str = ""
    title: str = ""
    children: tuple[FieldSpec, ...] = ()  # objects
    items: FieldSpec | None = None  # arrays

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def words(self) -> list[str]:
        return name_words(self.key)


def name_words(name: str) -> list[str]:
    """``invoiceNumber``/``invoice_number``/``Invoice-No`` → ``["invoice", "number"]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return [word.lower() for word in re.split(r"[\s_\-./]+", spaced) if word]


def load_schema(value: Any) -> dict[str, Any]:
    """The schema of a ``page_schema`` setting; ``InvalidInput`` unless it can be filled."""
    return check_json_schema(decode_json_setting(value, SETTING), SETTING)


def fields_of(schema: dict[str, Any]) -> list[FieldSpec]:
    return _properties(schema, schema, (), 0)


def _properties(
    node: dict[str, Any], root: dict[str, Any], path: tuple[str, ...], depth: int
) -> list[FieldSpec]:
    properties = node.get("properties")
    if not isinstance(properties, dict) or depth > MAX_DEPTH:
        return []
    return [
        _field(key, _resolve(sub, root), root, (*path, key), depth)
        for key, sub in properties.items()
        if isinstance(sub, dict)
    ]


def _field(
    key: str, node: dict[str, Any], root: dict[str, Any], path: tuple[str, ...], depth: int
) -> FieldSpec:
    kind = _kind(node)
    items = None
    if kind == "array" and isinstance(node.get("items"), dict):
        item_node = _resolve(node["items"], root)
        items = _field(key, item_node, root, (*path, "[]"), depth + 1)
    enum = node.get("enum")
    return FieldSpec(
        key=key,
        path=path,
        kind=kind,
        fmt=node.get("format") if isinstance(node.get("format"), str) else None,
        enum=tuple(enum) if isinstance(enum, list) and enum else None,
        description=str(node.get("description") or ""),
        title=str(node.get("title") or ""),
        children=tuple(_properties(node, root, path, depth + 1)) if kind == "object" else (),
        items=items,
    )


def _resolve(node: dict[str, Any], root: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Follow local ``$ref``s and pick the first non-null branch of ``anyOf``/``oneOf``."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and depth < MAX_DEPTH:
        target: Any = root
        for part in ref[2:].split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(target, dict)
                else {}
            )
        if isinstance(target, dict):
            return _resolve(
                {**target, **{k: v for k, v in node.items() if k != "$ref"}}, root, depth + 1
            )
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if isinstance(branches, list):
            for branch in branches:
                if isinstance(branch, dict) and branch.get("type") != "null":
                    merged = {**{k: v for k, v in node.items() if k != key}, **branch}
                    return _resolve(merged, root, depth + 1)
    return node


def _kind(node: dict[str, Any]) -> str:
    declared = node.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str) and declared in (
        "string",
        "number",
        "integer",
        "boolean",
        "object",
        "array",
    ):
        return declared
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        first = enum[0]
        if isinstance(first, bool):
            return "boolean"
        if isinstance(first, int):
            return "integer"
        if isinstance(first, float):
            return "number"
    return "string"


def prune_invalid(
    schema: dict[str, Any], data: dict[str, Any]
) -> tuple[list[dict[str, str]], list[str]]:
    """Drop from ``data`` (in place) what ``schema`` refuses.

    Returns the dropped fields (``{"field", "error"}``) and the problems that dropping cannot
    fix, such as a required field that was not found.
    """
    validator = validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    dropped: list[dict[str, str]] = []
    unfixable: list[str] = []
    for _ in range(MAX_PRUNES):
        errors = [e for e in validator.iter_errors(data) if e.message not in unfixable]
        removable = [e for e in errors if e.absolute_path]
        if not removable:
            unfixable.extend(e.message for e in errors if e.message not in unfixable)
            break
        error = min(removable, key=lambda e: -len(e.absolute_path))
        path = list(error.absolute_path)
        dropped.append({"field": ".".join(str(p) for p in path), "error": error.message})
        _remove(data, path)
    return dropped, unfixable


def _remove(data: Any, path: list[Any]) -> None:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
