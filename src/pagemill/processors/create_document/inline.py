"""Inline Markdown → runs of a python-docx paragraph: emphasis, code, links, images, revisions.

Inline HTML is limited to what round-trips tracked changes (the markup ``track_changes``
writes): ``<ins>``/``<del>`` become ``w:ins``/``w:del`` revisions with their ``author`` and
``date`` (``data-author``/``data-date`` also accepted), ``<comment text="…">anchored</comment>``
(or ``data-text``) becomes a Word comment on the anchored runs, and ``<br>`` a line break. Any
other tag is dropped and its text kept.

Images: only ``data:`` URIs are embedded (decoded, checked with Pillow, ≤ ``MAX_IMAGE_BYTES``);
a remote or relative image is never fetched: its alt text stands in, and the image is listed
in ``skipped_images``.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, RGBColor
from docx.text.run import Run

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_WIDTH = Inches(6)
DEFAULT_AUTHOR = "pagemill"
MONOSPACE = "Courier New"
LINK_COLOR = RGBColor(0x05, 0x63, 0xC1)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)([^>]*)>", re.DOTALL)
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_DATA_URI = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,(.*)$", re.DOTALL | re.IGNORECASE)


def tag_attributes(text: str) -> dict[str, str]:
    """``author="A" data-date='D'`` → ``{"author": "A", "date": "D"}`` (``data-`` dropped)."""
    found: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(text):
        key = name.lower().removeprefix("data-")
        found[key] = double or single or bare
    return found


@dataclass(slots=True)
class _Comment:
    attributes: dict[str, str]
    runs: list[Run] = field(default_factory=list)


@dataclass(slots=True)
class InlineWriter:
    """Writes one paragraph's inline tokens; ``revision_ids`` is shared by the document."""

    document: Any  # docx.document.Document
    notes: dict[str, list[str]]
    next_id: list[int]  # a one-item counter: revision ids are unique in the document
    bold: int = 0
    italic: int = 0
    strike: int = 0
    code: bool = False
    container: Any = None  # where new runs go: the paragraph's w:p or a w:hyperlink
    change: tuple[str, dict[str, str]] | None = None  # ("ins" | "del", attributes)
    comments: list[_Comment] = field(default_factory=list)

    def write(self, paragraph: Any, tokens: list[Any]) -> None:
        self.container = paragraph._p
        for token in tokens:
            self.token(paragraph, token)
        for comment in reversed(self.comments):  # an unclosed comment ends with its paragraph
            self.finish_comment(paragraph, comment)
        self.comments.clear()
        self.change = None

    def token(self, paragraph: Any, token: Any) -> None:
        kind = token.type
        if kind in ("text", "code_inline"):
            self.code = kind == "code_inline"
            self.text(paragraph, token.content)
            self.code = False
        elif kind in ("softbreak",):
            self.text(paragraph, " ")
        elif kind == "hardbreak":
            self.new_run(paragraph).add_break(WD_BREAK.LINE)
        elif kind in ("strong_open", "strong_close"):
            self.bold += 1 if kind.endswith("open") else -1
        elif kind in ("em_open", "em_close"):
            self.italic += 1 if kind.endswith("open") else -1
        elif kind in ("s_open", "s_close"):
            self.strike += 1 if kind.endswith("open") else -1
        elif kind == "link_open":
            self.open_link(paragraph, str(token.attrs.get("href") or ""))
        elif kind == "link_close":
            self.container = paragraph._p
        elif kind == "image":
            self.image(paragraph, str(token.attrs.get("src") or ""), token.content)
        elif kind == "html_inline":
            self.html(paragraph, token.content)

    def text(self, paragraph: Any, text: str) -> None:
        if text:
            run = self.new_run(paragraph)
            if self.change is not None and self.change[0] == "del":
                deleted = OxmlElement("w:delText")
                deleted.set(qn("xml:space"), "preserve")
                deleted.text = text
                run._r.append(deleted)
            else:
                run.text = text

    def new_run(self, paragraph: Any) -> Run:
        element = OxmlElement("w:r")
        parent = self.container
        if self.change is not None:
            kind, attributes = self.change
            wrapper = OxmlElement(f"w:{kind}")
            wrapper.set(qn("w:id"), str(self.revision_id()))
            wrapper.set(qn("w:author"), attributes.get("author") or DEFAULT_AUTHOR)
            if attributes.get("date"):
                wrapper.set(qn("w:date"), attributes["date"])
            parent.append(wrapper)
            parent = wrapper
        parent.append(element)
        run = Run(element, paragraph)
        run.bold = True if self.bold > 0 else None
        run.italic = True if self.italic > 0 else None
        if self.strike > 0:
            run.font.strike = True
        if self.code:
            run.font.name = MONOSPACE
        if self.container is not paragraph._p:  # inside a hyperlink
            run.font.underline = True
            run.font.color.rgb = LINK_COLOR
        for comment in self.comments:
            comment.runs.append(run)
        return run

    def revision_id(self) -> int:
        self.next_id[0] += 1
        return self.next_id[0]

    def open_link(self, paragraph: Any, url: str) -> None:
        if not url or url.startswith("#"):
            return  # an internal anchor: the text stays plain
        rel_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
        hyperlink = OxmlElement("w:hyperlink")
        hyperlink.set(qn("r:id"), rel_id)
        paragraph._p.append(hyperlink)
        self.container = hyperlink

    def image(self, paragraph: Any, source: str, alt: str) -> None:
        data = _data_uri_bytes(source)
        if data is None:
            self.notes.setdefault("skipped_images", []).append(source[:200])
            if alt:
                self.text(paragraph, f"[{alt}]")
            return
        width = _checked_width(data)
        if width is None:
            self.notes.setdefault("invalid_images", []).append(alt or "(no alt text)")
            if alt:
                self.text(paragraph, f"[{alt}]")
            return
        run = self.new_run(paragraph)
        run.add_picture(io.BytesIO(data), width=min(width, MAX_IMAGE_WIDTH))

    def html(self, paragraph: Any, markup: str) -> None:
        match = _TAG.fullmatch(markup.strip())
        if match is None:
            return
        closing, name, rest = match.group(1) == "/", match.group(2).lower(), match.group(3)
        if name == "br":
            self.new_run(paragraph).add_break(WD_BREAK.LINE)
        elif name in ("ins", "del"):
            self.change = None if closing else (name, tag_attributes(rest))
        elif name == "comment":
            if not closing:
                self.comments.append(_Comment(tag_attributes(rest)))
            elif self.comments:
                self.finish_comment(paragraph, self.comments.pop())

    def finish_comment(self, paragraph: Any, comment: _Comment) -> None:
        runs = comment.runs or [self.new_run(paragraph)]
        attributes = comment.attributes
        added = self.document.add_comment(
            runs,
            text=attributes.get("text", ""),
            author=attributes.get("author") or DEFAULT_AUTHOR,
            initials=attributes.get("initials", ""),
        )
        # python-docx dates a comment "now"; the same Markdown must give the same document.
        if attributes.get("date"):
            added._comment_elm.set(qn("w:date"), attributes["date"])
        else:
            added._comment_elm.attrib.pop(qn("w:date"), None)


def _data_uri_bytes(source: str) -> bytes | None:
    match = _DATA_URI.match(source.strip())
    if match is None:
        return None
    payload = re.sub(r"\s+", "", match.group(1))
    if len(payload) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def _checked_width(data: bytes) -> int | None:
    """The image's natural width in EMU (at its dpi, else 96), or None if Pillow refuses it."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS or image.format not in (
                    "PNG",
                    "JPEG",
                    "GIF",
                    "BMP",
                    "TIFF",
                ):
                    return None
                image.verify()
                dpi = image.info.get("dpi", (96, 96))[0] or 96
    except Exception:  # Pillow raises many types on corrupt data
        return None
    return int(Inches(width / float(dpi)))
