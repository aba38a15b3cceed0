"""PDF → ``Document`` from the text layer.

pypdfium2 opens the file (page count, encryption); pdftext gives blocks → lines → spans with boxes
and fonts. On top of that, our own layer:

* splits pdftext blocks where the font size or weight changes (on sparse pages pdftext puts a
  heading and its paragraph in one block) and re-joins paragraphs that pdftext split (it starts a
  new block after a short line, which is exactly what a line ending in a hyphenated word is);
* removes line-break hyphens ("docu-" + "ment" → "document");
* finds headings from font statistics: the most common size is body text; clearly larger, short
  blocks are headings ranked by size (level 1 = largest), and a short bold single line at body
  size is a heading one level below the smallest large size;
* splits bulleted or numbered lines into list items.

pdftext's block order follows the content stream (``sort=False``), which is the reading order for
most generated PDFs; sorting by position makes it worse (see reference/converters.md §2).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.processors.convert.document import BBox, Block, Document, block_id_for
from pagemill.processors.convert.formats import ParseRequest

HEADING_SIZE_RATIO = 1.15  # this much larger than body text (and at least 1 pt) reads as a heading
HEADING_MIN_SIZE_GAP = 1.0
MAX_HEADING_LINES = 3
MAX_HEADING_CHARS = 200
MAX_BOLD_HEADING_CHARS = 120
MAX_HEADING_LEVEL = 4
SIZE_STEP = 0.5  # sizes are compared after rounding to half points: 10.48 and 10.5 are one size
FORCE_BOLD_FLAG = 1 << 18  # PDF font descriptor flag bit 19
BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
BULLET = re.compile(r"^[•●○◦▪▫■□‣⁃∙·*\-–—]\s+(?=\S)")  # noqa: RUF001 - the dashes are bullets
NUMBERED = re.compile(r"^\(?\d{1,3}[.)]\s+(?=\S)")
SENTENCE_END = (".", ":", ";", "!", "?")
DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*\S*$")  # "1 Introduction . . . . 7": a contents entry


@dataclass(slots=True)
class _Line:
    text: str  # whitespace collapsed; ends with "-" where the line ends in a hyphen
    bbox: BBox
    size: float  # dominant font size, rounded to SIZE_STEP
    bold: bool  # most visible characters are in a bold font
    chars: int  # visible characters


@dataclass(slots=True)
class _RawBlock:
    lines: list[_Line]

    @property
    def size(self) -> float:
        weights: Counter[float] = Counter()
        for line in self.lines:
            weights[line.size] += line.chars
        return weights.most_common(1)[0][0]

    @property
    def bold(self) -> bool:
        bold_chars = sum(line.chars for line in self.lines if line.bold)
        return bold_chars * 2 > sum(line.chars for line in self.lines)

    @property
    def bbox(self) -> BBox:
        return _union(line.bbox for line in self.lines)

    @property
    def text(self) -> str:
        return join_lines(line.text for line in self.lines)


@dataclass(frozen=True, slots=True)
class _BodyStyle:
    size: float
    bold: bool


def parse_pdf(
    path: Path, *, page_range: str | None = None, max_pages: int | None = None
) -> Document:
    """Parse the selected pages of the PDF at ``path``.

    Raises ``ProcessingError`` for encrypted, corrupt, truncated or empty files and ``InvalidInput``
    (from ``select_pages``) when the range selects no page of this document.
    """
    page_count = pdf_page_count(path)
    if page_count == 0:
        raise ProcessingError("The PDF has no pages.")
    pages = select_pages(page_count, page_range, max_pages)
    extracted = _extract_pages(path, pages)

    raw_pages: list[tuple[int, list[_RawBlock]]] = []
    page_sizes: dict[str, list[float]] = {}
    for page in extracted:
        raw_pages.append((int(page["page"]), _merge_split_paragraphs(_raw_blocks(page))))
        page_sizes[str(page["page"])] = [float(page["width"]), float(page["height"])]

    body = _body_style(block for _, blocks in raw_pages for block in blocks)
    blocks = _classify(raw_pages, body) if body is not None else []
    metadata: dict[str, Any] = {
        "parser": "pdftext",
        "page_sizes": page_sizes,
        "body_font_size": body.size if body is not None else None,
        "pages_without_text": [page for page, page_blocks in raw_pages if not page_blocks],
    }
    return Document(page_count=page_count, pages=pages, blocks=blocks, metadata=metadata)


def pdf_page_count(path: Path) -> int:
    """Open the file with pdfium, turning its failures into ``ProcessingError``."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise ProcessingError(
                "The PDF is encrypted (password-protected); "
                "remove the password and upload it again."
            ) from error
        raise ProcessingError(
            f"The PDF could not be opened: it is corrupt or truncated ({error})."
        ) from error
    try:
        return len(pdf)
    finally:
        pdf.close()


