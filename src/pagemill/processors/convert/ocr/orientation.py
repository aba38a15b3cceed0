"""Which way up a scanned page is: the turn to try before reading it again.

* Text running up or down the page: Tesseract reads it as vertical lines, and the order of
  each line's words says which way it runs (``sideways_turn``).
* A page read with low confidence: Tesseract's orientation detection (OSD) is asked; when it
  is unsure (old print, few lines), the page is tried upside down, the usual way a page is
  misfed. The caller reads the turned page and keeps the better reading.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pagemill.processors.convert.ocr.engine import orientation_engine
from pagemill.processors.document import BBox

# A page read with a mean word confidence below this may be upside down. Upright print reads
# at 85-95, a page turned by 180 degrees at about 35.
CONFIDENT_READING = 60.0
SAME_READING = 5.0  # mean confidences this close are one reading as good as the other
MIN_CHARS_TO_TURN = 40  # fewer recognised characters: a blank page or a picture
SURE_ORIENTATION = 10.0  # OSD's margin over the next orientation (about 30 on clean print)


def turn_to_try(sideways: int, confidence: float, chars: int, image: Any) -> int:
    """The counter-clockwise turn (90, 180 or 270) that may read a page upright; 0: none.

    ``sideways``, ``confidence`` and ``chars`` describe the page as read first: its
    ``sideways_turn``, its mean word confidence and how many characters were recognised.

    Text running up or down the page says by the order of its words which way it runs. A page
    read with low confidence is asked of OSD; when OSD is unsure (old print, few lines) the
    page is tried upside down, the usual way a page is misfed.
    """
    if sideways:
        # Read well, the words ran the way the text does; read badly, Tesseract took the
        # lines the wrong way up, and the words ran backwards.
        return sideways if confidence >= CONFIDENT_READING else 360 - sideways
    if confidence >= CONFIDENT_READING or chars < MIN_CHARS_TO_TURN:
        return 0  # read well, or blank, or a picture: nothing to turn
    turn, sure = _orientation(image)
    if sure:
        return (360 - turn) % 360  # OSD gives the clockwise turn the image has
    return 180


def _orientation(image: Any) -> tuple[int, bool]:
    """OSD's clockwise turn of ``image`` (0, 90, 180 or 270) and whether it is sure of it."""
    osd = orientation_engine()
    if osd is None:
        return 0, False
    try:
        osd.SetImage(image)
        result = osd.DetectOrientationScript()
    except RuntimeError:  # too few characters to tell
        return 0, False
    finally:
        osd.Clear()
    if not result:
        return 0, False
    turn = int(result.get("orient_deg") or 0)
    sure = float(result.get("orient_conf") or 0.0) >= SURE_ORIENTATION
    return (turn, sure) if turn in (0, 90, 180, 270) else (0, False)


def sideways_turn(words: Iterable[list[tuple[str, BBox]]]) -> int:
    """90 or 270 when most of the text runs down or up the page (the counter-clockwise turn
    that sets it upright), else 0; told from the order of the words along each line."""
    down = up = flat = 0
    for line in words:
        chars = sum(len(text) for text, _ in line)
        first, last = line[0][1], line[-1][1]
        if len(line) < 2 or (last[1] - first[1]) ** 2 < (last[0] - first[0]) ** 2:
            flat += chars
        elif last[1] > first[1]:
            down += chars
        else:
            up += chars
    if max(down, up) <= flat:
        return 0
    return 90 if down > up else 270
