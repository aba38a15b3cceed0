"""A DOCX's body with its revisions and comments: paragraphs of spans, each span one kind.

The package passes ``office.safety.check_zip`` first (member count, sizes, compression ratio,
no DTD or entity declaration in any XML part), and its parts are then parsed with defusedxml,
so neither a zip bomb nor entity expansion reaches the parser.

What is read (WordprocessingML):

* ``w:ins`` / ``w:del`` around runs: insertions and deletions, with ``w:author`` and ``w:date``;
  deleted text is in ``w:delText``;
* ``w:moveFrom`` / ``w:moveTo``: a move's source and destination, paired by the ``w:name`` of
  their ``w:moveFromRangeStart`` / ``w:moveToRangeStart``;
* ``w:commentRangeStart`` / ``w:commentRangeEnd`` / ``w:commentReference``: which text each
  comment of ``word/comments.xml`` is anchored to;
* paragraph styles for headings (``Title``, ``Heading N`` or an outline level) and numbering for
  list items; tables cell by cell; ``w:br w:type="page"`` starts a new page.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.office.safety import check_zip

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCUMENT_PART = "word/document.xml"
COMMENTS_PART = "word/comments.xml"
STYLES_PART = "word/styles.xml"
HEADING_NAME = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
MAX_HEADING_LEVEL = 6
MAX_DEPTH = 200  # nesting this deep is not a real document

TEXT, INSERTED, DELETED, MOVED_FROM, MOVED_TO = "text", "ins", "del", "move_from", "move_to"
CHANGE_KINDS = (INSERTED, DELETED, MOVED_FROM, MOVED_TO)
_WRAPPERS = {
    f"{W}ins": INSERTED,
    f"{W}del": DELETED,
    f"{W}moveFrom": MOVED_FROM,
    f"{W}moveTo": MOVED_TO,
}
# Containers whose children are read as if they were the parent's own.
_MOVE_RANGES = {f"{W}moveFromRangeStart": MOVED_FROM, f"{W}moveToRangeStart": MOVED_TO}
_TRANSPARENT = {f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}smartTag", f"{W}hyperlink"}
_SKIPPED = {f"{W}pPr", f"{W}rPr", f"{W}tblPr", f"{W}trPr", f"{W}tcPr", f"{W}instrText"}


@dataclass(slots=True)
class Span:
    text: str
    kind: str = TEXT  # TEXT or one of CHANGE_KINDS
    author: str | None = None
    date: str | None = None
    move: str | None = None  # the move's name, pairing its source and destination
    comments: tuple[str, ...] = ()  # ids of the comments anchored on this text
    marker: bool = False  # an empty anchor: a comment on no text at all

    def same_run(self, other: Span) -> bool:
        return (self.kind, self.author, self.date, self.move, self.comments) == (
            other.kind,
            other.author,
            other.date,
            other.move,
            other.comments,
        ) and not (self.marker or other.marker)


@dataclass(slots=True)
class Paragraph:
    kind: str  # paragraph | heading | list_item | table
    page: int
    spans: list[Span] = field(default_factory=list)
    level: int | None = None
    rows: list[list[list[Span]]] | None = None  # tables: rows of cells of spans


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: str
    author: str | None
    date: str | None
    initials: str | None
    text: str


@dataclass(slots=True)
class TrackedDocument:
    paragraphs: list[Paragraph]
    comments: dict[str, Comment]
    page_count: int


def read_tracked_docx(path: Path) -> TrackedDocument:
    """Read the DOCX at ``path``; ``ProcessingError`` for anything that is not a safe DOCX."""
    check_zip(path, "DOCX")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if DOCUMENT_PART not in names:
                raise ProcessingError("The file is not a DOCX document (no word/document.xml).")
            body_root = _parse(archive.read(DOCUMENT_PART))
            comments_root = _parse(archive.read(COMMENTS_PART)) if COMMENTS_PART in names else None
            styles_root = _parse(archive.read(STYLES_PART)) if STYLES_PART in names else None
    except ProcessingError:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise ProcessingError(f"The DOCX file could not be read ({error}).") from error
    body = body_root.find(f"{W}body")
    if body is None:
        raise ProcessingError("The DOCX document has no body.")
    walker = _Walker(styles=_styles(styles_root))
    walker.container(body, 0)
    comments = _comments(comments_root) if comments_root is not None else {}
    return TrackedDocument(walker.paragraphs, comments, walker.page + 1)


def _parse(data: bytes) -> Element:
    try:
        root: Element = ElementTree.fromstring(data, forbid_dtd=True)
    except ElementTree.ParseError as error:
        raise ProcessingError(f"The DOCX document has malformed XML ({error}).") from error
    except Exception as error:  # defusedxml's refusals (DTDForbidden, EntitiesForbidden…)
        raise ProcessingError(
            f"The DOCX document was refused: {type(error).__name__} (entity declarations and "
            "DTDs are attack vectors)."
        ) from error
    return root


def _attribute(element: Element, name: str) -> str | None:
    return element.get(f"{W}{name}")


@dataclass(frozen=True, slots=True)
class _Styles:
    headings: dict[str, int]  # paragraph style id → heading level
    lists: frozenset[str]  # paragraph style ids that carry numbering (List Bullet 2…)


def _styles(styles: Element | None) -> _Styles:
    """Heading levels from style names and outline levels; list styles from numbering."""
    levels: dict[str, int] = {}
    lists: set[str] = set()
    if styles is None:
        return _Styles(levels, frozenset())
    for style in styles.iter(f"{W}style"):
        style_id = _attribute(style, "styleId")
        if not style_id:
            continue
        if style.find(f"{W}pPr/{W}numPr") is not None:
            lists.add(style_id)
        name_element = style.find(f"{W}name")
        name = (_attribute(name_element, "val") or "") if name_element is not None else ""
        outline = style.find(f"{W}pPr/{W}outlineLvl")
        match = HEADING_NAME.match(name.strip())
        if name.strip().lower() == "title":
            levels[style_id] = 1
        elif match:
            levels[style_id] = min(int(match.group(1)), MAX_HEADING_LEVEL)
        elif outline is not None and (_attribute(outline, "val") or "").isdigit():
            value = int(_attribute(outline, "val") or "9")
            if value < 9:
                levels[style_id] = min(value + 1, MAX_HEADING_LEVEL)
    return _Styles(levels, frozenset(lists))


def _comments(root: Element) -> dict[str, Comment]:
    found: dict[str, Comment] = {}
    for comment in root.iter(f"{W}comment"):
        comment_id = _attribute(comment, "id")
        if comment_id is None:
            continue
        paragraphs = [
            "".join(node.text or "" for node in paragraph.iter(f"{W}t"))
            for paragraph in comment.iter(f"{W}p")
        ]
        found[comment_id] = Comment(
            comment_id=comment_id,
            author=_attribute(comment, "author"),
            date=_attribute(comment, "date"),
            initials=_attribute(comment, "initials"),
            text="\n".join(p for p in paragraphs if p).strip(),
        )
    return found


@dataclass(slots=True)
class _Walker:
    styles: _Styles
    paragraphs: list[Paragraph] = field(default_factory=list)
    page: int = 0
    page_has_content: bool = False
    open_comments: list[str] = field(default_factory=list)
    anchored: set[str] = field(default_factory=set)
    # The name of the move range being read, by kind: pairs a move's source and destination.
    moves: dict[str, str | None] = field(default_factory=dict)

    def container(self, element: Element, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ProcessingError("The DOCX document is nested too deeply to read.")
        for child in element:
            if child.tag == f"{W}p":
                self.paragraph(child, depth + 1)
            elif child.tag == f"{W}tbl":
                self.table(child, depth + 1)
            elif child.tag in _TRANSPARENT or child.tag in _WRAPPERS:
                self.container(child, depth + 1)  # block-level content controls, moved tables

    def paragraph(self, p: Element, depth: int) -> None:
        spans = self.inline(p, depth, (TEXT, None, None, None))
        self.add_block(_paragraph_kind(p, self.styles), spans)

    def add_block(self, kind: tuple[str, int | None], spans: list[Span]) -> None:
        pieces = _split_pages(spans)
        for index, piece in enumerate(pieces):
            if index:
                self.new_page()
            if any(span.text.strip() or span.marker for span in piece):
                self.paragraphs.append(Paragraph(kind[0], self.page, piece, level=kind[1]))
                self.page_has_content = True

    def new_page(self) -> None:
        if self.page_has_content:
            self.page += 1
            self.page_has_content = False

    def table(self, tbl: Element, depth: int) -> None:
        rows: list[list[list[Span]]] = []
        for tr in tbl.findall(f"{W}tr"):
            cells: list[list[Span]] = []
            for tc in tr.findall(f"{W}tc"):
                spans: list[Span] = []
                for p in tc.iter(f"{W}p"):
                    if spans:
                        spans.append(Span(" "))
                    spans.extend(self.inline(p, depth + 1, (TEXT, None, None, None)))
                cells.append(_merge([s for s in spans if s.text != "\f"]))
            if cells:
                rows.append(cells)
        if rows:
            self.paragraphs.append(Paragraph("table", self.page, [], rows=rows))
            self.page_has_content = True

    def inline(
        self, element: Element, depth: int, change: tuple[str, str | None, str | None, str | None]
    ) -> list[Span]:
        """The spans of ``element``'s runs; ``change`` is the revision they are inside."""
        if depth > MAX_DEPTH:
            raise ProcessingError("The DOCX document is nested too deeply to read.")
        spans: list[Span] = []
        for child in element:
            tag = child.tag
            if tag in _SKIPPED:
                continue
            if tag in _WRAPPERS:
                kind = _WRAPPERS[tag]
                move = self.moves.get(kind)
                inner = (kind, _attribute(child, "author"), _attribute(child, "date"), move)
                spans.extend(self.inline(child, depth + 1, inner))
            elif tag in _MOVE_RANGES:
                self.moves[_MOVE_RANGES[tag]] = _attribute(child, "name")
            elif tag == f"{W}commentRangeStart":
                comment_id = _attribute(child, "id")
                if comment_id is not None and comment_id not in self.open_comments:
                    self.open_comments.append(comment_id)
            elif tag == f"{W}commentRangeEnd":
                self.close_comment(_attribute(child, "id"), spans)
            elif tag == f"{W}r":
                spans.extend(self.run(child, change))
            elif tag in _TRANSPARENT or tag == f"{W}fldSimple":
                spans.extend(self.inline(child, depth + 1, change))
        return _merge(spans)

    def close_comment(self, comment_id: str | None, spans: list[Span]) -> None:
        if comment_id is None:
            return
        if comment_id in self.open_comments:
            self.open_comments.remove(comment_id)
        if comment_id not in self.anchored:
            self.anchored.add(comment_id)
            spans.append(Span("", comments=(comment_id,), marker=True))

    def run(self, r: Element, change: tuple[str, str | None, str | None, str | None]) -> list[Span]:
        kind, author, date, move = change
        spans: list[Span] = []
        text = ""
        for child in r:
            tag = child.tag
            if tag in (f"{W}t", f"{W}delText"):
                text += child.text or ""
            elif tag == f"{W}tab":
                text += "\t"
            elif tag in (f"{W}br", f"{W}cr"):
                if _attribute(child, "type") == "page":
                    text += "\f"  # split into pages by add_block
                else:
                    text += " "
            elif tag == f"{W}noBreakHyphen":
                text += "-"
            elif tag == f"{W}commentReference":
                comment_id = _attribute(child, "id")
                if comment_id is not None and comment_id not in self.anchored:
                    spans.append(Span(text, kind, author, date, move, tuple(self.open_comments)))
                    text = ""
                    self.close_comment(comment_id, spans)
        if text:
            comments = tuple(self.open_comments)
            self.anchored.update(comments)
            spans.append(Span(text, kind, author, date, move, comments))
        return [span for span in spans if span.text or span.marker]


