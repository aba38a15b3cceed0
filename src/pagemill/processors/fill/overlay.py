"""Writing values onto pages that have no form fields: text drawn next to the labels.

On PDFs the values are a new content layer per page (Helvetica, WinAnsi encoding; characters it
cannot show become "?" and are reported), merged over the page with pypdf; on images they are
drawn with Pillow's built-in font. Positions come from ``text.Spot`` (origin top-left).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.processors.fill.text import Spot

INK = (0.05, 0.1, 0.55)  # dark blue: visibly filled in, not printed
MAX_SIZE = 11.0
MIN_SIZE = 6.0
FONT_NAME = "/PagemillFill"


@dataclass(frozen=True, slots=True)
class Placed:
    spot: Spot
    value: str


def font_size(spot: Spot) -> float:
    return max(MIN_SIZE, min(MAX_SIZE, spot.height * 0.85))


def _pdf_string(text: str) -> tuple[bytes, bool]:
    encoded = text.encode("cp1252", errors="replace")
    lossy = encoded.decode("cp1252", errors="replace") != text
    escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")", lossy


def draw_on_pdf(writer: Any, placed: Sequence[Placed]) -> list[str]:
    """Draw each value on its page of ``writer`` (a pypdf ``PdfWriter``); returns the values
    that had characters Helvetica cannot show."""
    from pypdf import PageObject
    from pypdf.generic import ContentStream, DictionaryObject, NameObject

    lossy: list[str] = []
    by_page: dict[int, list[Placed]] = {}
    for item in placed:
        by_page.setdefault(item.spot.page, []).append(item)
    for page_number, items in sorted(by_page.items()):
        page = writer.pages[page_number]
        box = page.mediabox
        left, top = float(box.left), float(box.top)
        commands = [b"q", b"%.3f %.3f %.3f rg" % INK]
        for item in items:
            string, was_lossy = _pdf_string(item.value)
            if was_lossy:
                lossy.append(item.value)
            size = font_size(item.spot)
            x = left + item.spot.x
            y = top - item.spot.baseline + size * 0.2
            commands.append(
                b"BT %s %.2f Tf %.2f %.2f Td %s Tj ET" % (FONT_NAME.encode(), size, x, y, string)
            )
        commands.append(b"Q")
        layer = PageObject.create_blank_page(width=box.width, height=box.height)
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
        layer[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject(FONT_NAME): font})}
        )
        stream = ContentStream(None, None)
        stream.set_data(b"\n".join(commands))
        layer.replace_contents(stream)
        if left or float(box.bottom):
            layer.mediabox = box
        page.merge_page(layer)
    return lossy


def draw_on_image(image: Any, placed: Sequence[Placed]) -> Any:
    """A copy of ``image`` (RGB) with the values drawn at their spots (pixel coordinates)."""
    from PIL import ImageDraw, ImageFont

    drawn = image.convert("RGB")
    canvas = ImageDraw.Draw(drawn)
    colour = tuple(round(c * 255) for c in INK)
    for item in placed:
        size = max(10, round(item.spot.height * 0.85))
        font = ImageFont.load_default(size=size)
        canvas.text(
            (item.spot.x, item.spot.baseline), item.value, fill=colour, font=font, anchor="ls"
        )
    return drawn
