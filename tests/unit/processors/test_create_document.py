"""Markdown → DOCX: structure, inline formatting, links, images, and tracked changes that the
track_changes processor reads back."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn

from docgen.officegen import tiny_png
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.create_document import CreateDocumentProcessor
from pagemill.processors.track_changes import TrackChangesProcessor

PNG = base64.b64encode(tiny_png(40, 20)).decode()
MARKDOWN = f"""# Quarterly *report*

Intro with **bold**, _italic_, `code`, ~~gone~~ and a [link](https://example.org/a).

1. First
   - nested bullet
2. Second

3) Restarted at three
4) Four

| Item | Amount |
|------|-------:|
| Tea  | **3**  |

```
line one
line two
```

> Quoted words

---

![A red box](data:image/png;base64,{PNG}) ![remote](https://example.org/x.png)
"""


def create(tmp_path: Path, markdown: str, **settings: Any) -> dict[str, Any]:
    source = tmp_path / "input.md"
    source.write_text(markdown, encoding="utf-8")
    job = ProcessorInput(document=source, filename="input.md", settings=settings)
    return CreateDocumentProcessor().run(job).result


def open_docx(result: dict[str, Any]) -> Any:
    return docx.Document(io.BytesIO(base64.b64decode(result["output_base64"])))


def test_the_result_has_what_the_sdk_reads(tmp_path: Path) -> None:
    result = create(tmp_path, "Hello", output_format="docx")

    assert result["status"] == "complete" and result["success"] is True
    assert result["output_format"] == "docx" and result["page_count"] == 1
    assert base64.b64decode(result["output_base64"]).startswith(b"PK")


def test_headings_lists_tables_code_and_quotes(tmp_path: Path) -> None:
    document = open_docx(create(tmp_path, MARKDOWN))

    styled = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    assert ("Heading 1", "Quarterly report") in styled
    assert ("List Number", "First") in styled
    assert ("List Bullet 2", "nested bullet") in styled
    assert ("List Number", "Restarted at three") in styled
    assert ("Quote", "Quoted words") in styled
    assert ("Normal", "line one\nline two") in styled
    table = document.tables[0]
    assert [[c.text for c in row.cells] for row in table.rows] == [["Item", "Amount"], ["Tea", "3"]]
    assert table.rows[0].cells[0].paragraphs[0].runs[0].bold is True


def test_numbered_lists_restart_at_their_own_start(tmp_path: Path) -> None:
    document = open_docx(create(tmp_path, MARKDOWN))
    numbering = document.part.numbering_part.element

    ids = [
        p._p.pPr.numPr.numId.val
        for p in document.paragraphs
        if p.style.name == "List Number" and p._p.pPr.numPr is not None
    ]
    assert ids[0] == ids[1] != ids[2] == ids[3]  # two lists, each its own numbering
    restarted = numbering.num_having_numId(ids[2])
    starts = restarted.findall(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}")
    assert starts[0].get(qn("w:val")) == "3"


def test_inline_formatting_and_real_hyperlinks(tmp_path: Path) -> None:
    document = open_docx(create(tmp_path, MARKDOWN))
    intro = next(p for p in document.paragraphs if p.text.startswith("Intro"))

    runs = {r.text: r for r in intro.runs}
    assert runs["bold"].bold and runs["italic"].italic and runs["gone"].font.strike
    assert runs["code"].font.name == "Courier New"
    hyperlink = intro._p.find(qn("w:hyperlink"))
    assert hyperlink is not None
    target = document.part.rels[hyperlink.get(qn("r:id"))]
    assert target.is_external and target.target_ref == "https://example.org/a"
    assert "".join(t.text for t in hyperlink.iter(qn("w:t"))) == "link"


def test_data_uri_images_are_embedded_and_remote_ones_never_fetched(tmp_path: Path) -> None:
    result = create(tmp_path, MARKDOWN)
    document = open_docx(result)

    assert len(document.inline_shapes) == 1
    assert result["metadata"]["skipped_images"] == ["https://example.org/x.png"]
    assert "[remote]" in document.paragraphs[-1].text  # the alt text stands in


def test_a_corrupt_data_image_is_reported_not_fatal(tmp_path: Path) -> None:
    result = create(tmp_path, "![broken](data:image/png;base64,AAAA)")

    assert result["metadata"]["invalid_images"] == ["broken"]


def test_tracked_changes_and_comments_round_trip(tmp_path: Path) -> None:
    markdown = (
        'The fee is <del author="Ann" date="2024-05-02T10:00:00Z">100</del>'
        '<ins author="Ann" date="2024-05-02T10:00:00Z">120</ins> EUR. '
        '<comment author="Dee" date="2024-05-01T09:00:00Z" text="Make it 60?">Payment in 30 '
        "days</comment>."
    )
    result = create(tmp_path, markdown)
    written = tmp_path / "written.docx"
    written.write_bytes(base64.b64decode(result["output_base64"]))

    job = ProcessorInput(document=written, filename="written.docx", settings={})
    back = TrackChangesProcessor().run(job).result["markdown"]

    assert back == (
        'The fee is <del data-author="Ann" data-date="2024-05-02T10:00:00Z">100</del>'
        '<ins data-author="Ann" data-date="2024-05-02T10:00:00Z">120</ins> EUR. '
        '<comment data-id="0" data-author="Dee" data-date="2024-05-01T09:00:00Z" '
        'data-text="Make it 60?">Payment in 30 days</comment>.'
    )


def test_a_comment_without_a_date_is_not_dated_with_the_time_of_the_run(tmp_path: Path) -> None:
    document = open_docx(create(tmp_path, '<comment text="no date">x</comment>'))

    (comment,) = list(document.comments)
    assert comment.text == "no date" and comment.author == "pagemill"
    assert comment._comment_elm.get(qn("w:date")) is None


def test_markdown_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "bad.md"
    source.write_bytes(b"\xff\xfe\x00bad")
    job = ProcessorInput(document=source, filename="bad.md", settings={})
    with pytest.raises(ProcessingError, match="not valid UTF-8"):
        CreateDocumentProcessor().run(job)


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [({"output_format": "pdf"}, "'output_format'"), ({"title": "x"}, "'title'")],
)
def test_settings_are_checked(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CreateDocumentProcessor().check_settings(settings)
    assert fragment in caught.value.detail
