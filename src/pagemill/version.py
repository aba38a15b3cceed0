"""The version of pagemill (one place; the package and the API report it)."""

__version__ = "0.1.0"
