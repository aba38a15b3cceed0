"""OCR with Tesseract through tesserocr: a page image → paragraphs of lines with boxes.

tesserocr's wheel bundles libtesseract; its data and instances are in ``ocr.engine``.
Recognising a clean 300 dpi page costs about 0.5 s.

Tesseract segments the page itself (columns, blocks, paragraphs), so its paragraph order is the
reading order. Each line gets a font size estimated from its row metrics and a weight measured
from its strokes, and paragraphs Tesseract glued together are split again (``ocr.style``), which
lets headings be found on scanned pages by the same font statistics as on text pages; callers
pass a document's pages through ``harmonise_sizes`` before ranking heading levels.

Pages are read upright whatever way up they were scanned. A page whose lines run up or down the
page (Tesseract reads a page turned by 90° as vertical text, with boxes to match) is turned the
way the order of its words says; a page read with low confidence is checked by Tesseract's
orientation detection (OSD), or tried upside down when OSD is unsure (``ocr.orientation``); the
turned page is read again and the better reading wins. Upright pages read confidently, nearly
all of them, pay nothing. A blank page is an empty page, never an error. Tables are found from
the word boxes (``ocr.tables``).

If tesserocr or the language data cannot be loaded, ``recognize`` raises ``ProcessingError``
saying OCR is unavailable: a scanned page must never come back silently empty. Without the
orientation data pages are read as they come.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.layout.blocks import round_size
from pagemill.processors.convert.layout.furniture import set_apart
from pagemill.processors.convert.layout.lines import (
    SENTENCE_END,
    Atom,
    Group,
    Line,
    PageLayout,
    same_size,
)
from pagemill.processors.convert.ocr import engine as tesseract_engine
from pagemill.processors.convert.ocr import style as ocr_style
from pagemill.processors.convert.ocr.engine import (
    RECOGNIZE_TIMEOUT_MS,
    check_available,
    orientation_available,
    tessdata_dir,
)
from pagemill.processors.convert.ocr.orientation import SAME_READING, sideways_turn, turn_to_try
from pagemill.processors.convert.ocr.tables import WordLine, find_tables
from pagemill.processors.document import BBox

__all__ = [
    "OcrPage",
    "TextLine",
    "check_available",
    "harmonise_sizes",
    "ocr_layout",
    "orientation_available",
    "read_text_lines",
    "recognize",
    "tessdata_dir",
]

ROW_HEIGHT_TO_SIZE = 1.09  # Tesseract's row height (with descenders) is ~0.92 em
ABOVE_BASELINE_TO_SIZE = 1.32  # x-height + ascenders is ~0.76 em in Helvetica or Arial
MIN_WORD_CONFIDENCE = 10.0  # below this a "word" is usually speckle or a picture's texture
BULLET_LOOKALIKES = frozenset({"•", "¢", "e¢", "«", "°", "©", "®", "*", "»", "e", "o", "@", "eo"})
SPACES = re.compile(r"\s+")


class OcrPage(list[list[Line]]):
    """One recognised page: its paragraphs of lines in reading order (the list itself), the
    tables found among its words, and how it was turned to be read.

    Boxes are in points of the page as read (upright): after a turn by 90° or 270° the page's
    width and height are swapped with respect to the image. ``tables`` holds each table with
    the index of the paragraph it stands before.
    """

    __slots__ = ("chars", "confidence", "height", "rotation", "sideways", "tables", "width")

    def __init__(
        self,
        paragraphs: list[list[Line]],
        *,
        width: float,
        height: float,
        rotation: int = 0,
        confidence: float = 0.0,
        tables: list[tuple[int, Atom]] | None = None,
        sideways: int = 0,
    ) -> None:
        super().__init__(paragraphs)
        self.width = width
        self.height = height
        self.rotation = rotation  # degrees the image was turned clockwise to be read upright
        self.confidence = confidence  # mean word confidence, 0-100, weighted by characters
        self.tables = tables or []
        # 90 or 270 when the text runs down or up the page: the turn that sets it upright
        self.sideways = sideways
        self.chars = sum(line.chars for paragraph in paragraphs for line in paragraph) + sum(
            len(atom.text) for _, atom in self.tables
        )

    def groups(self) -> list[Group]:
        """Paragraphs and tables in reading order."""
        groups: list[Group] = []
        tables = sorted(self.tables, key=lambda entry: entry[0])
        for index, paragraph in enumerate(self):
            groups.extend(atom for before, atom in tables if before == index)
            groups.append(paragraph)
        groups.extend(atom for before, atom in tables if before >= len(self))
        return groups


def recognize(image: Any, *, dpi: float) -> OcrPage:
    """The page's paragraphs of lines in reading order (and its tables), read upright, boxes
    in PDF points (72 per inch of ``dpi``). A blank page gives no paragraphs."""
    api = tesseract_engine.engine()
    with tesseract_engine.LOCK:
        page = _recognize(api, image, dpi)
        turn = turn_to_try(page.sideways, page.confidence, page.chars, image)
        if not turn:
            return page
        turned = _recognize(api, image.rotate(turn, expand=True), dpi)
        # Sideways text was read already, boxes and all turned: keep the upright reading unless
        # it is clearly worse. Otherwise the turned reading must be clearly better.
        if (page.sideways and turned.confidence >= page.confidence - SAME_READING) or (
            turned.confidence > page.confidence + SAME_READING
        ):
            turned.rotation = (360 - turn) % 360
            return turned
        return page


def _recognize(api: Any, image: Any, dpi: float) -> OcrPage:
    from PIL import ImageChops
    from tesserocr import RIL  # type: ignore[import-untyped,unused-ignore]

    scale = 72.0 / dpi
    width, height = image.width * scale, image.height * scale
    try:
        api.SetImage(image)
        api.SetSourceResolution(max(70, round(dpi)))
        if not api.Recognize(timeout=RECOGNIZE_TIMEOUT_MS):
            raise ProcessingError(
                "OCR failed or timed out on a page; the image may be unreadable.", retryable=False
            )
        iterator = api.GetIterator()
        if iterator is None or iterator.Empty(RIL.WORD):
            return OcrPage([], width=width, height=height)  # a blank page
        paragraphs, confidence = _rows(iterator, RIL)
        paragraphs = [paragraph for paragraph in paragraphs if paragraph]
        # Tesseract's binarised page, ink white: stroke widths are measured on what it read.
        binarised = api.GetThresholdedImage()
        ink = ImageChops.invert(binarised.convert("L")) if binarised is not None else None
        measured = [[_measure(row, scale, ink) for row in paragraph] for paragraph in paragraphs]
    except ProcessingError:
        raise
    except Exception as error:  # tesserocr raises RuntimeError and friends on odd images
        raise ProcessingError(
            f"OCR failed on a page ({type(error).__name__}: {error}).", retryable=False
        ) from error
    finally:
        api.Clear()
    words = {
        id(m.line): [(text, _points(box, scale)) for text, box in row.words]
        for paragraph, rows in zip(measured, paragraphs, strict=True)
        for m, row in zip(paragraph, rows, strict=True)
    }
    return _with_tables(
        ocr_style.refine_page(measured), words, width=width, height=height, confidence=confidence
    )


def _rows(iterator: Any, ril: Any) -> tuple[list[list[_Row]], float]:
    """Tesseract's paragraphs of rows with their words, and the mean word confidence."""
    paragraphs: list[list[_Row]] = []
    words: list[tuple[str, tuple[int, int, int, int]]] = []
    row = _Row()
    weighted = chars = 0.0

    def end_line() -> None:
        if words:
            row.words = list(words)
            paragraphs[-1].append(row)
            words.clear()

    while True:
        if iterator.IsAtBeginningOf(ril.TEXTLINE):
            end_line()
            if iterator.IsAtBeginningOf(ril.PARA) or not paragraphs:
                paragraphs.append([])
            attributes = iterator.RowAttributes()
            baseline = iterator.Baseline(ril.TEXTLINE)
            row = _Row(
                height=float(attributes.get("row_height") or 0.0),
                descenders=float(attributes.get("descenders") or 0.0),
                baseline=float(baseline[0][1]) if baseline else None,
            )
        text = (iterator.GetUTF8Text(ril.WORD) or "").strip()
        box = iterator.BoundingBox(ril.WORD)
        confidence = float(iterator.Confidence(ril.WORD))
        weighted += confidence * len(text)
        chars += len(text)
        if text and box is not None and confidence >= MIN_WORD_CONFIDENCE:
            words.append((text, box))
        if not iterator.Next(ril.WORD):
            break
    end_line()
    return paragraphs, weighted / chars if chars else 0.0


