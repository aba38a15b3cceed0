"""Extraction schemas (``sch_…``): a team's saved, versioned JSON schemas for ``extract`` steps.

An ``extract`` step names one with ``schema_id`` (and optionally ``schema_version``; the current
version by default) instead of sending ``page_schema``. Versions are immutable: a new
``schema_json`` is always stored as a new version, so pinned pipelines and past runs keep the
schema they used. When a run starts, the service layer freezes the schema into the step's
settings as ``page_schema``, with ``_schema`` naming the version it came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from pagemill.domain.errors import InvalidInput
from pagemill.domain.ids import has_prefix
from pagemill.domain.versioned import ResourceKind

SCHEMA_PREFIX = "sch_"

# The settings of an ``extract`` step that concern saved schemas.
PAGE_SCHEMA = "page_schema"
SCHEMA_ID = "schema_id"
SCHEMA_VERSION = "schema_version"
# What the API calls a saved schema's JSON (a version's payload).
SCHEMA_JSON = "schema_json"
# Written by the service layer when an execution is created; clients may not set it.
SCHEMA_KEY = "_schema"

MAX_SCHEMA_CHARS = 256 * 1024  # of the schema as compact JSON
MAX_SCHEMA_DEPTH = 32  # nested objects and arrays


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """What an ``extract`` step's settings ask for: a schema, and a version or the current."""

    schema_id: str
    version: int | None


def check_json_schema(raw: Any, where: str) -> dict[str, Any]:
    """A JSON schema an extraction can fill: an object whose ``properties`` is a non-empty
    object, valid against its meta-schema. ``where`` names the setting in messages."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be a JSON schema object with 'properties'.")
    schema = dict(raw)
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        raise InvalidInput(
            f"{where} must be a JSON schema object with a 'properties' object "
            "(the fields to extract)."
        )
    if _depth(schema) > MAX_SCHEMA_DEPTH:
        raise InvalidInput(f"{where} nests objects and arrays more than {MAX_SCHEMA_DEPTH} deep.")
    if len(json.dumps(schema, separators=(",", ":"), default=str)) > MAX_SCHEMA_CHARS:
        raise InvalidInput(f"{where} is longer than {MAX_SCHEMA_CHARS} characters as JSON.")
    validator = _validator(schema, where)
    try:
        validator.check_schema(schema)
    except SchemaError as error:
        at = "/".join(str(part) for part in error.absolute_path) or "the root"
        raise InvalidInput(
            f"{where} is not a valid JSON schema at {at}: {error.message}"
        ) from error
    return schema


def _validator(schema: dict[str, Any], where: str) -> Any:
    """The validator class of the draft ``$schema`` names (the latest draft without one).

    An unknown ``$schema`` is refused rather than validated with the latest draft (which
    jsonschema deprecates), and a non-string one would not even be looked up.
    """
    if "$schema" not in schema:
        return validator_for(schema)
    dialect = schema["$schema"]
    # ``default=None`` makes an unknown URI answer None instead of warning.
    known = validator_for(schema, default=cast(Any, None)) if isinstance(dialect, str) else None
    if known is None:
        raise InvalidInput(
            f"{where}.$schema must be the URI of a JSON Schema draft, such as "
            f"'https://json-schema.org/draft/2020-12/schema'; got {dialect!r}."
        )
    return known


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (iterative: no recursion limit)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_SCHEMA_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def schema_ref(settings: Mapping[str, Any]) -> SchemaRef | None:
    """The saved schema an ``extract`` step's settings name, None when they name none.

    ``schema_version`` is a version number ≥ 1 (or its decimal string: multipart forms send
    strings); without it the step uses the schema's current version at run time.
    """
    schema_id = settings.get(SCHEMA_ID)
    version = settings.get(SCHEMA_VERSION)
    if schema_id in (None, ""):
        if version not in (None, ""):
            raise InvalidInput(f"Setting '{SCHEMA_VERSION}' needs a '{SCHEMA_ID}'.")
        return None
    if not isinstance(schema_id, str) or not has_prefix(schema_id, SCHEMA_PREFIX):
        raise InvalidInput(
            f"Setting '{SCHEMA_ID}' must be an extraction schema id ({SCHEMA_PREFIX}…), "
            f"not {schema_id!r}."
        )
    if version in (None, ""):
        return SchemaRef(schema_id, None)
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version.strip())
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(
            f"Setting '{SCHEMA_VERSION}' must be an extraction schema version number ≥ 1, "
            f"not {version!r}."
        )
    return SchemaRef(schema_id, version)


def _check_schema_json(raw: Any) -> dict[str, Any]:
    return check_json_schema(raw, SCHEMA_JSON)


# A team's saved schemas: versioned team resources whose versions are JSON schemas.
EXTRACTION_SCHEMAS = ResourceKind(
    name="extraction schema", prefix=SCHEMA_PREFIX, payload=SCHEMA_JSON, check=_check_schema_json
)
