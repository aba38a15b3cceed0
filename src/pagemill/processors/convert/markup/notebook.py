"""JSON and Jupyter notebooks → blocks.

* JSON: the document pretty-printed (two-space indent, non-ASCII kept) in one ``json`` code
  block; JSON Lines (one value per line) stay one value per line. A file named ``.json`` that
  does not parse is its text in a code block, unlabelled.
* Notebooks (nbformat 4, and 3's worksheets): markdown cells are Markdown (headings, lists,
  tables, as a Markdown file reads); code cells are code blocks in the notebook's language
  (``metadata.kernelspec.language`` or ``language_info.name``); raw cells unlabelled code
  blocks. Outputs follow their cell: streams and ``text/plain`` results as unlabelled code
  blocks, ``text/markdown`` as Markdown, errors as "Name: value"; PNG/JPEG outputs are pictures
  with ``include_images``. HTML outputs are left out when a plain-text twin exists.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pagemill.processors.convert.office.safety import BlockSink, collapse
from pagemill.processors.convert.web.html import BlockWriter, make_soup

IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}


def load_json(text: str) -> Any:
    """The JSON value, or ``ValueError`` (also for nesting deeper than the parser goes)."""
    try:
        return json.loads(text)
    except RecursionError as error:
        raise ValueError("JSON nested too deep") from error


def is_notebook(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and "nbformat" in value
        and ("cells" in value or "worksheets" in value)
    )


def write_json(text: str, sink: BlockSink) -> dict[str, object]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # nested deeper than the parser goes: kept as text
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            values = [json.loads(line) for line in lines]
        except (ValueError, RecursionError):
            sink.add(0, "code", text.strip("\n"))
            return {"parser": "text", "note": "not valid JSON; kept as text"}
        code = "\n".join(json.dumps(item, ensure_ascii=False) for item in values)
        sink.add(0, "code", code, language="json")
        return {"parser": "json-lines", "values": len(values)}
    sink.add(0, "code", json.dumps(value, indent=2, ensure_ascii=False), language="json")
    return {"parser": "json"}


def write_notebook(
    notebook: dict[str, Any], sink: BlockSink, *, include_images: bool
) -> dict[str, object]:
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    language = _language(metadata)
    cells = notebook.get("cells")
    if not isinstance(cells, list):  # nbformat 3
        worksheets = notebook.get("worksheets") or [{}]
        cells = [cell for sheet in worksheets for cell in (sheet.get("cells") or [])]
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type")
        source = _joined(cell.get("source", cell.get("input", "")))
        if kind in ("markdown", "heading"):
            if kind == "heading":  # nbformat 3 heading cells
                source = "#" * int(cell.get("level", 1)) + " " + source
            write_markdown(source, sink)
        elif kind == "code":
            if source.strip():
                sink.add(0, "code", source.strip("\n"), language=language)
            for output in cell.get("outputs") or []:
                if isinstance(output, dict):
                    _output(output, sink, include_images=include_images)
        elif kind == "raw" and source.strip():
            sink.add(0, "code", source.strip("\n"))
    found: dict[str, object] = {"parser": "ipynb", "cells": len(cells)}
    if language:
        found["language"] = language
    heading = next((block.text for block in sink.blocks if block.type == "heading"), None)
    if heading:
        found["title"] = heading
    return found


def write_markdown(source: str, sink: BlockSink) -> None:
    """Markdown as the text parser reads a Markdown file (raw HTML escaped, never run)."""
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    html = renderer.render(source)
    BlockWriter(sink, 0, furniture="content", images=None).write(make_soup(html.encode()))


def _output(output: dict[str, Any], sink: BlockSink, *, include_images: bool) -> None:
    kind = output.get("output_type")
    if kind == "stream":
        text = _joined(output.get("text", ""))
        if text.strip():
            sink.add(0, "code", text.strip("\n"))
    elif kind == "error":
        words = collapse(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
        sink.add(0, "paragraph", words)
    elif kind in ("execute_result", "display_data", "pyout", "display"):
        data = output.get("data") if isinstance(output.get("data"), dict) else output
        assert isinstance(data, dict)
        if include_images:
            for mime, extension in IMAGE_TYPES.items():
                payload = data.get(mime) or data.get(extension)
                if isinstance(payload, str | list):
                    try:
                        image = base64.b64decode(_joined(payload), validate=False)
                    except (binascii.Error, ValueError):
                        continue
                    sink.add_picture(0, image, extension, "")
        if data.get("text/markdown"):
            write_markdown(_joined(data["text/markdown"]), sink)
            return
        plain = _joined(data.get("text/plain", data.get("text", "")))
        if plain.strip():
            sink.add(0, "code", plain.strip("\n"))


def _language(metadata: dict[str, Any]) -> str | None:
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        section = metadata.get(key)
        if isinstance(section, dict) and isinstance(section.get(field), str):
            return str(section[field]).lower() or None
    language = metadata.get("language")
    return language.lower() if isinstance(language, str) and language else None


def _joined(value: Any) -> str:
    """Notebook text: a string, or a list of lines that carry their own line breaks."""
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return str(value) if value is not None else ""