def _with_tables(
    paragraphs: list[list[Line]],
    words: dict[int, list[tuple[str, BBox]]],
    *,
    width: float,
    height: float,
    confidence: float,
) -> OcrPage:
    """The page with the lines of its tables taken out of the paragraphs."""
    found = find_tables(
        [WordLine(line, words.get(id(line), [])) for paragraph in paragraphs for line in paragraph]
    )
    kept: list[list[Line]] = []
    tables: list[tuple[int, Atom]] = []
    placed: set[int] = set()
    for paragraph in paragraphs:
        part: list[Line] = []
        for line in paragraph:
            table = next((i for i, t in enumerate(found) if id(line) in t.lines), None)
            if table is None:
                part.append(line)
                continue
            if part:
                kept.append(part)
                part = []
            if table not in placed:
                placed.add(table)
                tables.append((len(kept), found[table].atom))
        if part:
            kept.append(part)
    return OcrPage(
        kept,
        width=width,
        height=height,
        confidence=confidence,
        tables=tables,
        sideways=sideways_turn(line for line in words.values() if line),
    )


def _points(box: tuple[int, int, int, int], scale: float) -> BBox:
    return (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)


@dataclass(slots=True)
class _Row:
    """One text line as Tesseract reports it: row metrics in pixels, then its words."""

    height: float = 0.0  # x-height + ascenders + descenders
    descenders: float = 0.0  # negative: below the baseline
    baseline: float | None = None  # y at the line's start
    words: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)


