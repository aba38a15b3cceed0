"""The HTTP entry point: translates HTTP to service calls and domain errors to HTTP."""

from pagemill.api.app import create_app

__all__ = ["create_app"]
