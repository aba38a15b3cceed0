"""DOCX → ``Document`` with python-docx, walking the body XML in order.

* Paragraphs and tables come out interleaved, as the body holds them (content controls and
  custom XML wrappers are looked through). Text boxes follow the paragraph that anchors them.
* Headings: the ``Title`` style is level 1, ``Heading N`` is level N, else the outline level of the
  paragraph or its style chain; capped at 4. Style names are the stored (English) names, and
  built-in heading styles also carry an outline level, so localised Word files work too.
* Lists: numbering properties of the paragraph or its style. ``numFmt`` "bullet" gives a bulleted
  item; other formats give "N. text" with the number Word would show (counted per list and
  level, honouring ``start``); ``none`` gives a plain paragraph.
* Tables: each row has one cell per grid column; a merged area (horizontal ``gridSpan``,
  vertical ``vMerge``) keeps its text in its first cell and the cells it covers are empty, as
  in HTML. A table nested in a cell is not flattened into that cell: its rows come one under
  the other in the outer table (see ``_table_rows``).
* Pages: a DOCX has no reliable pages (they depend on fonts and the printer). Everything is page 0
  unless the file has explicit breaks: ``w:br w:type="page"``, ``pageBreakBefore`` (direct or from
  the style) and non-continuous section breaks each start a new page. Blank pages (two breaks in
  a row) are not counted. ``page_range`` selects among those pages.
* No geometry: every block's bbox is ``(0, 0, 0, 0)``.
* Pictures (``include_images``): embedded images become ``picture`` blocks after the text of
  their paragraph; linked (external) images are never fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office.omml import M, to_latex
from pagemill.processors.convert.office.safety import (
    BlockSink,
    check_zip,
    collapse,
    parse_errors,
    selected_pages,
)
from pagemill.processors.document import Document

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
V = "{urn:schemas-microsoft-com:vml}"
HEADING_STYLE = re.compile(r"^heading\s+(\d)$", re.IGNORECASE)
MAX_HEADING_LEVEL = 4
MAX_STYLE_DEPTH = 32  # basedOn chains longer than this are cut (a loop in a hostile file)
MAX_COLUMNS = 1000
MAX_TABLE_DEPTH = 8  # tables nested deeper than this are read as their text
# Subtrees whose text must not be read: deleted or moved-away text, the VML copy of a drawing.
SKIPPED = {f"{W}del", f"{W}moveFrom", f"{MC}Fallback", f"{W}rPr", f"{W}pPr", f"{W}instrText"}
CONTAINERS = {f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}smartTag"}

Element = Any  # lxml elements: lxml ships no type information


@dataclass(frozen=True, slots=True)
class _Style:
    name: str
    based_on: str | None
    outline: int | None
    numbering: tuple[str, int] | None
    break_before: bool | None


@dataclass(slots=True)
class _Piece:
    kind: str  # text | page | picture | textbox
    text: str = ""
    element: Element = None


@dataclass(slots=True)
class _Reader:
    part: Any  # docx.parts.document.DocumentPart
    styles: dict[str, _Style]
    default_style: str | None
    formats: dict[tuple[str, int], tuple[str, int]]  # (numId, ilvl) → (numFmt, start)
    include_images: bool
    sink: BlockSink = field(default_factory=BlockSink)
    page: int = 0
    page_has_content: bool = False
    counters: dict[str, dict[int, int]] = field(default_factory=dict)  # numId → level → n

    def body(self, container: Element) -> None:
        for child in container.iterchildren():
            if child.tag == f"{W}p":
                self.paragraph(child)
            elif child.tag == f"{W}tbl":
                self.table(child)
            elif child.tag in CONTAINERS:
                self.body(child)

    def new_page(self) -> None:
        if self.page_has_content:
            self.page += 1
            self.page_has_content = False

    def add(self, block_type: str, text: str, level: int | None = None) -> None:
        self.sink.add(self.page, block_type, text, level=level)
        self.page_has_content = True

    def paragraph(self, p: Element) -> None:
        ppr = p.find(f"{W}pPr")
        style_id = _val(ppr, "pStyle") if ppr is not None else None
        chain = list(self.style_chain(style_id or self.default_style))
        if _page_break_before(ppr, chain):
            self.new_page()
        level = self.heading_level(ppr, chain)
        marker = None if level is not None else self.list_marker(ppr, chain)
        text = ""
        for piece in _pieces(p):
            if piece.kind == "text":
                text += piece.text
                continue
            if self.flush(text, level, marker):
                marker = None  # text after a picture or break continues as a paragraph
            text = ""
            if piece.kind == "page":
                self.new_page()
            elif piece.kind == "picture":
                self.picture(piece.element)
            else:
                self.body(piece.element)  # a text box: its own paragraphs and tables
        self.flush(text, level, marker)
        section = ppr.find(f"{W}sectPr") if ppr is not None else None
        if section is not None and _val(section, "type") != "continuous":
            self.new_page()

    def flush(self, text: str, level: int | None, marker: str | None) -> bool:
        text = collapse(text)
        if not text:
            return False
        if level is not None:
            self.add("heading", text, level)
        elif marker is None:
            self.add("paragraph", text)
        else:
            self.add("list_item", f"{marker} {text}" if marker else text)
        return True

    def style_chain(self, style_id: str | None) -> Iterator[_Style]:
        seen: set[str] = set()
        while style_id and style_id not in seen and len(seen) < MAX_STYLE_DEPTH:
            seen.add(style_id)
            style = self.styles.get(style_id)
            if style is None:
                return
            yield style
            style_id = style.based_on

    def heading_level(self, ppr: Element, chain: list[_Style]) -> int | None:
        for style in chain:
            if style.name.lower() == "title":
                return 1
            match = HEADING_STYLE.match(style.name)
            if match:
                return min(max(int(match.group(1)), 1), MAX_HEADING_LEVEL)
        outline = _int(_val(ppr, "outlineLvl")) if ppr is not None else None
        if outline is None:
            outline = next((s.outline for s in chain if s.outline is not None), None)
        if outline is None or not 0 <= outline < 9:  # 9 means "body text"
            return None
        return min(outline + 1, MAX_HEADING_LEVEL)

    def list_marker(self, ppr: Element, chain: list[_Style]) -> str | None:
        """``None`` (not a list item), ``""`` (a bullet) or the item's number, e.g. ``"3."``."""
        numbering = _numbering(ppr.find(f"{W}numPr")) if ppr is not None else None
        if numbering is None:
            numbering = next((s.numbering for s in chain if s.numbering is not None), None)
        if numbering is None or numbering[0] == "0":  # numId 0 switches numbering off
            return None
        num_id, ilvl = numbering
        fmt, start = self.formats.get((num_id, ilvl), ("bullet", 1))
        if fmt == "none":
            return None
        if fmt == "bullet":
            return ""
        counts = self.counters.setdefault(num_id, {})
        counts[ilvl] = counts[ilvl] + 1 if ilvl in counts else start
        for deeper in [level for level in counts if level > ilvl]:
            del counts[deeper]  # a higher-level item restarts the levels below it
        return f"{counts[ilvl]}."

    def table(self, tbl: Element) -> None:
        rows = _table_rows(tbl, 0)
        if any(any(row) for row in rows):
            self.sink.add_table(self.page, rows)
            self.page_has_content = True

    def picture(self, drawing: Element) -> None:
        if not self.include_images:
            return
        doc_pr = next(drawing.iter(f"{WP}docPr"), None)
        alt = (doc_pr.get("descr") or doc_pr.get("title") or "") if doc_pr is not None else ""
        ids = [blip.get(f"{R}embed") for blip in drawing.iter(f"{A}blip")]
        ids += [data.get(f"{R}id") for data in drawing.iter(f"{V}imagedata")]
        for rel_id in ids:
            image = self.part.related_parts.get(rel_id) if rel_id else None
            if image is None or not str(image.content_type).startswith("image/"):
                continue  # external (linked) images are not parts and are never fetched
            extension = str(image.partname).rsplit(".", 1)[-1]
            self.sink.add_picture(self.page, image.blob, extension, alt)
            self.page_has_content = True


