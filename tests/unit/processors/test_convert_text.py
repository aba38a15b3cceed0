"""Plain text, CSV and Markdown uploads convert (they used to be accepted, then refused).

Real files from ``tests/fixtures/real`` (sources in ``SOURCES.md``), stored the way the server
stores uploads: under a name without an extension, the original name given separately.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pagemill.domain.errors import ProcessingError
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.convert.formats import detect_format, foreign_text
from pagemill.processors.convert.web.text import text_kind
from pagemill.processors.document import Document

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"
CSV = REAL / "csv-campaign-donors.csv"
MARKDOWN = REAL / "markdown-pdfplumber-readme.md"
TEXT = REAL / "text-apache-license.txt"


def convert(source: Path, tmp_path: Path, filename: str) -> tuple[dict[str, object], Document]:
    stored = tmp_path / "upload"
    shutil.copyfile(source, stored)
    output = ConvertProcessor().run(
        ProcessorInput(document=stored, filename=filename, settings={"output_format": "markdown"})
    )
    assert output.checkpoint is not None
    return output.result, Document.from_json_bytes(output.checkpoint)


@pytest.mark.parametrize("filename", ["donors.csv", "upload"])
def test_a_csv_is_one_table(tmp_path: Path, filename: str) -> None:
    _, document = convert(CSV, tmp_path, filename)
    [table] = document.blocks
    assert table.type == "table"
    rows = table.rows or ()
    assert rows[0][1:4] == ("Last Name", "First Name", "Address")
    assert rows[1][1:] == (
        "Lidstad",
        "Dick & Peg",
        "62 Mississippi River Blvd N",
        "Saint Paul",
        "MN",
        "55104",
        "retired",
        "",
        "10/12/2012",
        "60.00",
    )
    assert len(rows) == sum(1 for line in CSV.read_text().splitlines() if line.strip())


@pytest.mark.parametrize(
    ("delimiter", "data"),
    [
        (";", "Index;Name;Age\n1;Alice;30\n2;Bob\n3;Carol;41;extra\n4;Dan;52\n"),
        ("|", "Index|Name|Age\n1|Alice|30\n2|Bob|\n3|Carol|41|extra\n"),
        ("\t", "Index\tName\tAge\n1\tAlice\t30\n2\tBob\n"),
    ],
)
def test_a_ragged_csv_keeps_its_delimiter(tmp_path: Path, delimiter: str, data: str) -> None:
    """A row with a field missing or one too many does not make the file one column wide."""
    path = tmp_path / "ragged.csv"
    path.write_text(data)
    _, document = convert(path, tmp_path, "ragged.csv")
    [table] = document.blocks
    rows = table.rows or ()
    assert rows[0][:3] == ("Index", "Name", "Age")
    assert rows[2][:2] == ("2", "Bob")
    assert document.metadata["delimiter"] == delimiter


def test_markdown_code_blocks_keep_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("Some text.\n\n```python\ndef f(x):\n    return x + 1\n```\n\n    indented\n")
    _, document = convert(path, tmp_path, "guide.md")
    assert [(b.type, b.text, b.language) for b in document.blocks] == [
        ("paragraph", "Some text.", None),
        ("code", "def f(x):\n    return x + 1", "python"),
        ("code", "indented", None),
    ]


@pytest.mark.parametrize("filename", ["README.md", "upload"])
def test_markdown_becomes_headings_lists_and_tables(tmp_path: Path, filename: str) -> None:
    result, document = convert(MARKDOWN, tmp_path, filename)
    headings = [(block.level, block.text) for block in document.blocks if block.type == "heading"]
    assert headings[:3] == [(1, "pdfplumber"), (2, "Table of Contents"), (2, "Installation")]
    assert (2, "Extracting tables") in headings
    items = [block.text for block in document.blocks if block.type == "list_item"]
    assert "Extracting tables" in items
    tables = [block.rows or () for block in document.blocks if block.type == "table"]
    assert tables and tables[0][0][0] == "Argument"
    markdown = str(result["markdown"])
    code = [block for block in document.blocks if block.type == "code"]
    assert code and all("```" not in block.text for block in code)  # fences read, not copied
    assert markdown.count("```") == 2 * len(code)


def test_plain_text_is_paragraphs(tmp_path: Path) -> None:
    _, document = convert(TEXT, tmp_path, "LICENSE.txt")
    assert {block.type for block in document.blocks} == {"paragraph"}
    texts = [block.text for block in document.blocks]
    assert texts[1] == "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION"
    # Hard-wrapped lines of one paragraph are one paragraph.
    assert any(
        text.startswith('"License" shall mean the terms and conditions') and text.endswith(".")
        for text in texts
    )


def test_the_kind_of_text_comes_from_the_extension_then_the_content() -> None:
    assert text_kind("a.csv", "just words") == "csv"
    assert text_kind("notes.txt", "# not a heading here") == "text"
    assert text_kind("upload", "# Title\n\nSome text.\n\n- one\n- two\n") == "markdown"
    assert text_kind("upload", "a;b;c\n1;2;3\n4;5;6\n") == "csv"
    assert text_kind("upload", "One sentence, with a comma.\nAnother line here.\n") == "text"


def test_a_multibyte_character_cut_by_the_sniffing_window_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(("a" * 1023 + "é" * 10).encode("utf-8"))
    assert detect_format(path) == "text"


def test_text_under_a_file_type_that_is_not_converted_fails_the_step(tmp_path: Path) -> None:
    """The step refuses it too, for a run admitted without the check at submit."""
    stored = tmp_path / "upload"
    stored.write_bytes(b"test content")
    with pytest.raises(ProcessingError, match=r"Unsupported file type '\.xyz'"):
        ConvertProcessor().run(ProcessorInput(document=stored, filename="sample.xyz", settings={}))
    assert foreign_text("text", "sample.XYZ") is not None
    assert foreign_text("text", "notes.md") is None
    assert foreign_text("pdf", "scan.xyz") is None  # the bytes decide for every other format
