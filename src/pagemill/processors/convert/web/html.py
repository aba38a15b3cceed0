"""HTML → ``Document`` with BeautifulSoup over lxml's HTML parser: one page (0).

The block writer here is shared with the EPUB parser (one spine document per page).

* Dropped: scripts, styles, ``noscript``, templates, ``nav``, ``aside``, forms and their controls,
  embedded frames and objects, inline SVG, ``hidden`` elements, comments.
* Page furniture: ``header`` and ``footer`` are dropped, or written as ``page_header`` /
  ``page_footer`` blocks with ``include_headers_footers``. A ``header`` inside ``article``,
  ``main`` or ``section`` is the heading area of that content (often holding its ``h1``) and
  is read as content. EPUB chapters have no site furniture, so there both are read as content.
* ``h1`` to ``h6`` → headings (level capped at 4); text of ``p``, ``div`` and other blocks →
  paragraphs (inline markup joins into its paragraph); ``li`` → list items (``ol`` items as
  "N. text", honouring ``start`` and ``value``; nested lists follow their parent item);
  ``table`` → a table block (``rowspan``/``colspan`` repeat the text in every covered cell; a
  nested table's text stays in its cell; a ``caption`` becomes a paragraph before it).
* ``img`` → a picture block with ``include_images``, only from a ``data:`` URI (HTML) or a file
  inside the EPUB; no URL is ever fetched.
* No geometry: every block's bbox is ``(0, 0, 0, 0)``.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office.safety import (
    MIB,
    BlockSink,
    collapse,
    parse_errors,
    selected_pages,
)
from pagemill.processors.document import Document

MAX_HTML_BYTES = 64 * MIB  # the parsed tree takes 10-20x the text in memory
MAX_IMAGE_BYTES = 20 * MIB
MAX_HEADING_LEVEL = 4
MAX_DEPTH = 200  # deeper nesting is read as plain text (no recursion limit to hit)
MAX_SPAN = 1000  # HTML caps colspan at 1000; rowspan's 65534 would be a denial of service
MAX_TABLE_COLUMNS = 1000
MAX_TABLE_CELLS = 250_000
DROPPED = (
    *("script", "style", "noscript", "template", "nav", "aside", "form", "button", "select"),
    *("input", "textarea", "iframe", "frame", "object", "embed", "svg", "canvas", "head"),
    *("audio", "video", "map", "dialog"),
)
BLOCKS = frozenset(
    {
        *("address", "article", "blockquote", "body", "center", "dd", "details", "div", "dl"),
        *("dt", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "hr", "html"),
        *("legend", "li", "main", "ol", "p", "pre", "section", "summary", "table", "ul"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "caption", "tr", "td", "th"),
    }
)
DATA_URI = re.compile(r"^data:(image/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*)(;base64)?,", re.I)
IMAGE_EXTENSIONS = {"jpeg": "jpg", "svg+xml": "svg", "x-icon": "ico"}

ImageLoader = Callable[[str], tuple[bytes, str] | None]  # src → (bytes, extension)


def parse(request: ParseRequest) -> Document:
    """The HTML parser of ``formats.PARSERS``."""
    with parse_errors("HTML"):
        if request.path.stat().st_size > MAX_HTML_BYTES:
            raise ProcessingError(f"The HTML document is larger than {MAX_HTML_BYTES} bytes.")
        pages = selected_pages(1, request.page_range, request.max_pages)
        soup = make_soup(request.path.read_bytes())
        metadata: dict[str, object] = {"parser": "beautifulsoup4+lxml"}
        title = collapse(soup.title.get_text()) if soup.title is not None else ""
        if title:
            metadata["title"] = title  # read before the writer drops <head>
        sink = BlockSink()
        writer = BlockWriter(
            sink,
            0,
            furniture="blocks" if request.include_headers_footers else "drop",
            images=data_uri_image if request.include_images else None,
        )
        writer.write(soup)
        return sink.document(1, pages, metadata)


def make_soup(data: bytes) -> Any:
    """A tree from lxml's HTML parser, which reads no DTD and expands no custom entity."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        # XHTML (EPUB) read as HTML is what we want; a short document can look like a path.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(data, "lxml")