def _pieces(element: Element) -> Iterator[_Piece]:
    """The text, page breaks, pictures and text boxes of a paragraph, in document order."""
    for child in element.iterchildren():
        tag = child.tag
        if not isinstance(tag, str) or tag in SKIPPED:
            continue  # comments and processing instructions have non-string tags
        if tag == f"{W}t":
            yield _Piece("text", child.text or "")
        elif tag in (f"{W}tab", f"{W}cr"):
            yield _Piece("text", " ")
        elif tag == f"{W}noBreakHyphen":
            yield _Piece("text", "-")
        elif tag == f"{W}br":
            page = child.get(f"{W}type") == "page"
            yield _Piece("page") if page else _Piece("text", " ")
        elif tag == f"{M}oMathPara":  # an equation on its own line
            yield _Piece("text", f" $${to_latex(child)}$$ ")
        elif tag == f"{M}oMath":
            yield _Piece("text", f"${to_latex(child)}$")
        elif tag in (f"{W}drawing", f"{W}pict"):
            yield _Piece("picture", element=child)
            for box in child.iter(f"{W}txbxContent"):
                yield _Piece("textbox", element=box)
        else:
            yield from _pieces(child)


def _table_rows(tbl: Element, depth: int) -> list[list[str]]:
    """The table's grid: one cell per grid column, merged areas' text in their first cell.

    A cell holding a table of its own keeps it as rows: the cell's text before the nested
    table, each nested row (its cells joined with "; "), and the text after it come one under
    the other, the other cells of those rows empty.
    """
    rows: list[list[str]] = []
    for tr in _children(tbl, f"{W}tr"):
        trpr = tr.find(f"{W}trPr")
        column = (_int(_val(trpr, "gridBefore")) or 0) if trpr is not None else 0
        lines: list[list[str]] = [[""] * min(column, MAX_COLUMNS)]
        for tc in _children(tr, f"{W}tc"):
            tcpr = tc.find(f"{W}tcPr")
            span = max(_int(_val(tcpr, "gridSpan")) or 1, 1) if tcpr is not None else 1
            merge = tcpr.find(f"{W}vMerge") if tcpr is not None else None
            if merge is not None and merge.get(f"{W}val", "continue") == "continue":
                texts = [""]  # covered by the cell above, which holds the text
            else:
                texts = _cell_texts(tc, depth)
            while len(lines) < len(texts):
                lines.append([""] * len(lines[0]))
            for index, line in enumerate(lines):
                cells = [texts[index] if index < len(texts) else ""] + [""] * (span - 1)
                line.extend(cells[: max(0, MAX_COLUMNS - len(line))])
            column += span
        rows.extend(lines)
    return rows