def _measure(row: _Row, scale: float, ink: Any) -> ocr_style.Measured:
    line = _line(row, scale)
    box = (
        min(box[0] for _, box in row.words),
        min(box[1] for _, box in row.words),
        max(box[2] for _, box in row.words),
        max(box[3] for _, box in row.words),
    )
    return ocr_style.Measured(
        line=line,
        stroke=ocr_style.stroke_width(ink, box) if ink is not None else 0.0,
        baseline=(row.baseline if row.baseline is not None else box[3]) * scale,
        tabbed=ocr_style.tabbed([box for _, box in row.words], line.size / scale),
    )


def _line(row: _Row, scale: float) -> Line:
    words = row.words
    texts = [text for text, _ in words]
    first_box = words[0][1]
    height = max(1, max(box[3] - box[1] for _, box in words))
    # Tesseract reads a bullet as "e", "¢" or "«": a small first "word" set apart is a bullet.
    if len(words) > 1 and texts[0] in BULLET_LOOKALIKES:
        gap = words[1][1][0] - first_box[2]
        if first_box[2] - first_box[0] <= 0.6 * height and gap >= 0.3 * height:
            texts[0] = "•"
    x0 = min(box[0] for _, box in words) * scale
    y0 = min(box[1] for _, box in words) * scale
    x1 = max(box[2] for _, box in words) * scale
    y1 = max(box[3] for _, box in words) * scale
    text = SPACES.sub(" ", " ".join(texts)).strip()
    # The part above the baseline (x-height + ascenders): Tesseract guesses the descenders of
    # a line without descending letters, so the whole row height wanders with the wording.
    above_baseline = row.height + row.descenders
    if row.height > 0 and row.descenders < 0 < above_baseline:
        size = above_baseline * scale * ABOVE_BASELINE_TO_SIZE
    elif row.height > 0:
        size = row.height * scale * ROW_HEIGHT_TO_SIZE
    else:
        size = (y1 - y0) * 0.8
    return Line(
        text=text,
        bbox=(x0, y0, x1, y1),
        size=round_size(size),
        bold=False,  # Tesseract's LSTM models report no weight: ocr.style measures it
        chars=sum(1 for char in text if not char.isspace()),
    )


def harmonise_sizes(pages: Iterable[Sequence[list[Line]]]) -> None:
    """Take one document's OCRed sizes within ~10 % of each other for one size (in place).

    Call it with every OCRed page of a document before ranking headings: the estimates of one
    style differ from page to page, and each distinct size would otherwise be its own level.
    """
    ocr_style.harmonise_sizes(line for page in pages for paragraph in page for line in paragraph)


