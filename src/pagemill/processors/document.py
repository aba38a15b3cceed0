"""The parsed document: ordered blocks with pages, boxes and ids.

This is the convert step's checkpoint. Later steps (segment, extract, custom) read it with
``Document.from_json_bytes`` instead of parsing the file again, and cite blocks by ``block_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.ports.processing import ProcessorInput

CHECKPOINT_FORMAT = "pagemill.document"
CHECKPOINT_VERSION = 1
SEGMENTS_KEY = "segments"  # metadata key: segment writes the segments, extract reads them

# Block kinds and the names they carry on the wire (block ids, ``block_type`` in json/chunks).
BLOCK_TYPE_NAMES: dict[str, str] = {
    "heading": "SectionHeader",
    "paragraph": "Paragraph",
    "list_item": "ListItem",
    "table": "Table",  # ``rows`` holds the cells; the first row is the header
    "picture": "Picture",  # ``image`` names an entry of ``Document.images``
    "code": "Code",  # ``text`` verbatim (line breaks kept); ``language`` when the source names it
    "page_header": "PageHeader",  # running furniture, kept only with include_headers_footers
    "page_footer": "PageFooter",
}

TableRows = tuple[tuple[str, ...], ...]

BBox = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin top-left


def block_id_for(page: int, block_type: str, index_on_page: int) -> str:
    """The citation id of a block, e.g. ``/page/3/Paragraph/7``."""
    return f"/page/{page}/{BLOCK_TYPE_NAMES[block_type]}/{index_on_page}"


@dataclass(frozen=True, slots=True)
class Block:
    block_id: str
    page: int  # 0-based index in the original file, not in the selection
    bbox: BBox
    type: str  # a key of BLOCK_TYPE_NAMES
    text: str
    level: int | None = None  # 1..6 for headings, None otherwise
    rows: TableRows | None = None  # table cells, row by row (tables only)
    image: str | None = None  # key into ``Document.images`` (pictures only)
    language: str | None = None  # a code block's language (``python``, ``json``), when known

    @property
    def block_type(self) -> str:
        """The wire name of the block's kind (``SectionHeader``, ``Paragraph``, ``ListItem``)."""
        return BLOCK_TYPE_NAMES[self.type]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "block_id": self.block_id,
            "page": self.page,
            "bbox": list(self.bbox),
            "type": self.type,
            "text": self.text,
            "level": self.level,
            "rows": [list(row) for row in self.rows] if self.rows is not None else None,
            "image": self.image,
        }
        if self.language is not None:  # absent otherwise: older checkpoints read the same
            data["language"] = self.language
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Block:
        block_type = data["type"]
        if block_type not in BLOCK_TYPE_NAMES:
            raise ValueError(f"unknown block type {block_type!r}")
        x0, y0, x1, y1 = (float(v) for v in data["bbox"])
        level = data.get("level")
        rows = data.get("rows")
        return cls(
            block_id=str(data["block_id"]),
            page=int(data["page"]),
            bbox=(x0, y0, x1, y1),
            type=block_type,
            text=str(data["text"]),
            level=int(level) if level is not None else None,
            rows=tuple(tuple(str(cell) for cell in row) for row in rows) if rows else None,
            image=str(data["image"]) if data.get("image") else None,
            language=str(data["language"]) if data.get("language") else None,
        )


@dataclass(frozen=True, slots=True)
class Document:
    page_count: int  # pages in the file
    pages: list[int]  # the pages that were parsed, in order
    blocks: list[Block]  # in reading order
    # Free-form facts about the parse; ``page_sizes`` maps str(page) -> [width, height].
    metadata: dict[str, Any] = field(default_factory=dict)
    # Extracted images by name (e.g. ``page_2_picture_0.png``) → base64, for include_images.
    images: dict[str, str] = field(default_factory=dict)

    def blocks_on(self, page: int) -> list[Block]:
        return [block for block in self.blocks if block.page == page]

    def page_size(self, page: int) -> tuple[float, float] | None:
        size = self.metadata.get("page_sizes", {}).get(str(page))
        if not size:
            return None
        return float(size[0]), float(size[1])

    def to_json_bytes(self) -> bytes:
        payload = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "page_count": self.page_count,
            "pages": self.pages,
            "metadata": self.metadata,
            "blocks": [block.to_dict() for block in self.blocks],
            "images": self.images,
        }
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json_bytes(cls, data: bytes) -> Document:
        """Read a checkpoint; raise ``ProcessingError`` if it is not one this version wrote."""
        try:
            payload = json.loads(data.decode("utf-8"))
            if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("not a pagemill document checkpoint")
            if payload.get("version") != CHECKPOINT_VERSION:
                raise ValueError(f"unsupported checkpoint version {payload.get('version')!r}")
            return cls(
                page_count=int(payload["page_count"]),
                pages=[int(page) for page in payload["pages"]],
                blocks=[Block.from_dict(block) for block in payload["blocks"]],
                metadata=dict(payload.get("metadata") or {}),
                images={str(k): str(v) for k, v in (payload.get("images") or {}).items()},
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            # json.JSONDecodeError is a ValueError. A bad checkpoint never gets better on retry.
            raise ProcessingError(f"Unreadable document checkpoint: {error}") from error


def read_checkpoint(job: ProcessorInput) -> Document:
    """The upstream document; ``ProcessingError`` when there is none or it cannot be read."""
    if job.checkpoint is None:
        raise ProcessingError(
            "There is no document checkpoint to read: this step must follow a convert step."
        )
    try:
        data = job.checkpoint.read_bytes()
    except OSError as error:
        raise ProcessingError(
            f"Could not read the upstream checkpoint: {error}", retryable=True
        ) from error
    return Document.from_json_bytes(data)
