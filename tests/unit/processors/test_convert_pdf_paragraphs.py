"""Paragraph joining and running furniture on hand-placed lines (``layout.*``, OCR pages)."""

from __future__ import annotations

from pagemill.processors.convert.layout.blocks import build_blocks
from pagemill.processors.convert.layout.furniture import find_furniture
from pagemill.processors.convert.layout.lines import (
    Group,
    Line,
    PageLayout,
    group_column,
    split_at_gaps,
)
from pagemill.processors.convert.layout.paragraphs import body_segments, join_run_on
from pagemill.processors.convert.ocr.tesseract import ocr_layout

HEIGHT = 648.0


def line(text: str, x0: float, top: float, x1: float, size: float = 11.0, **style: bool) -> Line:
    return Line(
        text=text,
        bbox=(x0, top, x1, top + size * 1.1),
        size=size,
        bold=style.get("bold", False),
        chars=len(text.replace(" ", "")),
    )


def body(top: float, count: int = 6) -> list[Line]:
    return [line(f"body text line {i} of the page", 57, top + 13 * i, 370) for i in range(count)]


def test_running_heads_misread_by_ocr_and_their_folios_are_furniture() -> None:
    first = [
        line("THE SIEGE OF VICKSBURG.", 157, 41, 275, size=8.0),
        line("49", 363, 40, 373),
        *body(62),
    ]
    second = [line("50 THE SIEGE OF VICKSBUEG.", 58, 40, 276, size=8.0), *body(62)]
    found = find_furniture([(0, HEIGHT, first), (1, HEIGHT, second)])
    assert found == {(0, 0), (0, 1), (1, 0)}


def test_short_lines_must_repeat_exactly() -> None:
    # "Part I" and "Part II" are not one line misread: too few letters to tell.
    first = [line("Part I", 57, 590, 90), *body(62)]
    second = [line("Part II", 57, 590, 94), *body(62)]
    assert find_furniture([(0, HEIGHT, first), (1, HEIGHT, second)]) == set()


def test_a_title_on_both_copies_of_a_two_page_invoice_is_content() -> None:
    # An invoice printed as original and copy: its title, larger than the body, stands at the
    # top of both pages. Repeated on two pages only, it is a title, not a running head (the
    # title was lost); a small footer on both pages is still furniture.
    def page() -> list[Line]:
        return [
            line("Faktura nr FV 1/2021", 200, 40, 330, size=14.0),
            *body(62),
            line("Printed from the invoicing system, version 21.2", 57, 585, 300, size=6.0),
        ]

    assert find_furniture([(0, HEIGHT, page()), (1, HEIGHT, page())]) == {(0, 7), (1, 7)}
    # Three pages of it is a running head.
    three = find_furniture([(number, HEIGHT, page()) for number in range(3)])
    assert {(number, 0) for number in range(3)} <= three


def test_a_bare_folio_a_little_further_in_is_furniture() -> None:
    # LaTeX sets the folio about 11% up the page: outside the 10% band, inside 15%.
    pages = [(page, HEIGHT, [*body(62), line(str(page + 1), 200, 570, 206)]) for page in range(3)]
    assert find_furniture(pages) == {(page, 6) for page in range(3)}


def test_a_paragraph_runs_on_past_footnotes_and_marks_at_the_page_foot() -> None:
    unfinished = [line("the paragraph goes on past the", 57, 500, 370)]
    footnote = [line("1 http://example.org/a-note", 57, 560, 200, size=9.0)]
    mark = [line("—4", 90, 587, 106)]
    before: list[Group] = [unfinished, footnote, mark]
    after: list[Group] = [[line("page break and ends here.", 57, 62, 370)], body(80)]
    join_run_on(before, after)
    assert [ln.text for ln in unfinished] == [
        "the paragraph goes on past the",
        "page break and ends here.",
    ]
    assert before == [unfinished, footnote, mark] and len(after) == 1


def test_a_finished_sentence_does_not_run_on() -> None:
    before: list[Group] = [[line("The paragraph ends here.", 57, 500, 370)]]
    after: list[Group] = [[line("and this is not its end", 57, 62, 370)]]
    join_run_on(before, after)
    assert len(after) == 1


