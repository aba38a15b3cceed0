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