def _extract_pages(path: Path, pages: Sequence[int]) -> list[dict[str, Any]]:
    # Imported here: pdftext pulls in numpy and pydantic, which only the worker process needs.
    from pdftext.extraction import dictionary_output

    try:
        extracted: list[dict[str, Any]] = dictionary_output(
            str(path), sort=False, page_range=list(pages), disable_links=True, keep_chars=False
        )
    except Exception as error:  # pdfium and pdftext raise many types on damaged page content
        raise ProcessingError(
            f"The PDF's text could not be read; the file may be damaged "
            f"({type(error).__name__}: {error})."
        ) from error
    return extracted


def join_lines(lines: Iterable[str]) -> str:
    """Join the lines of a paragraph, removing hyphens that only broke a word across lines.

    "docu-" + "ment" → "document"; "Jean-" + "Paul" and "2019-" + "2020" keep their hyphen (a
    capital or a digit after the break says the hyphen is part of the text), without a space.
    """
    joined = ""
    for line in lines:
        if not line:
            continue
        if not joined:
            joined = line
        elif _ends_in_break_hyphen(joined):
            joined = joined[:-1] + line if line[0].islower() else joined + line
        else:
            joined = f"{joined} {line}"
    return joined


def _ends_in_break_hyphen(text: str) -> bool:
    # "docu-" yes; "well -" and "-" alone no: those are dashes, not broken words.
    return len(text) >= 2 and text[-1] == "-" and text[-2].isalnum()


def _raw_blocks(page: dict[str, Any]) -> list[_RawBlock]:
    blocks: list[_RawBlock] = []
    for raw_block in page["blocks"]:
        lines = [line for line in map(_line, raw_block["lines"]) if line is not None]
        blocks.extend(_split_at_style_changes(lines))
    return blocks


def _split_at_style_changes(lines: list[_Line]) -> list[_RawBlock]:
    # pdftext groups lines by spacing relative to the page's median, so on a sparse page a heading
    # and the paragraph under it can share a block. A change of size or weight ends a block.
    blocks: list[_RawBlock] = []
    for line in lines:
        previous = blocks[-1].lines[-1] if blocks else None
        if previous is not None and (line.size, line.bold) == (previous.size, previous.bold):
            blocks[-1].lines.append(line)
        else:
            blocks.append(_RawBlock(lines=[line]))
    return blocks


def _line(raw_line: dict[str, Any]) -> _Line | None:
    parts: list[str] = []
    size_weights: Counter[float] = Counter()
    visible_chars = bold_chars = 0
    for span in raw_line["spans"]:
        text = span["text"]
        parts.append(text)
        # pdftext ends lines with a "\n" span in a nameless size-1 font: it must not vote.
        visible = sum(1 for char in text if not char.isspace())
        if not visible:
            continue
        font = span["font"]
        size_weights[_round_size(float(font.get("size") or 0.0))] += visible
        visible_chars += visible
        if _is_bold(font):
            bold_chars += visible
    if not visible_chars:
        return None
    text = " ".join("".join(parts).split())
    # A soft hyphen at a line end is a break hyphen; anywhere else it is invisible.
    if text.endswith("\u00ad"):
        text = text[:-1] + "-"
    text = text.replace("\u00ad", "")
    x0, y0, x1, y1 = (float(v) for v in raw_line["bbox"])
    return _Line(
        text=text,
        bbox=(x0, y0, x1, y1),
        size=size_weights.most_common(1)[0][0],
        bold=bold_chars * 2 > visible_chars,
        chars=visible_chars,
    )


def _is_bold(font: dict[str, Any]) -> bool:
    weight = font.get("weight") or 0
    flags = font.get("flags") or 0
    return (
        weight >= 600
        or bool(flags & FORCE_BOLD_FLAG)
        or bool(BOLD_NAME.search(font.get("name") or ""))
    )


def _round_size(size: float) -> float:
    return round(size / SIZE_STEP) * SIZE_STEP


def _merge_split_paragraphs(blocks: list[_RawBlock]) -> list[_RawBlock]:
    merged: list[_RawBlock] = []
    for block in blocks:
        if merged and _continues(merged[-1], block):
            merged[-1].lines.extend(block.lines)
        else:
            merged.append(block)
    return merged


def _continues(previous: _RawBlock, block: _RawBlock) -> bool:
    """Whether ``block`` is the rest of ``previous``, split off by pdftext.

    Same style, same left edge, and a gap no larger than between two lines of one paragraph
    (paragraphs are set apart by space or by a first-line indent, either of which fails here).
    """
    size = previous.size
    if block.size != size or block.bold != previous.bold:
        return False
    if _list_marker(block.lines[0].text):
        return False
    last, first = previous.lines[-1], block.lines[0]
    if abs(first.bbox[0] - previous.lines[0].bbox[0]) > max(2.0, 0.5 * size):
        return False
    gap = first.bbox[1] - last.bbox[3]
    return -0.5 * size <= gap <= 0.6 * size


