"""AsciiDoc, subtitles (WebVTT, SRT), JSON and Jupyter notebooks convert with their structure;
which text format a file is comes from its extension, else from its content.

The samples in ``tests/fixtures/markup`` were written for these tests.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from pagemill.domain.errors import ProcessingError
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.convert.formats import foreign_text
from pagemill.processors.convert.render import RenderOptions, render_html, render_markdown
from pagemill.processors.convert.web.text import text_kind
from pagemill.processors.document import Block, Document
from tests.unit.processors.uploads import convert_upload as convert

MARKUP = Path(__file__).resolve().parents[2] / "fixtures" / "markup"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize("filename", ["guide.adoc", "guide.asciidoc", "upload"])
def test_asciidoc_becomes_headings_lists_code_admonitions_and_tables(
    tmp_path: Path, filename: str
) -> None:
    markdown, document = convert(tmp_path, filename, (MARKUP / "guide.adoc").read_bytes())
    assert markdown == (
        "# Hello World\n\nJane Doe\n\nIntro to Widget and the site.\n\n## Install\n\n"
        "1. First step\n2. Second step\n- nested\n\n"
        '```python\nprint("hi")\n```\n\nNote: Be careful.\n\nWarning: Hot surface.\n\n'
        "Prices\n\n| Item | Price |\n|---|---|\n| Tea | 3 |\n| Cake | 4 |\n\n"
        "### Terms\n\n- term: definition here"
    )
    [code] = [block for block in document.blocks if block.type == "code"]
    assert code.language == "python" and code.block_type == "Code"


def test_asciidoc_never_reads_an_include(tmp_path: Path) -> None:
    secret = tmp_path / "secret.adoc"
    secret.write_text("TOPSECRET")
    markdown, _ = convert(tmp_path, "a.adoc", f"= T\n\ninclude::{secret}[]\n\nText.\n".encode())
    assert markdown == "# T\n\nText."


def test_webvtt_cues_become_timed_paragraphs_by_speaker_and_pause(tmp_path: Path) -> None:
    markdown, document = convert(tmp_path, "talk.vtt", (MARKUP / "talk.vtt").read_bytes())
    assert markdown == (
        "[00:00] Roger: Hello there, friend. How are you?\n\n[00:09] Ann: Fine & you?"
    )
    assert document.metadata["cues"] == 3


def test_srt_and_rolled_up_captions(tmp_path: Path) -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\n<i>So this is</i>\n\n"
        "2\n00:00:02,000 --> 00:00:03,500\nSo this is\nhow it starts.\n\n"
        "3\n01:00:10,000 --> 01:00:12,000\nAn hour later.\n"
    )
    markdown, _ = convert(tmp_path, "movie.srt", srt.encode())
    assert markdown == "[00:01] So this is how it starts.\n\n[1:00:10] An hour later."


def test_cues_without_blank_lines_and_timestamp_tags(tmp_path: Path) -> None:
    """Caption exporters (as youtube-dl's) run cues together and time every word."""
    vtt = (
        "WEBVTT\nKind: captions\nLanguage: en\n\n"
        "00:04:46.070 --> 00:04:46.470 align:start position:0%\nyeah\n\n"
        "00:04:46.470 --> 00:05:04.080 align:start position:0%\nyeah\n<c.colorCCCCCC>what</c>\n"
        "00:05:04.080 --> 00:05:05.069 align:start position:0%\n"
        "this<00:05:04.199><c> will</c><c.colorE5E5E5><00:05:04.379><c> happen</c></c>\n"
    )
    markdown, _ = convert(tmp_path, "captions.vtt", vtt.encode())
    assert markdown == "[04:46] yeah what this will happen"


def test_json_is_pretty_printed_in_a_code_block(tmp_path: Path) -> None:
    markdown, document = convert(tmp_path, "data.json", b'{"a": [1, {"b": "\xc3\xbc"}]}')
    assert markdown == '```json\n{\n  "a": [\n    1,\n    {\n      "b": "ü"\n    }\n  ]\n}\n```'
    assert document.blocks[0].language == "json"
    lines, _ = convert(tmp_path, "rows.jsonl", b'{"a":1}\n{"a": 2}\n')
    assert lines == '```json\n{"a": 1}\n{"a": 2}\n```'
    broken, _ = convert(tmp_path, "broken.json", b"{not json")
    assert broken == "```\n{not json\n```"


def test_json_nested_deeper_than_the_parser_goes_is_kept_as_text(tmp_path: Path) -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    markdown, _ = convert(tmp_path, "deep.json", data)
    assert markdown == "```\n" + data.decode() + "\n```"


def test_a_line_of_unclosed_asciidoc_markers_is_read_in_one_pass(tmp_path: Path) -> None:
    """Inline spans never run across their own marker (no quadratic backtracking)."""
    line = "*a _b #c +d <<e https://f[ " * 20_000
    markdown, _ = convert(tmp_path, "a.adoc", f"= T\n\n{line}\n".encode())
    assert markdown.startswith("# T\n\n*a _b #c +d <<e https://f[")


def test_a_notebook_reads_markdown_code_in_its_language_and_outputs(tmp_path: Path) -> None:
    markdown, document = convert(
        tmp_path, "analysis.ipynb", (MARKUP / "analysis.ipynb").read_bytes()
    )
    assert markdown == (
        "# Analysis\n\nSome text.\n\n```python\nx = 1\nprint(x)\n```\n\n```\n1\n```\n\n"
        "```python\nx + 1\n```\n\n```\n2\n```"
    )
    assert document.metadata["language"] == "python" and document.metadata["title"] == "Analysis"


def test_a_notebook_image_output_is_a_picture_with_include_images(tmp_path: Path) -> None:
    notebook = {
        "nbformat": 4,
        "metadata": {"language_info": {"name": "R"}},
        "cells": [
            {
                "cell_type": "code",
                "source": "plot(x)",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {
                            "image/png": base64.b64encode(PNG).decode(),
                            "text/plain": "<Figure>",
                        },
                    },
                    {"output_type": "error", "ename": "ValueError", "evalue": "bad x"},
                ],
            },
        ],
    }
    data = json.dumps(notebook).encode()
    _, document = convert(tmp_path, "plots.ipynb", data, include_images=True)
    assert [block.type for block in document.blocks] == ["code", "picture", "code", "paragraph"]
    assert document.blocks[0].language == "r"
    assert document.blocks[3].text == "ValueError: bad x"
    assert base64.b64decode(document.images[document.blocks[1].image or ""]) == PNG


