"""Step type → processor. The one place that knows which processors this server can run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pagemill.domain.errors import InvalidInput, UnsupportedProcessor
from pagemill.ports.processing import Processor


class ProcessorRegistry:
    def __init__(self, processors: Iterable[Processor]) -> None:
        self._processors = {p.step_type: p for p in processors}

    @classmethod
    def builtin(cls) -> ProcessorRegistry:
        from pagemill.processors.convert import ConvertProcessor

        return cls([ConvertProcessor()])

    @property
    def step_types(self) -> list[str]:
        return sorted(self._processors)

    def get(self, step_type: str) -> Processor:
        processor = self._processors.get(step_type)
        if processor is None:
            raise UnsupportedProcessor(
                f"The {step_type!r} processor is not available on this server "
                f"(available: {', '.join(self.step_types)})."
            )
        return processor

    def check_steps(self, steps: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Every step must name an available processor with settings it accepts."""
        for index, (step_type, settings) in enumerate(steps):
            try:
                self.get(step_type).check_settings(dict(settings))
            except InvalidInput as exc:
                raise type(exc)(f"Step {index} ({step_type}): {exc.detail}") from exc
