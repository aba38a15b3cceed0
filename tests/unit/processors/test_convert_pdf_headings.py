"""Heading levels of the PDF converter, on real documents (bench/quality/real) and in isolation.

One regression test per cause of wrong levels found by reading the converter's output against
the corpus's references: bold capitals a point under body size that were no headings, bold
headings of one document all set at one level, a producer's 11 and 12 pt for one level read as
two, subsections numbered "2.1" at their sections' level, a heading set in from its column at
the level of the flush headings above it, a title's subtitle read as a heading of its own. The
corpus's check set (``check_set`` in its manifest) is never read here.
"""

from __future__ import annotations

import pytest

from pagemill.processors.convert.layout.levels import (
    HeadingStyle,
    heading_levels,
    is_capitals,
    is_indented,
    numbering_depth,
    outline_mark,
)
from pagemill.processors.convert.layout.lines import Line
from tests.unit.processors.real_documents import real


def headings(name: str) -> list[tuple[int, str]]:
    document = real(name)
    return [(block.level or 0, block.text) for block in document.blocks if block.type == "heading"]


def test_bold_capitals_under_body_size_are_headings_above_mixed_case() -> None:
    # "TITLE I: …" is bold capitals at 11 pt over 12 pt text; "Technical Amendments" is bold at
    # 13 pt, "National Eligibility" bold at body size. Before: the title was read as a
    # paragraph and every bold heading was "#".
    found = headings("dmca-spread.pdf")
    assert found[:3] == [
        (1, "TITLE I: WIPO TREATY IMPLEMENTATION"),
        (2, "Technical Amendments"),
        (3, "National Eligibility"),
    ]
    assert (2, "Technological Protection and Copyright Management Systems") in found
    assert (3, "Registration as a Prerequisite to Suit") in found


def test_a_bold_heading_set_in_from_its_column_is_one_level_deeper() -> None:
    # "General approach" is bold at body size like "Circumvention of …" above it, but starts
    # where paragraphs' first lines do, three ems in (on the spread's right half).
    found = headings("dmca-spread.pdf")
    assert found[-2:] == [
        (3, "Circumvention of Technological Protection Measures"),
        (4, "General approach"),
    ]
    assert (5, "General approach") in headings("dmca-summary.pdf")


def test_a_documents_title_in_capitals_ranks_over_its_capital_section_titles() -> None:
    found = headings("dmca-summary.pdf")
    assert found[0] == (1, "THE DIGITAL MILLENNIUM COPYRIGHT ACT OF 1998")
    for level, text in (
        (2, "INTRODUCTION"),
        (2, "TITLE I: WIPO TREATY IMPLEMENTATION"),
        (3, "Technical Amendments"),
        (4, "National Eligibility"),
        (4, "Circumvention of Technological Protection Measures"),
    ):
        assert (level, text) in found


def test_a_subtitle_right_under_a_centred_title_is_a_paragraph() -> None:
    document = real("dmca-summary.pdf")
    found = [(block.type, block.text) for block in document.blocks[:3]]
    assert found[:2] == [
        ("heading", "THE DIGITAL MILLENNIUM COPYRIGHT ACT OF 1998"),
        ("paragraph", "U.S. Copyright Office Summary"),
    ]


def test_heading_sizes_a_point_apart_are_one_level() -> None:
    # The instructions set second-level headings at 12 pt and at 11 pt; first-level ones at 14.
    page_two = headings("irs-1040nr-p2.pdf")
    assert (2, "Green Card Test") in page_two
    assert (2, "Closer Connection to Foreign Country") in page_two
    assert (1, "Who Must File") in page_two
    page_four = headings("irs-1040nr-p4.pdf")
    assert (2, "Additional Information") in page_four
    assert (2, "Private Delivery Services") in page_four
    assert (1, "When To File") in page_four


def test_a_numbered_subsection_is_one_level_below_its_section() -> None:
    found = headings("acl-inlg2016-summarising-news.pdf")
    assert found == [
        (1, "Summarising News Stories for Children"),
        (2, "Abstract"),
        (2, "1 Introduction"),
        (2, "2 Method"),
        (3, "2.1 Information Score"),
        (3, "2.2 Sentence Difficulty Score"),
    ]


