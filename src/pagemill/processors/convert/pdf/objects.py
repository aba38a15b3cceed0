"""What a PDF page draws besides text, from pdfium's page objects in one cheap pass.

* **rulings**: whether the page has line or box paths a ruled table could be made of, so the
  (slow) table finder only runs where it can find something;
* **image coverage**: the share of the page covered by images, which tells a scanned page (one
  big image, no text) from a blank one;
* **pictures**: embedded images as PNG, for ``include_images``.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

from pagemill.processors.document import BBox

RULE_MIN_LENGTH = 15.0  # points: shorter paths are glyph outlines, bullets or decorations
RULE_MAX_THICKNESS = 2.0
BOX_MIN_HEIGHT = 10.0
MIN_PICTURE_PIXELS = 32  # smaller images are icons, bullets or spacers


@dataclass(slots=True)
class Picture:
    bbox: BBox  # PDF points, origin top-left
    png_base64: str


@dataclass(slots=True)
class PageObjects:
    rulings: bool = False
    image_coverage: float = 0.0  # 0..1, overlaps counted twice (then capped)
    pictures: list[Picture] = field(default_factory=list)
    paths: int = 0  # vector paths of any size (art, rules, or text converted to outlines)


def scan_page(page: Any, *, want_pictures: bool) -> PageObjects:
    """Walk ``page``'s path and image objects (forms included) once."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()
    area = max(1.0, width * height)
    horizontal = vertical = boxes = 0
    result = PageObjects()
    covered = 0.0
    objects = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_IMAGE))
    for obj in objects:
        left, bottom, right, top = obj.get_bounds()
        w, h = right - left, top - bottom
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            covered += max(0.0, w) * max(0.0, h)
            if want_pictures:
                picture = _picture(obj, (left, height - top, right, height - bottom))
                if picture is not None:
                    result.pictures.append(picture)
            continue
        if h <= RULE_MAX_THICKNESS and w >= RULE_MIN_LENGTH:
            horizontal += 1
        elif w <= RULE_MAX_THICKNESS and h >= RULE_MIN_LENGTH:
            vertical += 1
        elif w >= RULE_MIN_LENGTH and h >= BOX_MIN_HEIGHT:
            boxes += 1
        result.paths += 1
    result.rulings = boxes > 0 or (horizontal >= 2 and vertical >= 2)
    result.image_coverage = min(1.0, covered / area)
    return result


def _picture(obj: Any, bbox: BBox) -> Picture | None:
    try:
        px_width, px_height = obj.get_px_size()
        if min(px_width, px_height) < MIN_PICTURE_PIXELS:
            return None
        image = obj.get_bitmap(render=False).to_pil()
    except Exception:  # an image pdfium cannot decode is left out, not fatal to the page
        return None
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    x0, y0, x1, y1 = bbox
    return Picture(
        bbox=(round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)),
        png_base64=base64.b64encode(buffer.getvalue()).decode("ascii"),
    )
