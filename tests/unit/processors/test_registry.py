"""The processor registry: what it offers and what worker processes preload."""

from __future__ import annotations

from pagemill.processors.registry import ProcessorRegistry


def test_worker_processes_preload_the_cpu_heavy_processors_and_their_parsers() -> None:
    modules = ProcessorRegistry.builtin().preload_modules
    assert "pagemill.processors.convert.processor" in modules
    assert "pagemill.processors.convert.pdf.parse" in modules
    # Light steps run in the worker's own process: nothing of theirs goes to the children.
    assert not any(m.startswith("pagemill.processors.segment") for m in modules)
    assert modules == sorted(modules)


def test_the_document_operations_are_registered_and_pickle() -> None:
    import pickle

    registry = ProcessorRegistry.builtin()

    assert registry.step_types == [
        "convert",
        "create_document",
        "custom",
        "extract",
        "fill",
        "ocr",
        "segment",
        "track_changes",
    ]
    for step_type in registry.step_types:
        processor = registry.get(step_type)
        copy = pickle.loads(pickle.dumps(processor))  # noqa: S301 - our own bytes
        assert (copy.step_type, copy.version) == (processor.step_type, processor.version)
    assert "pagemill.processors.convert.ocr.tesseract" in registry.preload_modules
