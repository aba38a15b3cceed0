"""``Document`` → the convert step's output formats: markdown, html, json (block tree), chunks.

Shapes follow the hosted API's convert results: markdown pages are introduced by
``\\n\\n{N}`` + 48 dashes when paginated, json is a Document → Page → block tree, and chunks is a
flat ``{"blocks": [...]}`` list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.processors.document import BBox, Block, Document

OUTPUT_FORMATS = ("markdown", "html", "json", "chunks")
PAGE_SEPARATOR = "-" * 48
ORDERED_ITEM = re.compile(r"^\(?\d{1,3}[.)]\s")


@dataclass(frozen=True, slots=True)
class RenderOptions:
    paginate: bool = False
    add_block_ids: bool = False
    include_markdown_in_chunks: bool = False
    token_efficient_markdown: bool = False


def parse_output_formats(value: str) -> list[str]:
    """``"markdown, json"`` → ``["markdown", "json"]``; unknown or empty → ``InvalidInput``."""
    formats: list[str] = []
    for part in value.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in OUTPUT_FORMATS:
            raise InvalidInput(
                f"Unknown output_format {name!r}; expected one or more of "
                f"{', '.join(OUTPUT_FORMATS)} (comma-separated)."
            )
        if name not in formats:
            formats.append(name)
    if not formats:
        raise InvalidInput(f"output_format {value!r} names no format.")
    return formats


def render(document: Document, formats: list[str], options: RenderOptions) -> dict[str, Any]:
    """One key per requested format, in the order asked."""
    renderers: dict[str, Callable[[Document, RenderOptions], Any]] = {
        "markdown": render_markdown,
        "html": render_html,
        "json": render_json,
        "chunks": render_chunks,
    }
    return {name: renderers[name](document, options) for name in formats}


def render_markdown(document: Document, options: RenderOptions) -> str:
    if not options.paginate:
        text = _markdown_of(document.blocks)
    else:
        by_page = _blocks_by_page(document)
        text = "".join(
            f"\n\n{{{page}}}{PAGE_SEPARATOR}\n\n{_markdown_of(by_page.get(page, []))}"
            for page in document.pages
        )
        # An empty page would leave four newlines in a row; the hosted output never has more
        # than two.
        text = re.sub(r"\n{3,}", "\n\n", text)
    return compact_markdown(text) if options.token_efficient_markdown else text


_TABLE_LINE = re.compile(r"^\|.*\|$")
_CELL_PADDING = re.compile(r"[ \t]*(?<!\\)\|[ \t]*")
_RULE_CELL = re.compile(r"\|-+(?=\|)")
_EMPTY_PICTURE = re.compile(r"^!\[\]\([^)]*\)$")


def compact_markdown(text: str) -> str:
    """``token_efficient_markdown``: the same content in fewer tokens — table cells without
    padding and rules of one dash, pictures without alt text dropped, blank-line runs and
    trailing spaces removed."""
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if _TABLE_LINE.match(line):
            line = _RULE_CELL.sub("|-", _CELL_PADDING.sub("|", line))
        elif _EMPTY_PICTURE.match(line):
            continue
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def render_html(document: Document, options: RenderOptions) -> str:
    if not options.paginate:
        return _html_of(document.blocks, options.add_block_ids)
    by_page = _blocks_by_page(document)
    return "\n".join(
        f'<div class="page" data-page-id="{page}">\n'
        f"{_html_of(by_page.get(page, []), options.add_block_ids)}\n</div>"
        for page in document.pages
    )


def render_json(document: Document, options: RenderOptions) -> dict[str, Any]:
    by_page = _blocks_by_page(document)
    pages: list[dict[str, Any]] = []
    for page in document.pages:
        size = document.page_size(page)
        page_box: BBox | None = (0.0, 0.0, size[0], size[1]) if size else None
        pages.append(
            {
                "id": f"/page/{page}/Page/0",
                "block_type": "Page",
                "page": page,
                "bbox": list(page_box) if page_box else None,
                "polygon": _polygon(page_box) if page_box else None,
                "children": [
                    {
                        "id": block.block_id,
                        "block_type": block.block_type,
                        "html": block_html(block),
                        "bbox": list(block.bbox),
                        "polygon": _polygon(block.bbox),
                        "page": block.page,
                        "text": block.text,
                        "level": block.level,
                    }
                    for block in by_page.get(page, [])
                ],
            }
        )
    return {"block_type": "Document", "children": pages}


def render_chunks(document: Document, options: RenderOptions) -> dict[str, Any]:
    chunks: list[dict[str, Any]] = []
    for block in document.blocks:
        chunk: dict[str, Any] = {
            "id": block.block_id,
            "block_type": block.block_type,
            "page": block.page,
            "bbox": list(block.bbox),
            "polygon": _polygon(block.bbox),
            "html": block_html(block),
        }
        if options.include_markdown_in_chunks:
            chunk["markdown"] = block_markdown(block)
        chunks.append(chunk)
    return {"blocks": chunks}


def block_markdown(block: Block) -> str:
    if block.type == "table":
        return table_markdown(block.rows or ())
    if block.type == "picture":
        return f"![{block.text}]({block.image or ''})"
    if block.type == "heading":
        return f"{'#' * (block.level or 1)} {block.text}"
    if block.type == "code":
        return code_markdown(block.text, block.language)
    if block.type == "list_item":
        # Numbered items keep their own number ("3. Apples" is already a Markdown list item).
        return block.text if ORDERED_ITEM.match(block.text) else f"- {block.text}"
    # A paragraph that starts with "#" must not turn into a heading.
    return "\\" + block.text if block.text.startswith("#") else block.text


def block_html(block: Block, *, with_id: bool = False) -> str:
    attributes = f' data-block-id="{escape(block.block_id)}"' if with_id else ""
    text = escape(block.text, quote=False)
    if block.type == "table":
        return table_html(block.rows or (), attributes)
    if block.type == "picture":
        return f'<img{attributes} src="{escape(block.image or "")}" alt="{escape(block.text)}"/>'
    if block.type == "heading":
        level = block.level or 1
        return f"<h{level}{attributes}>{text}</h{level}>"
    if block.type == "list_item":
        return f"<li{attributes}>{text}</li>"
    if block.type == "code":
        language = f' class="language-{escape(block.language)}"' if block.language else ""
        return f"<pre{attributes}><code{language}>{text}</code></pre>"
    return f"<p{attributes}>{text}</p>"


def code_markdown(code: str, language: str | None) -> str:
    """A fenced code block; the fence is longer than any run of backticks in the code."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language or ''}\n{code}\n{fence}"


