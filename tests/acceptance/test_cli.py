"""The client commands (``pipelines``, ``executions``, ``run``) against a real
``pagemill serve``, as a person or a script drives them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from docgen.pdfgen import make_pdf
from pagemill.cli import app
from tests.acceptance.conftest import ServerProcess

pytestmark = pytest.mark.slow

PAGE = [
    ("h1", "Quarterly report"),
    ("p", "Revenue grew by twelve percent over the quarter, driven by exports."),
    ("h2", "Costs"),
    ("p", "Costs fell after the move to the new warehouse in the spring."),
]


class Cli:
    def __init__(self, server: ServerProcess) -> None:
        self.env = {
            "PAGEMILL_SERVER": server.base_url,
            "PAGEMILL_API_KEY": server.api_key,
            "DATALAB_HOST": None,
            "DATALAB_API_KEY": None,
            "COLUMNS": "200",  # tables on one line each
        }

    def __call__(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        return CliRunner().invoke(app, list(args), env={**self.env, **(env or {})})

    def json_lines(self, *args: str) -> list[dict[str, object]]:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]


def test_pipelines_are_created_published_run_and_read_back(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    cli = Cli(server_process)
    steps = tmp_path / "steps.yaml"
    steps.write_text("steps:\n  - type: convert\n  - type: segment\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("q1.pdf", "q2.pdf"):
        make_pdf(docs / name, [PAGE, PAGE])

    created = cli("pipelines", "create", str(steps), "--name", "Reports", "--publish")
    assert created.exit_code == 0, created.output
    pipeline_id = created.stdout.strip()
    assert pipeline_id.startswith("pl_")

    listed = cli.json_lines("pipelines", "list")
    assert [(p["pipeline_id"], p["name"], p["active_version"]) for p in listed] == [
        (pipeline_id, "Reports", 1)
    ]
    table = cli("pipelines", "list")
    assert "Reports" in table.stdout and "convert → segment" in table.stdout
    assert cli.json_lines("pipelines", "versions", pipeline_id)[0]["version"] == 1
    shown = cli("pipelines", "show", pipeline_id)
    assert "type: segment" in shown.stdout

    out = tmp_path / "out"
    ran = cli("run", pipeline_id, str(docs), "--out", str(out), "--json")
    assert ran.exit_code == 0, ran.output
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    documents = {line["document"]: line for line in lines if line["type"] == "document"}
    assert set(documents) == {"q1.pdf", "q2.pdf"}
    assert all(d["status"] == "completed" for d in documents.values())
    segments = json.loads((out / "q1.pdf/1-segment.json").read_text())
    assert segments["success"] is True
    execution_id = str(documents["q1.pdf"]["execution_id"])

    executions = cli.json_lines("executions", "list", "--pipeline", pipeline_id)
    assert {e["execution_id"] for e in executions} == {
        d["execution_id"] for d in documents.values()
    }
    shown_execution = cli("executions", "show", execution_id)
    assert "completed" in shown_execution.stdout and "segment" in shown_execution.stdout

    # Watching a finished execution replays its history and ends.
    events = cli.json_lines("executions", "watch", execution_id)
    assert events[-1]["event"] == "execution.completed"
    assert all(e["id"] for e in events), "the server's event stream was followed, not polled"
    assert [e["event"] for e in events if e["event"] == "step.completed"] == ["step.completed"] * 2

    markdown = cli("executions", "result", execution_id, "0", "--field", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert "# Quarterly report" in markdown.stdout
    whole = cli("executions", "result", execution_id)  # the last step by default
    assert "segmentation_results" in json.loads(whole.stdout)

    cancelled = cli("executions", "cancel", execution_id, "--json")
    assert json.loads(cancelled.stdout)["status"] == "completed"  # finished: left as it is

    archived = cli("pipelines", "archive", pipeline_id)
    assert archived.exit_code == 0, archived.output
    refused = cli("run", pipeline_id, str(docs / "q1.pdf"), "--out", str(out))
    assert refused.exit_code == 1
    assert "archived" in refused.stderr


def test_a_file_of_steps_runs_on_the_server_and_is_watched(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    cli = Cli(server_process)
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps([{"type": "convert", "settings": {"output_format": "html"}}]))
    pdf = make_pdf(tmp_path / "long.pdf", [PAGE] * 12)
    out = tmp_path / "out"

    ran = cli("run", str(steps), str(pdf), "--out", str(out))

    assert ran.exit_code == 0, ran.output
    assert "long.pdf" in ran.stdout and "completed" in ran.stdout
    result = json.loads((out / "long.pdf/0-convert.json").read_text())
    assert "<h1>Quarterly report</h1>" in result["html"]
    drafts = cli.json_lines("pipelines", "list", "--all")
    assert [d["is_saved"] for d in drafts] == [False]  # an unsaved draft, like the SDK's

    # A run started elsewhere (by HTTP), watched while it runs.
    pipeline_id = drafts[0]["pipeline_id"]
    started = httpx.post(
        f"{server_process.base_url}/api/v1/pipelines/{pipeline_id}/run",
        headers={"X-API-Key": server_process.api_key},
        files={"file": ("long.pdf", pdf.read_bytes(), "application/pdf")},
        data={"skip_cache": "true"},
        timeout=30,
    )
    assert started.status_code == 200, started.text
    watched = cli("executions", "watch", started.json()["execution_id"])
    assert watched.exit_code == 0, watched.output
    lines = watched.stdout.splitlines()
    started_at = next(i for i, line in enumerate(lines) if "step 0 convert started" in line)
    completed_at = next(i for i, line in enumerate(lines) if "step 0 convert completed" in line)
    assert started_at < completed_at
    assert lines[-1].endswith("execution completed")


def test_the_key_is_required_and_refusals_are_messages(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    cli = Cli(server_process)

    wrong_key = cli("pipelines", "list", env={"PAGEMILL_API_KEY": "pm_wrong"})
    datalab_key = cli(
        "pipelines",
        "list",
        env={"PAGEMILL_API_KEY": None, "DATALAB_API_KEY": server_process.api_key},
    )
    no_server = cli("pipelines", "list", env={"PAGEMILL_SERVER": None})
    unknown = cli("executions", "show", "pex_missing")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- type: extract\n")
    pdf = make_pdf(tmp_path / "one.pdf", [PAGE])
    refused = cli("run", str(bad), str(pdf), "--out", str(tmp_path / "out"))

    assert wrong_key.exit_code == 1 and "401" in wrong_key.stderr
    assert datalab_key.exit_code == 0, datalab_key.output
    assert no_server.exit_code == 2 and "no server" in no_server.stderr
    assert unknown.exit_code == 1 and "not found" in unknown.stderr
    assert refused.exit_code == 2 and "first step must be convert" in refused.stderr