def _body_style(blocks: Iterable[_RawBlock]) -> _BodyStyle | None:
    chars_by_size: Counter[float] = Counter()
    bold_by_size: Counter[float] = Counter()
    for block in blocks:
        for line in block.lines:
            chars_by_size[line.size] += line.chars
            if line.bold:
                bold_by_size[line.size] += line.chars
    if not chars_by_size:
        return None
    size = chars_by_size.most_common(1)[0][0]
    return _BodyStyle(size=size, bold=bold_by_size[size] * 2 > chars_by_size[size])


def _heading_rule(block: _RawBlock, body: _BodyStyle) -> str | None:
    """``"size"`` or ``"bold"`` when ``block`` reads as a heading, else ``None``."""
    text = block.text
    if len(block.lines) > MAX_HEADING_LINES or len(text) > MAX_HEADING_CHARS:
        return None
    if not any(char.isalpha() for char in text):
        return None  # large page numbers and figure labels are not headings
    if DOT_LEADER.search(text):
        return None  # table-of-contents entries are often bold but are not the sections
    size = block.size
    if size >= body.size * HEADING_SIZE_RATIO and size - body.size >= HEADING_MIN_SIZE_GAP:
        return "size"
    if (
        block.bold
        and not body.bold  # in an all-bold document bold says nothing
        and len(block.lines) == 1
        and len(text) <= MAX_BOLD_HEADING_CHARS
        and size >= body.size - SIZE_STEP
        and not text.endswith((".", ",", ";"))
    ):
        return "bold"
    return None


def _classify(raw_pages: list[tuple[int, list[_RawBlock]]], body: _BodyStyle) -> list[Block]:
    ruled = [
        (page, [(block, _heading_rule(block, body)) for block in blocks])
        for page, blocks in raw_pages
    ]
    # Level 1 is the largest heading size in the document, then down by rank, capped at 4.
    size_ranks = sorted(
        {block.size for _, pairs in ruled for block, rule in pairs if rule == "size"},
        reverse=True,
    )
    bold_level = min(len(size_ranks) + 1, MAX_HEADING_LEVEL)

    blocks: list[Block] = []
    for page, pairs in ruled:
        index_on_page = 0
        for raw, rule in pairs:
            level: int | None = None
            if rule == "size":
                level = min(size_ranks.index(raw.size) + 1, MAX_HEADING_LEVEL)
            elif rule == "bold":
                level = bold_level
            segments = [("heading", raw.lines)] if level is not None else _body_segments(raw.lines)
            for block_type, lines in segments:
                text = join_lines(line.text for line in lines)
                if block_type == "list_item":
                    text = BULLET.sub("", text, count=1)
                blocks.append(
                    Block(
                        block_id=block_id_for(page, block_type, index_on_page),
                        page=page,
                        bbox=_rounded(_union(line.bbox for line in lines)),
                        type=block_type,
                        text=text,
                        level=level if block_type == "heading" else None,
                    )
                )
                index_on_page += 1
    return blocks


def _body_segments(lines: list[_Line]) -> list[tuple[str, list[_Line]]]:
    """Split a body block into a paragraph and/or list items.

    A bulleted or numbered line starts a list item when it opens the block, follows another
    item, or follows a finished sentence; a wrapped line continues an item when it is indented
    past the marker (a hanging indent), and otherwise starts a paragraph.
    """
    segments: list[tuple[str, list[_Line]]] = []
    for line in lines:
        current = segments[-1] if segments else None
        starts_item = _list_marker(line.text) and (
            current is None
            or current[0] == "list_item"
            or current[1][-1].text.endswith(SENTENCE_END)
        )
        if starts_item:
            segments.append(("list_item", [line]))
        elif current is None or (current[0] == "list_item" and not _hangs_under(line, current[1])):
            segments.append(("paragraph", [line]))
        else:
            current[1].append(line)
    return segments


def _hangs_under(line: _Line, item_lines: list[_Line]) -> bool:
    return line.bbox[0] > item_lines[0].bbox[0] + 1.0


def _list_marker(text: str) -> bool:
    return bool(BULLET.match(text) or NUMBERED.match(text))


def _union(boxes: Iterable[BBox]) -> BBox:
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return min(x0s), min(y0s), max(x1s), max(y1s)


def _rounded(box: BBox) -> BBox:
    return round(box[0], 2), round(box[1], 2), round(box[2], 2), round(box[3], 2)


def parse(request: ParseRequest) -> Document:
    """The PDF parser of ``formats.PARSERS``."""
    return parse_pdf(request.path, page_range=request.page_range, max_pages=request.max_pages)
