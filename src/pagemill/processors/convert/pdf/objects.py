"""What a PDF page draws besides text, from pdfium's page objects in one cheap pass.

* **rules**: the horizontal and vertical line segments a table can be ruled with (thin paths,
  and the axis-aligned edges of boxes and grids drawn as one path); the table finder starts
  from them, so pages without rules cost it almost nothing;
* **image coverage**: the share of the page covered by images, which tells a scanned page (one
  big image, no text) from a blank one;
* **pictures**: embedded images as PNG, for ``include_images``.
"""

from __future__ import annotations

import base64
import ctypes
import io
from dataclasses import dataclass, field
from typing import Any

from pagemill.processors.document import BBox

RULE_MIN_LENGTH = 8.0  # points: shorter segments are glyph outlines, bullets or decorations
RULE_MAX_THICKNESS = 2.0
BOX_MIN_SIZE = 6.0
PAGE_SHARE = 0.95  # a path this share of the page wide and high frames the page, not a table
MAX_PATH_SEGMENTS = 400  # longer paths are drawings or outlined text, not table rules
MIN_PICTURE_PIXELS = 32  # smaller images are icons, bullets or spacers
SEGMENT_LINETO, SEGMENT_BEZIERTO, SEGMENT_MOVETO = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Rule:
    """An axis-aligned segment in page space (origin top-left): ``at`` is its y (horizontal)
    or x (vertical), ``start``..``end`` its extent along the other axis."""

    horizontal: bool
    at: float
    start: float
    end: float


@dataclass(slots=True)
class Picture:
    bbox: BBox  # PDF points, origin top-left
    png_base64: str


@dataclass(slots=True)
class PageObjects:
    rules: list[Rule] = field(default_factory=list)
    drawings: list[BBox] = field(default_factory=list)  # paths with curves or slanted lines
    images: list[BBox] = field(default_factory=list)  # where images are drawn
    image_coverage: float = 0.0  # 0..1, overlaps counted twice (then capped)
    pictures: list[Picture] = field(default_factory=list)
    paths: int = 0  # vector paths of any size (art, rules, or text converted to outlines)


@dataclass(frozen=True, slots=True)
class Frame:
    """PDF user space → the page as displayed: origin top-left, ``/Rotate`` applied, in points."""

    left: float
    bottom: float
    width: float  # unrotated
    height: float
    rotation: int  # 0, 90, 180 or 270

    @classmethod
    def of(cls, page: Any, rotation: int | None = None) -> Frame:
        """The page as displayed (``/Rotate``), or turned by ``rotation`` instead (a page whose
        text is drawn sideways is read as if turned upright)."""
        left, bottom, right, top = page.get_bbox()
        if rotation is None:
            try:
                rotation = int(page.get_rotation()) % 360
            except Exception:  # a damaged /Rotate entry reads as upright
                rotation = 0
        return cls(left, bottom, abs(right - left), abs(top - bottom), rotation % 360)

    @property
    def size(self) -> tuple[float, float]:
        """Width and height as displayed."""
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height

    def point(self, x: float, y: float) -> tuple[float, float]:
        x, y = x - self.left, self.height - (y - self.bottom)
        if self.rotation == 90:
            return self.height - y, x
        if self.rotation == 180:
            return self.width - x, self.height - y
        if self.rotation == 270:
            return y, self.width - x
        return x, y

    def box(self, left: float, bottom: float, right: float, top: float) -> BBox:
        x0, y0 = self.point(left, bottom)
        x1, y1 = self.point(right, top)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def scan_page(page: Any, *, want_pictures: bool, rotation: int | None = None) -> PageObjects:
    """Walk ``page``'s path and image objects (forms included) once; boxes as displayed (or
    turned by ``rotation``: ``Frame.of``)."""
    import pypdfium2.raw as pdfium_c

    frame = Frame.of(page, rotation)
    width, height = frame.size
    area = max(1.0, width * height)
    result = PageObjects()
    covered = 0.0
    objects = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_IMAGE))
    for obj in objects:
        # An object inside a form XObject reports its bounds and matrix in the form's space.
        outer = _form_matrix(obj)
        bounds = obj.get_bounds()
        box = frame.box(*(bounds if outer is None else outer.on_rect(*bounds)))
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            covered += max(0.0, w) * max(0.0, h)
            result.images.append(box)
            if want_pictures:
                picture = _picture(obj, box)
                if picture is not None:
                    result.pictures.append(picture)
            continue
        result.paths += 1
        if h <= RULE_MAX_THICKNESS and w >= RULE_MIN_LENGTH:
            result.rules.append(Rule(True, (y0 + y1) / 2, x0, x1))
        elif w <= RULE_MAX_THICKNESS and h >= RULE_MIN_LENGTH:
            result.rules.append(Rule(False, (x0 + x1) / 2, y0, y1))
        elif w >= PAGE_SHARE * width and h >= PAGE_SHARE * height:
            continue  # the page's background or border: it would join every table into one
        elif w >= BOX_MIN_SIZE and h >= BOX_MIN_SIZE:
            rules = _path_rules(pdfium_c, obj.raw, frame, outer)
            if rules is None:
                result.drawings.append(box)
            else:
                result.rules.extend(rules)
    result.image_coverage = min(1.0, covered / area)
    return result