def data_uri_image(src: str) -> tuple[bytes, str] | None:
    """The image in a ``data:image/...`` URI; ``None`` for anything else (never fetched)."""
    match = DATA_URI.match(src.strip())
    if match is None or match.group(1) is None:
        return None
    payload = src.strip()[match.end() :]
    if len(payload) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return None
    try:
        if match.group(3):
            data = base64.b64decode("".join(payload.split()), validate=True)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None
    subtype = match.group(1).split("/", 1)[1].lower()
    return (data, IMAGE_EXTENSIONS.get(subtype, subtype)) if data else None


class BlockWriter:
    """Writes the blocks of one HTML tree onto one page of a ``BlockSink``.

    ``furniture``: "drop" (page header/footer dropped), "blocks" (written as page_header /
    page_footer) or "content" (read like any other element, for EPUB chapters).
    ``images``: resolves an ``img`` source to bytes, or ``None`` to write no pictures.
    """

    def __init__(
        self, sink: BlockSink, page: int, *, furniture: str, images: ImageLoader | None
    ) -> None:
        self.sink = sink
        self.page = page
        self.furniture = furniture
        self.images = images
        self.buffer: list[str] = []
        self.marker: str | None = None  # "" or "N." while the text of a list item is pending
        self.pictures: list[tuple[bytes, str, str]] = []

    def write(self, root: Any) -> None:
        # Removed up front so that no text of theirs leaks into a heading or a table cell.
        for element in [*root.find_all(DROPPED), *root.find_all(attrs={"hidden": True})]:
            element.decompose()
        self.walk(root, 0)
        self.flush()

    def walk(self, node: Any, depth: int) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        for child in list(node.children):
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):  # doctype, CDATA, PIs
                    self.buffer.append(str(child))
            elif isinstance(child, Tag):
                if depth >= MAX_DEPTH:
                    self.buffer.append(" " + text_of(child) + " ")
                else:
                    self.element(child, (child.name or "").lower(), depth + 1)

    def element(self, tag: Any, name: str, depth: int) -> None:
        if name in ("header", "footer") and self.furniture != "content":
            in_content = tag.find_parent(["article", "main", "section"]) is not None
            if not (name == "header" and in_content):
                self.flush()
                if self.furniture == "blocks" and collapse(text_of(tag)):
                    kind = "page_header" if name == "header" else "page_footer"
                    self.sink.add(self.page, kind, collapse(text_of(tag)))
                return
        if len(name) == 2 and name[0] == "h" and name[1] in "123456":
            self.flush()
            text = collapse(text_of(tag))
            if text:
                self.sink.add(
                    self.page, "heading", text, level=min(int(name[1]), MAX_HEADING_LEVEL)
                )
        elif name in ("ul", "ol", "menu"):
            self.flush()
            self.list_items(tag, name == "ol", depth)
        elif name == "li":  # an item outside any list
            self.flush()
            self.marker = ""
            self.walk(tag, depth)
            self.flush()
        elif name == "table":
            self.flush()
            self.table(tag)
        elif name == "pre" and depth < MAX_DEPTH:
            self.flush()
            self.code(tag)
        elif name == "img":
            self.image(tag)
        elif name == "br":
            self.buffer.append(" ")
        elif name in BLOCKS:
            self.flush()
            self.walk(tag, depth)
            self.flush()
        else:
            self.walk(tag, depth)  # inline markup: its text joins the current paragraph

    def list_items(self, tag: Any, numbered: bool, depth: int) -> None:
        number = _int(tag.get("start"), 1) - 1
        for child in tag.find_all("li", recursive=False):
            number = _int(child.get("value"), number + 1)
            self.marker = f"{number}." if numbered else ""
            self.walk(child, depth)
            self.flush()
        self.marker = None

    def flush(self) -> None:
        text = collapse("".join(self.buffer))
        self.buffer.clear()
        if text:
            if self.marker is None:
                self.sink.add(self.page, "paragraph", text)
            else:
                self.sink.add(self.page, "list_item", f"{self.marker} {text}".strip())
                self.marker = None  # more text in the same item continues as paragraphs
        for data, extension, alt in self.pictures:
            self.sink.add_picture(self.page, data, extension, alt)
        self.pictures.clear()

    def code(self, pre: Any) -> None:
        """Preformatted text as a code block: its lines and indentation as written (``br`` a
        line break), the language from a ``language-…``/``lang-…`` class on it or its ``code``."""
        from bs4.element import NavigableString, PreformattedString, Tag

        parts: list[str] = []
        for node in pre.descendants:
            if isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
                parts.append(str(node))
            elif isinstance(node, Tag) and node.name == "br":
                parts.append("\n")
        text = "".join(parts).strip("\n")
        if text.strip():
            self.sink.add(self.page, "code", text, language=_language(pre))

    def image(self, tag: Any) -> None:
        src = tag.get("src")
        if self.images is None or not isinstance(src, str):
            return
        loaded = self.images(src)
        if loaded is not None:
            alt = tag.get("alt")
            self.pictures.append((loaded[0], loaded[1], alt if isinstance(alt, str) else ""))

    def table(self, table: Any) -> None:
        caption = table.find("caption")
        if caption is not None and caption.find_parent("table") is table:
            text = collapse(text_of(caption))
            if text:
                self.sink.add(self.page, "paragraph", text)
        rows: list[list[str]] = []
        pending: dict[int, list[Any]] = {}  # column → [rows still covered, text] from rowspan
        cells = 0
        for tr in table.find_all("tr"):
            if tr.find_parent("table") is not table:
                continue  # a nested table's row: its text is already in the outer cell
            row: list[str] = []
            for cell in tr.find_all(["td", "th"], recursive=False):
                self._spanned(row, pending)
                text = collapse(text_of(cell))
                rowspan = min(max(_int(cell.get("rowspan"), 1), 1), MAX_SPAN)
                colspan = min(max(_int(cell.get("colspan"), 1), 1), MAX_SPAN)
                for _ in range(min(colspan, MAX_TABLE_COLUMNS - len(row))):
                    if rowspan > 1:
                        pending[len(row)] = [rowspan - 1, text]
                    row.append(text)
            self._spanned(row, pending, to_end=True)
            cells += len(row)
            if cells > MAX_TABLE_CELLS:
                break
            rows.append(row)
        self.sink.add_table(self.page, rows)

    @staticmethod
    def _spanned(row: list[str], pending: dict[int, list[Any]], to_end: bool = False) -> None:
        """Fill the cells that rowspans from rows above cover, at the row's current end."""
        while len(row) < MAX_TABLE_COLUMNS and (
            len(row) in pending or (to_end and any(col >= len(row) for col in pending))
        ):
            span = pending.get(len(row))
            if span is None:
                row.append("")
                continue
            row.append(span[1])
            span[0] -= 1
            if span[0] == 0:
                del pending[len(row) - 1]


def _language(pre: Any) -> str | None:
    inner = pre.find("code")
    for element in (pre, inner) if inner is not None else (pre,):
        for name in element.get("class") or ():
            for prefix in ("language-", "lang-"):
                if name.startswith(prefix) and len(name) > len(prefix):
                    return str(name[len(prefix) :])
    return None


def text_of(tag: Any) -> str:
    """The text of an element, with a space wherever a block or line break separates text."""
    from bs4.element import NavigableString, PreformattedString, Tag

    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):
                parts.append(str(node))
        elif isinstance(node, Tag) and (node.name in BLOCKS or node.name in ("br", "img")):
            parts.append(" ")
    return "".join(parts)


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip()) if value is not None else default
    except ValueError:
        return default
