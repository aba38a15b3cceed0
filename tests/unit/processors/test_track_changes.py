"""Tracked changes of a DOCX: insertions, deletions, moves and comments as Markdown, HTML,
chunks and a structured list; hostile and wrong inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docgen.officegen import billion_laughs, replace_member
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.track_changes import TrackChangesProcessor
from tests.formgen import change, deleted_run, paragraph, run, tracked_docx

HEADING_STYLE = (
    '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>'
    '<w:style w:type="paragraph" w:styleId="ListBullet"><w:name w:val="List Bullet"/>'
    '<w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>'
)
BODY = "".join(
    [
        paragraph(run("Contract"), style="Heading1"),
        paragraph(
            run("The fee is "),
            change("del", "Ann", deleted_run("100")),
            change("ins", "Ann", run("120"), change_id=2),
            run(" EUR & <tax>."),
        ),
        paragraph(
            '<w:commentRangeStart w:id="7"/>',
            run("Payment within 30 days"),
            '<w:commentRangeEnd w:id="7"/>',
            '<w:r><w:commentReference w:id="7"/></w:r>',
            run("."),
        ),
        paragraph(
            '<w:moveFromRangeStart w:id="3" w:author="Bob" w:name="move1"/>',
            change("moveFrom", "Bob", run("Moved sentence."), change_id=4),
            '<w:moveFromRangeEnd w:id="3"/>',
        ),
        paragraph(run("Item one"), style="ListBullet"),
        paragraph(
            '<w:moveToRangeStart w:id="5" w:author="Bob" w:name="move1"/>',
            change("moveTo", "Bob", run("Moved sentence."), change_id=6),
            '<w:moveToRangeEnd w:id="5"/>',
        ),
        "<w:tbl><w:tr><w:tc>"
        + paragraph(run("Qty"))
        + "</w:tc><w:tc>"
        + paragraph(change("ins", "Cy", run("Price"), change_id=8))
        + "</w:tc></w:tr></w:tbl>",
        paragraph(run("Next page"), '<w:r><w:br w:type="page"/></w:r>', run("Annex")),
    ]
)


@pytest.fixture
def contract(tmp_path: Path) -> Path:
    return tracked_docx(
        tmp_path / "contract.docx",
        BODY,
        comments=[("7", "Dee", "Make it 60?")],
        styles=HEADING_STYLE,
    )


def changes_of(path: Path, **settings: Any) -> ProcessorOutput:
    job = ProcessorInput(document=path, filename=path.name, settings=settings)
    return TrackChangesProcessor().run(job)


def test_markdown_marks_insertions_deletions_moves_and_comments(contract: Path) -> None:
    result = changes_of(contract).result

    markdown = result["markdown"]
    assert markdown.startswith("# Contract\n\n")
    assert (
        'The fee is <del data-author="Ann" data-date="2024-05-02T10:00:00Z">100</del>'
        '<ins data-author="Ann" data-date="2024-05-02T10:00:00Z">120</ins> EUR &amp; &lt;tax&gt;.'
    ) in markdown
    assert (
        '<comment data-id="7" data-author="Dee" data-date="2024-05-01T09:00:00Z" '
        'data-text="Make it 60?">Payment within 30 days</comment>.'
    ) in markdown
    assert '<del class="move-from" data-move="move1" data-author="Bob"' in markdown
    assert '<ins class="move-to" data-move="move1" data-author="Bob"' in markdown
    assert "- Item one" in markdown
    assert (
        '| Qty | <ins data-author="Cy" data-date="2024-05-02T10:00:00Z">Price</ins> |' in markdown
    )
    assert result["output_format"] == "markdown,html,chunks"


def test_html_has_the_same_marks_and_the_comments_after_the_body(contract: Path) -> None:
    html = changes_of(contract).result["html"]

    assert "<h1>Contract</h1>" in html
    assert '<ins data-author="Ann" data-date="2024-05-02T10:00:00Z">120</ins>' in html
    assert (
        '<span class="comment" data-comment-id="7" data-author="Dee" '
        'data-date="2024-05-01T09:00:00Z">Payment within 30 days</span>'
    ) in html
    assert html.rstrip().endswith(
        '<section class="comments">\n<aside class="comment" id="comment-7" data-author="Dee" '
        'data-date="2024-05-01T09:00:00Z">Make it 60?</aside>\n</section>'
    )
    assert "<ul>\n<li>Item one</li>\n</ul>" in html


def test_metadata_lists_every_change_and_comment(contract: Path) -> None:
    result = changes_of(contract).result

    tracked = result["metadata"]["track_changes"]
    assert tracked["counts"] == {
        "insertion": 2,
        "deletion": 1,
        "move_from": 1,
        "move_to": 1,
        "comments": 1,
    }
    assert tracked["authors"] == ["Ann", "Bob", "Cy", "Dee"]
    assert tracked["changes"][0] == {
        "type": "deletion",
        "text": "100",
        "author": "Ann",
        "date": "2024-05-02T10:00:00Z",
        "move": None,
        "page": 0,
    }
    assert tracked["comments"] == [
        {
            "id": "7",
            "author": "Dee",
            "date": "2024-05-01T09:00:00Z",
            "initials": None,
            "text": "Make it 60?",
            "anchor": "Payment within 30 days",
        }
    ]


def test_chunks_and_pages(contract: Path) -> None:
    result = changes_of(contract, output_format="chunks,json", paginate=True).result

    blocks = result["chunks"]["blocks"]
    assert blocks[0]["block_type"] == "SectionHeader" and blocks[0]["html"] == "<h1>Contract</h1>"
    assert blocks[-1]["page"] == 1 and blocks[-1]["markdown"] == "Annex"
    assert result["page_count"] == 2
    assert {c["type"] for c in result["json"]["changes"]} >= {"insertion", "deletion"}
    assert "markdown" not in result

    second = changes_of(contract, page_range="1", output_format="markdown", paginate=True)
    assert second.result["markdown"] == "\n\n{1}" + "-" * 48 + "\n\nAnnex"


def test_a_comment_on_no_text_is_kept_as_an_empty_anchor(tmp_path: Path) -> None:
    body = paragraph(run("Hello"), '<w:r><w:commentReference w:id="1"/></w:r>')
    path = tracked_docx(tmp_path / "c.docx", body, comments=[("1", "Eve", "Why?")])

    markdown = changes_of(path).result["markdown"]

    assert markdown == (
        'Hello<comment data-id="1" data-author="Eve" data-date="2024-05-01T09:00:00Z" '
        'data-text="Why?"></comment>'
    )


def test_a_docx_without_changes_is_plain_text(tmp_path: Path) -> None:
    path = tracked_docx(tmp_path / "plain.docx", paragraph(run("Nothing changed.")))

    result = changes_of(path).result

    assert result["markdown"] == "Nothing changed."
    assert result["metadata"]["track_changes"]["counts"]["insertion"] == 0


def test_entity_declarations_are_refused(contract: Path, tmp_path: Path) -> None:
    hostile = replace_member(
        contract, tmp_path / "hostile.docx", "word/document.xml", billion_laughs().encode()
    )
    with pytest.raises(ProcessingError, match="refused"):
        changes_of(hostile)


def test_other_documents_are_refused(tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(ProcessingError, match="DOCX documents only"):
        changes_of(pdf)


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"output_format": "pdf"}, "Unknown output_format 'pdf'"),
        ({"paginate": "yes"}, "'paginate'"),
        ({"page_range": "x"}, "page_range"),
        ({"extras": "track_changes"}, "Unknown setting for the track_changes step: 'extras'"),
    ],
)
def test_settings_are_checked(settings: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        TrackChangesProcessor().check_settings(settings)
    assert fragment in caught.value.detail
