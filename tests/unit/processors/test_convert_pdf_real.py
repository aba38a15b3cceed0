"""The PDF converter on real documents (bench/quality/real, licences in its manifest.json).

One regression test per class of fault found on real PDFs: sizes set through the text matrix,
tables with and without rules, repeated lines that are content, right-to-left text, spreads;
plus small generated cases for what no corpus document shows in isolation.
"""

from __future__ import annotations

from pathlib import Path

from pagemill.processors.convert.layout.furniture import find_furniture
from pagemill.processors.convert.layout.lines import Line
from pagemill.processors.convert.pdf.parse import parse_pdf
from pagemill.processors.convert.pdf.tables import find_tables
from pagemill.processors.document import Document
from tests.unit.processors.real_documents import REAL, real, rows_of


def headings(document: Document) -> list[str]:
    return [block.text for block in document.blocks if block.type == "heading"]


# --- 1. font sizes set through the text matrix ---------------------------------------------------


def test_sizes_come_from_the_text_matrix_when_every_font_size_reads_one() -> None:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(str(REAL / "irs-1040nr-p2.pdf"))
    textpage = pdf[0].get_textpage()
    sizes = {pdfium_c.FPDFText_GetFontSize(textpage.raw, i) for i in range(textpage.count_chars())}
    textpage.close()
    pdf.close()
    assert sizes == {1.0}  # the fault: pdfium's font size is the Tf operand, 1 here

    document = real("irs-1040nr-p2.pdf")
    assert document.metadata["body_font_size"] == 9.5
    found = headings(document)
    for title in ("Items to Note", "Who Must File", "Green Card Test", "Substantial Presence Test"):
        assert title in found
    # Paragraphs that open with a bold run-in lead are body text, not headings.
    assert not any(text.startswith(("Form 1040NR-EZ", "Former U.S. citizens")) for text in found)


# --- 2. tables -----------------------------------------------------------------------------------


def test_a_ruled_table_keeps_its_cells() -> None:
    rows = rows_of(real("mtcars-ruled.pdf"))
    assert rows[0][:4] == ("", "mpg", "cyl", "disp")
    assert rows[1][:7] == ("Mazda RX4", "21.0", "6", "160.0", "110", "3.90", "2.620")


def test_whitespace_aligned_columns_are_a_table() -> None:
    document = real("number-columns.pdf")
    rows = rows_of(document)
    assert rows[0][:3] == ("1", "100", "200")
    assert rows[9][:3] == ("10", "109", "209")
    assert not [block for block in document.blocks if block.type == "paragraph"]


def test_a_ruled_table_on_a_rotated_page() -> None:
    rows = rows_of(real("scheherazade-feature-table.pdf"))
    assert rows[0][:2] == ("Feature Name", "Feature ID")
    heh = next(row for row in rows if row[0].startswith("Heh"))
    assert heh[1] == "cv48"


def test_a_merged_header_cell_sits_over_its_columns() -> None:
    rows = rows_of(real("example-merged-cells.pdf"))
    assert rows[0][1] == "Indonesia"
    assert rows[2][:2] == ("Capital", "Jakarta")


