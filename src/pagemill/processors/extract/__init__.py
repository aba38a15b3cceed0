"""The ``extract`` step: fill a JSON schema from a converted (and maybe segmented) document."""

from pagemill.processors.extract.processor import ExtractProcessor

__all__ = ["ExtractProcessor"]
