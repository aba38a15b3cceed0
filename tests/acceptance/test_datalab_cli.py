"""Every command of the SDK's ``datalab`` CLI (datalab-python-sdk 0.5.0), and its workflow
recipes (vendored in ``sdk_integration/recipes``), against a real ``pagemill serve``.

The commands run as a user runs them: ``python -m datalab_sdk.cli`` (the ``datalab`` entry
point) in its own process, with the key in ``DATALAB_API_KEY`` and ``--base_url`` pointing at
the server. Documents reach workflows as ``datalab://file-N`` references of uploads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from datalab_sdk import DatalabClient

from docgen.pdfgen import make_pdf
from tests.acceptance.conftest import ServerProcess
from tests.acceptance.test_sdk import sdk_loop  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

RECIPES = Path(__file__).parent / "sdk_integration" / "recipes" / "workflows"
DEFINITIONS = RECIPES / "workflow_definitions"
PAGES = [
    [("h1", "Annual Report"), ("p", "The company designs and sells diagnostic equipment.")],
    [("h1", "Item 4. Information on the Company"), ("p", "Key products: the Model X scanner.")],
    [("h1", "Item 5. Operating Review"), ("p", "Phase 3 compounds entered trials in 2021.")],
    [("h1", "Item 16E. Purchases of Equity"), ("p", "The company bought back 1,200 shares.")],
]


class Datalab:
    """The ``datalab`` command, and the recipe scripts, against one server."""

    def __init__(self, server: ServerProcess, cwd: Path) -> None:
        self.server = server
        self.cwd = cwd
        self.env = {
            **os.environ,
            "DATALAB_API_KEY": server.api_key,
            "DATALAB_HOST": server.base_url,
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        # Every command but visualize-workflow (which reads a file only) takes --base_url.
        base = [] if args[0] == "visualize-workflow" else ["--base_url", self.server.base_url]
        return self.run([sys.executable, "-m", "datalab_sdk.cli", *args, *base])

    def script(self, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, str(path), *args])

    def run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def value(output: str, label: str) -> str:
    """The value printed after ``label`` (``   ID: 123``)."""
    line = next(line for line in output.splitlines() if line.strip().startswith(label))
    return line.split(":", 1)[1].strip()


@pytest.fixture
def reference(server_process: ServerProcess, tmp_path: Path, sdk_loop: None) -> str:  # noqa: F811
    pdf = make_pdf(tmp_path / "annual.pdf", PAGES)
    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)
    uploaded = client.upload_files(pdf)
    metadata = uploaded[0] if isinstance(uploaded, list) else uploaded
    return str(metadata.reference)


def test_the_workflow_commands(
    server_process: ServerProcess, tmp_path: Path, reference: str
) -> None:
    datalab = Datalab(server_process, tmp_path)
    steps = json.loads((DEFINITIONS / "parse_segment.json").read_text())["steps"]

    types = ok(datalab("get-step-types"))
    drawn = ok(
        datalab(
            "visualize-workflow", "--definition", str(DEFINITIONS / "segment_parallel_extract.json")
        )
    )
    # SDK 0.5.0's create-workflow passes team_id to a client method that has none: it fails in
    # the SDK before any request is made, against any server.
    steps_file = tmp_path / "steps.json"
    steps_file.write_text(json.dumps(steps))
    broken = datalab("create-workflow", "--name", "x", "--team_id", "1", "--steps", str(steps_file))
    created = ok(
        datalab.script(
            RECIPES / "workflow_api_tutorial" / "3_create_workflow.py",
            "--definition",
            str(DEFINITIONS / "parse_segment.json"),
        )
    )
    workflow_id = value(created, "ID:")
    listed = ok(datalab("list-workflows"))
    shown = ok(datalab("get-workflow", "--workflow_id", workflow_id))
    started = ok(
        datalab(
            "execute-workflow",
            "--workflow_id",
            workflow_id,
            "--input_config",
            json.dumps({"file_urls": [reference]}),
        )
    )
    execution_id = value(started, "Execution ID:")
    saved = tmp_path / "status.json"
    status = ok(
        datalab(
            "get-execution-status",
            "--execution_id",
            execution_id,
            "--max_polls",
            "120",
            "--poll_interval",
            "1",
            "--download",
            "-o",
            str(saved),
        )
    )

    assert "Key:         marker_parse" in types and "Settings Schema:" in types
    assert "parse (marker_parse)" in drawn and "extract_item16e (marker_extract)" in drawn
    assert broken.returncode == 1
    assert "unexpected keyword argument 'team_id'" in broken.stderr
    assert workflow_id.isdigit()
    assert f"ID: {workflow_id}" in listed and "Name: Parse and Segment" in listed
    assert "Step 2: marker_segment" in shown and "Depends on: marker_parse" in shown
    assert value(started, "Status:") == "IN_PROGRESS"
    assert value(status, "Status:") == "COMPLETED" and value(status, "Success:") == "True"
    result = json.loads(saved.read_text())
    assert result["status"] == "COMPLETED"
    per_file = [v for v in result["steps"]["marker_segment"].values() if isinstance(v, dict)]
    assert len(per_file) == 1
    downloaded = per_file[0]["downloaded_data"]
    assert downloaded["status"] == "complete"
    assert downloaded["segmentation_results"]["segments"], downloaded


def test_the_workflow_recipes(
    server_process: ServerProcess, tmp_path: Path, reference: str
) -> None:
    datalab = Datalab(server_process, tmp_path)
    tutorial = RECIPES / "workflow_api_tutorial"

    step_types = ok(datalab.script(tutorial / "1_get_step_types.py"))
    end_to_end = ok(
        datalab.script(
            RECIPES / "end_to_end_workflow.py",
            "--definition",
            str(DEFINITIONS / "segment_parallel_extract.json"),
            "--file_url",
            reference,
            "--poll_interval",
            "1",
            "--download",
            "--save",
            str(tmp_path / "results.json"),
        )
    )
    workflows = ok(datalab.script(tutorial / "2_get_workflows.py"))
    workflow_id = value(workflows, "ID:")
    executed = ok(
        datalab.script(
            tutorial / "4_execute_workflow.py",
            "--workflow_id",
            workflow_id,
            "--file_url",
            reference,
        )
    )
    execution_id = value(executed, "Execution ID:")
    polled = ok(
        datalab.script(
            tutorial / "5_poll_workflow.py",
            "--execution_id",
            execution_id,
            "--max_polls",
            "120",
            "--poll_interval",
            "1",
        )
    )

    assert "Found 3 step type(s)" in step_types
    assert "Workflow completed successfully!" in end_to_end, end_to_end
    results = json.loads((tmp_path / "results.json").read_text())
    extracted = {}
    for name in ("extract_item4", "extract_item5", "extract_item16e"):
        (entry,) = [v for v in results["steps"][name].values() if isinstance(v, dict)]
        data = json.loads(entry["downloaded_data"]["extraction_schema_json"])
        extracted[name] = {segment["segment"] for segment in data["segments"]}
    # Each extraction read the segments of its own name only.
    assert extracted == {
        "extract_item4": {"Item 4"},
        "extract_item5": {"Item 5"},
        "extract_item16e": {"Item 16E"},
    }
    assert "Parse, Segment, and Parallel Extract" in workflows
    assert value(polled, "Status:") == "COMPLETED", polled


def test_the_document_commands(server_process: ServerProcess, tmp_path: Path) -> None:
    """convert, extract, segment, create-document, track-changes, custom-pipeline: these call
    the single-shot endpoints (``/api/v1/convert``…)."""
    datalab = Datalab(server_process, tmp_path)
    pdf = make_pdf(tmp_path / "annual.pdf", PAGES)
    out = tmp_path / "out"
    schema = json.dumps({"type": "object", "properties": {"title": {"type": "string"}}})
    segments = json.dumps({"Annual report": "The annual report"})
    markdown = tmp_path / "note.md"
    markdown.write_text("# Note\n\nSome *text* and a [link](https://example.com).\n")

    ok(datalab("convert", str(pdf), "-o", str(out / "convert")))
    ok(datalab("extract", str(pdf), "--page_schema", schema, "-o", str(out / "extract")))
    ok(datalab("segment", str(pdf), "--segmentation_schema", segments, "-o", str(out / "segment")))
    ok(datalab("create-document", "--markdown", str(markdown), "-o", str(out / "note.docx")))
    docx = Path(__file__).parent / "sdk_integration" / "data" / "bid_evaluation.docx"
    ok(datalab("track-changes", str(docx), "-o", str(out / "changes")))
    processor = httpx.post(
        f"{server_process.base_url}/api/v1/custom_processors",
        json={
            "name": "drop footers",
            "definition": {"rules": [{"action": "drop", "match": {"type": "page_footer"}}]},
        },
        headers={"X-API-Key": server_process.api_key},
    )
    assert processor.status_code == 200, processor.text
    ok(
        datalab(
            "custom-pipeline",
            str(pdf),
            "--pipeline_id",
            processor.json()["processor_id"],
            "-o",
            str(out / "custom"),
        )
    )

    # The document commands report a failed file and still exit 0: the outputs are the proof.
    for name in ("convert", "extract", "segment", "changes", "custom"):
        assert any((out / name).iterdir()), f"{name} wrote nothing"
    # The CLI saves each file's output as ``<out>/<stem>/<stem>.md`` (and .metadata.json).
    converted = out / "convert" / "annual" / "annual.md"
    assert converted.is_file(), sorted(p.name for p in (out / "convert").rglob("*"))
    assert "# Annual Report" in converted.read_text(encoding="utf-8")
    assert (out / "note.docx").exists()
