"""The generated reference pages say what the code says: every setting, command and operation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from pydantic import SecretStr

from pagemill.settings import Settings
from tools.docgen import cli_page, openapi_page, settings_page
from tools.docgen.markdown import anchor
from tools.docgen.mkdocs_hooks import generated_pages

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return generated_pages()


def test_the_configuration_page_in_docs_is_the_generated_one(pages: dict[str, str]) -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == pages["configuration.md"], (
        "docs/configuration.md differs from the Settings class: run `make docs-config`"
    )


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_documented_with_its_variable_and_default(
    name: str, pages: dict[str, str]
) -> None:
    field = Settings.model_fields[name]
    assert field.description, f"Settings.{name} needs a description (it is the documentation)"
    row = next(
        line
        for line in pages["configuration.md"].splitlines()
        if line.startswith(f"| `PAGEMILL_{name.upper()}` |")
    )
    assert settings_page.default_text(field) in row
    assert " ".join(field.description.split()).replace("|", "\\|") in row


def test_setting_types_read_as_an_operator_writes_them() -> None:
    assert settings_page.type_text(int | None) == "integer"
    assert settings_page.type_text(Literal["a", "b"]) == "one of `a`, `b`"
    assert settings_page.type_text(list[float]) == "JSON list of numbers"
    assert settings_page.type_text(SecretStr | None) == "secret string"
    assert settings_page.default_text(Settings.model_fields["port"]) == "`8000`"
    assert settings_page.default_text(Settings.model_fields["database_url"]) == "unset"
    assert settings_page.default_text(Settings.model_fields["session_cookie_secure"]) == "`true`"


def test_options_named_after_settings_are_listed_with_the_setting(pages: dict[str, str]) -> None:
    row = next(
        line
        for line in pages["configuration.md"].splitlines()
        if line.startswith("| `PAGEMILL_DATA_DIR` |")
    )
    assert "`--data-dir` (every command)" in row


def test_every_command_and_option_is_in_the_cli_reference(pages: dict[str, str]) -> None:
    page = pages["reference/cli.md"]
    commands = list(cli_page.walk(cli_page.root_command()))
    assert {" ".join(path) for path, _ in commands} >= {
        "pagemill serve",
        "pagemill worker",
        "pagemill reaper",
        "pagemill migrate",
        "pagemill keys create",
        "pagemill teams add-member",
    }
    for path, command in commands:
        section = page.split(f"{{ #{anchor(*path)} }}", 1)[1].split("\n#", 1)[0]
        for param in command.params:
            name = param.opts[0] if cli_page.is_option(param) else param.name.upper()
            assert f"`{name}`" in section, f"{' '.join(path)} {name}"


def test_every_operation_and_schema_is_in_the_api_reference(pages: dict[str, str]) -> None:
    page = pages["reference/http-api.md"]
    document = openapi_page.openapi_document()
    headings = set(re.findall(r"^### `(\w+) (\S+)`", page, re.MULTILINE))
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in openapi_page.METHODS
    }
    assert headings >= operations
    assert len(operations) > 50
    for name in document["components"]["schemas"]:
        assert f"{{ #{openapi_page.schema_anchor(name)} }}" in page


def test_a_form_body_lists_its_fields(pages: dict[str, str]) -> None:
    page = pages["reference/http-api.md"]
    run = page.split("### `POST /api/v1/pipelines/{pipeline_id}/run`", 1)[1].split("\n### ", 1)[0]
    assert "`multipart/form-data`" in run
    for field in ("`file`", "`file_url`", "`page_range`", "`webhook_url`"):
        assert field in run
    assert "`413`" in run and "[ErrorResponse](#schema-errorresponse)" in run
