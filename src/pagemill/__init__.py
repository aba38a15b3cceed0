"""pagemill: a self-hostable document pipeline server, wire-compatible with Datalab Pipelines."""

__version__ = "0.1.0"
__all__ = ["__version__"]
