"""A PDF page's characters as pdfium reads them: code, box as displayed, style, text object.

The style is read once per text object: the **effective font size** (the font size times the
vertical scale of the character's full matrix: most producers set the size with the text
matrix, and the size pdfium reports is then 1.0), the weight, and the baseline's direction.
A page whose text mostly runs sideways or upside down (a landscape table set on a portrait
page) is read turned upright: its glyphs are then put in rows by where they sit, as pdfium's
order for turned text breaks words apart.
"""

from __future__ import annotations

import collections
import ctypes
import importlib
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from pagemill.processors.convert.layout.blocks import round_size
from pagemill.processors.convert.pdf.objects import Frame

FORCE_BOLD_FLAG = 1 << 18  # PDF font descriptor flag bit 19
BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi")
LIGATURES = {"ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬁ": "fi", "ﬂ": "fl", "ﬆ": "st", "ﬅ": "st"}
SPACES = frozenset((0x20, 0xA0, 0xFFFE, 0xFEFF, 0x09, 0x2002, 0x2003, 0x2009, 0x202F))
LINE_BREAKS = frozenset((0x0A, 0x0D))
LINE_BREAK = 0x0A
MADE_SPACE_EMS = 0.05  # turned text: glyphs this far apart may have a word space between them
HYPHEN_MARK = 0x02  # pdfium's mark for a hyphen at the end of a line
SIDEWAYS_SHARE = 0.6  # a page is read turned when this share of its glyphs runs one other way


@dataclass(frozen=True, slots=True)
class Style:
    size: float
    bold: bool
    upright: bool  # the baseline runs left to right as the page is read
    quarter: int  # the baseline's direction in quarter turns counter-clockwise; -1: slanted


@dataclass(slots=True)
class Char:
    code: int
    x0: float
    y0: float
    x1: float
    y1: float
    style: Style | None  # None: a character pdfium generated (space, line break)
    obj: int  # the text object that drew it; 0 for generated characters


class _Api:
    """pdfium's text functions, bound once; ``text_object`` returns a plain address."""

    def __init__(self) -> None:
        import pypdfium2.raw as pdfium_c

        self.c = pdfium_c
        # A handle of our own on the loaded library, so that this one function can return a
        # plain address without changing the binding every other caller uses.
        bindings = importlib.import_module("pypdfium2_raw.bindings")
        library = ctypes.CDLL(bindings._libs["pdfium"]._name)
        text_object = library.FPDFText_GetTextObject
        text_object.restype = ctypes.c_void_p
        text_object.argtypes = (pdfium_c.FPDF_TEXTPAGE, ctypes.c_int)
        self.text_object = text_object
        self.rect = pdfium_c.FS_RECTF()
        self.matrix = pdfium_c.FS_MATRIX()
        self.name = ctypes.create_string_buffer(256)
        self.flags = ctypes.c_int()
        self.left, self.right = ctypes.c_double(), ctypes.c_double()
        self.bottom, self.top = ctypes.c_double(), ctypes.c_double()


_API: _Api | None = None  # bound on first use (under pdfium's lock, like every read)


def _bound() -> _Api:
    global _API
    if _API is None:
        _API = _Api()
    return _API


def in_rows(chars: list[Char]) -> list[Char]:
    """The glyphs of a page read turned, row by row, left to right: pdfium orders the
    characters of turned text as if it were upright, breaking words apart, and its spaces
    (made up, or drawn with an empty box) fall in the wrong places. Rows are told apart by
    where the glyphs sit, and a space is made up wherever two glyphs of a row stand apart
    (``_pieces`` keeps only those wider than the row's letter spacing)."""
    glyphs = sorted(
        (
            char
            for char in chars
            if char.style is not None
            and char.style.upright
            and (char.x1 > char.x0 or not blank(char.code))
        ),
        key=lambda char: (char.y0 + char.y1) / 2,
    )
    # Text running another way (a margin stamp) keeps pdfium's order, after the rows.
    others = [char for char in chars if char.style is not None and not char.style.upright]
    rows: list[list[Char]] = []
    bottom = -math.inf
    for char in glyphs:
        if not rows or (char.y0 + char.y1) / 2 > bottom:
            rows.append([])
            bottom = char.y1
        rows[-1].append(char)
        bottom = min(bottom, char.y1)
    ordered: list[Char] = []
    for row in rows:
        row.sort(key=lambda char: char.x0)
        last: Char | None = None
        for char in row:
            size = char.style.size if char.style is not None else 0.0
            if last is not None and char.x0 - last.x1 > MADE_SPACE_EMS * size:
                ordered.append(Char(0x20, last.x1, last.y0, char.x0, last.y1, None, 0))
            ordered.append(char)
            last = char
        ordered.append(Char(LINE_BREAK, row[-1].x1, row[-1].y0, row[-1].x1, row[-1].y1, None, 0))
    return ordered + others


def upright_rotation(visible: list[Char], frame: Frame) -> int | None:
    """The rotation that reads the page upright when most of its glyphs run sideways or upside
    down (a landscape table set on a portrait page), else None."""
    quarters = collections.Counter(char.style.quarter for char in visible if char.style is not None)
    if not quarters:
        return None
    quarter, glyphs = quarters.most_common(1)[0]
    if quarter < 0 or glyphs < SIDEWAYS_SHARE * len(visible):
        return None
    rotation = quarter * 90
    return None if rotation == frame.rotation else rotation


