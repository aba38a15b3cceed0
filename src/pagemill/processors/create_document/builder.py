"""Markdown → DOCX with markdown-it-py (CommonMark + tables + strikethrough) and python-docx.

Blocks: headings (``Heading 1`` to ``6``), paragraphs, bulleted and numbered lists nested up to
three levels (``List Bullet N`` / ``List Number N``; every numbered list restarts at its own
start number), tables (``Table Grid``, header row bold), fenced and indented code (monospace),
block quotes (``Quote``), thematic breaks (a bottom border). Raw HTML blocks are read as
paragraphs with the inline rules of ``inline``.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from pagemill.processors.create_document.inline import MONOSPACE, InlineWriter

MAX_LIST_DEPTH = 3
MAX_HEADING_LEVEL = 6


@dataclass(slots=True)
class _List:
    ordered: bool
    start: int
    num_id: str | None = None  # the w:num created for a numbered list, on first item


@dataclass(slots=True)
class _Builder:
    document: Any
    notes: dict[str, list[str]] = field(default_factory=dict)
    next_id: list[int] = field(default_factory=lambda: [1000])
    lists: list[_List] = field(default_factory=list)
    quote: int = 0

    def writer(self) -> InlineWriter:
        return InlineWriter(self.document, self.notes, self.next_id)

    def paragraph(self, style: str | None, inline: Any) -> Any:
        paragraph = self.document.add_paragraph(style=style)
        if inline is not None and inline.children is not None:
            self.writer().write(paragraph, inline.children)
        return paragraph

    def list_style(self) -> tuple[str, _List]:
        current = self.lists[-1]
        depth = min(len(self.lists), MAX_LIST_DEPTH)
        base = "List Number" if current.ordered else "List Bullet"
        return (base if depth == 1 else f"{base} {depth}"), current

    def list_paragraph(self, inline: Any) -> None:
        style, current = self.list_style()
        paragraph = self.paragraph(style, inline)
        if current.ordered:
            if current.num_id is None:
                current.num_id = self.restart_numbering(style, current.start)
            if current.num_id is not None:
                num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                num_pr.get_or_add_numId().val = int(current.num_id)
                num_pr.get_or_add_ilvl().val = 0

    def restart_numbering(self, style_name: str, start: int) -> str | None:
        """A new ``w:num`` on the style's abstract numbering, restarting at ``start``."""
        style = self.document.styles[style_name]
        num_pr = style.element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        num_id = num_pr.find(qn("w:numId")) if num_pr is not None else None
        if num_id is None:
            return None
        numbering = self.document.part.numbering_part.element
        existing = numbering.num_having_numId(int(num_id.get(qn("w:val"))))
        new = numbering.add_num(existing.abstractNumId.val)
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), "0")
        start_override = OxmlElement("w:startOverride")
        start_override.set(qn("w:val"), str(start))
        override.append(start_override)
        new.append(override)
        return str(new.numId)

    def code(self, text: str) -> None:
        paragraph = self.document.add_paragraph(style="Quote" if self.quote else None)
        lines = text.rstrip("\n").split("\n")
        for index, line in enumerate(lines):
            run = paragraph.add_run(line)
            run.font.name = MONOSPACE
            if index < len(lines) - 1:
                run.add_break(WD_BREAK.LINE)

    def rule(self) -> None:
        paragraph = self.document.add_paragraph()
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for name, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
            bottom.set(qn(f"w:{name}"), value)
        borders.append(bottom)
        paragraph._p.get_or_add_pPr().append(borders)

    def table(self, rows: list[list[Any]]) -> None:
        width = max(len(row) for row in rows)
        table = self.document.add_table(rows=len(rows), cols=width)
        table.style = self.document.styles["Table Grid"]
        for r, row in enumerate(rows):
            for c, inline in enumerate(row):
                paragraph = table.cell(r, c).paragraphs[0]
                tokens = list(inline.children or [])
                if r == 0:  # the header row is bold
                    tokens = [_opened("strong_open"), *tokens, _opened("strong_close")]
                self.writer().write(paragraph, tokens)


def _opened(kind: str) -> Any:
    from markdown_it.token import Token

    return Token(kind, "strong", 1 if kind.endswith("open") else -1)


def build_docx(markdown: str) -> tuple[bytes, dict[str, list[str]]]:
    """The DOCX bytes of ``markdown`` and notes (images skipped or refused)."""
    from docx import Document
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    tokens = parser.parse(markdown)
    builder = _Builder(Document())
    _walk(builder, iter(tokens))
    buffer = io.BytesIO()
    builder.document.save(buffer)
    return buffer.getvalue(), builder.notes


def _walk(builder: _Builder, tokens: Iterator[Any]) -> None:
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            level = min(int(token.tag[1:]), MAX_HEADING_LEVEL)
            builder.paragraph(f"Heading {level}", next(tokens))
            next(tokens)  # heading_close
        elif kind == "paragraph_open":
            inline = next(tokens)
            next(tokens)  # paragraph_close
            if builder.lists:
                builder.list_paragraph(inline)
            else:
                builder.paragraph("Quote" if builder.quote else None, inline)
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrs.get("start", 1)
            builder.lists.append(_List(kind == "ordered_list_open", int(start or 1)))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            builder.lists.pop()
        elif kind == "blockquote_open":
            builder.quote += 1
        elif kind == "blockquote_close":
            builder.quote -= 1
        elif kind in ("fence", "code_block"):
            builder.code(token.content)
        elif kind == "hr":
            builder.rule()
        elif kind == "html_block":
            _html_block(builder, token.content)
        elif kind == "table_open":
            rows = _table_rows(tokens)
            if rows:
                builder.table(rows)


def _html_block(builder: _Builder, content: str) -> None:
    """Raw HTML between blocks: read as one paragraph of inline markup."""
    from markdown_it import MarkdownIt

    inline_parser = MarkdownIt("commonmark").enable("strikethrough")
    for token in inline_parser.parseInline(content.strip()):
        children = [copy.copy(child) for child in token.children or []]
        if children:
            paragraph = builder.document.add_paragraph()
            builder.writer().write(paragraph, children)


def _table_rows(tokens: Iterator[Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for token in tokens:
        if token.type == "table_close":
            break
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(token)
    return [row for row in rows if row]
