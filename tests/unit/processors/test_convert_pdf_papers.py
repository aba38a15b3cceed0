"""The PDF converter on research papers and government pages (bench/quality/real, licences in
its manifest.json): one regression test per class of fault found on them.

Only documents of the tuning set are used here; the corpus's check set (``check_set`` in the
manifest) is never tested against, so that it keeps measuring what was not tuned on.
"""

from __future__ import annotations

import pytest

from pagemill.processors.document import Document
from tests.unit.processors.real_documents import real


def texts(document: Document, kind: str | None = None) -> list[str]:
    return [block.text for block in document.blocks if kind is None or block.type == kind]


def block_with(document: Document, words: str) -> str:
    found = [text for text in texts(document) if words in text]
    assert found, f"no block holds {words!r}"
    return found[0]


@pytest.fixture(scope="module")
def llama() -> Document:
    return real("arxiv-llama-p1.pdf")


@pytest.fixture(scope="module")
def irs() -> Document:
    return real("irs-1040nr-p11.pdf")


def test_two_columns_are_found_though_centred_front_matter_crosses_the_gutter(
    llama: Document,
) -> None:
    every = texts(llama)
    abstract = every.index(block_with(llama, "We introduce LLaMA"))
    introduction = every.index("1 Introduction")
    right_column = every.index(block_with(llama, "The focus of this work"))
    assert abstract < introduction < right_column


def test_a_stamp_up_the_margin_is_read_after_the_page_and_is_no_heading(llama: Document) -> None:
    stamp = block_with(llama, "arXiv:2302.13971")
    assert stamp not in texts(llama, "heading")
    assert texts(llama)[-1] == stamp


def test_superscripts_keep_their_line_together(llama: Document) -> None:
    authors = block_with(llama, "Hugo Touvron")
    assert "Touvron\u2217, Thibaut Lavril\u2217, Gautier Izacard\u2217" in authors
    assert "Hugo Touvron" not in texts(llama, "heading")
    assert "research community1." in block_with(llama, "We release all our models")


def test_footnotes_at_a_column_foot_do_not_cut_the_paragraph(llama: Document) -> None:
    paragraph = block_with(llama, "to reach a certain level of")
    assert "certain level of performance, a smaller one trained longer" in paragraph
    every = texts(llama)
    assert every.index(block_with(llama, "Equal contribution")) > every.index(paragraph)


def test_text_outside_the_crop_box_is_not_read(irs: Document) -> None:
    assert not [text for text in texts(irs) if "The type and rule above prints" in text]


def test_a_number_far_left_of_a_line_is_no_list_marker(irs: Document) -> None:
    # "12." ends a sentence in the first column; "obligation ..." opens the second column's line.
    assert not [text for text in texts(irs) if "12. obligation" in text]
    assert "on page 12." in block_with(irs, "capital gain distributions, see")


def test_a_bold_lead_run_into_its_paragraph_is_no_heading(irs: Document) -> None:
    assert not [text for text in texts(irs, "heading") if "distributions" in text]
    assert "Nondividend distributions. Some distributions are a return" in block_with(
        irs, "Nondividend distributions."
    )
    assert not [text for text in texts(irs, "heading") if text.startswith("Line 11")]


def test_a_label_beside_a_note_is_no_heading(irs: Document) -> None:
    assert "TIP" not in texts(irs, "heading")


def test_a_bold_name_over_its_affiliation_is_no_heading() -> None:
    paper = real("acl-inlg2016-summarising-news.pdf")
    assert "Iain Macdonald" not in texts(paper, "heading")
    assert "Summarising News Stories for Children" in texts(paper, "heading")
    assert "1 Introduction" in texts(paper, "heading")


def test_symbol_font_bullets_titled_folios_and_paragraphs_across_pages() -> None:
    summary = real("dmca-title-ii.pdf")
    items = texts(summary, "list_item")
    assert any(text.startswith("The transmission must be initiated") for text in items)
    assert "!" not in texts(summary)
    assert not [text for text in texts(summary) if "Copyright Office Summary" in text]
    cut = block_with(summary, "reasonable nondiscriminatory terms")
    assert not cut.startswith("reasonable")  # joined to the paragraph the page break cut


def test_a_justified_line_split_at_a_wide_space_is_one_line_again() -> None:
    features = real("scheherazade-features.pdf")
    assert "In response to this lack of support for features" in block_with(
        features, "In response to this"
    )
