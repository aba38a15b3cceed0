"""PDF tables on real documents (bench/quality/real, licences in its manifest.json).

One regression test per class of table fault found on the corpus: cells wrapped inside a
ruled row, a word drawn in two pieces, a table nested in a cell, a grid whose only text is a
merged cell, the page's own frame.
"""

from __future__ import annotations

from pagemill.processors.convert.layout.lines import Line
from pagemill.processors.convert.pdf.objects import Rule
from pagemill.processors.convert.pdf.tables import find_tables
from tests.unit.processors.real_documents import real, rows_of, tables


def test_lines_wrapped_inside_a_ruled_row_are_one_row() -> None:
    # A feature's name over its code points in small type, beside tall example glyphs, all in
    # the band between two rules: one row, not one row per text line.
    rows = rows_of(real("scheherazade-feature-table.pdf"))
    firsts = [row[0] for row in rows if row[0]]
    assert firsts[1:] == [
        "Heh (U+0647)",
        "Arabic U (U+0677, U+06C7)",
        "Maddah (U+0622, U+0627+U+0653, U+0653)",
        "Shadda+kasra placement (U+064D, U+0650 with U+0651)",
    ]
    heh = rows[1]
    assert heh[1:3] == ("cv48", "0=Standard")
    assert heh[4] == "G,O,T"
    # The next rows of the section leave the name empty: rules drawn in the other columns only.
    assert rows[2][:2] == ("", "")
    assert rows[2][2].startswith("3=Kurdish-style")


def test_a_slide_header_anchored_at_different_heights_is_one_row() -> None:
    rows = rows_of(real("pptx-tables-export.pdf"))
    assert rows[0][1:] == (
        "vert anchor is inherited",
        "vert anchor is top",
        "vert anchor is bottom",
    )
    assert rows[1][0] == "unladen swallows"


def test_a_word_drawn_in_two_pieces_is_one_word_in_its_cell() -> None:
    rows = rows_of(real("amiri-arabic-p4-6.pdf"))
    codes = [cell for row in rows for cell in row if cell.startswith("U")]
    assert codes == ["U+0600", "U+0601", "U+0602", "U+0603", "U+0604", "U+06DD"]


def test_a_table_nested_in_a_cell_is_one_column_of_rows() -> None:
    document = real("docx-nested-table-export.pdf")
    found = [table.rows for table in tables(document)]
    assert (("Text before",), ("Table",), ("Between",), ("Text after",)) in found
    paragraphs = [block.text for block in document.blocks if block.type == "paragraph"]
    assert not any("Between" in text for text in paragraphs)


def test_a_grid_whose_only_text_is_a_merged_cell_is_a_table() -> None:
    # Two tables on one slide, each a drawn grid with one merged cell holding text; the
    # slide's background frame must not join them into one.
    found = [table.rows for table in tables(real("pptx-tables-export.pdf"))]
    assert (("merged cell", "", ""),) in found
    assert (("merged cell", "", "", "", ""),) in found


def test_a_row_label_wrapped_onto_its_figures_row_is_one_cell() -> None:
    rows = rows_of(real("census-arrests.pdf"))
    murder = next(row for row in rows if row[0].startswith("Murder and nonnegligent"))
    assert murder[0] == "Murder and nonnegligent manslaughter"
    assert murder[1:4] == ("10.0", "0.9", "9.1")
    assert not any(row[0] == "Murder and nonnegligent" for row in rows)


def test_dashes_and_codes_of_empty_cells_keep_their_columns() -> None:
    # A dash (no arrests) and "(X)" (not applicable) before a figure are cells, not list markers.
    rows = rows_of(real("census-arrests.pdf"))
    murder = next(row for row in rows if row[0].startswith("Murder and nonnegligent"))
    assert murder[7:10] == ("1.1", "–", "1.0")  # noqa: RUF001 - the table's dash
    rape = next(row for row in rows if row[0].startswith("Forcible rape"))
    assert rape[7:10] == ("–", "–", "–")  # noqa: RUF001
    embezzlement = next(row for row in rows if row[0].startswith("Embezzlement"))
    assert embezzlement[1:4] == ("14.6", "–", "14.1")  # noqa: RUF001
    curfew = next(row for row in rows if row[0].startswith("Curfew"))
    assert curfew[3:5] == ("(X)", "63.1")


def test_a_header_drawn_as_a_grid_above_unruled_figures_heads_their_table() -> None:
    document = real("census-arrests.pdf")
    found = tables(document)
    assert len(found) == 2  # the header grids are not tables of their own
    arrests, by_race = (table.rows or () for table in found)
    assert arrests[0][:5] == ("", "Total", "", "Male", "")
    # The sub-header drawn as one box over three columns ("Total  Under 18 years  18 years and
    # over") stays in that box's first column: spreading lines side by side in a box over the
    # columns under them cost another document's table most of its cells.
    assert arrests[1][0] == "Offense charged"
    assert arrests[2][:3] == ("Total", "11,062.6", "1,540.0")
    # (Its header lines side by side in one box stay in the box's first column, as above.)
    assert by_race[0][0] == "Offense charged"
    assert by_race[1][:2] == ("Total", "10,690,561")


