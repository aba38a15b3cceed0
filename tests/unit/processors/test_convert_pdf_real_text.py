"""The PDF converter's paragraphs and headings on real documents (bench/quality/real).

One regression test per cause of over-split paragraphs or wrong headings found by reading the
converter's output on the real corpus: figure labels read as paragraphs, drawings inside form
XObjects placed in the form's own space, words cut by a producer that positions every syllable.
The corpus's check set (``check_set`` in its manifest) is never read here.
"""

from __future__ import annotations

import re

import pypdfium2 as pdfium

from pagemill.processors.convert.layout.blocks import build_blocks
from pagemill.processors.convert.layout.lines import Line, PageLayout
from pagemill.processors.convert.pdf.objects import Rule, scan_page
from pagemill.processors.convert.pdf.widgets import join_form_rows
from pagemill.processors.document import Document
from tests.unit.processors.real_documents import real, real_path


def texts(document: Document, block_type: str) -> list[str]:
    return [block.text for block in document.blocks if block.type == block_type]


def test_drawings_inside_a_form_xobject_are_placed_on_the_page() -> None:
    path = real_path("arxiv-autogen-p1.pdf")
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[0]
        width, height = page.get_size()
        objects = scan_page(page, want_pictures=False)
    finally:
        pdf.close()
    # The figure's panels are forms drawn scaled down: in a form's own space its boxes reach
    # past the page's edges.
    assert objects.drawings and objects.images
    for x0, y0, x1, y1 in objects.drawings:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    for x0, y0, x1, y1 in objects.images:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    # They sit in the figure, between the authors' affiliations and the caption.
    top = min(box[1] for box in objects.drawings + objects.images)
    bottom = max(box[3] for box in objects.drawings + objects.images)
    assert top > 300 and bottom < 450


def test_a_figure_of_several_panels_is_one_paragraph() -> None:
    document = real("arxiv-autogen-p1.pdf")
    paragraphs = texts(document, "paragraph")
    figure = [text for text in paragraphs if "Conversable agent" in text]
    assert len(figure) == 1
    for label in ("Agent Customization", "Joint chat", "Flexible Conversation Patterns", "Month"):
        assert label in figure[0]
    assert len(paragraphs) <= 8  # before: 48 paragraphs for a page of 6


def test_words_drawn_in_pieces_stay_whole() -> None:
    # The producer starts a new text object mid-word ("can be base" + "d on LLMs"); pdfium
    # reports a line break there although the glyphs run on along one baseline.
    document = real("arxiv-autogen-p1.pdf")
    text = " ".join(texts(document, "paragraph"))
    for words in ("can be based on LLMs", "AutoGen serves as", "can converse to solve tasks"):
        assert words in text
    assert not [block for block in document.blocks if block.type == "table"]
    abstract = [
        t for t in texts(document, "paragraph") if t.startswith("AutoGen2 is an open-source")
    ]
    assert len(abstract) == 1 and abstract[0].endswith("entertainment, etc.")


def test_a_title_set_with_loose_leading_is_one_heading() -> None:
    document = real("arxiv-autogen-p1.pdf")
    assert texts(document, "heading") == [
        "AutoGen: Enabling Next-Gen LLM Applications via Multi-Agent Conversation",
        "Abstract",
    ]


def test_bold_author_names_stacked_and_centred_are_a_paragraph_not_headings() -> None:
    # Three centred bold lines at double spacing, each its own group.
    paragraphs = texts(real("arxiv-autogen-p1.pdf"), "paragraph")
    names = [text for text in paragraphs if text.startswith("Qingyun Wu")]
    assert len(names) == 1 and names[0].endswith("Chi Wang\u22171")


def _line(text: str, x0: float, top: float, *, size: float = 10.0, bold: bool = False) -> Line:
    width = 0.5 * size * len(text)
    return Line(
        text=text,
        bbox=(x0, top, x0 + width, top + size),
        size=size,
        bold=bold,
        chars=len(text.replace(" ", "")),
        starts_bold=bold,
        ends_bold=bold,
    )


def _blocks(groups: list[list[Line]]) -> list[tuple[str, str]]:
    body = [_line(PROSE, 72, 400 + 12 * index) for index in range(12)]
    layout = PageLayout(page=0, groups=[*groups, body])
    return [(block.type, block.text) for block in build_blocks([layout], keep_furniture=False)]


PROSE = "The survey team measured seasonal changes in demand across all inland routes"