def test_a_list_item_flush_with_its_bullet_wraps_while_its_sentence_is_open() -> None:
    lines = [
        line("• Dividends you received as a", 222, 95, 351),
        line("nominee. See chapter 1 in Pub. 550.", 222, 109, 376),
        line("To make this election, attach it.", 222, 123, 376),
    ]
    segments = body_segments(lines)
    assert [(kind, len(part)) for kind, part in segments] == [("list_item", 2), ("paragraph", 1)]


def test_a_bold_lead_that_fills_its_line_runs_into_its_paragraph() -> None:
    lead = line("Line 9b—Tax-exempt interest.", 42, 162, 179, size=9.5, bold=True)
    paragraph = [
        line("Certain types of interest income from", 42, 172.5, 197, size=9.5),
        line("investments in state and municipal", 42, 182.5, 187, size=9.5),
        line("bonds and similar instruments are not", 42, 192.5, 200, size=9.5),
    ]
    others = [
        line(f"regular body text line number {i}", 42, 220 + 10 * i, 200, size=9.5)
        for i in range(8)
    ]
    layout = PageLayout(page=0, groups=[[lead], paragraph, others])
    blocks = build_blocks([layout], keep_furniture=False)
    assert blocks[0].type == "paragraph"
    assert blocks[0].text.startswith("Line 9b—Tax-exempt interest. Certain types")


def test_a_bold_line_that_breaks_early_is_not_run_in() -> None:
    # The next word would have fitted after it: the line was broken on purpose.
    heading = line("Methods.", 42, 162, 80, size=9.5, bold=True)
    paragraph = [
        line("We measured everything twice over", 42, 172.5, 197, size=9.5),
        line("and report the mean of the two runs", 42, 182.5, 200, size=9.5),
    ]
    others = [
        line(f"regular body text line number {i}", 42, 220 + 10 * i, 200, size=9.5)
        for i in range(8)
    ]
    blocks = build_blocks(
        [PageLayout(page=0, groups=[[heading], paragraph, others])], keep_furniture=False
    )
    assert blocks[0].text == "Methods."


def test_an_authors_name_joins_its_centred_affiliation_block() -> None:
    name = line("Iain Macdonald", 160, 110.8, 252, size=12.0, bold=True)
    block = [
        line("Computing Science", 157, 124.6, 255, size=12.0),
        line("University of Aberdeen", 147, 138.5, 265, size=12.0),
        line("Scotland, U.K.", 168, 152.5, 244, size=12.0),
    ]
    others = [
        line(f"regular body text line number {i}", 72, 300 + 13 * i, 298, size=12.0)
        for i in range(8)
    ]
    blocks = build_blocks(
        [PageLayout(page=0, groups=[[name], block, others])], keep_furniture=False
    )
    assert blocks[0].type == "paragraph"
    assert (
        blocks[0].text == "Iain Macdonald Computing Science University of Aberdeen Scotland, U.K."
    )


def test_a_displayed_formula_is_one_group() -> None:
    pieces = [
        Line("Scoreinfo(Sj ) = IPW", (322, 325.8, 435, 342.3), 10.0, False, 17),
        Line("|{wi| wi∈Sj", (394, 337.9, 441, 350.9), 10.0, False, 9),
        Line("wi∈/Stop}|", (415, 340.6, 453, 353.5), 7.0, False, 9),
        Line("X", (464.5, 322.3, 479, 359.5), 10.0, False, 1),
        Line("pinput(wi)", (488, 332.0, 531, 342.3), 7.0, False, 10),
    ]
    after = line("where IPW, the inverted pyramid weight, is 2", 313, 371.7, 540)
    groups = group_column([*pieces, after])
    assert len(groups) == 2
    formula = groups[0]
    assert isinstance(formula, list)
    text = " ".join(ln.text for ln in formula)
    assert all(piece.text in text for piece in pieces)


def test_paragraphs_one_under_another_are_not_a_formula() -> None:
    first = [line("A short line.", 57, 100, 120), line("Another one.", 57, 113, 120)]
    second = [line("A new paragraph", 57, 140, 130, size=8.0)]
    assert len(group_column([*first, *second])) == 2


