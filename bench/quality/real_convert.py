"""The converters compared on the real corpus: pagemill and the peers, all in this process.

* ``pagemill``: ``ConvertProcessor().run`` with default settings and Markdown output, given the
  document the way the server gives it: a stored upload without a file extension, plus the
  original filename;
* ``pymupdf4llm`` (PDF only; AGPL-3.0, so a bench-only dependency, never a runtime one);
* ``markitdown`` (PDF, DOCX, PPTX, XLSX, and the markup family: notebooks and feeds by its own
  readers, XML and AsciiDoc as the plain text it reads any text file as);
* ``pdftext``: raw ``plain_text_output`` (PDF only), scored on text, retention and speed.

A peer not installed, or one that does not handle a family, is left out of that family's
cells ("—"), which is different from a failure (an exception) or an empty output (scored).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Families whose documents have no text layer: peers without OCR are not run on them.
SCAN_FAMILIES = frozenset({"scan"})


@dataclass(frozen=True, slots=True)
class Converter:
    name: str
    convert: Callable[[Path], str]
    suffixes: frozenset[str]  # the formats it handles
    structured: bool  # Markdown with structure, or raw text
    ocr: bool  # whether it reads pages without a text layer
    # The same conversion with running headers and footers kept (for the furniture-aware word
    # retention), for a converter that can say which lines it removed as furniture.
    keeping_furniture: Callable[[Path], str] | None = None

    def handles(self, path: Path, family: str) -> bool:
        if path.suffix.lower() not in self.suffixes:
            return False
        return self.ocr or family not in SCAN_FAMILIES


@dataclass(frozen=True, slots=True)
class Output:
    text: str
    seconds: float
    error: str | None = None


def run(converter: Converter, path: Path) -> Output:
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pymupdf4llm prints progress notes
            text = converter.convert(path)
    except Exception as error:  # a failure is a result, not the end of the run
        return Output("", time.perf_counter() - started, f"{type(error).__name__}: {error}")
    return Output(text, time.perf_counter() - started)


def _pagemill(path: Path, settings: dict[str, object] | None = None) -> str:
    from pagemill.ports.processing import ProcessorInput
    from pagemill.processors.convert import ConvertProcessor

    with tempfile.TemporaryDirectory(prefix="pagemill-real-") as tmp:
        upload = Path(tmp) / "upload"  # the blob store keeps uploads without an extension
        shutil.copyfile(path, upload)
        output = ConvertProcessor().run(
            ProcessorInput(
                document=upload,
                filename=path.name,
                settings=settings or {},
                output_format="markdown",
            )
        )
    return str(output.result["markdown"])


def _pagemill_with_furniture(path: Path) -> str:
    """pagemill with the documented ``include_headers_footers`` option: the lines it removes
    as running headers and footers come back as header and footer blocks."""
    return _pagemill(path, {"include_headers_footers": True})


def _pymupdf4llm(path: Path) -> str:
    import pymupdf4llm

    return str(pymupdf4llm.to_markdown(str(path), show_progress=False))


def _markitdown(path: Path) -> str:
    from markitdown import MarkItDown

    return str(MarkItDown(enable_plugins=False).convert(str(path)).text_content)


def _pdftext(path: Path) -> str:
    from pdftext.extraction import plain_text_output

    return str(plain_text_output(str(path), sort=False))


PDF = frozenset({".pdf"})
OFFICE = frozenset({".pdf", ".docx", ".pptx", ".xlsx"})
MARKUP = frozenset({".xml", ".adoc", ".ipynb", ".vtt", ".srt", ".json", ".rss", ".atom"})
EVERY = frozenset({".pdf", ".docx", ".pptx", ".xlsx", ".png", ".jpg", ".tiff", ".tif"}) | MARKUP

PAGEMILL = Converter(
    "pagemill",
    _pagemill,
    EVERY,
    structured=True,
    ocr=True,
    keeping_furniture=_pagemill_with_furniture,
)
PEERS = (
    ("pymupdf4llm", Converter("pymupdf4llm", _pymupdf4llm, PDF, structured=True, ocr=False)),
    (
        "markitdown",
        Converter("markitdown", _markitdown, OFFICE | MARKUP, structured=True, ocr=False),
    ),
    ("pdftext", Converter("pdftext", _pdftext, PDF, structured=False, ocr=False)),
)


def available(names: list[str] | None = None) -> tuple[list[Converter], list[str]]:
    """pagemill plus every installed peer (or the ``names`` asked for); and the missing ones."""
    import importlib.util

    converters, missing = [PAGEMILL], []
    for module, converter in PEERS:
        if names is not None and converter.name not in names:
            continue
        if importlib.util.find_spec(module) is None:
            missing.append(converter.name)
        else:
            converters.append(converter)
    return converters, missing