def test_letter_spaced_text_is_not_split_into_letters(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "tracked.pdf"
    pdf = canvas.Canvas(str(path))
    text = pdf.beginText(72, 700)
    text.setFont("Helvetica", 10)
    text.setCharSpace(6)  # wide tracking: pdfium would see a gap between every letter
    text.textLine("0325")
    pdf.drawText(text)
    for index, char in enumerate("2016"):  # one glyph per text object, as office exports do
        pdf.drawString(72 + 11 * index, 600, char)
    pdf.save()
    assert [block.text for block in parse_pdf(path).blocks] == ["0325", "2016"]


def test_glyphs_set_wider_apart_than_an_em_are_separate_words(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "axis.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 5)
    for index, initial in enumerate("JFMAMJJASOND"):  # a chart's month axis, evenly set
        pdf.drawCentredString(100 + 12 * index, 700, initial)
    pdf.setFont("Helvetica", 10)
    for index, digit in enumerate("1234"):  # a board's file numbers, one glyph each
        pdf.drawString(72 + 20 * index, 600, digit)
    pdf.save()
    assert [block.text for block in parse_pdf(path).blocks] == [
        "J F M A M J J A S O N D",
        "1 2 3 4",
    ]


def test_a_footnote_mark_after_a_figure_does_not_change_its_value(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "figure-note.pdf"
    pdf = canvas.Canvas(str(path))
    text = pdf.beginText(72, 700)
    text.setFont("Helvetica", 10)
    text.textOut("Population 273,879,750")
    text.setFont("Helvetica", 6)
    text.setRise(4)
    text.textOut("1")  # a footnote mark, raised, right after the figure
    text.setFont("Helvetica", 10)
    text.setRise(0)
    text.textOut(" and the word community")
    text.setFont("Helvetica", 6)
    text.setRise(4)
    text.textOut("2")
    pdf.drawText(text)
    pdf.save()
    assert [block.text for block in parse_pdf(path).blocks] == [
        "Population 273,879,750¹ and the word community2"
    ]


def line(x0: float, y0: float, x1: float, text: str, size: float = 10.0) -> Line:
    return Line(text=text, bbox=(x0, y0, x1, y0 + size), size=size, bold=False, chars=len(text))


def test_bullet_glyphs_stay_out_of_cells_and_a_footnote_out_of_the_last_row() -> None:
    rows = [
        [line(72, 100, 90, "•"), line(100, 100, 160, "Item"), line(300, 100, 330, "Qty")],
        [line(72, 114, 90, "•"), line(100, 114, 160, "Bolts"), line(300, 114, 310, "12")],
        [line(72, 128, 90, "•"), line(100, 128, 160, "Nuts"), line(300, 128, 310, "40")],
        [line(72, 142, 90, "•"), line(100, 142, 160, "Washers"), line(300, 142, 315, "100")],
    ]
    footnote = line(72, 158, 420, "* Prices exclude delivery and are valid for thirty days.")
    found = find_tables([cell for row in rows for cell in row] + [footnote], [])
    assert len(found) == 1
    assert found[0].rows == (("Item", "Qty"), ("Bolts", "12"), ("Nuts", "40"), ("Washers", "100"))
    assert id(footnote) not in found[0].members


# --- 3. running headers and footers never take content -----------------------------------------


def test_repeated_section_headings_are_content() -> None:
    found = headings(real("latex-repeated-sections.pdf"))
    sections = [f"{n} {name}" for n, name in enumerate(["Foo", "Bar", "Baz"] * 3, start=1)]
    assert [text for text in found if text in sections] == sections


def test_furniture_needs_a_page_number_or_identical_text_and_a_row_of_its_own() -> None:
    pages = []
    for page in range(5):
        lines = [
            # a heading that differs only in its number: content
            Line(f"Invoice Section {page + 1}", (72, 40, 300, 56), 16.0, True, 17),
            # a table row at the top whose first cell repeats: content
            line(72, 60, 140, "Closure"),
            line(200, 60, 280, f"0{page + 1}/17/2015"),
            # body text
            *(line(72, 100 + 14 * i, 500, f"Body line {i} of the page text") for i in range(20)),
            # a folio: furniture
            Line(f"Page {page + 1} of 5", (280, 760, 330, 768), 8.0, False, 9),
        ]
        pages.append((page, 792.0, lines))
    furniture = find_furniture(pages)
    texts = {pages[page][2][index].text for page, index in furniture}
    assert texts == {f"Page {n} of 5" for n in range(1, 6)}


# --- 5. right-to-left text ---------------------------------------------------------------


def test_right_to_left_table_cells_read_in_logical_order() -> None:
    rows = rows_of(real("amiri-arabic-p4-6.pdf"))
    row = next(row for row in rows if row[0] == "علامة الرقم")
    assert row[-1] == "١٢٣٤"
    assert rows[0][1:] == ("يونيكود", "عدد الأرقام", "مثال")


def test_an_arabic_line_with_a_latin_run_stays_one_line() -> None:
    # Logical order jumps left and right across the Latin run; those jumps are not gutters.
    pieces = [
        Line("اسمي ", (510, 100, 537, 112), 12.0, False, 4),
        Line("Jeremy ", (460, 100, 505, 112), 12.0, False, 6),
        Line("في الانجليزية", (397, 100, 455, 112), 12.0, False, 11),
    ]
    from pagemill.processors.convert.layout.lines import split_at_gaps

    (merged,) = split_at_gaps(pieces)
    assert merged.text == "اسمي Jeremy في الانجليزية"


# --- 6. spreads --------------------------------------------------------------------------


def test_a_spread_is_read_left_page_first() -> None:
    found = headings(real("dmca-spread.pdf"))
    left = found.index("Technical Amendments")
    right = found.index("Registration as a Prerequisite to Suit")
    assert left < found.index("Restoration of Copyright Protection") < right
