"""Extraction quality: generated invoices, forms and letters → convert → extract, field by field.

The documents, their JSON schemas and the values a perfect extractor returns all come from
``docgen/extractgen.py``; scoring is its ``score`` (every expected leaf value is one field,
list items by position; text compared without case or spacing differences, 2.0 equal to 2).
The extractor is the built-in offline one (``ExtractProcessor()`` without an LLM).

Two sets are scored: the seeds the unit test uses (``corpus(24)``, seeds 0-23: the extractor
was developed against these) and a held-out set drawn the same way from other seeds
(``corpus(60, start=1000)``: 20 of each kind, every layout at least four times), which is the
honest number and the one the target applies to.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docgen.extractgen import GeneratedDoc, Score, corpus, score, write_pdf  # noqa: E402

# name → (first seed, documents); ``corpus`` cycles invoice, form, letter through every layout
SETS = {"unit-test seeds 0-23": (0, 24), "held-out seeds 1000-1059": (1000, 60)}
HELD_OUT = "held-out seeds 1000-1059"


@dataclass(slots=True)
class ExtractionResult:
    name: str
    documents: int = 0
    seconds: float = 0.0
    by_kind: dict[str, Score] = field(default_factory=dict)
    by_layout: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    errors: list[str] = field(default_factory=list)


def extract_document(doc: GeneratedDoc, directory: Path, stem: str) -> dict[str, object]:
    from pagemill.ports.processing import ProcessorInput
    from pagemill.processors.convert import ConvertProcessor
    from pagemill.processors.extract import ExtractProcessor

    pdf = write_pdf(directory / f"{stem}.pdf", [doc])
    converted = ConvertProcessor().run(
        ProcessorInput(document=pdf, filename=pdf.name, settings={"mode": "fast"})
    )
    assert converted.checkpoint is not None
    checkpoint = directory / f"{stem}.checkpoint.json"
    checkpoint.write_bytes(converted.checkpoint)
    job = ProcessorInput(
        document=pdf,
        filename=pdf.name,
        settings={"page_schema": doc.schema},
        checkpoint=checkpoint,
    )
    output = ExtractProcessor().run(job)
    data = json.loads(output.result["extraction_schema_json"])
    assert isinstance(data, dict)
    return data


def run_set(name: str, start: int, size: int, directory: Path) -> ExtractionResult:
    result = ExtractionResult(name)
    for index, doc in enumerate(corpus(size, start=start)):
        started = time.perf_counter()
        where = f"{doc.kind}/{doc.layout} seed {start + index}: "
        try:
            data = extract_document(doc, directory, f"{doc.kind}-{start + index}")
        except Exception as error:  # a crash loses every field of the document
            result.errors.append(f"{where}{type(error).__name__}: {error}")
            data = {}
        result.seconds += time.perf_counter() - started
        result.documents += 1
        score(doc.expected, data, result.overall, where)
        score(doc.expected, data, result.by_kind.setdefault(doc.kind, Score()))
        score(doc.expected, data, result.by_layout.setdefault(f"{doc.kind}/{doc.layout}", Score()))
    return result


def run_all(directory: Path | None = None) -> list[ExtractionResult]:
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        return [run_set(name, *bounds, directory) for name, bounds in SETS.items()]
    with tempfile.TemporaryDirectory(prefix="pagemill-extract-") as tmp:
        return [run_set(name, *bounds, Path(tmp)) for name, bounds in SETS.items()]


def main() -> None:
    for result in run_all():
        kinds = ", ".join(
            f"{kind} {s.accuracy:.3f} ({s.correct}/{s.total})" for kind, s in result.by_kind.items()
        )
        print(f"{result.name}: {result.overall.accuracy:.3f} ({kinds}) in {result.seconds:.1f}s")
        for miss in result.overall.misses:
            print("  miss:", miss)


if __name__ == "__main__":
    main()
