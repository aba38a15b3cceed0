"""What OCR does not report, estimated from the page: weights, paragraph breaks, one size per style
(``ocr.style``), on measured lines made up here, without Tesseract."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from pagemill.processors.convert.layout.lines import Line
from pagemill.processors.convert.ocr.style import (
    Measured,
    harmonise_sizes,
    refine_page,
    stroke_width,
    tabbed,
)

PITCH = 14.0  # baseline to baseline inside a paragraph, points


def measured(
    text: str,
    baseline: float,
    *,
    stroke: float = 2.0,
    size: float = 10.5,
    width: float = 440.0,
    is_tabbed: bool = False,
) -> Measured:
    line = Line(
        text=text,
        bbox=(72.0, baseline - size, 72.0 + width, baseline + 2),
        size=size,
        bold=False,
        chars=len(text.replace(" ", "")),
    )
    return Measured(line=line, stroke=stroke, baseline=baseline, tabbed=is_tabbed)


def body(first_baseline: float, count: int) -> list[Measured]:
    return [
        measured(f"Body line {i} with ordinary words in it", first_baseline + PITCH * i)
        for i in range(count)
    ]


def texts(parts: list[list[Line]]) -> list[list[str]]:
    return [[line.text for line in part] for part in parts]


@pytest.mark.parametrize("width", [2, 3, 6])
def test_stroke_width_is_ink_area_over_runs(width: int) -> None:
    ink = Image.new("L", (200, 60), 0)
    draw = ImageDraw.Draw(ink)
    for x in range(10, 190, 20):  # upright strokes, and one flat one across them
        draw.rectangle((x, 10, x + width - 1, 49), fill=255)
    draw.rectangle((10, 28, 189, 28 + width - 1), fill=255)
    assert stroke_width(ink, (0, 0, 200, 60)) == pytest.approx(width, rel=0.15)
    assert stroke_width(ink, (0, 0, 5, 60)) == 0.0  # no ink there


def test_words_set_apart_by_cell_wide_gaps_are_a_table_row() -> None:
    words = [(100, 10, 160, 40), (170, 10, 240, 40), (250, 10, 300, 40)]
    assert not tabbed(words, size_px=30)
    cells = [(100, 10, 160, 40), (400, 10, 440, 40), (700, 10, 760, 40)]
    assert tabbed(cells, size_px=30)


def test_a_heavier_line_is_bold_and_split_from_the_paragraph_it_was_glued_to() -> None:
    before = body(100, 3)
    heading = measured("Methods used for the counts", 100 + PITCH * 3 + 10, stroke=2.9, width=180)
    after = body(heading.baseline + 20, 4)
    parts = refine_page([before, [heading, *after]])
    assert texts(parts) == [
        [m.line.text for m in before],
        [heading.line.text],
        [m.line.text for m in after],
    ]
    assert [part[0].bold for part in parts] == [False, True, False]


def test_a_bold_table_header_row_is_not_a_heading() -> None:
    header = measured("Berth Units Share", 100, stroke=2.9, is_tabbed=True)
    rows = [measured(f"Quay {i} 24.3%", 100 + 18 * (i + 1), is_tabbed=True) for i in range(3)]
    parts = refine_page([body(20, 5), [header, *rows]])
    assert texts(parts)[1] == ["Berth Units Share", *(m.line.text for m in rows)]
    assert not any(line.bold for part in parts for line in part)


def test_in_an_all_bold_page_bold_says_nothing() -> None:
    lines = [
        measured(f"Line {i} of heavy body text", 100 + PITCH * i, stroke=3.0) for i in range(5)
    ]
    assert not any(line.bold for part in refine_page([lines]) for line in part)


def test_larger_lines_are_compared_size_for_size() -> None:
    # A 21 pt regular title has strokes twice as thick as 10.5 pt body text: not bold.
    title = measured("A Regular Title", 60, stroke=4.0, size=21.0, width=200)
    bold_title = measured("A Bold Title", 60, stroke=5.8, size=21.0, width=200)
    for line, bold in ((title, False), (bold_title, True)):
        refine_page([[line], body(100, 6)])
        assert line.line.bold is bold


def test_a_short_line_followed_by_a_gap_ends_a_paragraph() -> None:
    first = body(100, 3)
    last = measured("ends here", first[-1].baseline + PITCH, width=120)
    glued = body(last.baseline + 2.0 * PITCH, 3)  # a blank line's worth of space above
    parts = refine_page([[*first, last, *glued], body(300, 4)])
    assert texts(parts)[:2] == [
        [m.line.text for m in [*first, last]],
        [m.line.text for m in glued],
    ]
    # At the usual spacing the short line is just a paragraph's last line before a list item.
    close = body(last.baseline + PITCH, 3)
    parts = refine_page([[*first, last, *close], body(300, 4)])
    assert len(parts) == 2


def test_a_size_jump_splits_a_paragraph() -> None:
    title = measured("Findings", 80, size=15.5, width=120)
    parts = refine_page([[title, *body(100, 3)]])
    assert texts(parts)[0] == ["Findings"]


def test_sizes_within_ten_percent_are_one_size() -> None:
    def line(size: float, chars: int) -> Line:
        return Line(text="x" * chars, bbox=(0, 0, 1, 1), size=size, bold=False, chars=chars)

    lines = [
        line(10.5, 900),
        line(11.0, 500),
        line(11.5, 40),
        line(12.5, 30),  # 19 % above the body: a size of its own
        line(15.0, 60),
        line(15.5, 50),
        line(16.0, 20),
        line(20.5, 30),
        line(22.5, 40),
        line(23.0, 35),
    ]
    harmonise_sizes(lines)
    assert [line.size for line in lines] == [
        10.5,
        10.5,
        10.5,
        12.5,
        15.0,
        15.0,
        15.0,
        22.5,
        22.5,
        22.5,
    ]
