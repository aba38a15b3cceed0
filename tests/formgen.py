"""Generated forms and tracked-change documents with known content, for the document operations.

* ``acroform_pdf``: a one-page PDF with labelled AcroForm fields (text, checkbox, radio group,
  combo box) drawn by reportlab; field names can be meaningless so matching must use labels.
* ``paper_form_pdf``: labels and blanks as plain text (no fields), optionally scanned.
* ``tracked_docx``: a minimal DOCX package around a WordprocessingML body written by hand, with
  optional comments and heading styles, so revisions are exactly what the test wrote.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from html import escape
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def acroform_pdf(path: Path, *, names: dict[str, str] | None = None) -> Path:
    """Labels at the left, fields to their right. ``names`` renames the fields (default:
    name, birth, subscribe, colour, country)."""
    n = {
        "name": "name",
        "birth": "birth",
        "subscribe": "subscribe",
        "colour": "colour",
        "country": "country",
    }
    n.update(names or {})
    canvas = Canvas(str(path), pagesize=LETTER)
    canvas.setFont("Helvetica", 11)
    form = canvas.acroForm
    canvas.drawString(72, 700, "Full name:")
    form.textfield(name=n["name"], x=170, y=695, width=220, height=18)
    canvas.drawString(72, 660, "Date of birth:")
    form.textfield(name=n["birth"], x=170, y=655, width=220, height=18, tooltip="")
    canvas.drawString(72, 620, "Subscribe to the newsletter")
    form.checkbox(name=n["subscribe"], x=260, y=616, size=14)
    canvas.drawString(72, 580, "Favourite colour")
    form.radio(name=n["colour"], value="red", x=200, y=576, size=14, selected=False)
    form.radio(name=n["colour"], value="blue", x=240, y=576, size=14, selected=False)
    canvas.drawString(72, 540, "Country")
    form.choice(
        name=n["country"],
        x=170,
        y=535,
        width=140,
        height=18,
        options=["France", "Germany", "Italy"],
        value="France",
    )
    canvas.save()
    return path


def paper_form_pdf(path: Path, lines: Sequence[str], *, size: float = 12) -> Path:
    canvas = Canvas(str(path), pagesize=LETTER)
    canvas.setFont("Helvetica", size)
    for index, line in enumerate(lines):
        canvas.drawString(72, 700 - index * 40, line)
    canvas.save()
    return path


def tracked_docx(
    path: Path,
    body: str,
    *,
    comments: Sequence[tuple[str, str, str]] = (),
    styles: str = "",
) -> Path:
    """``body``: the children of ``w:body``; ``comments``: (id, author, text)."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": document,
    }
    if comments:
        items = "".join(
            f'<w:comment w:id="{cid}" w:author="{author}" w:date="2024-05-01T09:00:00Z">'
            f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:comment>"
            for cid, author, text in comments
        )
        parts["word/comments.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><w:comments xmlns:w="{W_NS}">{items}'
            "</w:comments>"
        )
    if styles:
        parts["word/styles.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W_NS}">{styles}</w:styles>'
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return path


def run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{escape(text, quote=False)}</w:t></w:r>'


def deleted_run(text: str) -> str:
    return f'<w:r><w:delText xml:space="preserve">{escape(text, quote=False)}</w:delText></w:r>'


def change(tag: str, author: str, inner: str, *, change_id: int = 1) -> str:
    return (
        f'<w:{tag} w:id="{change_id}" w:author="{author}" w:date="2024-05-02T10:00:00Z">'
        f"{inner}</w:{tag}>"
    )


def paragraph(*inner: str, style: str | None = None) -> str:
    properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{properties}{''.join(inner)}</w:p>"
