"""Step type → processor. The one place that knows which processors this server can run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pagemill.domain.errors import InvalidInput, UnsupportedProcessor
from pagemill.ports.processing import Processor

if TYPE_CHECKING:
    from pagemill.ports.extractor import StructuredExtractor
    from pagemill.processors.custom import InstalledTransform


class ProcessorRegistry:
    def __init__(self, processors: Iterable[Processor]) -> None:
        self._processors = {p.step_type: p for p in processors}

    @classmethod
    def builtin(cls, extractor: StructuredExtractor | None = None) -> ProcessorRegistry:
        """The processors shipped with pagemill. ``extractor`` (an LLM adapter built by the
        composition root) makes the extract step use it; without one extraction is offline."""
        from pagemill.processors.convert import ConvertProcessor
        from pagemill.processors.create_document import CreateDocumentProcessor
        from pagemill.processors.custom import CustomStepProcessor, load_transforms
        from pagemill.processors.extract import ExtractProcessor
        from pagemill.processors.fill import FillProcessor
        from pagemill.processors.ocr import OcrProcessor
        from pagemill.processors.segment import SegmentProcessor
        from pagemill.processors.track_changes import TrackChangesProcessor

        # Installed custom transforms (entry points of group pagemill.processors) are loaded
        # here, once; a broken one is logged and skipped.
        return cls(
            [
                ConvertProcessor(),
                SegmentProcessor(),
                ExtractProcessor(extractor),
                CustomStepProcessor(load_transforms()),
                # The single-shot operations: fill is also a pipeline step (alone in its
                # pipeline); ocr, track_changes and create_document run as one-step requests.
                FillProcessor(extractor),
                OcrProcessor(),
                TrackChangesProcessor(),
                CreateDocumentProcessor(),
            ]
        )

    @property
    def custom_transforms(self) -> Mapping[str, InstalledTransform]:
        """The installed custom transforms by entry point name (none without a custom step)."""
        from pagemill.processors.custom import CustomStepProcessor

        custom = self._processors.get("custom")
        return custom.transforms if isinstance(custom, CustomStepProcessor) else {}

    @property
    def preload_modules(self) -> list[str]:
        """What a worker process should import before it runs CPU-heavy steps."""
        modules = {
            name
            for processor in self._processors.values()
            if processor.cpu_heavy
            for name in (type(processor).__module__, *processor.preload)
        }
        return sorted(modules)

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
                _check_timeout(settings.get("timeout_seconds"))
                self.get(step_type).check_settings(dict(settings))
            except InvalidInput as exc:
                raise type(exc)(f"Step {index} ({step_type}): {exc.detail}") from exc


MAX_STEP_TIMEOUT_SECONDS = 7 * 24 * 3600


def _check_timeout(value: Any) -> None:
    """``settings.timeout_seconds``, common to every step type: a positive number of seconds
    (the server's ``step_timeout_seconds`` still caps it)."""
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_STEP_TIMEOUT_SECONDS
    ):
        raise InvalidInput(
            f"Setting 'timeout_seconds' must be a number of seconds above 0 and at most "
            f"{MAX_STEP_TIMEOUT_SECONDS}, not {value!r}."
        )