def table_markdown(rows: tuple[tuple[str, ...], ...]) -> str:
    """A pipe table; the first row is the header. Pipes and line breaks in cells are escaped."""
    if not rows:
        return ""
    width = max(len(row) for row in rows)

    def line(cells: tuple[str, ...]) -> str:
        padded = [*cells, *([""] * (width - len(cells)))]
        clean = [c.replace("|", "\\|").replace("\n", " ").strip() for c in padded]
        return "| " + " | ".join(clean) + " |"

    return "\n".join([line(rows[0]), "|" + "---|" * width, *(line(row) for row in rows[1:])])


def table_html(rows: tuple[tuple[str, ...], ...], attributes: str = "") -> str:
    if not rows:
        return f"<table{attributes}></table>"
    head = "".join(f"<th>{escape(cell, quote=False)}</th>" for cell in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell, quote=False)}</td>" for cell in row) + "</tr>"
        for row in rows[1:]
    )
    return f"<table{attributes}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _markdown_of(blocks: list[Block]) -> str:
    parts: list[str] = []
    for index, block in enumerate(blocks):
        if index:
            # Consecutive list items form one tight list; everything else is set apart.
            tight = block.type == "list_item" and blocks[index - 1].type == "list_item"
            parts.append("\n" if tight else "\n\n")
        parts.append(block_markdown(block))
    return "".join(parts)


def _html_of(blocks: list[Block], with_ids: bool) -> str:
    lines: list[str] = []
    in_list = False
    for block in blocks:
        if block.type == "list_item" and not in_list:
            lines.append("<ul>")
            in_list = True
        elif block.type != "list_item" and in_list:
            lines.append("</ul>")
            in_list = False
        lines.append(block_html(block, with_id=with_ids))
    if in_list:
        lines.append("</ul>")
    return "\n".join(lines)


def _blocks_by_page(document: Document) -> dict[int, list[Block]]:
    by_page: dict[int, list[Block]] = {}
    for block in document.blocks:
        by_page.setdefault(block.page, []).append(block)
    return by_page


def _polygon(box: BBox) -> list[list[float]]:
    x0, y0, x1, y1 = box
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
