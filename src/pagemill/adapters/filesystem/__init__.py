"""Blobs in a local (or network-mounted) directory."""

from pagemill.adapters.filesystem.blobs import FilesystemBlobStore
from pagemill.adapters.filesystem.secrets import load_or_create_secret, private_directory

__all__ = ["FilesystemBlobStore", "load_or_create_secret", "private_directory"]
