"""Image inputs → ``Document`` through OCR: PNG, JPEG, TIFF, WebP, GIF.

Each TIFF frame is a page (``page_range`` selects frames); GIF and WebP give their first frame
only (an animation's later frames are the same page redrawn). Frames are turned upright from
their EXIF orientation, flattened onto white (transparent text on a transparent background would
read as black on black) and OCRed at their own resolution; boxes are in points at the file's
declared dpi, or 300 dpi when it declares none.

Dimensions are checked from the header before any pixel is decoded: more than 50 megapixels in
a frame, or a side longer than 30,000 px, is refused, and Pillow's own decompression-bomb
warning is an error here, so a crafted file cannot exhaust the worker's memory.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.layout.blocks import body_style, build_blocks
from pagemill.processors.convert.layout.furniture import find_furniture, running_text
from pagemill.processors.convert.ocr import tesseract as ocr
from pagemill.processors.convert.ocr.tesseract import OcrPage, ocr_layout
from pagemill.processors.document import Document

MAX_FRAME_PIXELS = 50_000_000
MAX_SIDE = 30_000
DEFAULT_DPI = 300.0
DPI_RANGE = (70.0, 1200.0)  # a declared resolution outside this is a placeholder, not a fact
MULTI_PAGE_FORMATS = frozenset({"TIFF"})


def parse(request: ParseRequest) -> Document:
    """The image parser of ``formats.PARSERS``."""
    try:
        return _parse(request)
    except ProcessingError:
        raise
    except InvalidInput as error:  # a range this image has too few frames for
        raise ProcessingError(error.detail) from error
    except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError… on bad files
        raise ProcessingError(
            f"The image could not be read; it is corrupt, truncated or of an unsupported kind "
            f"({type(error).__name__}: {error})."
        ) from error


def _parse(request: ParseRequest) -> Document:
    from PIL import Image

    with warnings.catch_warnings():
        # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; both are refusals.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(request.path)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise _too_large(f"Pillow refused it as a decompression bomb ({error})") from error
        with image:
            kind = image.format or "image"
            frames = getattr(image, "n_frames", 1) if kind in MULTI_PAGE_FORMATS else 1
            pages = select_pages(frames, request.page_range, request.max_pages)
            ocr.check_available()
            recognised: list[tuple[int, float, float, OcrPage]] = []
            for page in pages:
                frame, dpi = _frame(image, page)
                read = ocr.recognize(frame, dpi=dpi)
                # A frame scanned sideways is read upright: its size is the upright one.
                recognised.append((page, read.width, read.height, read))

    ocr.harmonise_sizes(paragraphs for _, _, _, paragraphs in recognised)
    furniture = find_furniture(
        [(page, height, [ln for p in paras for ln in p]) for page, _, height, paras in recognised]
    )
    layouts = [
        ocr_layout(page, height, paragraphs, furniture)
        for page, _, height, paragraphs in recognised
    ]
    blocks = build_blocks(layouts, keep_furniture=request.include_headers_footers)
    style = body_style(layouts)
    metadata: dict[str, Any] = {
        "parser": "tesseract",
        "image_format": kind,
        "page_sizes": {str(page): [round(w, 2), round(h, 2)] for page, w, h, _ in recognised},
        "body_font_size": style.size if style is not None else None,
        "pages_without_text": [layout.page for layout in layouts if not layout.groups],
        "ocr_pages": list(pages),
        "running_text": running_text(layouts),
    }
    turned = {str(page): read.rotation for page, _, _, read in recognised if read.rotation}
    if turned:
        metadata["rotated_pages"] = turned
    return Document(page_count=frames, pages=pages, blocks=blocks, metadata=metadata)


def _frame(image: Any, index: int) -> tuple[Any, float]:
    """Frame ``index`` decoded as greyscale on white, and its resolution in dpi."""
    from PIL import Image, ImageOps

    if image.tell() != index:
        image.seek(index)
    width, height = image.size  # from the frame's header: nothing is decoded yet
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_FRAME_PIXELS:
        raise _too_large(f"frame {index} is {width} x {height} pixels")
    frame = ImageOps.exif_transpose(image) if index == 0 else image.copy()
    if frame.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        frame = frame.convert("I").point(lambda value: value / 256).convert("L")
    if frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info:
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, rgba)
    return frame.convert("L"), _dpi(image)


def _dpi(image: Any) -> float:
    declared = image.info.get("dpi")
    try:
        dpi = float(declared[0]) if declared else 0.0
    except (TypeError, ValueError, IndexError):
        dpi = 0.0
    return dpi if DPI_RANGE[0] <= dpi <= DPI_RANGE[1] else DEFAULT_DPI


def _too_large(detail: str) -> ProcessingError:
    return ProcessingError(
        f"The image is too large to convert: {detail}; the limit is "
        f"{MAX_FRAME_PIXELS // 1_000_000} megapixels and {MAX_SIDE:,} pixels a side per frame.",
        retryable=False,
    )


def page_images(
    path: Path, page_range: str | None = None, max_pages: int | None = None, *, colour: bool = False
) -> tuple[int, list[tuple[int, Any, float]]]:
    """The image's frame count and ``(page, frame, dpi)`` for each selected frame, with the
    same size checks as ``parse`` (for steps that OCR or draw on frames): greyscale on white
    as OCR wants it, or upright RGB with ``colour``."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise _too_large(f"Pillow refused it as a decompression bomb ({error})") from error
        with image:
            kind = image.format or "image"
            frames = getattr(image, "n_frames", 1) if kind in MULTI_PAGE_FORMATS else 1
            selected = []
            for page in select_pages(frames, page_range, max_pages):
                frame, dpi = _frame(image, page)  # checks the size before decoding
                if colour:
                    upright = ImageOps.exif_transpose(image) if page == 0 else image.copy()
                    frame = upright.convert("RGB")
                selected.append((page, frame, dpi))
    return frames, selected
