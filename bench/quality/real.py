"""Conversion quality on real documents: pagemill and the peers, in one run, per family.

    .venv/bin/python bench/quality/real.py                 # every installed converter
    .venv/bin/python bench/quality/real.py --only pagemill # pagemill alone (no peers needed)
    .venv/bin/python bench/quality/real.py --family pdf-tables --keep DIR

Peers come with the ``bench`` extra (``pip install -e '.[bench]'``). The report (Markdown) is
printed and written into the "Real documents" section of ``bench/quality/results.md`` (the rest
of that file is ``run.py``'s); ``--no-save`` skips that. See docs/benchmarks.md, "Real
documents", for the corpus, the metrics and how to read them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for entry in (str(ROOT / "src"), str(ROOT), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import real_convert  # noqa: E402
import real_corpus  # noqa: E402
import real_metrics  # noqa: E402

RESULTS = HERE / "results.md"
START = "<!-- real-corpus:start -->"
END = "<!-- real-corpus:end -->"
DASH = "—"
METRIC_TITLES = {
    "text_similarity": "Text similarity",
    "heading_f1": "Heading F1 (by text)",
    "heading_f1_level": "Heading F1 (text and level)",
    "paragraph_ratio": "Paragraphs ÷ reference (1.00 is right; target 0.7 to 1.4)",
    "table_cell_recall": "Table-cell recall",
    "tables_emitted": "Reference tables emitted as tables",
    "word_retention_furniture": (
        "Text-layer word retention, running headers and footers kept (target ≥ 0.97)"
    ),
    "word_retention": "Text-layer word retention, plain (default output)",
}


@dataclass(slots=True)
class DocRun:
    doc: real_corpus.RealDoc
    converter: str
    seconds: float
    scores: real_metrics.Scores  # a failed conversion is scored as an empty output
    error: str | None = None
    markdown: str = ""


@dataclass(slots=True)
class FamilyRow:
    family: str
    converter: str
    runs: list[DocRun] = field(default_factory=list)

    def mean(self, metric: str) -> float | None:
        values = [run.scores.get(metric) for run in self.runs]
        values = [value for value in values if value is not None]
        return sum(values) / len(values) if values else None

    @property
    def failures(self) -> int:
        return sum(run.error is not None for run in self.runs)


def score_run(
    doc: real_corpus.RealDoc,
    converter: real_convert.Converter,
    reference: real_metrics.Structure,
    layer: list[str],
) -> DocRun:
    output = real_convert.run(converter, doc.path)
    if output.error is not None:  # scored as an empty output: 0 wherever the metric applies
        empty = real_metrics.Structure(structured=converter.structured)
        scores = real_metrics.score(reference, empty, layer)
        return DocRun(doc, converter.name, output.seconds, scores, output.error)
    parsed = (
        real_metrics.parse(output.text) if converter.structured else real_metrics.plain(output.text)
    )
    with_furniture = None
    if layer and converter.keeping_furniture is not None:
        kept = real_convert.run(
            real_convert.Converter(
                converter.name,
                converter.keeping_furniture,
                converter.suffixes,
                converter.structured,
                converter.ocr,
            ),
            doc.path,
        )
        with_furniture = real_metrics.parse(kept.text) if kept.error is None else None
    scores = real_metrics.score(reference, parsed, layer, with_furniture)
    return DocRun(doc, converter.name, output.seconds, scores, markdown=output.text)


def run_all(
    docs: list[real_corpus.RealDoc],
    converters: list[real_convert.Converter],
    keep: Path | None = None,
    progress: bool = True,
) -> list[DocRun]:
    runs = []
    for doc in docs:
        reference = real_metrics.parse(doc.reference_markdown())
        layer = real_metrics.text_layer_words(doc.path)
        for converter in converters:
            if not converter.handles(doc.path, doc.family):
                continue
            result = score_run(doc, converter, reference, layer)
            runs.append(result)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"{doc.name}.{converter.name}.md").write_text(result.markdown)
            if progress:
                status = result.error or f"similarity {result.scores.text_similarity:.2f}"
                print(
                    f"  {doc.family:16} {doc.name:32} {converter.name:12} "
                    f"{result.seconds:6.2f}s {status}",
                    file=sys.stderr,
                )
    return runs


def family_rows(runs: Iterable[DocRun]) -> dict[tuple[str, str], FamilyRow]:
    rows: dict[tuple[str, str], FamilyRow] = {}
    for run in runs:
        key = (run.doc.family, run.converter)
        rows.setdefault(key, FamilyRow(*key)).runs.append(run)
    return rows


def _fmt(value: float | None, best: bool = False) -> str:
    if value is None:
        return DASH
    text = f"{value:.2f}"
    return f"**{text}**" if best else text


def _best(values: list[float | None], metric: str) -> float | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    if metric == "paragraph_ratio":  # closest to 1.0 is best
        return min(present, key=lambda value: abs(value - 1.0))
    return max(present)


def metric_table(
    metric: str, families: list[str], names: list[str], rows: dict[tuple[str, str], FamilyRow]
) -> list[str]:
    lines = [
        "| Family | Docs | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for family in families:
        values = [
            rows[(family, name)].mean(metric) if (family, name) in rows else None for name in names
        ]
        if all(value is None for value in values):
            continue
        best = _best(values, metric)
        count = len(rows[(family, names[0])].runs) if (family, names[0]) in rows else 0
        cells = [_fmt(value, value is not None and value == best) for value in values]
        lines.append(f"| {family} | {count} | " + " | ".join(cells) + " |")
    return lines


def speed_table(runs: list[DocRun], names: list[str]) -> list[str]:
    lines = [
        "| Converter | Text-layer PDFs: pages, s, pages/s | All PDFs (scans too): pages, s, "
        "pages/s | Failures (all formats) |",
        "|---|---:|---:|---:|",
    ]
    for name in names:
        own = [run for run in runs if run.converter == name]
        cells = []
        for subset in (
            [r for r in own if r.doc.is_pdf and r.doc.family != "scan"],
            [r for r in own if r.doc.is_pdf],
        ):
            pages = sum(r.doc.pages for r in subset)
            seconds = sum(r.seconds for r in subset)
            cells.append(
                f"{pages}, {seconds:.1f} s, **{pages / seconds:.1f}**" if seconds else DASH
            )
        failed = [r for r in own if r.error is not None]
        cells.append(f"{len(failed)} of {len(own)}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def document_table(runs: list[DocRun], converter: str) -> list[str]:
    short = ("sim", "H-F1", "H-F1 lvl", "para ÷ ref", "cells", "tables", "ret.", "ret. kept")
    lines = [
        "| Document | Family | Pages | s | " + " | ".join(short) + " |",
        "|---|---|---:|---:|" + "---:|" * len(short),
    ]
    for run in runs:
        if run.converter != converter:
            continue
        cells = [_fmt(run.scores.get(metric)) for metric in real_metrics.Scores.METRICS]
        if run.error is not None:
            cells[0] += " (failed)"
        lines.append(
            f"| `{run.doc.path.name}` | {run.doc.family} | {run.doc.pages} | "
            f"{run.seconds:.2f} | " + " | ".join(cells) + " |"
        )
    return lines


def check_set_table(runs: list[DocRun], names: list[str]) -> list[str]:
    """Every converter on each check-set document: similarity, heading F1, paragraphs, cells."""
    lines = [
        "| Document | Family | "
        + " | ".join(f"{name}: sim / H-F1 / para / cells" for name in names)
        + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for doc in sorted({run.doc.name: run.doc for run in runs}.values(), key=lambda d: d.name):
        cells = []
        for name in names:
            run = next((r for r in runs if r.doc.name == doc.name and r.converter == name), None)
            metrics = ("text_similarity", "heading_f1", "paragraph_ratio", "table_cell_recall")
            cells.append(
                DASH if run is None else " / ".join(_fmt(run.scores.get(m)) for m in metrics)
            )
        lines.append(f"| `{doc.path.name}` | {doc.family} | " + " | ".join(cells) + " |")
    return lines


def report(
    runs: list[DocRun],
    names: list[str],
    missing: list[str],
    timing: tuple[float, float],
    command: str,
) -> str:
    """The Markdown section; ``timing`` is (load average before the run, seconds taken)."""
    load_before, seconds = timing
    rows = family_rows(runs)
    families = [f for f in real_corpus.FAMILIES if any(run.doc.family == f for run in runs)]
    documents = {run.doc.name for run in runs}
    now = datetime.now(UTC)
    out = [
        "## Real documents (pagemill and peers)",
        "",
        f"Run on {now:%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average before the run {load_before:.1f}; "
        f"{len(documents)} documents, whole run {seconds:.0f} s. Generated by `{command}`.",
        "Means per family; **bold** is the best of the row; — means the converter does not "
        "handle that family (or the metric does not apply: raw text has no structure).",
    ]
    if missing:
        out += ["", f"Not installed, so not run: {', '.join(missing)}."]
    for metric, title in METRIC_TITLES.items():
        out += ["", f"### {title}", "", *metric_table(metric, families, names, rows)]
    out += ["", "### Speed and failures", "", *speed_table(runs, names)]
    errors = [run for run in runs if run.error]
    if errors:
        out += ["", "Failures:", ""]
        out += [f"- {run.converter} on `{run.doc.path.name}`: {run.error}" for run in errors]
    check = [run for run in runs if run.doc.entry.get("check_set")]
    if check:
        out += ["", "### Check set (documents the converter was not tuned on)", ""]
        out += check_set_table(check, names)
    if "pagemill" in names:
        out += ["", "### pagemill by document", "", *document_table(runs, "pagemill")]
    return "\n".join(out) + "\n"


def kept_section(path: Path = RESULTS) -> str:
    """The real-corpus section of ``results.md``, for ``run.py`` to keep when it rewrites it."""
    text = path.read_text() if path.exists() else ""
    if START not in text or END not in text:
        return ""
    return "\n" + START + text.split(START, 1)[1].split(END, 1)[0] + END + "\n"


def save(section: str, path: Path = RESULTS) -> None:
    """Replace the real-corpus section of ``results.md`` (appended when there is none)."""
    block = f"{START}\n{section}{END}\n"
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block if text else block
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="run only these converters (repeat)")
    parser.add_argument("--family", action="append", help="only these families (repeat)")
    parser.add_argument("--doc", action="append", help="only documents with these names")
    parser.add_argument("--keep", type=Path, help="write every output as DIR/NAME.CONVERTER.md")
    parser.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS.name}")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    started = time.monotonic()
    docs = real_corpus.load()
    if args.family:
        docs = [doc for doc in docs if doc.family in args.family]
    if args.doc:
        docs = [doc for doc in docs if doc.name in args.doc]
    converters, missing = real_convert.available(args.only)
    if args.only and "pagemill" not in args.only:
        converters = [c for c in converters if c.name != "pagemill"]
    names = [converter.name for converter in converters]
    print(f"real corpus: {len(docs)} documents, converters {', '.join(names)}", file=sys.stderr)
    waiting = real_corpus.pending()
    if waiting:
        print(f"left out, no reference yet: {', '.join(waiting)}", file=sys.stderr)
    runs = run_all(docs, converters, args.keep)
    command = "python bench/quality/real.py" + "".join(f" {a}" for a in sys.argv[1:])
    text = report(runs, names, missing, (load_before, time.monotonic() - started), command)
    print(text)
    if not args.no_save and not args.family and not args.doc:
        save(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
