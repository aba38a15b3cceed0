"""Conversion and extraction quality: build the corpus, score it, print and save a report.

    .venv/bin/python bench/quality/run.py              # about 40 s on 2 cores
    .venv/bin/python bench/quality/run.py --strict     # exit 1 when a target is missed
    .venv/bin/python bench/quality/run.py --keep DIR   # keep the corpus, gold and outputs

The report (Markdown) is printed and written to ``bench/quality/results.md``. Without
``--strict`` the exit status is 0 whenever the run completes. See docs/benchmarks.md,
"Conversion and extraction quality", for the families, test types and targets.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
import extraction  # noqa: E402
import extraction_real  # noqa: E402
import extraction_speed  # noqa: E402
import real  # noqa: E402
import score  # noqa: E402

RESULTS = HERE / "results.md"
NONE = "\u2013"  # an en dash: no tests of this type
FAILURE_EXAMPLES = 4  # per family and test type, in the report

# Targets: (name, test type or metric, threshold, which families it applies to)
TEXT_LAYER = ("pdf-", "docx", "pptx", "xlsx", "html", "epub")


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    metric: str  # a test type, "word_accuracy" or "extraction"
    threshold: float
    scope: str  # for the report
    applies: Callable[[str], bool]


TARGETS = (
    Target("Text (`present`)", "present", 0.98, "every family", lambda family: True),
    Target("Headings (`heading_level`)", "heading_level", 0.95, "every family", lambda f: True),
    Target(
        "Ruled tables (`table_cell`)",
        "table_cell",
        0.95,
        "every family with a text layer (scans: reported, no target)",
        lambda family: family.startswith(TEXT_LAYER),
    ),
    Target(
        "Row-major two-column order (`order`)",
        "order",
        0.90,
        "pdf-row-major-2col",
        lambda family: family == "pdf-row-major-2col",
    ),
    Target(
        "OCR word accuracy (1 - WER)",
        "word_accuracy",
        0.97,
        "scan, each mode",
        lambda family: family.startswith("scan"),
    ),
    Target(
        "Extraction field accuracy",
        "extraction",
        0.95,
        f"each document kind, {extraction.HELD_OUT}",
        lambda family: True,
    ),
)


def fmt(rate: float | None) -> str:
    return NONE if rate is None else f"{rate:.3f}"


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def _commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def _target_for(family: str, metric: str) -> Target | None:
    for target in TARGETS:
        if target.metric == metric and target.applies(family):
            return target
    return None


def cell(family: score.FamilyScore, kind: str, *, marks: bool = True) -> str:
    rate = family.rate(kind)
    if rate is None:
        return NONE
    text = f"{rate:.3f} ({family.passed.get(kind, 0)}/{family.total[kind]})"
    target = _target_for(family.family, kind) if marks else None
    if target is not None and rate < target.threshold:
        text += " ❌"
    return text


def family_table(families: list[score.FamilyScore]) -> list[str]:
    header = "| Family | Docs | Pages | Convert s | " + " | ".join(
        f"`{kind}`" for kind in score.TEST_TYPES
    )
    lines = [
        header + " | OCR word acc. |",
        "|---|---:|---:|---:|" + "---:|" * len(score.TEST_TYPES) + "---:|",
    ]
    totals = score.FamilyScore("**all families**")
    for family in families:
        word = family.word_accuracy
        word_text = fmt(word) + (" ❌" if word is not None and word < 0.97 else "")
        lines.append(
            f"| {family.family} | {family.documents} | {family.pages} | {family.seconds:.1f} | "
            + " | ".join(cell(family, kind) for kind in score.TEST_TYPES)
            + f" | {word_text} |"
        )
        for kind, total in family.total.items():
            totals.total[kind] = totals.total.get(kind, 0) + total
            totals.passed[kind] = totals.passed.get(kind, 0) + family.passed.get(kind, 0)
    lines.append(
        "| **all families** | | | | "
        + " | ".join(cell(totals, kind, marks=False) for kind in score.TEST_TYPES)
        + " | |"
    )
    return lines


def target_rows(
    families: list[score.FamilyScore], extractions: list[extraction.ExtractionResult]
) -> tuple[list[str], bool]:
    lines = ["| Target | Threshold | Scope | Measured | Pass |", "|---|---:|---|---|:---:|"]
    all_ok = True
    for target in TARGETS:
        measured: list[tuple[str, float]] = []
        if target.metric == "extraction":
            held_out = next(r for r in extractions if r.name == extraction.HELD_OUT)
            measured = [(kind, s.accuracy) for kind, s in held_out.by_kind.items()]
        else:
            for family in families:
                if not target.applies(family.family):
                    continue
                value = (
                    family.word_accuracy
                    if target.metric == "word_accuracy"
                    else family.rate(target.metric)
                )
                if value is not None:
                    measured.append((family.family, value))
        failing = [(name, value) for name, value in measured if value < target.threshold]
        ok = bool(measured) and not failing
        all_ok &= ok
        if failing:
            text = "below: " + ", ".join(f"{name} **{value:.3f}**" for name, value in failing)
            passing = len(measured) - len(failing)
            text += f"; {passing} of {len(measured)} meet it"
        elif measured:
            worst = min(measured, key=lambda item: item[1])
            text = f"all {len(measured)} meet it (lowest: {worst[0]} {worst[1]:.3f})"
        else:
            text = "nothing measured"
        lines.append(
            f"| {target.name} | ≥ {target.threshold:.2f} | {target.scope} | {text} | {mark(ok)} |"
        )
    return lines, all_ok


def ocr_table(results: list[score.DocResult], docs: list[corpus.Doc]) -> list[str]:
    by_name = {doc.path.name: doc for doc in docs}
    lines = [
        "| Document | Degradation | Mode | Pages | s/page | Reference words | Word errors "
        "| Word accuracy |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        doc = by_name.get(result.name)
        if doc is None or not result.ref_words:
            continue
        mode = result.family.split("(")[-1].rstrip(")")
        accuracy = 1 - result.word_errors / result.ref_words
        lines.append(
            f"| `{result.name}` | {doc.note} | {mode} | {doc.pages} | "
            f"{result.seconds / max(1, doc.pages):.2f} | {result.ref_words} | "
            f"{result.word_errors} | {accuracy:.3f} |"
        )
    return lines


def extraction_table(results: list[extraction.ExtractionResult]) -> list[str]:
    kinds = sorted({kind for result in results for kind in result.by_kind})
    lines = [
        "| Set | Docs | Convert + extract s | " + " | ".join(kinds) + " | all fields |",
        "|---|---:|---:|" + "---:|" * len(kinds) + "---:|",
    ]
    for result in results:
        row = [
            f"{s.accuracy:.3f} ({s.correct}/{s.total})" + (" ❌" if s.accuracy < 0.95 else "")
            for s in (result.by_kind[kind] for kind in kinds)
        ]
        overall = result.overall
        lines.append(
            f"| {result.name} | {result.documents} | {result.seconds:.1f} | "
            + " | ".join(row)
            + f" | {overall.accuracy:.3f} ({overall.correct}/{overall.total}) |"
        )
    return lines


def failure_examples(results: list[score.DocResult]) -> list[str]:
    lines: list[str] = []
    for result in results:
        if result.error:
            lines.append(
                f"- **{result.family}** `{result.name}`: conversion failed: {result.error}"
            )
        shown: dict[str, int] = {}
        for failure in result.failures:
            kind = failure["type"]
            if kind == "table_cell" and result.family.startswith("scan"):
                continue  # OCR pages have no table structure at all; one note covers it
            shown[kind] = shown.get(kind, 0) + 1
            if shown[kind] > FAILURE_EXAMPLES:
                continue
            args = "; ".join(
                f"{role}: {_arg_text(value)}" for role, value in failure["args"].items()
            )
            extra = f" → found as {failure['found_as']}" if "found_as" in failure else ""
            lines.append(f"- **{result.family}** `{kind}` {args}{extra}")
        hidden = {k: n - FAILURE_EXAMPLES for k, n in shown.items() if n > FAILURE_EXAMPLES}
        for kind, n in hidden.items():
            lines.append(f"- **{result.family}** `{kind}`: {n} more in `{result.name}`")
    return lines


def _arg_text(value: object) -> str:
    if isinstance(value, dict):
        return repr(value.get("text"))
    if isinstance(value, list):
        return "[" + ", ".join(_arg_text(v) for v in value) + "]"
    return repr(value)


def report(
    docs: list[corpus.Doc],
    results: list[score.DocResult],
    extractions: list[extraction.ExtractionResult],
    seconds: float,
    load_before: float,
    real_extraction: extraction_real.RealResult | None = None,
    speed: dict[str, list[tuple[str, float, float]]] | None = None,
) -> tuple[str, bool]:
    pages = {doc.path.name: doc.pages for doc in docs}
    families = score.aggregate(results, pages)
    targets, all_ok = target_rows(families, extractions)
    if real_extraction is not None:
        text_pdfs = (speed or {}).get("text-layer PDF") or []
        slowest = max((row[1] for row in text_pdfs), default=None)
        real_rows, real_ok = extraction_real.target_rows(real_extraction, slowest)
        targets += real_rows
        all_ok &= real_ok
    now = datetime.now(UTC)
    out = [
        "# Conversion and extraction quality",
        "",
        f"Run on {now:%Y-%m-%d %H:%M} UTC, commit `{_commit()}`, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average before the run {load_before:.1f}; "
        f"whole run {seconds:.0f} s. Generated by `.venv/bin/python bench/quality/run.py`.",
        "",
        "## Targets",
        "",
        *targets,
        "",
        "## Per family and test type (fraction of tests passed)",
        "",
        "❌ marks a value below the target that applies to it. Scans are scored once per mode.",
        "",
        *family_table(families),
        "",
        "## OCR by document",
        "",
        *ocr_table(results, docs),
        "",
        "## Extraction (offline extractor, field accuracy)",
        "",
        *extraction_table(extractions),
        "",
    ]
    if real_extraction is not None:
        out += [
            "## Extraction on real documents",
            "",
            "Public invoices, receipts and a purchase order (`bench/quality/extraction_real/`, "
            "sources and licences in `labels.json`), convert → extract with default settings; "
            "the naive regex baseline reads the same conversion's Markdown. Reproduce alone: "
            "`.venv/bin/python bench/quality/extraction_real.py`.",
            "",
            *extraction_real.report_lines(real_extraction),
            "",
            *(
                ["Errors:", "", *(f"- {e}" for e in real_extraction.errors), ""]
                if real_extraction.errors
                else []
            ),
            *extraction_speed.report_lines(speed or {}),
            "",
        ]
    missed = [miss for result in extractions for miss in result.overall.misses[:12]] + [
        error for result in extractions for error in result.errors
    ]
    if missed:
        out += ["Missed fields:", "", *(f"- {miss}" for miss in missed), ""]
    out += [
        "## Corpus",
        "",
        "| Document | Family | Pages | Tests | Modes | Notes |",
        "|---|---|---:|---:|---|---|",
    ]
    for doc in docs:
        tests = len(corpus.gold_tests(doc))
        out.append(
            f"| `{doc.path.name}` | {doc.family} | {doc.pages} | {tests} | "
            f"{', '.join(doc.modes)} | {doc.note} |"
        )
    examples = failure_examples(results)
    out += ["", "## Failed tests (examples)", ""]
    out += examples or ["None."]
    if any(r.family.startswith("scan") and r.total.get("table_cell") for r in results):
        out += [
            "",
            "Scans: every `table_cell` test fails because OCRed pages get no table structure "
            "(the table's words come out as paragraphs); these are not listed one by one.",
        ]
    return "\n".join(out) + "\n", all_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    parser.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS.name}")
    args = parser.parse_args()

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pagemill-quality-") as tmp:
        directory = args.keep or Path(tmp)
        docs = corpus.build(directory)
        print(f"corpus: {len(docs)} documents in {directory}", file=sys.stderr)
        results: list[score.DocResult] = []
        for doc in docs:
            for mode in doc.modes:
                result = score.score_document(doc.path, doc.family, mode)
                results.append(result)
                if args.keep:
                    out = directory / f"{doc.path.stem}.{mode}.out.md"
                    out.write_text(result.markdown)
                print(
                    f"  {result.family:22} {doc.path.name:24} {result.seconds:5.1f}s "
                    f"{sum(result.passed.values())}/{sum(result.total.values())} tests passed",
                    file=sys.stderr,
                )
        extractions = extraction.run_all(directory / "extraction" if args.keep else None)
        real_extraction = extraction_real.run(directory / "extraction-real" if args.keep else None)
        speed = extraction_speed.measure()
    text, all_ok = report(
        docs, results, extractions, time.monotonic() - started, load_before, real_extraction, speed
    )
    print(text)
    if not args.no_save:  # the real-document section is real.py's: keep it
        RESULTS.write_text(text + real.kept_section())
    return 1 if args.strict and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
