"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", test_registry()) as running:
        yield running
