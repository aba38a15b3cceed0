"""Converting a document as the server stores an upload (a file with no extension, its name
given apart), for the tests of the text formats."""

from __future__ import annotations

from pathlib import Path

from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.document import Document


def convert_upload(
    tmp_path: Path, filename: str, data: bytes, **settings: object
) -> tuple[str, Document]:
    """The Markdown and the document of ``data`` uploaded as ``filename``."""
    stored = tmp_path / "upload"  # stored as the server stores uploads: no extension
    stored.write_bytes(data)
    output = ConvertProcessor().run(
        ProcessorInput(
            document=stored, filename=filename, settings={"output_format": "markdown", **settings}
        )
    )
    assert output.checkpoint is not None
    return str(output.result["markdown"]), Document.from_json_bytes(output.checkpoint)
