"""LLM adapters: structured extraction through OpenAI-compatible endpoints."""

from pagemill.adapters.llm.openai_compatible import OpenAICompatibleExtractor, configured_extractor

__all__ = ["OpenAICompatibleExtractor", "configured_extractor"]
