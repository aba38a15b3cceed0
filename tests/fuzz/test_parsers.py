"""Property tests for the parsers that read client input before anything else does.

* page ranges (``parse_page_range``, ``select_pages``): a sorted list of unique pages in range,
  or ``InvalidInput`` — never another exception, never unbounded work;
* the body of ``POST …/run`` (``RunFormReader``): generated multipart bodies, fed in chunks
  split anywhere, give back exactly the fields and file bytes that were encoded, and anything
  malformed (truncated, a part without a name, an oversized field, an odd boundary) is a clean
  ``InvalidInput``;
* step lists and step settings (``parse_steps``, ``ProcessorRegistry.check_steps``): accepted or
  refused with ``InvalidInput`` (``UnsupportedProcessor`` is one), never another exception.

Every test is derandomized and bounded, so a run is deterministic and short.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import string
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pagemill.api.forms import MAX_FIELD_BYTES, MAX_FIELDS, RunFormReader
from pagemill.domain.errors import InvalidInput
from pagemill.domain.page_ranges import MAX_PAGE_INDEX, parse_page_range, select_pages
from pagemill.domain.pipelines import MAX_STEPS, STEP_TYPES, StepSpec, parse_steps
from pagemill.processors.registry import ProcessorRegistry

BOUNDED = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(BOUNDED, max_examples=25)


# -- page ranges ---------------------------------------------------------------------------------

RANGE_CHARS = st.one_of(
    st.sampled_from(list("0123456789,-  ")),
    st.sampled_from(["\t", "\u00b2", "\u0663", "\uff11", "+", "x", "\n"]),
    st.characters(),
)


def _check_pages(pages: list[int]) -> None:
    assert all(type(page) is int for page in pages)
    assert pages == sorted(set(pages))
    assert all(0 <= page <= MAX_PAGE_INDEX for page in pages)


@BOUNDED
@given(st.text(RANGE_CHARS, max_size=40))
def test_any_text_is_a_sorted_page_list_or_invalid_input(text: str) -> None:
    try:
        pages = parse_page_range(text)
    except InvalidInput:
        return
    assert pages
    _check_pages(pages)


@BOUNDED
@given(st.lists(st.integers(0, MAX_PAGE_INDEX).map(str), min_size=1, max_size=8).map(",".join))
def test_digits_and_commas_only_just_list_the_pages(text: str) -> None:
    # No dash: every part is one page, so the answer is simply the sorted set.
    numbers = text.split(",")
    assert parse_page_range(text) == sorted({int(n) for n in numbers})


@st.composite
def rendered_ranges(draw: st.DrawFn) -> tuple[str, list[int]]:
    """A set of pages written as a valid range: runs as ``a-b`` or page by page, parts in any
    order, some repeated or overlapping, with spaces and leading zeros here and there."""
    pages = draw(
        st.sets(
            st.one_of(st.integers(0, 400), st.integers(MAX_PAGE_INDEX - 50, MAX_PAGE_INDEX)),
            min_size=1,
            max_size=60,
        )
    )
    ordered = sorted(pages)
    runs: list[tuple[int, int]] = []
    for page in ordered:
        if runs and page == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], page)
        else:
            runs.append((page, page))
    space = st.sampled_from(["", "", " ", "  ", "\t"])

    def number(value: int) -> str:
        return draw(st.sampled_from(["", "", "0", "00"])) + str(value)

    parts: list[str] = []
    for start, end in runs:
        if start == end:
            parts.append(number(start))
        elif draw(st.booleans()):
            parts.append(f"{number(start)}{draw(space)}-{draw(space)}{number(end)}")
        else:
            parts.extend(number(page) for page in range(start, end + 1))
    repeats = draw(st.lists(st.sampled_from(parts), max_size=3))
    order = draw(st.permutations(parts + repeats))
    text = ",".join(f"{draw(space)}{part}{draw(space)}" for part in order)
    return text, ordered


@BOUNDED
@given(rendered_ranges())
def test_generated_ranges_round_trip(case: tuple[str, list[int]]) -> None:
    text, pages = case
    assert parse_page_range(text) == pages


@BOUNDED
@given(
    st.lists(
        st.tuples(st.integers(0, MAX_PAGE_INDEX), st.integers(0, 3000)), min_size=1, max_size=12
    )
)
def test_output_is_the_union_of_the_parts_and_never_more(spans: list[tuple[int, int]]) -> None:
    parts = [(start, min(start + length, MAX_PAGE_INDEX)) for start, length in spans]
    text = ",".join(f"{start}-{end}" for start, end in parts)
    pages = parse_page_range(text)
    union: set[int] = set()
    for start, end in parts:
        union.update(range(start, end + 1))
    assert pages == sorted(union)
    assert len(pages) <= sum(end - start + 1 for start, end in parts)


def test_overlapping_parts_cost_the_pages_once() -> None:
    # ~2000 characters (the form's cap on page_range) of full-width parts: merged before any
    # page is listed, so this is one pass over a million pages, not 222 of them (seconds).
    text = ",".join([f"0-{MAX_PAGE_INDEX - 1}"] * 222)
    started = time.perf_counter()
    pages = parse_page_range(text)
    assert len(pages) == MAX_PAGE_INDEX
    assert select_pages(3, text) == [0, 1, 2]
    assert time.perf_counter() - started < 2.0


@BOUNDED
@given(
    page_count=st.integers(0, 3000),
    text=st.one_of(
        st.none(), st.text(RANGE_CHARS, max_size=30), rendered_ranges().map(lambda c: c[0])
    ),
    max_pages=st.one_of(st.none(), st.integers(-2, 4000)),
)
def test_select_pages_picks_existing_pages_in_order(
    page_count: int, text: str | None, max_pages: int | None
) -> None:
    try:
        pages = select_pages(page_count, text, max_pages)
    except InvalidInput:
        return
    _check_pages(pages)
    assert all(page < page_count for page in pages)
    if text:
        assert pages == [p for p in parse_page_range(text) if p < page_count]
        assert pages
    else:
        assert pages == list(range(page_count))[: max_pages if max_pages is not None else None]


# -- the run form --------------------------------------------------------------------------------

CRLF = b"\r\n"
# RFC 2046 bchars (a space is allowed inside, not at the end).
BOUNDARY_CHARS = string.ascii_letters + string.digits + "'()+_,-./:=?"
NAME_CHARS = st.one_of(
    st.sampled_from(list(string.ascii_letters + string.digits + "_-.[]")),
    st.characters(categories=["L", "N"]),
)
KNOWN_NAMES = ["file_url", "page_range", "output_format", "run_evals", "version", "file"]
FILENAME_CHARS = st.one_of(
    st.sampled_from(list(string.ascii_letters + string.digits + "_-. ()")),
    st.characters(categories=["L", "N", "S"]),
)


@dataclass
class Upload:
    filename: str
    content_type: bytes | None
    data: bytes


@dataclass
class Form:
    content_type: str
    boundary: bytes
    body: bytes
    fields: dict[str, str]
    upload: Upload | None

    @property
    def too_large(self) -> bool:
        return any(len(value.encode()) > MAX_FIELD_BYTES for value in self.fields.values())


def _header_param(value: str) -> str:
    return f'"{value}"' if any(ch in value for ch in "'()+,/:=? ") else value


def _part(name: str, data: bytes, upload: Upload | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'.encode()
    if upload is not None:
        disposition += f'; filename="{upload.filename}"'.encode()
    headers = b"Content-Disposition: " + disposition + CRLF
    if upload is not None and upload.content_type is not None:
        headers += b"Content-Type: " + upload.content_type + CRLF
    return headers + CRLF + data


def _body(boundary: bytes, parts: Sequence[bytes]) -> bytes:
    delimiter = b"--" + boundary
    body = b"".join(delimiter + CRLF + part + CRLF for part in parts)
    return body + delimiter + b"--" + CRLF


@st.composite
def forms(draw: st.DrawFn, *, max_field: int = 40, huge: bool = True) -> Form:
    boundary_text = draw(
        st.text(st.sampled_from(list(BOUNDARY_CHARS + " ")), min_size=1, max_size=70).filter(
            lambda b: not b.endswith(" ")
        )
    )
    boundary = boundary_text.encode()
    names = st.one_of(st.sampled_from(KNOWN_NAMES), st.text(NAME_CHARS, min_size=1, max_size=10))
    values = st.text(max_size=max_field)
    if huge:  # right at the cap, and one byte over
        values |= st.integers(MAX_FIELD_BYTES - 1, MAX_FIELD_BYTES + 1).map(lambda n: "v" * n)
    fields = draw(st.dictionaries(names, values, max_size=5))
    upload = draw(
        st.one_of(
            st.none(),
            st.builds(
                Upload,
                filename=st.text(FILENAME_CHARS, max_size=20),
                content_type=st.sampled_from(
                    [None, b"application/pdf", b"text/plain; charset=utf-8", b"a\x01b ", b" "]
                ),
                data=st.binary(max_size=300),
            ),
        )
    )
    parts = [_part(name, value.encode()) for name, value in fields.items()]
    if upload is not None:
        parts.insert(draw(st.integers(0, len(parts))), _part("file", upload.data, upload))
    # The data of a part must not contain its own delimiter.
    assume(all(CRLF + b"--" + boundary not in CRLF + part for part in parts))
    quoted = draw(st.booleans())
    param = f'"{boundary_text}"' if quoted else _header_param(boundary_text)
    return Form(
        content_type=f"multipart/form-data; boundary={param}",
        boundary=boundary,
        body=_body(boundary, parts),
        fields=fields,
        upload=upload,
    )


def _split(body: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = [0, *sorted({min(cut, len(body)) for cut in cuts}), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(points)]


def _read(content_type: str, chunks: Sequence[bytes]) -> tuple[RunFormReader, bytes]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def read() -> tuple[RunFormReader, bytes]:
        reader = RunFormReader(content_type, body())
        data = b"".join([piece async for piece in reader.file_chunks()])
        return reader, data

    return asyncio.run(read())


def _check_read(form: Form, chunks: Sequence[bytes]) -> None:
    if form.too_large:
        with pytest.raises(InvalidInput, match="larger than"):
            _read(form.content_type, chunks)
        return
    reader, data = _read(form.content_type, chunks)
    assert reader.fields == form.fields
    if form.upload is None:
        assert not reader.has_file and data == b""
        return
    assert reader.has_file
    assert reader.filename == form.upload.filename
    assert data == form.upload.data
    media_type = reader.file_content_type or ""
    assert media_type.isprintable() and 0 < len(media_type) <= 255
    sent = (form.upload.content_type or b"").decode("latin-1").strip()
    if sent.isprintable() and sent:
        assert media_type == sent


@BOUNDED
@given(form=forms(), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_fields_and_file_come_out_exactly_whatever_the_chunking(
    form: Form, cuts: list[int]
) -> None:
    _check_read(form, _split(form.body, cuts))


@FEW
@given(form=forms(max_field=10, huge=False))
def test_a_split_at_every_position_reads_the_same(form: Form) -> None:
    for cut in range(len(form.body) + 1):
        _check_read(form, [form.body[:cut], form.body[cut:]])


@BOUNDED
@given(form=forms(max_field=10, huge=False), data=st.data())
def test_a_body_cut_before_its_closing_boundary_is_refused(form: Form, data: st.DataObject) -> None:
    assume(not form.too_large)
    closing = form.body.rindex(b"--" + form.boundary + b"--")
    cut = data.draw(st.integers(0, closing + len(form.boundary) + 3), label="cut")
    with pytest.raises(InvalidInput):
        _read(form.content_type, [form.body[:cut]])


@BOUNDED
@given(form=forms(max_field=10, huge=False), data=st.data())
def test_a_damaged_body_is_read_or_refused_cleanly(form: Form, data: st.DataObject) -> None:
    body = bytearray(form.body)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(body)), label="at")
        edit = data.draw(st.sampled_from(["insert", "delete", "replace"]), label="edit")
        byte = data.draw(st.sampled_from([b"\r", b"\n", b"-", b'"', b";", b"\x00", b"x"]))
        if edit == "insert":
            body[at:at] = byte
        elif at < len(body):
            body[at : at + 1] = b"" if edit == "delete" else byte
    try:
        reader, _ = _read(form.content_type, [bytes(body)])
    except InvalidInput:
        return
    assert len(reader.fields) <= MAX_FIELDS
    assert all(len(value.encode()) <= MAX_FIELD_BYTES * 3 for value in reader.fields.values())


@BOUNDED
@given(
    content_type=st.one_of(
        st.text(max_size=60),
        st.builds(
            "multipart/form-data; boundary={}".format,
            st.one_of(st.text(max_size=20), st.integers(0, 400).map(lambda n: "b" * n)),
        ),
    ),
    body=st.binary(max_size=200),
)
def test_any_content_type_and_body_are_read_or_refused_cleanly(
    content_type: str, body: bytes
) -> None:
    try:
        reader, _ = _read(content_type, [body])
    except InvalidInput:
        return
    assert len(reader.fields) <= MAX_FIELDS


@pytest.mark.parametrize(
    "disposition",
    [b"form-data", b'form-data; filename="a.pdf"', b"", b'form-data; nam="x"'],
)
def test_a_part_without_a_name_is_refused(disposition: bytes) -> None:
    part = b"Content-Disposition: " + disposition + CRLF + CRLF + b"value"
    with pytest.raises(InvalidInput, match="name"):
        _read("multipart/form-data; boundary=b", [_body(b"b", [part])])


def test_more_fields_than_allowed_are_refused() -> None:
    parts = [_part(f"f{index}", b"v") for index in range(MAX_FIELDS + 1)]
    with pytest.raises(InvalidInput, match="Too many"):
        _read("multipart/form-data; boundary=b", [_body(b"b", parts)])


def test_two_files_or_a_file_under_another_name_are_refused() -> None:
    upload = Upload("a.pdf", None, b"%PDF")
    two = _body(b"b", [_part("file", b"1", upload), _part("file", b"2", upload)])
    other = _body(b"b", [_part("document", b"1", upload)])
    for body, fragment in ((two, "exactly one file"), (other, "send the file as 'file'")):
        with pytest.raises(InvalidInput, match=fragment):
            _read("multipart/form-data; boundary=b", [body])


@BOUNDED
@given(
    pairs=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=MAX_FIELDS),
    cuts=st.lists(st.integers(0, 5000), max_size=5),
)
def test_url_encoded_forms_decode_exactly(pairs: list[tuple[str, str]], cuts: list[int]) -> None:
    body = urlencode(pairs).encode()
    reader, data = _read("application/x-www-form-urlencoded", _split(body, cuts))
    assert data == b"" and not reader.has_file
    assert reader.fields == dict(pairs)  # the last of a repeated name wins


# -- steps and their settings --------------------------------------------------------------------

SETTING_NAMES = [
    "paginate",
    "add_block_ids",
    "include_headers_footers",
    "skip_cache",
    "mode",
    "output_format",
    "page_range",
    "max_pages",
    "page_schema",
    "schema_id",
    "extraction_mode",
    "segmentation_schema",
    "version",
    "_schema",
    "_custom_processor",
]
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["markdown", "html,json", "0-2", "fast", "offline", "llm", "", "{", "[]"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(["type", "properties", "items"]), st.text(max_size=8)),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=10,
)
SETTINGS = st.dictionaries(
    st.one_of(st.sampled_from(SETTING_NAMES), st.text(max_size=10)), JSON_VALUES, max_size=5
)
STEP_TYPE = st.one_of(st.sampled_from([*STEP_TYPES, "nope", ""]), JSON_SCALARS)


@st.composite
def steps(draw: st.DrawFn) -> dict[str, Any]:
    step: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        step["type"] = draw(STEP_TYPE)
    choice = draw(st.integers(0, 9))
    if choice < 7:
        step["settings"] = draw(SETTINGS)
    elif choice < 9:
        step["settings"] = draw(JSON_VALUES)
    if draw(st.booleans()):
        step["custom_processor_id"] = draw(st.one_of(st.just("cp_x"), JSON_SCALARS))
    return step


REGISTRY = ProcessorRegistry.builtin()


@BOUNDED
@given(st.lists(steps(), max_size=MAX_STEPS + 2))
def test_step_lists_are_parsed_or_refused_with_invalid_input(raw: list[dict[str, Any]]) -> None:
    try:
        parsed = parse_steps(raw)
    except InvalidInput:
        return
    assert [s.type for s in parsed] == [step["type"] for step in raw]
    assert all(
        isinstance(s, StepSpec) and dict(s.raw) == step for s, step in zip(parsed, raw, strict=True)
    )
    assert 1 <= len(parsed) <= MAX_STEPS
    with contextlib.suppress(InvalidInput):
        REGISTRY.check_steps([(s.type, s.settings) for s in parsed])


@BOUNDED
@given(st.lists(st.tuples(STEP_TYPE.map(str), SETTINGS), min_size=1, max_size=4))
def test_settings_checks_only_raise_invalid_input(pairs: list[tuple[str, dict[str, Any]]]) -> None:
    try:
        REGISTRY.check_steps(pairs)
    except InvalidInput as error:  # UnsupportedProcessor is an InvalidInput
        detail = error.detail
    else:
        return
    # Every refusal names the step it is about.
    assert detail.startswith("Step "), detail


@BOUNDED
@given(
    st.sampled_from([*STEP_TYPES]),
    st.dictionaries(st.sampled_from(SETTING_NAMES), JSON_VALUES, min_size=1, max_size=3),
)
def test_known_settings_with_any_values_only_raise_invalid_input(
    step_type: str, step_settings: dict[str, Any]
) -> None:
    with contextlib.suppress(InvalidInput):
        REGISTRY.check_steps([(step_type, step_settings)])
