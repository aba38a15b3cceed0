"""MkDocs hooks: the reference pages are generated from the code on every build.

- ``configuration.md`` is replaced by the page rendered from ``Settings`` (the copy in
  ``docs/`` is kept equal to it by a test, for readers of the Markdown files);
- ``reference/cli.md`` is rendered from the Typer app;
- ``reference/http-api.md`` is rendered from the FastAPI app's OpenAPI document.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

# MkDocs loads a hook by its file path: make the repository root importable for ``tools``.
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tools.docgen import cli_page, openapi_page, settings_page  # noqa: E402


def generated_pages() -> dict[str, str]:
    """Path under ``docs/`` → the Markdown generated for it."""
    command = cli_page.root_command()
    return {
        "configuration.md": settings_page.render(command),
        "reference/cli.md": cli_page.render(command),
        "reference/http-api.md": openapi_page.render(),
    }


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    for uri, content in generated_pages().items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=content))
    return files