def _form_matrix(obj: Any) -> Any:
    """The matrix from the space of the form(s) ``obj`` sits in to page space; ``None`` on the
    page itself."""
    matrix = None
    container = obj.container if obj.level > 0 else None
    while container is not None:
        own = container.get_matrix()
        matrix = own if matrix is None else matrix.multiply(own)
        container = container.container if container.level > 0 else None
    return matrix


def _path_rules(pdfium_c: Any, path: Any, frame: Frame, outer: Any = None) -> list[Rule] | None:
    """The axis-aligned straight segments of a box or grid path, in page space; ``None`` for a
    drawing (curves, slanted lines, or too many segments for a table's rules)."""
    count = pdfium_c.FPDFPath_CountSegments(path)
    if count > MAX_PATH_SEGMENTS:
        return None
    if count <= 0:
        return []
    matrix = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(path, matrix):
        return []
    a, b, c, d, e, f = matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f
    if outer is not None:  # the path's own matrix, then the enclosing forms'
        a, b, c, d, e, f = (
            a * outer.a + b * outer.c,
            a * outer.b + b * outer.d,
            c * outer.a + d * outer.c,
            c * outer.b + d * outer.d,
            e * outer.a + f * outer.c + outer.e,
            e * outer.b + f * outer.d + outer.f,
        )
    x, y = ctypes.c_float(), ctypes.c_float()
    rules: list[Rule] = []
    start = current = None
    for index in range(count):
        segment = pdfium_c.FPDFPath_GetPathSegment(path, index)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == SEGMENT_BEZIERTO:
            return None
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        point = frame.point(a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        if kind == SEGMENT_LINETO and current is not None:
            if not _add_segment(rules, current, point):
                return None
        elif kind == SEGMENT_MOVETO:
            start = point
        current = point
        if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
            if not _add_segment(rules, point, start):
                return None
            current = start
    return rules


def _add_segment(rules: list[Rule], p: tuple[float, float], q: tuple[float, float]) -> bool:
    """Add the segment ``p``-``q`` if it is a rule; ``False`` if it is slanted (a drawing)."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = abs(x1 - x0), abs(y1 - y0)
    if dy <= RULE_MAX_THICKNESS / 2:
        if dx >= RULE_MIN_LENGTH:
            rules.append(Rule(True, (y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        return True
    if dx <= RULE_MAX_THICKNESS / 2:
        if dy >= RULE_MIN_LENGTH:
            rules.append(Rule(False, (x0 + x1) / 2, min(y0, y1), max(y0, y1)))
        return True
    return False


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