def _cell_texts(tc: Element, depth: int) -> list[str]:
    """A cell's text, one entry per line it takes in its table (more with a nested table)."""
    texts: list[str] = []
    pending: list[str] = []
    for child in tc.iterchildren():
        if child.tag == f"{W}tbl" and depth < MAX_TABLE_DEPTH:
            if collapse(" ".join(pending)):
                texts.append(collapse(" ".join(pending)))
            pending = []
            texts.extend(
                collapse("; ".join(cell for cell in row if cell))
                for row in _table_rows(child, depth + 1)
            )
        else:
            pending.extend(_plain_text(p) for p in _paragraphs(child))
    if collapse(" ".join(pending)) or not texts:
        texts.append(collapse(" ".join(pending)))
    return texts


def _paragraphs(element: Element) -> Iterator[Element]:
    if element.tag == f"{W}p":
        yield element
    elif element.tag in CONTAINERS or element.tag == f"{W}tbl":
        yield from element.iter(f"{W}p")


def _plain_text(p: Element) -> str:
    # A table cell: its text only (page breaks, pictures and text boxes inside cells are dropped).
    return "".join(piece.text for piece in _pieces(p) if piece.kind == "text")


def _children(element: Element, tag: str) -> Iterator[Element]:
    for child in element.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag in CONTAINERS:
            yield from _children(child, tag)


def _val(parent: Element, tag: str) -> str | None:
    child = parent.find(f"{W}{tag}")
    return None if child is None else child.get(f"{W}val")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _page_break_before(ppr: Element, chain: list[_Style]) -> bool:
    # Direct formatting wins; otherwise the nearest style in the chain that says anything.
    element = ppr.find(f"{W}pageBreakBefore") if ppr is not None else None
    if element is not None:
        return _on(element)
    return next((s.break_before for s in chain if s.break_before is not None), False)