def ocr_layout(
    page: int, height: float, paragraphs: Sequence[list[Line]], furniture: set[tuple[int, int]]
) -> PageLayout:
    """An OCRed page: Tesseract's paragraphs (and the tables found among them, when
    ``paragraphs`` is an ``OcrPage``), in its order, less the running furniture."""
    layout = PageLayout(page=page)
    body = {
        id(line)
        for line in set_apart(layout, height, [ln for p in paragraphs for ln in p], furniture)
    }
    groups = paragraphs.groups() if isinstance(paragraphs, OcrPage) else list(paragraphs)
    for group in groups:
        if isinstance(group, Atom):
            layout.groups.append(group)
            continue
        kept = [line for line in group if id(line) in body]
        previous = layout.groups[-1] if layout.groups else None
        if kept and isinstance(previous, list) and _sentence_goes_on(previous[-1], kept[0]):
            previous.extend(kept)
        elif kept:
            layout.groups.append(kept)
    return layout


def _sentence_goes_on(end: Line, start: Line) -> bool:
    """Tesseract sometimes ends a paragraph after its first line (a first line set in small
    capitals, "WELL, I got a good going-over in the morning,"): a line right below that
    goes on with the open sentence, in lower case and the same size, is the same paragraph."""
    gap = start.bbox[1] - end.bbox[3]
    return (
        not end.text.endswith(SENTENCE_END)
        and start.text[:1].islower()
        and same_size(end.size, start.size)
        and -0.5 * end.size <= gap <= 0.6 * end.size
    )


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line as Tesseract read it, for callers that want the raw lines (the OCR step)."""

    text: str
    bbox: tuple[int, int, int, int]  # pixels of the image, origin top-left
    confidence: float  # 0..1: the mean of its words' confidences
    words: tuple[tuple[str, tuple[int, int, int, int], float], ...]  # text, box, confidence


def read_text_lines(image: Any, *, dpi: float) -> list[TextLine]:
    """The text lines of ``image`` in Tesseract's reading order, with word boxes and
    confidences; words below ``MIN_WORD_CONFIDENCE`` (speckle) are left out."""
    from tesserocr import RIL  # type: ignore[import-untyped,unused-ignore]

    api = tesseract_engine.engine()
    with tesseract_engine.LOCK:
        try:
            api.SetImage(image)
            api.SetSourceResolution(max(70, round(dpi)))
            if not api.Recognize(timeout=RECOGNIZE_TIMEOUT_MS):
                raise ProcessingError(
                    "OCR failed or timed out on a page; the image may be unreadable.",
                    retryable=False,
                )
            lines: list[list[tuple[str, tuple[int, int, int, int], float]]] = []
            iterator = api.GetIterator()
            if iterator is not None and iterator.Empty(RIL.WORD):
                iterator = None  # a blank page: no lines (reading its "words" would raise)
            while iterator is not None:
                if iterator.IsAtBeginningOf(RIL.TEXTLINE) or not lines:
                    lines.append([])
                text = (iterator.GetUTF8Text(RIL.WORD) or "").strip()
                box = iterator.BoundingBox(RIL.WORD)
                confidence = float(iterator.Confidence(RIL.WORD))
                if text and box is not None and confidence >= MIN_WORD_CONFIDENCE:
                    lines[-1].append((text, tuple(box), round(confidence / 100.0, 4)))
                if not iterator.Next(RIL.WORD):
                    break
        except ProcessingError:
            raise
        except Exception as error:  # tesserocr raises RuntimeError and friends on odd images
            raise ProcessingError(
                f"OCR failed on a page ({type(error).__name__}: {error}).", retryable=False
            ) from error
        finally:
            api.Clear()
    return [_text_line(words) for words in lines if words]


def _text_line(words: list[tuple[str, tuple[int, int, int, int], float]]) -> TextLine:
    boxes = [box for _, box, _ in words]
    return TextLine(
        text=SPACES.sub(" ", " ".join(text for text, _, _ in words)).strip(),
        bbox=(
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ),
        confidence=round(sum(c for _, _, c in words) / len(words), 4),
        words=tuple(words),
    )
