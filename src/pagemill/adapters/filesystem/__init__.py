"""Blobs in a local (or network-mounted) directory."""

from pagemill.adapters.filesystem.blobs import FilesystemBlobStore

__all__ = ["FilesystemBlobStore"]
