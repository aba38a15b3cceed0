"""Fixtures shared by every test layer, and the service tiers of the run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.app import TestServer, test_server
from tests.support.dashboard import SCREENSHOT_DIRS
from tests.support.processors import test_registry
from tests.support.services import discover_local_services, skipped_tiers

_DISCOVERED: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    _DISCOVERED[:] = discover_local_services(os.environ)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"services: {line}" for line in _DISCOVERED]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reasons = [
        report.longrepr[2]
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple)
    ]
    if SCREENSHOT_DIRS:
        terminalreporter.write_sep("=", "dashboard screenshots")
        for folder in SCREENSHOT_DIRS:
            terminalreporter.write_line(str(folder))
    tiers = skipped_tiers(reasons)
    if not tiers:
        return
    terminalreporter.write_sep("=", "service tiers skipped")
    for tier, count, reason in tiers:
        terminalreporter.write_line(f"{tier.name}: {count} test(s) skipped ({reason})")
        terminalreporter.write_line(f"    enable with: {tier.enable}")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", test_registry()) as running:
        yield running
