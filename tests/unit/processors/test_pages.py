"""Counting pages at submit: pages, frames, slides, sheets, or 1; narrowed like convert does."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.officegen import make_pptx, make_xlsx
from pagemill.domain.errors import InvalidInput
from pagemill.processors.pages import count_pages, natural_units
from tests.unit.api.test_admission import blank_pdf, tiff


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_natural_units_by_format(tmp_path: Path) -> None:
    assert natural_units(write(tmp_path, "a.pdf", blank_pdf(7))) == 7
    assert natural_units(write(tmp_path, "a.tif", tiff(3))) == 3
    slides = [[("title", "one")], [("title", "two")], [("title", "three")]]
    assert natural_units(make_pptx(tmp_path / "a.pptx", slides)) == 3
    assert natural_units(make_xlsx(tmp_path / "a.xlsx", [("A", [[1]]), ("B", [[2]])])) == 2
    assert natural_units(write(tmp_path, "a.txt", b"just text")) == 1
    assert natural_units(write(tmp_path, "a.html", b"<html><body>hi</body></html>")) == 1


def test_unreadable_files_count_one(tmp_path: Path) -> None:
    assert natural_units(write(tmp_path, "broken.pdf", b"%PDF-1.7 not really")) == 1
    assert natural_units(write(tmp_path, "broken.tif", b"II*\x00garbage")) == 1
    assert natural_units(write(tmp_path, "empty", b"")) == 1
    assert natural_units(tmp_path / "missing") == 1


def test_page_range_then_max_pages_narrow_the_count(tmp_path: Path) -> None:
    pdf = write(tmp_path, "a.pdf", blank_pdf(10))
    assert count_pages(pdf) == 10
    assert count_pages(pdf, "0,2-4") == 4
    assert count_pages(pdf, "8-20") == 2  # pages past the end are not counted
    assert count_pages(pdf, "50-60") == 1  # none exists: the convert step reports it
    assert count_pages(pdf, None, max_pages=3) == 3
    assert count_pages(pdf, "0-5", max_pages=3) == 6  # page_range wins, as in convert
    assert count_pages(pdf, "  ") == 10
    with pytest.raises(InvalidInput):
        count_pages(pdf, "3-1")
