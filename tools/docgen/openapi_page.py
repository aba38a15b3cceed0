"""The HTTP API reference, rendered statically from the OpenAPI document of the FastAPI app:
every operation with its method, path, summary, parameters, body and responses, then every
schema. No JavaScript: the page is plain Markdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pagemill.api import create_app
from pagemill.services.container import Services
from tools.docgen.markdown import anchor, code, json_value, paragraphs, table

Schema = dict[str, Any]
METHODS = ("get", "post", "put", "patch", "delete")


@asynccontextmanager
async def _no_runtime() -> AsyncIterator[Services]:
    # The document is built from the routes alone; the app is never started.
    raise RuntimeError("the documentation build does not start the app")
    yield  # pragma: no cover


def openapi_document() -> Schema:
    document: Schema = create_app(_no_runtime).openapi()
    return document


def schema_anchor(name: str) -> str:
    return anchor("schema", name)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_text(schema: Schema) -> str:
    """A schema as a short type: ``[Pipeline](#…)``, ``string or null``, ``array of integer``."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{schema_anchor(name)})"
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " or ".join(type_text(option) for option in schema[combinator])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_text(schema["allOf"][0])
    if "enum" in schema:
        return "one of " + ", ".join(code(json_value(value)) for value in schema["enum"])
    if "const" in schema:
        return code(json_value(schema["const"]))
    kind = schema.get("type")
    if kind == "array":
        return f"array of {type_text(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_text(schema['additionalProperties'])}"
    if kind == "string" and schema.get("format") == "binary":
        return "file"
    if kind is None:
        return "any"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _bounds(schema: Schema) -> str:
    bounds = [
        f"{symbol} {schema[key]}"
        for key, symbol in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
        )
        if key in schema
    ]
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            bounds.append(_bounds(option))
    return ", ".join(bound for bound in bounds if bound)


def _type_with_bounds(schema: Schema) -> str:
    bounds = _bounds(schema)
    return f"{type_text(schema)}; {bounds}" if bounds else type_text(schema)


def _default(schema: Schema) -> str:
    return code(json_value(schema["default"])) if "default" in schema else ""


def _resolve(schema: Schema, document: Schema) -> Schema:
    while "$ref" in schema:
        schema = document["components"]["schemas"][_ref_name(schema["$ref"])]
    return schema


def _fields(schema: Schema) -> list[str]:
    required = set(schema.get("required", []))
    rows = (
        (
            code(name),
            _type_with_bounds(field),
            "yes" if name in required else "",
            _default(field),
            field.get("description", ""),
        )
        for name, field in schema.get("properties", {}).items()
    )
    return table(("field", "type", "required", "default", "description"), rows)


def _parameters(operation: Schema) -> list[str]:
    parameters = operation.get("parameters", [])
    if not parameters:
        return []
    rows = (
        (
            code(p["name"]),
            p["in"],
            _type_with_bounds(p.get("schema", {})),
            "yes" if p.get("required") else "",
            _default(p.get("schema", {})),
            p.get("description", ""),
        )
        for p in parameters
    )
    return [
        "**Parameters**",
        "",
        *table(("name", "in", "type", "required", "default", "description"), rows),
        "",
    ]


def _request_body(operation: Schema, document: Schema) -> list[str]:
    body = operation.get("requestBody")
    if not body:
        return []
    lines: list[str] = []
    required = "required" if body.get("required") else "optional"
    for media_type, content in body.get("content", {}).items():
        schema = content.get("schema", {})
        lines += [f"**Request body** ({code(media_type)}, {required}): {type_text(schema)}", ""]
        resolved = _resolve(schema, document)
        if "$ref" not in schema and resolved.get("properties"):
            lines += [*_fields(resolved), ""]
    return lines


def _responses(operation: Schema) -> list[str]:
    rows = []
    for status, response in sorted(operation.get("responses", {}).items()):
        bodies = [
            f"{type_text(content['schema'])} ({code(media_type)})"
            for media_type, content in response.get("content", {}).items()
            if content.get("schema")
        ]
        rows.append((code(status), response.get("description", ""), "; ".join(bodies)))
    return ["**Responses**", "", *table(("status", "meaning", "body"), rows), ""]


def _operation(method: str, path: str, operation: Schema, document: Schema) -> list[str]:
    lines = [
        f"### `{method.upper()} {path}` {{ #{anchor(method, path)} }}",
        "",
        f"**{operation.get('summary', '')}**",
        "",
        *paragraphs(operation.get("description", "")),
    ]
    if operation.get("deprecated"):
        lines += ["*Deprecated.*", ""]
    auth = operation.get("security")
    if auth is not None:
        schemes = sorted({name for requirement in auth for name in requirement})
        lines += [
            "Authentication: " + (", ".join(code(s) for s in schemes) if schemes else "none"),
            "",
        ]
    return [
        *lines,
        *_parameters(operation),
        *_request_body(operation, document),
        *_responses(operation),
    ]


def _operations_by_tag(document: Schema) -> dict[str, list[tuple[str, str, Schema]]]:
    tags: dict[str, list[tuple[str, str, Schema]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                tags.setdefault(tag, []).append((method, path, item[method]))
    return tags


def _security_schemes(document: Schema) -> list[str]:
    schemes = document.get("components", {}).get("securitySchemes", {})
    if not schemes:
        return []
    rows = (
        (
            code(name),
            scheme.get("type", ""),
            " ".join(str(scheme[k]) for k in ("in", "name", "scheme") if k in scheme),
            scheme.get("description", ""),
        )
        for name, scheme in schemes.items()
    )
    return ["## Authentication", "", *table(("scheme", "type", "where", "description"), rows), ""]


def _schemas(document: Schema) -> list[str]:
    lines = ["## Schemas", ""]
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        lines += [f"### `{name}` {{ #{schema_anchor(name)} }}", ""]
        lines += paragraphs(schema.get("description", ""))
        if schema.get("properties"):
            lines += [*_fields(schema), ""]
        else:
            lines += [f"Type: {_type_with_bounds(schema)}", ""]
    return lines


def render(document: Schema | None = None) -> str:
    document = document or openapi_document()
    info = document.get("info", {})
    by_tag = _operations_by_tag(document)
    count = sum(len(operations) for operations in by_tag.values())
    lines = [
        "# HTTP API reference",
        "",
        f"Generated from the OpenAPI document of {info.get('title', '')} "
        f"{info.get('version', '')} when the documentation is built: {count} operations. A "
        "running server serves the same document at `/openapi.json` and interactive pages at "
        "`/docs`. What each endpoint does beyond its shape, and the choices made where the "
        "hosted API's documentation is silent, are in [The HTTP API](../api.md).",
        "",
        *_security_schemes(document),
        "## Operations",
        "",
    ]
    for tag, operations in by_tag.items():
        rows = (
            (f"[{code(m.upper() + ' ' + p)}](#{anchor(m, p)})", o.get("summary", ""))
            for m, p, o in operations
        )
        lines += [f"**{tag.capitalize()}**", "", *table(("operation", "summary"), rows), ""]
    for tag, operations in by_tag.items():
        lines += [f"## {tag.capitalize()}", ""]
        for method, path, operation in operations:
            lines += _operation(method, path, operation, document)
    lines += _schemas(document)
    return "\n".join(lines)