def test_columns_of_digits_a_little_less_than_an_em_apart_are_cells() -> None:
    # Two columns of Arabic-Indic digits whose gap is just under an em: a table of two columns
    # read right to left, not one line per row of both figures run together.
    found = [table.rows for table in tables(real("amiri-arabic-p4-6.pdf"))]
    digits = next(rows for rows in found if rows[0] == ("ثابتة", "متغيرة"))
    assert digits[1:] == (
        ("٠١٢٣٤٥٦٧٨٩", "٠١٢٣٤٥٦٧٨٩"),
        ("\u0661" * 10, "\u0661" * 10),  # Arabic-Indic one
        ("٨٨٨٨٨٨٨٨٨٨", "٨٨٨٨٨٨٨٨٨٨"),
    )  # the next heading, set off to the side under the table, is not a row of it


def test_a_rule_from_one_cell_border_to_another_divides_rows() -> None:
    # A cell merged over two rows leaves the rule between them drawn only under the cell
    # beside it: that short rule still parts "6" from "9".
    found = [table.rows for table in tables(real("docx-merged-cells-export.pdf"))]
    assert found[3] == (("1", "2", "3"), ("4", "", "6"), ("", "", "9"))


def test_a_short_arabic_cell_keeps_the_space_between_its_words() -> None:
    # An isolated heh and three joined ones, the isolated one drawn last but right of the
    # others: measured rightwards only, the jump between the two words was the line's letter
    # spacing, and the space between them was lost.
    rows = rows_of(real("scheherazade-feature-table.pdf"))
    examples = [row[3] for row in rows[1:5]]
    assert all(len(example.split()) == 2 for example in examples), examples
    assert "\u0647\u0647\u0647\u0647" not in examples  # four letters run together


def test_a_contents_entry_glued_to_the_next_is_a_row_of_the_contents_table() -> None:
    rows = rows_of(real("amiri-arabic-p1-3.pdf"))
    assert ("التنوين", "٨") in rows
    assert ("المشاكل المعروفة", "٨") in rows


def test_a_header_wrapped_over_three_lines_above_one_ruled_row_is_a_table() -> None:
    # A statement's header cells wrap onto up to three lines ("Booked and / interest / date"),
    # each placed word by word; a rule under the header and one under the only data row, no
    # vertical rules. The wrapped lines join into one header cell, the row keeps its columns.
    assert rows_of(real("bank-statement-row.pdf")) == [
        ("Booked and interest date", "Text", "Amount in EUR", "Booked balance in EUR"),
        ("01/14/2016", "Transfer", "1,406,164.00", "1,406,246.50"),
    ]


def _line(x0: float, top: float, x1: float, text: str) -> Line:
    return Line(text=text, bbox=(x0, top, x1, top + 10.0), size=10.0, bold=False, chars=len(text))


def test_a_paragraph_between_two_rules_is_not_a_table() -> None:
    # Prose set solid above a rule stands line over line like a wrapped header; between the
    # rules another paragraph. Neither is a table.
    above = [
        _line(72, 100, 520, "The committee met on the first of the month to review the"),
        _line(72, 112, 520, "accounts of the previous year and to agree the budget for"),
        _line(72, 124, 300, "the year that follows it."),
    ]
    between = [
        _line(72, 142, 520, "Members present noted that the reserve had grown by a third"),
        _line(72, 154, 480, "and asked that the surplus be set aside for repairs."),
    ]
    rules = [Rule(True, 138.0, 72.0, 520.0), Rule(True, 170.0, 72.0, 520.0)]
    assert find_tables([*above, *between], rules) == []


def test_labels_over_values_under_a_rule_stay_a_form() -> None:
    # One row of labels over one row of values between two rules: a form's fields.
    labels = [
        _line(72, 100, 120, "Name"),
        _line(250, 100, 290, "Date"),
        _line(400, 100, 450, "Place"),
    ]
    values = [
        _line(72, 120, 150, "J. Smith"),
        _line(250, 120, 310, "01/02/2016"),
        _line(400, 120, 460, "Leeds"),
    ]
    rules = [Rule(True, 114.0, 72.0, 520.0), Rule(True, 134.0, 72.0, 520.0)]
    assert find_tables([*labels, *values], rules) == []


def test_prose_above_a_ruled_row_of_figures_is_no_wrapped_header() -> None:
    # Lines of prose stand over each other one by one: they are no header band whose cells
    # wrap, and the row of figures under the rule is no table of its own.
    above = [
        _line(72, 100, 520, "The committee met on the first of the month to review the"),
        _line(72, 112, 520, "accounts of the previous year and to agree the budget for"),
        _line(72, 124, 300, "the year that follows it."),
    ]
    figures = [
        _line(72, 142, 130, "01/14/2016"),
        _line(200, 142, 250, "Transfer"),
        _line(340, 142, 400, "1,406,164.00"),
        _line(450, 142, 510, "1,406,246.50"),
    ]
    rules = [Rule(True, 138.0, 72.0, 520.0), Rule(True, 158.0, 72.0, 520.0)]
    assert find_tables([*above, *figures], rules) == []
