from __future__ import annotations

import pytest

from pagemill.domain.errors import InvalidInput
from pagemill.domain.page_ranges import parse_page_range, select_pages


@pytest.mark.parametrize(
    ("text", "pages"),
    [
        ("0", [0]),
        ("0,2-4", [0, 2, 3, 4]),
        (" 3 , 1-2 ,1 ", [1, 2, 3]),
        ("5-5", [5]),
        ("0-5,10", [0, 1, 2, 3, 4, 5, 10]),
    ],
)
def test_valid_ranges(text: str, pages: list[int]) -> None:
    assert parse_page_range(text) == pages


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("1,,2", "empty part"),
        ("3-1", "runs backwards"),
        ("a", "'a' is not a page number"),
        ("-1", "'' is not a page number"),
        ("1-", "'' is not a page number"),
        ("1.5", "not a page number"),
        ("99999999", "out of range"),
    ],
)
def test_invalid_ranges_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        parse_page_range(text)


def test_select_pages_clips_to_the_document_and_prefers_the_range() -> None:
    assert select_pages(3, "1-9") == [1, 2]
    assert select_pages(5, None, max_pages=2) == [0, 1]
    assert select_pages(5, "4", max_pages=1) == [4]
    with pytest.raises(InvalidInput, match="selects no page of a 3-page document"):
        select_pages(3, "7-9")
    with pytest.raises(InvalidInput, match="max_pages"):
        select_pages(3, None, max_pages=0)