def _paragraph_kind(p: Element, styles: _Styles) -> tuple[str, int | None]:
    ppr = p.find(f"{W}pPr")
    if ppr is None:
        return "paragraph", None
    style = ppr.find(f"{W}pStyle")
    style_id = _attribute(style, "val") if style is not None else None
    if style_id and style_id in styles.headings:
        return "heading", styles.headings[style_id]
    outline = ppr.find(f"{W}outlineLvl")
    value = _attribute(outline, "val") if outline is not None else None
    if value is not None and value.isdigit() and int(value) < 9:
        return "heading", min(int(value) + 1, MAX_HEADING_LEVEL)
    if ppr.find(f"{W}numPr") is not None or (style_id and style_id in styles.lists):
        return "list_item", None
    return "paragraph", None


def _split_pages(spans: list[Span]) -> list[list[Span]]:
    """Spans cut at page breaks (``\\f`` in their text)."""
    pages: list[list[Span]] = [[]]
    for span in spans:
        parts = span.text.split("\f")
        for index, part in enumerate(parts):
            if index:
                pages.append([])
            if part or span.marker:
                pages[-1].append(dataclasses.replace(span, text=part))
    return pages


def _merge(spans: list[Span]) -> list[Span]:
    """Adjacent spans of the same revision and comments, joined."""
    merged: list[Span] = []
    for span in spans:
        if merged and merged[-1].same_run(span):
            merged[-1].text += span.text
        else:
            merged.append(dataclasses.replace(span))  # a copy: its text may grow
    return merged
