"""Legacy Office and OpenDocument files through LibreOffice, and without it.

Real files from ``tests/fixtures/real`` (sources in ``SOURCES.md``). The conversions need
LibreOffice (``soffice``): they skip with the reason locally when it is missing and fail under
CI=true, where ``.ci/run`` installs it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pagemill.domain.errors import ProcessingError
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.convert.formats import detect_format
from pagemill.processors.convert.office import libreoffice
from pagemill.processors.document import Document
from tests.support.postgres import require_service

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"
DOCUMENTS = {
    "legacy-lorem.doc": "doc",
    "legacy-lorem.xls": "xls",
    "legacy-lorem.ppt": "ppt",
    "odf-simpletable.odt": "odt",
    "odf-countrystatistics.ods": "ods",
    "odf-ordered-lists.odp": "odp",
}


@pytest.fixture
def soffice() -> str:
    program = libreoffice.executable()
    if program is None:
        require_service("LibreOffice", "install it (soffice on PATH) to run this test")
    return program


def convert(source: Path, tmp_path: Path) -> Document:
    stored = tmp_path / "upload"  # as the server stores uploads: no extension
    shutil.copyfile(source, stored)
    output = ConvertProcessor().run(
        ProcessorInput(document=stored, filename=source.name, settings={})
    )
    assert output.checkpoint is not None
    return Document.from_json_bytes(output.checkpoint)


@pytest.mark.parametrize(("name", "kind"), DOCUMENTS.items())
def test_the_format_is_told_by_the_bytes(name: str, kind: str, tmp_path: Path) -> None:
    stored = tmp_path / "upload"
    shutil.copyfile(REAL / name, stored)
    assert detect_format(stored) == kind


@pytest.mark.usefixtures("soffice")
def test_legacy_word_excel_and_powerpoint_convert(tmp_path: Path) -> None:
    word = convert(REAL / "legacy-lorem.doc", tmp_path)
    assert [block.text for block in word.blocks] == ["lorem ipsum"]
    assert word.metadata["converted_from"] == "doc"
    excel = convert(REAL / "legacy-lorem.xls", tmp_path)
    assert (excel.blocks[0].type, excel.blocks[0].text) == ("heading", "Sheet1")
    assert excel.blocks[1].rows == (("lorem ipsum", "3"),)
    deck = convert(REAL / "legacy-lorem.ppt", tmp_path)
    assert [(block.type, block.text) for block in deck.blocks] == [("heading", "Lorem ipsum")]


@pytest.mark.usefixtures("soffice")
def test_opendocument_text_spreadsheet_and_presentation_convert(tmp_path: Path) -> None:
    text = convert(REAL / "odf-simpletable.odt", tmp_path)
    assert text.blocks[0].rows == (("Cell 1", "Cell 2"), ("Cell 3 (bold)", "Cell 4 (italic)"))
    sheet = convert(REAL / "odf-countrystatistics.ods", tmp_path)
    table = next(block for block in sheet.blocks if block.type == "table")
    assert table.rows is not None
    assert table.rows[0] == (
        "Country",
        "Population in millions",
        "Area km2",
        "Pop. density People/km2",
    )
    assert ("Austria", "8.3", "83858", "99") in table.rows
    slides = convert(REAL / "odf-ordered-lists.odp", tmp_path)
    items = [block.text for block in slides.blocks if block.type == "list_item"]
    assert items[:2] == ["1. Eins", "2. Tsvey"]


@pytest.mark.usefixtures("soffice")
def test_a_password_protected_legacy_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ProcessingError, match="password-protected") as caught:
        convert(REAL / "legacy-encrypted.doc", tmp_path)
    assert caught.value.retryable is False


def test_without_libreoffice_the_step_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(libreoffice, "executable", lambda: None)
    with pytest.raises(ProcessingError, match="apt-get install") as caught:
        convert(REAL / "odf-simpletable.odt", tmp_path)
    assert "LibreOffice" in caught.value.message
    assert libreoffice.missing_converter(REAL / "legacy-lorem.xls") is not None
    assert libreoffice.missing_converter(REAL / "table-us-005.pdf") is None
