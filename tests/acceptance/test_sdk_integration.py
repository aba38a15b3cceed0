"""The SDK's own integration tests (v0.5.0, vendored in ``sdk_integration/``) against a real
``pagemill serve``: written for the hosted API, they must all pass against pagemill."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.acceptance.conftest import ServerProcess

pytestmark = pytest.mark.slow

VENDORED = Path(__file__).parent / "sdk_integration"
UPSTREAM_COUNT = 31  # tests in the SDK's integration/ at v0.5.0


def run_vendored(server: ServerProcess, tmp_path: Path) -> dict[str, str]:
    """Each vendored test's outcome (passed, failed, error, skipped), by its id."""
    report = tmp_path / "sdk-integration.xml"
    env = {**os.environ, "DATALAB_HOST": server.base_url, "DATALAB_API_KEY": server.api_key}
    env.pop("DATALAB_BASE_URL", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--noconftest",
            "-c",
            str(VENDORED / "sdk-pytest.ini"),
            "--rootdir",
            str(VENDORED),
            f"--junitxml={report}",
            str(VENDORED / "integration"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert report.exists(), completed.stdout + completed.stderr
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 (our own report)
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        kinds = {child.tag for child in case}
        outcome = next((k for k in ("failure", "error", "skipped") if k in kinds), "passed")
        outcomes[name] = outcome
    return outcomes


def test_the_sdks_integration_tests_pass_against_pagemill(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    outcomes = run_vendored(server_process, tmp_path)

    assert len(outcomes) == UPSTREAM_COUNT
    not_passed = {name: outcome for name, outcome in outcomes.items() if outcome != "passed"}
    listing = "\n".join(f"  {outcome}: {name}" for name, outcome in sorted(not_passed.items()))
    assert not not_passed, f"{len(not_passed)} of {UPSTREAM_COUNT} did not pass:\n{listing}"