def test_the_kind_of_text_comes_from_the_extension_then_the_content() -> None:
    assert text_kind("talk.vtt", "anything") == "subtitles"
    assert text_kind("upload", "WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n") == "subtitles"
    assert text_kind("upload", "1\n00:00:01,000 --> 00:00:02,000\nHi\n") == "subtitles"
    assert text_kind("upload", '{"cells": [], "nbformat": 4}') == "json"
    assert text_kind("upload", "[1, 2") == "text"  # not JSON, not Markdown: plain text
    assert text_kind("upload", "<?xml version='1.0'?><a/>") == "xml"
    assert text_kind("upload", "= Title\n\nText.\n\n== Part\n") == "asciidoc"
    assert text_kind("notes.txt", "= Title\n\n== Part\n\n== Other\n") == "text"
    assert text_kind("upload", "# Title\n\nSome text.\n\n- one\n- two\n") == "markdown"


def test_text_that_only_starts_like_xml_is_read_as_what_it_is(tmp_path: Path) -> None:
    markdown, _ = convert(tmp_path, "upload", b"<3 to all of you\n\n# Plans\n\n- one\n- two\n")
    assert markdown == "<3 to all of you\n\n# Plans\n\n- one\n- two"


def test_the_new_types_are_accepted_and_unknown_ones_still_refused(tmp_path: Path) -> None:
    for name in ("a.xml", "a.nxml", "a.rss", "a.atom", "a.adoc", "a.vtt", "a.srt", "a.ipynb"):
        assert foreign_text("text", name) is None, name
    assert foreign_text("text", "a.json") is None
    assert foreign_text("text", "script.py") is None and foreign_text("text", "card.vcf") is None
    assert foreign_text("text", "sample.xyz") is not None
    stored = tmp_path / "upload"
    stored.write_bytes(b"test content")
    with pytest.raises(ProcessingError, match=r"Unsupported file type '\.xyz'"):
        ConvertProcessor().run(ProcessorInput(document=stored, filename="sample.xyz", settings={}))


def test_source_code_is_one_code_block_in_its_language(tmp_path: Path) -> None:
    source = b'def greet(name):\n    """Say hello."""\n\n    return f"hello {name}"\n'
    markdown, document = convert(tmp_path, "greet.py", source)
    assert markdown == "```python\n" + source.decode().rstrip("\n") + "\n```"
    assert document.blocks[0].language == "python"
    card, _ = convert(tmp_path, "contact.vcf", b"BEGIN:VCARD\nFN:Ada Lovelace\nEND:VCARD\n")
    assert card == "BEGIN:VCARD FN:Ada Lovelace END:VCARD"


def test_a_code_block_renders_fenced_in_markdown_and_pre_in_html() -> None:
    block = Block(
        "/page/0/Code/0", 0, (0.0, 0.0, 0.0, 0.0), "code", "a = '```'\n<b>", language="py"
    )
    document = Document(page_count=1, pages=[0], blocks=[block])
    assert render_markdown(document, RenderOptions()) == "````py\na = '```'\n<b>\n````"
    assert render_html(document, RenderOptions()) == (
        "<pre><code class=\"language-py\">a = '```'\n&lt;b&gt;</code></pre>"
    )
    again = Document.from_json_bytes(document.to_json_bytes())
    assert again.blocks == [block]
    assert "language" not in Block("/x", 0, (0.0, 0.0, 0.0, 0.0), "paragraph", "t").to_dict()
