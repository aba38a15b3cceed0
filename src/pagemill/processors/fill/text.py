"""The text of a form's pages with positions: label candidates for matching and placing values.

PDF pages give their text layer through pdftext, character by character; pages without one,
and images, are OCRed with Tesseract word by word. Either way a ``TextLine`` is its text, its
box (points for PDFs, pixels for images; origin top-left) and the pieces it is made of, so a
position inside the text maps back to a place on the page.

``label_spots`` cuts a line into labels: each ``Label:`` (up to its colon) and each text that
ends in a blank (``Name ________``), else the whole line; a spot is where a value for that label
goes — after the colon or over the blank, on the line's baseline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.processors.page_images import PDFIUM_LOCK

Box = tuple[float, float, float, float]
MIN_TEXT_CHARS = 16  # fewer than this: a page without a text layer, OCRed instead
OCR_DPI = 300.0
_COLON_LABEL = re.compile(r"([^:]{1,80}?)\s*:")
_BLANK = re.compile(r"_{3,}|\.{4,}|…{2,}")


@dataclass(frozen=True, slots=True)
class TextLine:
    page: int
    text: str
    bbox: Box
    offsets: tuple[int, ...]  # the start of each piece in ``text``
    boxes: tuple[Box, ...]  # the box of each piece


@dataclass(frozen=True, slots=True)
class Spot:
    """Where the value of a label goes: ``x`` after the label, on the line's ``baseline``."""

    page: int
    label: str
    x: float
    baseline: float
    height: float  # of the line: the written value's size follows it
    limit: float  # the right edge available before the next label
    label_box: Box


def make_line(page: int, pieces: Sequence[tuple[str, Box]], separator: str) -> TextLine | None:
    text = ""
    offsets: list[int] = []
    boxes: list[Box] = []
    for piece, box in pieces:
        if not piece:
            continue
        if text and separator:
            text += separator
        offsets.append(len(text))
        boxes.append(box)
        text += piece
    if not text.strip():
        return None
    bbox = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    return TextLine(page, text, bbox, tuple(offsets), tuple(boxes))


def box_at(line: TextLine, index: int) -> Box:
    """The box of the piece holding character ``index`` of the line's text."""
    position = 0
    for number, offset in enumerate(line.offsets):
        if offset > index:
            break
        position = number
    return line.boxes[position]


def label_spots(line: TextLine) -> list[Spot]:
    spots: list[Spot] = []
    height = line.bbox[3] - line.bbox[1]
    cuts: list[tuple[str, int, int, int]] = []  # label, label start, label end, value start
    for match in _COLON_LABEL.finditer(line.text):
        label = match.group(1).strip(" _.\t")
        if label:
            start = match.start(1) + (len(match.group(1)) - len(match.group(1).lstrip()))
            cuts.append((label, start, match.end() - 1, match.end()))
    if not cuts:
        blank = _BLANK.search(line.text)
        if blank is not None and line.text[: blank.start()].strip():
            label = line.text[: blank.start()].strip(" :\t")
            cuts.append((label, 0, blank.start() - 1, blank.start()))
    if not cuts:  # the whole line is the label; the value goes after it
        return [
            Spot(
                line.page,
                line.text.strip(),
                line.bbox[2] + height * 0.4,
                line.bbox[3],
                height,
                line.bbox[2] + height * 30,
                line.bbox,
            )
        ]
    for number, (label, start, end, value_start) in enumerate(cuts):
        label_end = box_at(line, end)
        begin = box_at(line, start)
        rest = line.text[value_start:]
        blank = _BLANK.match(line.text, value_start + len(rest) - len(rest.lstrip()))
        # Over the blank when there is one (its line sits a little below the baseline).
        x = box_at(line, blank.start())[0] if blank else label_end[2] + height * 0.4
        limit = (
            box_at(line, cuts[number + 1][1])[0] - height * 0.4
            if number + 1 < len(cuts)
            else line.bbox[2] + height * 30
        )
        # The label's own bottom, not the line's: a blank's underscores reach lower.
        bottom = max(begin[3], label_end[3])
        top = min(begin[1], label_end[1])
        spots.append(
            Spot(
                line.page,
                label,
                x,
                bottom,
                max(bottom - top, 1.0),
                limit,
                (begin[0], top, label_end[2], bottom),
            )
        )
    return spots


def pdf_lines(path: Path, pages: Sequence[int]) -> dict[int, list[TextLine]]:
    """Text lines of ``pages`` from the PDF's text layer (an empty list: no text layer)."""
    from pdftext.extraction import dictionary_output

    try:
        with PDFIUM_LOCK:  # pdftext reads through pdfium, which is not thread-safe
            extracted: list[dict[str, Any]] = dictionary_output(
                str(path), sort=False, page_range=list(pages), keep_chars=True, disable_links=True
            )
    except Exception as error:  # pdfium and pdftext raise many types on damaged content
        raise ProcessingError(
            f"The PDF's text could not be read; the file may be damaged "
            f"({type(error).__name__}: {error})."
        ) from error
    found: dict[int, list[TextLine]] = {}
    for page in extracted:
        number = int(page["page"])
        lines: list[TextLine] = []
        for block in page["blocks"]:
            for raw in block["lines"]:
                pieces = [
                    (char["char"], _box(char["bbox"]))
                    for span in raw["spans"]
                    for char in span.get("chars") or []
                    if char["char"] not in ("\n", "\r")
                ]
                line = make_line(number, pieces, "")
                if line is not None:
                    lines.append(line)
        chars = sum(len(line.text.replace(" ", "")) for line in lines)
        found[number] = lines if chars >= MIN_TEXT_CHARS else []
    return found


def ocr_lines(page: int, image: Any, dpi: float, scale: float) -> list[TextLine]:
    """Tesseract's lines of ``image``, boxes multiplied by ``scale`` (72/dpi for PDF pages)."""
    from pagemill.processors.convert.ocr import tesseract

    lines: list[TextLine] = []
    for raw in tesseract.read_text_lines(image, dpi=dpi):
        pieces = [(text, _scaled(box, scale)) for text, box, _ in raw.words]
        line = make_line(page, pieces, " ")
        if line is not None:
            lines.append(line)
    return lines


def _box(raw: Sequence[float]) -> Box:
    x0, y0, x1, y1 = (float(v) for v in raw)
    return (x0, y0, x1, y1)


def _scaled(box: Sequence[int], scale: float) -> Box:
    return (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)