def test_overlapping_pieces_of_a_row_are_one_line() -> None:
    # A heading in a font without a Unicode map: glyph runs whose boxes overlap.
    pieces = [
        Line("p", (415.8, 114.8, 418.1, 141.6), 20.0, False, 1),
        Line("MH g", (414.9, 111.7, 458.1, 150.7), 20.0, False, 3),
        Line("1H", (449.7, 123.8, 468.5, 150.7), 20.0, False, 2),
    ]
    groups = group_column(pieces)
    assert len(groups) == 1 and isinstance(groups[0], list) and len(groups[0]) == 1


def test_a_small_note_marker_joins_its_note_but_figure_cells_stay_apart() -> None:
    marker = Line("1", (72, 700, 76, 708), 6.5, False, 1)
    note = Line("Pub. L. No. 105-304, 112 Stat. 2860.", (78, 700, 300, 711), 10.0, False, 30)
    joined = group_column([marker, note])
    assert len(joined) == 1 and isinstance(joined[0], list)
    assert joined[0][0].text == "1 Pub. L. No. 105-304, 112 Stat. 2860."
    cells = [
        Line("1,540.0", (72, 700, 100, 711), 10.0, False, 7),
        Line("9,522.6", (108, 700, 136, 711), 10.0, False, 7),
    ]
    assert len(group_column(cells)) == 2


def test_a_superscript_symbol_is_no_bullet() -> None:
    mark = Line("†", (200, 247, 204, 253), 7.0, False, 1)
    text = Line("Microsoft Research", (208, 247, 300, 259), 10.0, False, 17)
    assert [ln.text for ln in split_at_gaps([mark, text])] == ["†Microsoft Research"]
    drawn = Line("†", (200, 247, 206, 259), 10.0, False, 1)
    assert [ln.text for ln in split_at_gaps([drawn, text])] == ["• Microsoft Research"]


def test_a_full_item_line_wraps_onto_a_capitalised_word() -> None:
    lines = [
        line("• Days you commute to work in the", 402, 88, 552),
        line("United States from a residence in", 402, 103, 543),
        line("Canada or Mexico if you commute.", 402, 113, 530),
        line("• Short item", 402, 123, 460),
        line("Next paragraph after the list.", 402, 133, 540),
    ]
    segments = body_segments(lines)
    assert [(kind, len(part)) for kind, part in segments] == [
        ("list_item", 3),
        ("list_item", 1),
        ("paragraph", 1),
    ]


def test_overlapping_glyph_fragments_are_one_group() -> None:
    fragments = [
        Line("a", (464.1, 549.8, 468.6, 572.2), 16.5, False, 1),
        Line("g", (440.2, 555.9, 445.0, 578.3), 16.5, False, 1),
        Line("Jl", (447.1, 564.0, 457.6, 588.9), 16.5, False, 2),
        Line("l m", (426.5, 566.5, 440.0, 588.9), 16.5, False, 2),
    ]
    groups = group_column(fragments)
    assert len(groups) == 1


def test_an_ocr_paragraph_cut_after_its_first_line_is_rejoined() -> None:
    first = [line("WELL, I got a good going-over in the morning,", 57, 100, 370)]
    rest = [
        line("from old Miss Watson, on account of my clothes;", 57, 113, 370),
        line("but the widow she didn't scold.", 57, 126, 300),
    ]
    new = [line("Then Miss Watson she took me in the closet.", 70, 150, 370)]
    layout = ocr_layout(0, HEIGHT, [first, rest, new], set())
    assert [len(group) for group in layout.groups if isinstance(group, list)] == [3, 1]


def test_body_size_lines_misread_apart_stay_content() -> None:
    # Only a line set smaller than the body can be a misread running head.
    first = [line("Chapter one of the long history", 57, 41, 300), *body(62)]
    second = [line("Chapter one of the lung history", 57, 41, 300), *body(62)]
    assert find_furniture([(0, HEIGHT, first), (1, HEIGHT, second)]) == set()
