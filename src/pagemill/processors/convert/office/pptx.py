"""PPTX → ``Document`` with python-pptx: one page per slide.

* Reading order: title placeholders first, then shapes top to bottom, left to right (the slide's
  own shape order is the z-order, not the reading order). Group members are read in place.
* Title placeholders → heading level 1, subtitle → heading level 2. Date, footer and slide-number
  placeholders are page furniture: ``page_footer`` blocks with ``include_headers_footers``,
  dropped otherwise (a header placeholder likewise gives ``page_header``).
* Text frames: one block per paragraph. A paragraph is a list item when it has an explicit
  bullet (``buChar``/``buBlip``), is auto-numbered (``buAutoNum``, written "N. text"), sits in a
  body/object placeholder (bulleted by the master unless ``buNone``), or is indented (level > 0);
  otherwise it is a paragraph.
* Tables → ``table`` blocks; a merged area keeps its text in its first cell, the cells it
  covers are empty (as in HTML's colspan and rowspan, and as the XLSX parser does).
* Charts → their title (a paragraph) and their data as a ``table`` block: a header row of the
  series names, then one row per category with each series' value.
* Pictures → ``picture`` blocks with ``include_images``. SmartArt and notes are ignored, and so
  is any shape python-pptx does not know (it raises ``NotImplementedError`` for its type):
  one odd shape never fails the deck.
* Geometry: slides have it, so blocks carry their shape's box in points (EMU / 12700, origin
  top-left) and ``page_sizes`` holds the slide size. Paragraphs of one text frame share the
  frame's box; members of a group carry the group's box.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office.safety import (
    NO_BOX,
    BlockSink,
    check_zip,
    collapse,
    parse_errors,
    selected_pages,
)
from pagemill.processors.document import BBox, Document

EMU_PER_POINT = 12700
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
MAX_GROUP_DEPTH = 32


def parse(request: ParseRequest) -> Document:
    """The PPTX parser of ``formats.PARSERS``."""
    with parse_errors("PPTX"):
        check_zip(request.path, "PPTX")
        from pptx import Presentation

        deck = Presentation(str(request.path))
        slides = list(deck.slides)
        pages = selected_pages(len(slides), request.page_range, request.max_pages)
        sink = BlockSink()
        for page in pages:
            if page < len(slides):
                _Slide(sink, page, request.include_headers_footers, request.include_images).read(
                    slides[page]
                )
        metadata: dict[str, object] = {"parser": "python-pptx"}
        if deck.slide_width and deck.slide_height:
            size = [_points(deck.slide_width), _points(deck.slide_height)]
            metadata["page_sizes"] = {str(page): size for page in pages}
        return sink.document(len(slides), pages, metadata)


class _Slide:
    def __init__(self, sink: BlockSink, page: int, furniture: bool, images: bool) -> None:
        self.sink = sink
        self.page = page
        self.furniture = furniture
        self.images = images

    def read(self, slide: Any) -> None:
        for shape, box in sorted(_flatten(slide.shapes, None, 0), key=_reading_key):
            self.shape(shape, box)

    def shape(self, shape: Any, box: BBox) -> None:
        from pptx.enum.shapes import PP_PLACEHOLDER
        from pptx.shapes.picture import Picture

        kind = shape.placeholder_format.type if shape.is_placeholder else None
        if kind in (
            PP_PLACEHOLDER.TITLE,
            PP_PLACEHOLDER.CENTER_TITLE,
            PP_PLACEHOLDER.VERTICAL_TITLE,
        ):
            self.whole_text(shape, "heading", box, level=1)
        elif kind == PP_PLACEHOLDER.SUBTITLE:
            self.whole_text(shape, "heading", box, level=2)
        elif kind in (PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER):
            if self.furniture:
                self.whole_text(shape, "page_footer", box)
        elif kind == PP_PLACEHOLDER.HEADER:
            if self.furniture:
                self.whole_text(shape, "page_header", box)
        elif getattr(shape, "has_table", False):
            self.sink.add_table(self.page, _table_rows(shape.table), bbox=box)
        elif getattr(shape, "has_chart", False):
            self.chart(shape.chart, box)
        elif isinstance(shape, Picture):
            if self.images:
                self.picture(shape, box)
        elif shape.has_text_frame:
            bulleted = kind in (
                PP_PLACEHOLDER.BODY,
                PP_PLACEHOLDER.OBJECT,
                PP_PLACEHOLDER.VERTICAL_BODY,
                PP_PLACEHOLDER.VERTICAL_OBJECT,
            )
            self.paragraphs(shape.text_frame, bulleted, box)

    def whole_text(self, shape: Any, block_type: str, box: BBox, level: int | None = None) -> None:
        if not shape.has_text_frame:
            return
        text = collapse(" ".join(p.text for p in shape.text_frame.paragraphs))
        if text:
            self.sink.add(self.page, block_type, text, level=level, bbox=box)

    def paragraphs(self, frame: Any, bulleted: bool, box: BBox) -> None:
        numbers: dict[int, int] = {}  # level → last number of the auto-numbered list there
        for paragraph in frame.paragraphs:
            text = collapse(paragraph.text)
            if not text:
                continue
            level = int(paragraph.level or 0)
            for deeper in [lv for lv in numbers if lv > level]:
                del numbers[deeper]
            ppr = paragraph._p.pPr  # python-pptx has no public API for bullets
            bullet = _bullet(ppr)
            if bullet == "number":
                start = ppr.find(f"{A}buAutoNum").get("startAt", "1")
                first = int(start) if start.isdigit() else 1
                numbers[level] = numbers[level] + 1 if level in numbers else first
                self.sink.add(self.page, "list_item", f"{numbers[level]}. {text}", bbox=box)
                continue
            numbers.pop(level, None)  # another kind of paragraph ends the numbered list
            is_item = bullet == "bullet" or (bullet is None and (bulleted or level > 0))
            self.sink.add(self.page, "list_item" if is_item else "paragraph", text, bbox=box)

    def chart(self, chart: Any, box: BBox) -> None:
        if chart.has_title and chart.chart_title.has_text_frame:
            title = collapse(chart.chart_title.text_frame.text)
            if title:
                self.sink.add(self.page, "paragraph", title, bbox=box)
        self.sink.add_table(self.page, _chart_rows(chart), bbox=box)

    def picture(self, shape: Any, box: BBox) -> None:
        try:
            image = shape.image
        except (KeyError, ValueError, AttributeError):
            return  # a linked (external) picture or an empty placeholder: nothing embedded
        c_nv_pr = shape._element.find(f".//{P}cNvPr")
        alt = (c_nv_pr.get("descr") or c_nv_pr.get("title") or "") if c_nv_pr is not None else ""
        self.sink.add_picture(self.page, image.blob, image.ext, alt, bbox=box)


def _bullet(ppr: Any) -> str | None:
    """``"bullet"``, ``"number"``, ``"none"``, or ``None`` when the paragraph inherits."""
    if ppr is None:
        return None
    for child in ppr.iterchildren():
        if child.tag == f"{A}buNone":
            return "none"
        if child.tag in (f"{A}buChar", f"{A}buBlip"):
            return "bullet"
        if child.tag == f"{A}buAutoNum":
            return "number"
    return None


def _flatten(shapes: Any, group_box: BBox | None, depth: int) -> Iterator[tuple[Any, BBox]]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        box = group_box or _box(shape)
        try:
            group = shape.shape_type == MSO_SHAPE_TYPE.GROUP
        except NotImplementedError:  # a kind of shape python-pptx cannot name: not a group
            group = False
        if group:
            if depth < MAX_GROUP_DEPTH:
                # Members are placed in the group's own coordinate space; the group's box on
                # the slide is the honest position for all of them.
                yield from _flatten(shape.shapes, box, depth + 1)
        else:
            yield shape, box


def _reading_key(item: tuple[Any, BBox]) -> tuple[int, float, float]:
    from pptx.enum.shapes import PP_PLACEHOLDER

    shape, box = item
    title = shape.is_placeholder and shape.placeholder_format.type in (
        PP_PLACEHOLDER.TITLE,
        PP_PLACEHOLDER.CENTER_TITLE,
        PP_PLACEHOLDER.VERTICAL_TITLE,
    )
    return (0 if title else 1, box[1], box[0])


def _box(shape: Any) -> BBox:
    try:
        left, top, width, height = shape.left, shape.top, shape.width, shape.height
    except (AttributeError, KeyError, ValueError):
        return NO_BOX
    if None in (left, top, width, height):
        return NO_BOX
    return (_points(left), _points(top), _points(left + width), _points(top + height))


def _points(emu: int) -> float:
    return round(int(emu) / EMU_PER_POINT, 2)


def _table_rows(table: Any) -> list[list[str]]:
    # A cell a merge covers (``is_spanned``) repeats nothing: the merge origin holds the text.
    return [
        ["" if cell.is_spanned else collapse(cell.text) for cell in row.cells] for row in table.rows
    ]


def _chart_rows(chart: Any) -> list[list[str]]:
    """The chart's data: series names across, one row per category (or point number)."""
    series = [item for plot in chart.plots for item in plot.series]
    if not series:
        return []
    categories: list[str] = []
    for plot in chart.plots:
        categories = [collapse(str(label)) for label in plot.categories]
        if categories:
            break
    points = max(len(list(item.values)) for item in series)
    labels = categories + [str(index + 1) for index in range(len(categories), points)]
    rows = [["", *(collapse(item.name or "") for item in series)]]
    columns = [list(item.values) for item in series]
    for index, label in enumerate(labels):
        rows.append([label, *(_number(values, index) for values in columns)])
    return rows


def _number(values: list[Any], index: int) -> str:
    value = values[index] if index < len(values) else None
    if value is None:
        return ""
    return format(value, ".15g") if isinstance(value, float) else str(value)