def read_chars(textpage: Any, frame: Frame, *, turned: bool) -> list[Char]:
    """The page's characters, boxes as displayed. On a page read ``turned`` the glyphs running
    its way are upright, with pdfium's loose boxes (line height, advance width) as on any
    upright page; elsewhere only unturned glyphs are (a ``/Rotate`` page's text included)."""
    api = _bound()
    turn = frame.rotation // 90 if turned else 0
    c = api.c
    get_unicode = c.FPDFText_GetUnicode
    loose_box = c.FPDFText_GetLooseCharBox
    tight_box = c.FPDFText_GetCharBox
    text_object = api.text_object
    rect = api.rect
    origin_x, origin_y, height = frame.left, frame.bottom, frame.height
    upright_page = frame.rotation == 0
    page_width, page_height = frame.size
    styles: dict[int, Style] = {}
    interned: dict[Style, Style] = {}
    chars: list[Char] = []
    for index in range(c.FPDFText_CountChars(textpage)):
        code = get_unicode(textpage, index)
        obj = text_object(textpage, index) or 0
        style: Style | None = None
        if obj:
            style = styles.get(obj)
            if style is None:
                found = _style(api, textpage, index, turn)
                style = styles[obj] = interned.setdefault(found, found)
        if style is None or style.quarter == 0 or (turned and style.upright):
            if not loose_box(textpage, index, rect):
                continue
            x0, x1, y_bottom, y_top = rect.left, rect.right, rect.bottom, rect.top
        else:  # turned glyphs: pdfium's loose box is only defined for unturned text
            if not tight_box(textpage, index, api.left, api.right, api.bottom, api.top):
                continue
            x0, x1 = api.left.value, api.right.value
            y_bottom, y_top = api.bottom.value, api.top.value
        if upright_page:
            x0, x1 = x0 - origin_x, x1 - origin_x
            y0, y1 = height - (y_top - origin_y), height - (y_bottom - origin_y)
            char = Char(code, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), style, obj)
        else:
            char = Char(code, *frame.box(x0, y_bottom, x1, y_top), style, obj)
        # Printer's marks and slugs outside the crop box are not on the page a reader sees.
        if char.x1 >= 0 and char.y1 >= 0 and char.x0 <= page_width and char.y0 <= page_height:
            chars.append(char)
    return chars


def _style(api: _Api, textpage: Any, index: int, turn: int) -> Style:
    """The glyph's size, weight and direction; upright when its baseline runs ``turn`` quarter
    turns counter-clockwise in user space (so left to right on the page as read)."""
    c = api.c
    length = c.FPDFText_GetFontInfo(textpage, index, api.name, len(api.name), api.flags)
    name = api.name.value.decode("utf-8", "replace").lower() if length > 0 else ""
    flags = api.flags.value if length > 0 else 0
    weight = c.FPDFText_GetFontWeight(textpage, index)
    size = float(c.FPDFText_GetFontSize(textpage, index) or 0.0)
    matrix = api.matrix
    scale = 1.0
    quarter = 0
    if c.FPDFText_GetMatrix(textpage, index, matrix):
        # The glyph's vertical axis is (c, d): its length is how much the size is scaled.
        scale = math.hypot(matrix.c, matrix.d) or 1.0
        quarter = _quarter(matrix.a, matrix.b)
    bold = weight >= 600 or bool(flags & FORCE_BOLD_FLAG) or any(w in name for w in BOLD_NAMES)
    return Style(round_size(size * scale), bold, quarter == turn, quarter)


def _quarter(a: float, b: float) -> int:
    """The direction of a baseline (a, b) in quarter turns counter-clockwise; -1 unless it is
    one of the four axis directions."""
    along, across = max(abs(a), abs(b)), min(abs(a), abs(b))
    if along == 0 or across >= 1e-6 * max(1.0, along):
        return -1
    if abs(a) >= abs(b):
        return 0 if a > 0 else 2
    return 1 if b > 0 else 3


def without_duplicates(chars: list[Char]) -> list[Char]:
    """Drop text objects that repeat an earlier one's text at (almost) the same place."""
    runs: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(chars) + 1):
        if index == len(chars) or chars[index].obj != chars[start].obj:
            runs.append((start, index))
            start = index
    seen: set[tuple[str, int, int]] = set()
    keep: list[Char] = []
    for begin, end in runs:
        run = chars[begin:end]
        if run[0].obj:
            key = ("".join(chr(char.code) for char in run), round(run[0].x0), round(run[0].y1))
            if key in seen:
                continue
            seen.add(key)
        keep.extend(run)
    return keep


def blank(code: int) -> bool:
    return code in SPACES or code in LINE_BREAKS or code == HYPHEN_MARK or code < 0x21


def unmapped(code: int) -> bool:
    return (
        code == 0xFFFD
        or 0xE000 <= code <= 0xF8FF
        or (code < 0x20 and code not in (0x09, 0x0A, 0x0D, HYPHEN_MARK))
    )


def text_of(code: int) -> str:
    char = chr(code)
    if 0x20 < code < 0x7F:
        return char
    if char in LIGATURES:
        return LIGATURES[char]
    if unicodedata.category(char)[0] == "C":
        return ""  # control, private-use and unassigned code points carry no text
    return char
