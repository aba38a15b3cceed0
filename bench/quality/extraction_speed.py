"""Convert + extract time of one-page documents, as an embedded pagemill worker runs them.

Every one-page document of the real extraction set goes through ``ConvertProcessor`` (default
settings) and ``ExtractProcessor`` (offline, the set's schema) in this process, the way the
embedded default's in-process workers run a ``convert → extract`` pipeline (without the
queueing and storage around them). Each document is timed ``ROUNDS`` times after one warm-up
run; the table gives the median and the slowest document. Text-layer PDFs and scans (OCR) are
reported apart. The target: under 1 s for a one-page invoice.

    .venv/bin/python bench/quality/extraction_speed.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import extraction_real  # noqa: E402

ROUNDS = 3
TARGET_SECONDS = 1.0


def one_page(path: Path) -> bool:
    if path.suffix.lower() != ".pdf":
        return True
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return len(document) == 1
    finally:
        document.close()


def time_document(path: Path, schema: dict[str, object], work: Path) -> tuple[float, float]:
    """Seconds for convert + extract, and for extract alone."""
    started = time.perf_counter()
    checkpoint_bytes, _ = extraction_real.convert(path)
    checkpoint = work / f"{path.stem}.checkpoint.json"
    checkpoint.write_bytes(checkpoint_bytes)
    converted = time.perf_counter()
    extraction_real.extract(path, checkpoint, schema)
    done = time.perf_counter()
    return done - started, done - converted


def measure() -> dict[str, list[tuple[str, float, float]]]:
    documents, _, schemas = extraction_real.load()
    timings: dict[str, list[tuple[str, float, float]]] = {"text-layer PDF": [], "scan (OCR)": []}
    with tempfile.TemporaryDirectory(prefix="pagemill-speed-") as tmp:
        for doc in documents:
            path = extraction_real.SET / "documents" / doc["file"]
            if not one_page(path):
                continue
            schema = schemas[doc["kind"]]["plain"]
            time_document(path, schema, Path(tmp))  # warm-up: imports, OCR models
            runs = [time_document(path, schema, Path(tmp)) for _ in range(ROUNDS)]
            kind = "text-layer PDF" if path.suffix == ".pdf" else "scan (OCR)"
            total = statistics.median(run[0] for run in runs)
            timings[kind].append((doc["file"], total, statistics.median(run[1] for run in runs)))
    return timings


def report_lines(timings: dict[str, list[tuple[str, float, float]]]) -> list[str]:
    lines = [
        "| One-page documents | Count | Median s | Slowest s | Slowest document "
        "| Extract alone, median s |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for kind, rows in timings.items():
        if not rows:
            continue
        slowest = max(rows, key=lambda row: row[1])
        median = statistics.median(row[1] for row in rows)
        extract = statistics.median(row[2] for row in rows)
        lines.append(
            f"| {kind} | {len(rows)} | {median:.3f} | {slowest[1]:.3f} | `{slowest[0]}` "
            f"| {extract:.3f} |"
        )
    return lines


def main() -> None:
    timings = measure()
    print("\n".join(report_lines(timings)))
    text = timings["text-layer PDF"]
    worst = max(row[1] for row in text) if text else 0.0
    print(f"\ntarget: one-page invoice under {TARGET_SECONDS:.0f} s: slowest {worst:.3f} s")


if __name__ == "__main__":
    main()
