"""A ``TrackedDocument`` → Markdown, HTML, chunks and a structured list of the changes.

The markup is the same in Markdown and HTML, and ``create_document`` reads it back:

* an insertion: ``<ins data-author="Ann" data-date="2024-05-01T10:00:00Z">text</ins>``;
* a deletion: ``<del data-author=… data-date=…>text</del>``;
* a move: ``<del class="move-from" data-move="name" …>`` at the source and
  ``<ins class="move-to" data-move="name" …>`` at the destination;
* a comment, in Markdown: ``<comment data-id="3" data-author=… data-date=… data-text="the
  comment">anchored text</comment>``; in HTML the anchored text is a
  ``<span class="comment" data-comment-id="3" …>`` and the comments follow the body in a
  ``<section class="comments">``.

Document text is HTML-escaped in both outputs, so the only tags are the markup's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from pagemill.processors.convert.render import PAGE_SEPARATOR
from pagemill.processors.document import BLOCK_TYPE_NAMES
from pagemill.processors.track_changes.reader import (
    DELETED,
    INSERTED,
    MOVED_FROM,
    MOVED_TO,
    TEXT,
    Comment,
    Paragraph,
    Span,
    TrackedDocument,
)

_TAGS = {
    INSERTED: ("ins", None),
    DELETED: ("del", None),
    MOVED_FROM: ("del", "move-from"),
    MOVED_TO: ("ins", "move-to"),
}


def _attributes(pairs: Iterable[tuple[str, str | None]]) -> str:
    return "".join(f' {name}="{escape(value)}"' for name, value in pairs if value is not None)


def _change_tag(span: Span, body: str) -> str:
    if span.kind == TEXT:
        return body
    tag, css_class = _TAGS[span.kind]
    attributes = _attributes(
        [
            ("class", css_class),
            ("data-move", span.move if css_class else None),
            ("data-author", span.author),
            ("data-date", span.date),
        ]
    )
    return f"<{tag}{attributes}>{body}</{tag}>"


def inline(spans: list[Span], comments: dict[str, Comment], *, html: bool) -> str:
    """Spans with their revision tags; runs of text under the same comments wrapped once."""
    parts: list[str] = []
    index = 0
    while index < len(spans):
        group = spans[index].comments
        end = index + 1
        while end < len(spans) and spans[end].comments == group and not spans[end].marker:
            end += 1
        if spans[index].marker:
            end = index + 1
        body = "".join(
            _change_tag(span, escape(span.text, quote=False)) for span in spans[index:end]
        )
        for comment_id in reversed(group):
            body = _comment_tag(comments.get(comment_id), comment_id, body, html=html)
        parts.append(body)
        index = end
    return "".join(parts)


def _comment_tag(comment: Comment | None, comment_id: str, body: str, *, html: bool) -> str:
    author = comment.author if comment else None
    date = comment.date if comment else None
    if html:
        attributes = _attributes(
            [
                ("class", "comment"),
                ("data-comment-id", comment_id),
                ("data-author", author),
                ("data-date", date),
            ]
        )
        return f"<span{attributes}>{body}</span>"
    attributes = _attributes(
        [
            ("data-id", comment_id),
            ("data-author", author),
            ("data-date", date),
            ("data-text", comment.text if comment else None),
        ]
    )
    return f"<comment{attributes}>{body}</comment>"


def block_markdown(paragraph: Paragraph, comments: dict[str, Comment]) -> str:
    if paragraph.kind == "table":
        rows = paragraph.rows or []
        width = max(len(row) for row in rows)
        lines = []
        for number, row in enumerate(rows):
            cells = [inline(cell, comments, html=False).replace("|", "\\|") for cell in row]
            cells += [""] * (width - len(cells))
            lines.append("| " + " | ".join(cells) + " |")
            if number == 0:
                lines.append("|" + "---|" * width)
        return "\n".join(lines)
    text = inline(paragraph.spans, comments, html=False)
    if paragraph.kind == "heading":
        return f"{'#' * (paragraph.level or 1)} {text}"
    if paragraph.kind == "list_item":
        return f"- {text}"
    return text


def block_html(paragraph: Paragraph, comments: dict[str, Comment]) -> str:
    if paragraph.kind == "table":
        rows = paragraph.rows or []
        body = "".join(
            "<tr>"
            + "".join(f"<td>{inline(cell, comments, html=True)}</td>" for cell in row)
            + "</tr>"
            for row in rows
        )
        return f"<table><tbody>{body}</tbody></table>"
    text = inline(paragraph.spans, comments, html=True)
    if paragraph.kind == "heading":
        level = paragraph.level or 1
        return f"<h{level}>{text}</h{level}>"
    if paragraph.kind == "list_item":
        return f"<li>{text}</li>"
    return f"<p>{text}</p>"


def render_markdown(document: TrackedDocument, pages: list[int], paginate: bool) -> str:
    def page_text(blocks: list[Paragraph]) -> str:
        parts: list[str] = []
        for index, block in enumerate(blocks):
            if index:
                tight = block.kind == "list_item" and blocks[index - 1].kind == "list_item"
                parts.append("\n" if tight else "\n\n")
            parts.append(block_markdown(block, document.comments))
        return "".join(parts)

    by_page = _by_page(document, pages)
    if not paginate:
        return page_text([block for page in pages for block in by_page[page]])
    return "".join(
        f"\n\n{{{page}}}{PAGE_SEPARATOR}\n\n{page_text(by_page[page])}" for page in pages
    )


def render_html(document: TrackedDocument, pages: list[int], paginate: bool) -> str:
    def page_html(blocks: list[Paragraph]) -> str:
        lines: list[str] = []
        in_list = False
        for block in blocks:
            if (block.kind == "list_item") != in_list:
                lines.append("<ul>" if not in_list else "</ul>")
                in_list = not in_list
            lines.append(block_html(block, document.comments))
        if in_list:
            lines.append("</ul>")
        return "\n".join(lines)

    by_page = _by_page(document, pages)
    if paginate:
        body = "\n".join(
            f'<div class="page" data-page-id="{page}">\n{page_html(by_page[page])}\n</div>'
            for page in pages
        )
    else:
        body = page_html([block for page in pages for block in by_page[page]])
    shown = _comment_ids(block for page in pages for block in by_page[page])
    notes = [
        f'<aside class="comment" id="comment-{escape(c.comment_id)}"'
        f"{_attributes([('data-author', c.author), ('data-date', c.date)])}>"
        f"{escape(c.text, quote=False)}</aside>"
        for comment_id in shown
        if (c := document.comments.get(comment_id)) is not None
    ]
    if notes:
        body += '\n<section class="comments">\n' + "\n".join(notes) + "\n</section>"
    return body


def render_chunks(document: TrackedDocument, pages: list[int]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    by_page = _by_page(document, pages)
    for page in pages:
        for index, block in enumerate(by_page[page]):
            name = BLOCK_TYPE_NAMES[block.kind]
            blocks.append(
                {
                    "id": f"/page/{page}/{name}/{index}",
                    "block_type": name,
                    "page": page,
                    "bbox": [0.0, 0.0, 0.0, 0.0],
                    "polygon": [[0.0, 0.0]] * 4,
                    "html": block_html(block, document.comments),
                    "markdown": block_markdown(block, document.comments),
                }
            )
    return {"blocks": blocks}


def changes(document: TrackedDocument, pages: list[int]) -> list[dict[str, Any]]:
    """Every revision of the selected pages, in document order."""
    found: list[dict[str, Any]] = []
    by_page = _by_page(document, pages)
    for page in pages:
        for block in by_page[page]:
            for span in _spans(block):
                if span.kind != TEXT and span.text:
                    found.append(
                        {
                            "type": {MOVED_FROM: "move_from", MOVED_TO: "move_to"}.get(
                                span.kind, "insertion" if span.kind == INSERTED else "deletion"
                            ),
                            "text": span.text,
                            "author": span.author,
                            "date": span.date,
                            "move": span.move,
                            "page": page,
                        }
                    )
    return found


def comment_list(document: TrackedDocument, pages: list[int]) -> list[dict[str, Any]]:
    by_page = _by_page(document, pages)
    anchors: dict[str, str] = {}
    for page in pages:
        for block in by_page[page]:
            for span in _spans(block):
                for comment_id in span.comments:
                    anchors[comment_id] = anchors.get(comment_id, "") + span.text
    return [
        {
            "id": comment.comment_id,
            "author": comment.author,
            "date": comment.date,
            "initials": comment.initials,
            "text": comment.text,
            "anchor": anchors.get(comment.comment_id, ""),
        }
        for comment in document.comments.values()
        if comment.comment_id in anchors
    ]


def _spans(block: Paragraph) -> list[Span]:
    if block.rows is None:
        return block.spans
    return [span for row in block.rows for cell in row for span in cell]


def _comment_ids(blocks: Iterable[Paragraph]) -> list[str]:
    return list(
        dict.fromkeys(comment_id for b in blocks for s in _spans(b) for comment_id in s.comments)
    )


def _by_page(document: TrackedDocument, pages: list[int]) -> dict[int, list[Paragraph]]:
    grouped: dict[int, list[Paragraph]] = {page: [] for page in pages}
    for block in document.paragraphs:
        if block.page in grouped:
            grouped[block.page].append(block)
    return grouped


RENDERERS: dict[str, Callable[[TrackedDocument, list[int], bool], Any]] = {
    "markdown": render_markdown,
    "html": render_html,
    "chunks": lambda document, pages, _paginate: render_chunks(document, pages),
    "json": lambda document, pages, _paginate: {
        "changes": changes(document, pages),
        "comments": comment_list(document, pages),
    },
}