def _on(element: Element) -> bool:
    return element.get(f"{W}val", "true") not in ("0", "false", "off")


def _numbering(num_pr: Element) -> tuple[str, int] | None:
    if num_pr is None:
        return None
    num_id = _val(num_pr, "numId")
    ilvl = min(max(_int(_val(num_pr, "ilvl")) or 0, 0), 8)
    return (num_id, ilvl) if num_id is not None else None


def _styles(word: Any) -> tuple[dict[str, _Style], str | None]:
    styles: dict[str, _Style] = {}
    default: str | None = None
    for element in word.styles.element.iterchildren(f"{W}style"):
        style_id = element.get(f"{W}styleId")
        if not style_id or element.get(f"{W}type", "paragraph") != "paragraph":
            continue
        if element.get(f"{W}default") in ("1", "true"):
            default = style_id
        ppr = element.find(f"{W}pPr")
        page_break = ppr.find(f"{W}pageBreakBefore") if ppr is not None else None
        styles[style_id] = _Style(
            name=_val(element, "name") or style_id,
            based_on=_val(element, "basedOn"),
            outline=_int(_val(ppr, "outlineLvl")) if ppr is not None else None,
            numbering=_numbering(ppr.find(f"{W}numPr")) if ppr is not None else None,
            break_before=None if page_break is None else _on(page_break),
        )
    return styles, default


def _formats(word: Any) -> dict[tuple[str, int], tuple[str, int]]:
    from docx.opc.constants import RELATIONSHIP_TYPE

    try:
        numbering = word.part.part_related_by(RELATIONSHIP_TYPE.NUMBERING).element
    except KeyError:
        return {}
    abstract: dict[str, dict[int, tuple[str, int]]] = {}
    for element in numbering.iterchildren(f"{W}abstractNum"):
        abstract[element.get(f"{W}abstractNumId")] = _levels(element)
    formats: dict[tuple[str, int], tuple[str, int]] = {}
    for num in numbering.iterchildren(f"{W}num"):
        levels = dict(abstract.get(_val(num, "abstractNumId") or "", {}))
        for override in num.iterchildren(f"{W}lvlOverride"):
            ilvl = _int(override.get(f"{W}ilvl")) or 0
            fmt, start = levels.get(ilvl, ("decimal", 1))
            start = _int(_val(override, "startOverride")) or start
            lvl = override.find(f"{W}lvl")
            if lvl is not None:
                fmt, start = _level(lvl)
            levels[ilvl] = (fmt, start)
        for ilvl, value in levels.items():
            formats[(num.get(f"{W}numId"), ilvl)] = value
    return formats


def _levels(abstract: Element) -> dict[int, tuple[str, int]]:
    return {_int(lvl.get(f"{W}ilvl")) or 0: _level(lvl) for lvl in abstract.iterchildren(f"{W}lvl")}


def _level(lvl: Element) -> tuple[str, int]:
    start = _int(_val(lvl, "start"))
    return _val(lvl, "numFmt") or "decimal", 1 if start is None else start


def _title(word: Any) -> str:
    from docx.opc.constants import RELATIONSHIP_TYPE

    try:
        # Asking python-docx for core properties would invent "Word Document" when absent.
        word.part.package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES)
    except KeyError:
        return ""
    return collapse(word.core_properties.title or "")


def parse(request: ParseRequest) -> Document:
    """The DOCX parser of ``formats.PARSERS``."""
    with parse_errors("DOCX"):
        check_zip(request.path, "DOCX")
        import docx

        word = docx.Document(str(request.path))
        styles, default = _styles(word)
        reader = _Reader(
            part=word.part,
            styles=styles,
            default_style=default,
            formats=_formats(word),
            include_images=request.include_images,
        )
        reader.body(word.element.body)
        # A trailing break with nothing after it does not make an empty last page.
        page_count = reader.page + 1 if reader.page_has_content else max(reader.page, 1)
        pages = selected_pages(page_count, request.page_range, request.max_pages)
        metadata: dict[str, object] = {"parser": "python-docx", "explicit_pages": page_count > 1}
        title = _title(word)
        if title:
            metadata["title"] = title
        return reader.sink.document(page_count, pages, metadata)