def test_numbering_depth_sets_levels_where_the_type_is_the_same() -> None:
    styles = [
        HeadingStyle("size", 18.0, "A Report"),
        HeadingStyle("bold", 10.0, "1 Scope"),
        HeadingStyle("bold", 10.0, "1.1 Terms"),
        HeadingStyle("bold", 10.0, "1.1.2 Units"),
        HeadingStyle("bold", 10.0, "2. Method"),
    ]
    assert heading_levels(styles, 10.0) == [1, 2, 3, 4, 2]


def test_lettered_subsections_are_one_level_below_roman_sections() -> None:
    styles = [
        HeadingStyle("size", 18.0, "A Report"),
        HeadingStyle("bold", 10.0, "I. INTRODUCTION"),
        HeadingStyle("bold", 10.0, "II. Method"),
        HeadingStyle("bold", 10.0, "A. Sources"),
        HeadingStyle("bold", 10.0, "B. Coding"),
    ]
    assert heading_levels(styles, 10.0) == [1, 2, 2, 3, 3]


def test_letters_without_roman_sections_say_nothing() -> None:
    styles = [HeadingStyle("bold", 10.0, "A. Sources"), HeadingStyle("bold", 11.0, "Summary")]
    assert heading_levels(styles, 10.0) == [2, 1]


def test_numbers_without_top_sections_say_nothing() -> None:
    styles = [HeadingStyle("bold", 10.0, "3.5 Results"), HeadingStyle("bold", 10.0, "Summary")]
    assert heading_levels(styles, 10.0) == [1, 1]


def test_bold_headings_rank_by_case_then_size_against_the_body() -> None:
    styles = [
        HeadingStyle("bold", 9.0, "CHAPTER ONE"),
        HeadingStyle("bold", 11.0, "Larger"),
        HeadingStyle("bold", 10.0, "At body size"),
        HeadingStyle("bold", 9.5, "Smaller"),
    ]
    assert heading_levels(styles, 10.0) == [1, 2, 3, 4]


def test_indented_bold_headings_rank_below_flush_ones() -> None:
    styles = [
        HeadingStyle("bold", 10.0, "Flush", indented=False),
        HeadingStyle("bold", 10.0, "Set in", indented=True),
    ]
    assert heading_levels(styles, 10.0) == [1, 2]


def _line(text: str, x0: float, top: float, width: float) -> Line:
    return Line(text=text, bbox=(x0, top, x0 + width, top + 10.0), size=10.0, bold=False, chars=9)


def test_indented_means_set_in_from_the_columns_edge_and_not_centred() -> None:
    body = [_line("text", 72, 200 + 12 * row, 400) for row in range(4)]
    body.append(_line("first line", 108, 260, 364))  # a paragraph's indented first line
    assert is_indented([_line("Set in", 108, 180, 60)], body)
    assert not is_indented([_line("Flush", 72, 180, 60)], body)
    assert not is_indented([_line("Centred", 242, 180, 60)], body)  # centre 272 = column's


def test_clearly_larger_sizes_rank_first_and_close_sizes_share_a_rank() -> None:
    styles = [
        HeadingStyle("size", 22.0, "Title"),
        HeadingStyle("size", 15.0, "Section"),
        HeadingStyle("size", 14.0, "Section too"),
        HeadingStyle("bold", 10.0, "Sub"),
    ]
    assert heading_levels(styles, 10.0) == [1, 2, 2, 3]


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1 Introduction", 1),
        ("2. Method", 1),
        ("2.1 Scores", 2),
        ("3.1.4 Data", 3),
        ("Section 4.2 Limits", 2),
    ],
)
def test_numbering_depth(text: str, depth: int) -> None:
    assert numbering_depth(text) == depth


@pytest.mark.parametrize("text", ["1998 in review", "Method", "2.5x faster", "12", "Section 1201"])
def test_not_numbered(text: str) -> None:
    assert numbering_depth(text) is None


@pytest.mark.parametrize(
    ("text", "mark"),
    [("IV. Results", "roman"), ("II: Scope", "roman"), ("B. Data", "letter"), ("IVY League", None)],
)
def test_outline_marks(text: str, mark: str | None) -> None:
    assert outline_mark(text) == mark


def test_capitals_need_a_few_letters() -> None:
    assert is_capitals("TITLE I: WIPO")
    assert not is_capitals("I.")
    assert not is_capitals("Title I")
