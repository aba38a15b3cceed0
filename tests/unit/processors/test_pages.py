"""Counting pages at submit: pages, frames, slides, sheets, or 1; narrowed like convert does."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from docgen.hostilegen import tiff_with_many_frames, zip_with_many_members
from docgen.officegen import make_pptx, make_xlsx
from pagemill.domain.errors import InvalidInput
from pagemill.processors.convert.formats import detect_format
from pagemill.processors.convert.zip_directory import TooManyMembers, members, read_directory
from pagemill.processors.pages import count_pages, natural_units
from tests.component.test_admission import blank_pdf, tiff


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


# -- hostile shapes: bounded whatever the document claims ---------------------------------------


def peak_bytes(work: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_zip_declaring_a_million_members_is_refused_from_its_end_record(
    tmp_path: Path,
) -> None:
    # The attack's shape (a 47 MB XLSX listing ~1M members), scaled to 200,000 members.
    bomb = zip_with_many_members(tmp_path / "many.xlsx", 200_000)

    kind, peak = peak_bytes(lambda: detect_format(bomb))
    units, units_peak = peak_bytes(lambda: natural_units(bomb))

    assert kind == "oversized-zip"
    assert units == 1  # admitted as one unit; the convert step refuses it with the reason
    assert max(peak, units_peak) < 1024 * 1024  # before: zipfile built 200,000 objects


def test_a_zip_lying_about_its_member_count_is_read_no_further(tmp_path: Path) -> None:
    liar = zip_with_many_members(tmp_path / "liar.xlsx", 50_000, declared=3)

    directory = read_directory(liar)
    listed, peak = peak_bytes(lambda: len(list(members(liar, directory))))

    assert directory.entries == 3 and listed == 3
    assert peak < 1024 * 1024


def test_slides_and_sheets_are_counted_from_the_directory(tmp_path: Path) -> None:
    sheets = zip_with_many_members(tmp_path / "sheets.xlsx", 9_000)
    assert detect_format(sheets) == "xlsx"
    assert natural_units(sheets) == 8_999
    with pytest.raises(TooManyMembers):
        read_directory(sheets, max_members=100)


def test_a_tiff_chaining_millions_of_frames_is_counted_up_to_the_cap(tmp_path: Path) -> None:
    # The attack: a TIFF with millions of image file directories (here 2,000,000, 12 MB).
    chain = tiff_with_many_frames(tmp_path / "chain.tif", 2_000_000)

    counted, peak = peak_bytes(lambda: count_pages(chain, cap=7001))

    assert counted == 7001  # one more than the limit: enough to refuse it
    assert peak < 4 * 1024 * 1024  # before: PIL walked (and kept) every frame
    assert natural_units(tiff_with_many_frames(tmp_path / "loop.tif", 0, loop=True)) == 1
    assert natural_units(tiff_with_many_frames(tmp_path / "three.tif", 3)) == 3
