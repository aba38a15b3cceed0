"""Reference pages generated from the code: configuration (``Settings``), the command line
(the Typer app) and the HTTP API (the OpenAPI document of the FastAPI app).

The MkDocs hook (``mkdocs_hooks.py``) renders them on every build; ``python -m tools.docgen``
writes the configuration page into ``docs/`` so it also reads well where Markdown is shown
as is, and a test keeps that copy equal to what the code says.
"""