def test_bold_names_sharing_a_row_are_one_paragraph() -> None:
    title = [_line("A Study of Routes", 150, 60, size=17, bold=True)]
    row = [
        [_line("Ann Lee", 150, 100, bold=True)],
        [_line("Bo Chen", 260, 100, bold=True)],
        [_line("Cy Diaz", 370, 100, bold=True)],
    ]
    found = _blocks([title, *row])
    assert ("heading", "A Study of Routes") in found
    assert ("paragraph", "Ann Lee Bo Chen Cy Diaz") in found
    assert not [text for kind, text in found if kind == "heading" and "Lee" in text]


def test_a_heading_and_its_subtitle_on_one_left_edge_stay_headings() -> None:
    found = _blocks(
        [
            [_line("DEPARTMENT OF ROADS", 72, 100, bold=True)],
            [_line("Office of Inland Routes", 72, 118, bold=True)],
            [_line("Part 39", 72, 136, bold=True)],
        ]
    )
    headings = [text for kind, text in found if kind == "heading"]
    assert headings == ["DEPARTMENT OF ROADS", "Office of Inland Routes", "Part 39"]


def test_a_heading_right_over_its_subheading_stays_a_heading() -> None:
    found = texts(real("dmca-summary.pdf"), "heading")
    for title in ("Circumvention of Technological Protection Measures", "General approach"):
        assert title in found


def test_a_table_continued_beside_itself_reads_as_one_table() -> None:
    # Rows 1-24 on the left, 25-44 on the right, no rules: one three-column table.
    found = [block for block in real("number-columns.pdf").blocks if block.type == "table"]
    assert len(found) == 1
    rows = found[0].rows or ()
    assert {len(row) for row in rows} == {3}
    assert [row[0] for row in rows] == [str(number) for number in range(1, 45)]
    assert rows[24] == ("25", "124", "224")


def test_figures_in_small_type_closer_than_eight_points_are_separate_cells() -> None:
    document = real("census-arrests.pdf")
    rows = [row for block in document.blocks if block.type == "table" for row in block.rows or ()]
    total = next(row for row in rows if row and row[0].startswith("Total") and len(row) > 4)
    assert list(total[1:4]) == ["11,062.6", "1,540.0", "9,522.6"]
    assert total[-1] == "2,330.9"


def test_a_footer_beside_the_page_number_is_not_a_heading() -> None:
    # One page: too short to prove the footer repeats, so its text stays, as a paragraph.
    for name, footer in (
        ("irs-1040nr-p11.pdf", "Instructions for Form 1040NR"),
        ("irs-1040nr-p4.pdf", "Instructions for Form 1040NR"),
    ):
        document = real(name)
        assert footer not in texts(document, "heading")
        assert any(footer in text for text in texts(document, "paragraph"))


def test_a_latin_run_inside_an_arabic_line_stays_in_its_paragraph() -> None:
    # An Arabic line with "U+0660 - U+0669" in it: pdfium breaks the line at
    # every jump between the scripts; the pieces were paragraphs of their own ("U", "+0669").
    paragraphs = texts(real("amiri-arabic-p4-6.pdf"), "paragraph")
    assert not [
        text for text in paragraphs if text.strip() in ("U", "+0669", "+0660", "- U", "+06")
    ]
    arabic = "باستخدام رموز"
    directly = "أو مباشرة"
    holding = [text for text in paragraphs if arabic in text and "0660" in text]
    assert holding and directly in holding[0] and "0669" in holding[0]


def test_a_rule_broken_by_merged_cells_still_divides_columns() -> None:
    # The rules between Germany, Austria and France are drawn one segment per row, left out
    # where a cell spans them ("Europe", "EUR (€)"): the columns stay, and a merged cell goes
    # to the first column of its box.
    found = [block for block in real("example-merged-cells.pdf").blocks if block.type == "table"]
    assert len(found) == 1
    rows = found[0].rows or ()
    assert rows[0] == ("", "Indonesia", "Germany", "Austria", "France", "Vatican")
    assert rows[1] == ("Continent", "Asia", "Europe", "", "", "")
    assert rows[2] == ("Capital", "Jakarta", "Berlin", "Vienna", "Paris", "Vatican City")
    assert rows[3][:3] == ("Currency", "Rupia", "EUR (€)")


def test_a_line_an_ocr_layer_sizes_a_point_larger_stays_in_its_paragraph() -> None:
    # The OCR text layer sizes each line from its own glyphs: "them." reads 12 pt under 11 pt
    # lines, and was a paragraph of its own.
    paragraphs = texts(real("vicksburg-ocr-layer.pdf"), "paragraph")
    assert "them." not in paragraphs
    assert any(text.endswith("seize the prize from them.") for text in paragraphs)
    # A title over its subtitle a point larger stays two blocks.
    found = texts(real("dmca-summary.pdf"), "heading")
    assert found[0] == "THE DIGITAL MILLENNIUM COPYRIGHT ACT OF 1998"


def test_a_contents_entry_keeps_its_page_number() -> None:
    # Arabic contents entries: the dot leader runs up to the page number on the left. The
    # number was a paragraph of its own ("٨"), the entry another.
    document = real("amiri-arabic-p1-3.pdf")
    paragraphs = texts(document, "paragraph")
    assert paragraphs.count("٨") <= 1  # the last entry's, set apart by white space, not dots
    # The entry stays with its number: on one line, or on one row of the contents table.
    rows = [row for block in document.blocks if block.type == "table" for row in block.rows or ()]
    assert any(re.search(r"التنوين[ .]+٨", text) for text in paragraphs) or ("التنوين", "٨") in rows


def test_words_of_an_ocr_text_layer_keep_their_spaces() -> None:
    # Each word is its own text object and pdfium makes up the spaces; a wide gap elsewhere on
    # the line (joined as a word space) dropped the space after the piece it closed.
    text = " ".join(texts(real("vicksburg-ocr-layer.pdf"), "paragraph"))
    for words in ("High into the air", "The destruction", "We learn from"):
        assert words in text
    for glued in ("theair", "Thedestruction", "learnfrom"):
        assert glued not in text


def test_a_ruled_row_of_two_cells_is_a_table_not_two_paragraphs() -> None:
    # An office export draws the page header and footer as one ruled row of two cells.
    document = real("docx-nested-table-export.pdf")
    rows = [block.rows for block in document.blocks if block.type == "table"]
    assert (("Left-side", "Right-side"),) in rows
    assert (("Copyright", "Page-number"),) in rows
    paragraphs = " ".join(texts(document, "paragraph"))
    for cell in ("Left-side", "Right-side", "Copyright", "Page-number"):
        assert cell not in paragraphs


def test_a_last_row_drawn_as_its_own_grid_stays_in_its_table() -> None:
    document = real("census-arrests.pdf")
    tables = [block.rows for block in document.blocks if block.type == "table" and block.rows]
    runaways = [row for rows in tables for row in rows if row[0].startswith("Runaways")]
    assert len(runaways) == 2
    # Each is the last row of the table above it, one figure per column, not a table alone.
    for rows in tables:
        if any(row[0].startswith("Runaways") for row in rows):
            assert len(rows) > 1 and rows[-1][0].startswith("Runaways")
    assert all(len(row) >= 6 for row in runaways)


def test_form_labels_apart_only_by_their_fields_are_one_paragraph() -> None:
    # "First Name [field] Last Name [field]" and "( ) Female ( ) Male" on one row each.
    paragraphs = texts(real("libreoffice-form.pdf"), "paragraph")
    assert any("First Name Last Name" in text for text in paragraphs)
    assert "Female Male" in paragraphs
    assert "Female" not in paragraphs and "Last Name" not in paragraphs


def test_only_a_field_that_fills_the_gap_joins_two_labels() -> None:
    left = _line("Name", 50, 100, size=11)
    right = _line("City", 200, 100, size=11)
    top, bottom = right.bbox[1], right.bbox[3]
    frame = [Rule(False, 75.0, top - 1, bottom + 1), Rule(False, 190.0, top - 1, bottom + 1)]
    joined = join_form_rows([left, right], frame, [])
    assert [line.text for line in joined] == ["Name City"]
    # A column rule down the page, or a small box with most of the gap empty: a gutter.
    column_rule = [Rule(False, 125.0, 50.0, 700.0)]
    assert len(join_form_rows([left, right], column_rule, [])) == 2
    small_box = [(120.0, top, 130.0, bottom)]
    assert len(join_form_rows([left, right], [], small_box)) == 2


def test_a_one_sheet_spreads_running_heads_repeat_across_its_halves() -> None:
    # Two report pages side by side on one sheet: each half has the report's title on top and
    # "Copyright Office Summary ... Page N" at its foot; both halves are pages of their own.
    document = real("dmca-spread.pdf")
    body = " ".join(block.text for block in document.blocks)
    assert "The Digital Millennium Copyright Act of 1998" not in body
    assert "Copyright Office Summary" not in body
    running = " ".join(
        text for texts in document.metadata["running_text"].values() for text in texts
    )
    assert "The Digital Millennium Copyright Act of 1998" in running
    # The body is all there: the title of the first half and the sections of both.
    assert "TITLE I: WIPO TREATY IMPLEMENTATION" in body
    assert "Registration as a Prerequisite to Suit" in body
