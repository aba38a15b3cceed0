"""The dashboard in a real browser: headless Chromium (the system's ``chromium``) driven by
Playwright against a real ``pagemill serve``.

Sign in with the key the server printed, create a pipeline in the step editor (which checks the
steps as they are typed), run a PDF, watch the execution complete, open the extraction view and
see each value's citation on the page. Screenshots are kept under ``PAGEMILL_TEST_ARTIFACTS``
(default: the test's temporary directory); the path is printed.

Skips locally, with the reason, when Chromium or Playwright is missing; fails under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docgen.pdfgen import make_pdf
from tests.acceptance.conftest import ServerProcess
from tests.support.dashboard import SCREENSHOT_DIRS
from tests.support.postgres import require_service

pytestmark = pytest.mark.slow

STEPS = [
    {"type": "convert", "settings": {"output_format": "markdown,json"}},
    {
        "type": "extract",
        "settings": {
            "page_schema": {
                "type": "object",
                "properties": {
                    "invoice_number": {"type": "string", "description": "The invoice number"},
                    "total_due": {"type": "number", "description": "Total due"},
                },
            }
        },
    },
]
TIMEOUT_MS = 60_000


def chromium_path() -> str:
    found = os.environ.get("PAGEMILL_TEST_CHROMIUM") or shutil.which("chromium")
    if not found:
        require_service(
            "Chromium", "install the Debian package (apt-get install chromium) to run this test"
        )
    return found


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("Playwright", "pip install playwright (the dev extra) to run this test")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # As root (CI containers) Chromium refuses to start with its sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page
            assert not errors, f"JavaScript errors on the page: {errors}"
        finally:
            browser.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    root = Path(os.environ.get("PAGEMILL_TEST_ARTIFACTS") or tmp_path / "artifacts")
    folder = root / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    SCREENSHOT_DIRS.append(folder)  # printed in the run's summary
    return folder


def invoice(path: Path) -> Path:
    """An invoice, then enough appendix pages that the conversion takes a few seconds: the
    execution page opens while it runs, and the timeline must follow it to the end."""
    appendix = [[("h1", f"Appendix {number}"), *[("p", FILLER)] * 6] for number in range(1, 61)]
    first = [
        ("h1", "Invoice"),
        ("p", "Invoice number: INV-2041"),
        ("p", "Customer: Acme Widgets Ltd"),
        ("p", "Total due: 1234.50 EUR"),
    ]
    return make_pdf(path, [first, *appendix])


FILLER = "Revenue grew by twelve percent over the quarter, driven by exports. " * 3


def test_sign_in_create_run_watch_and_read_the_extraction(
    browser_page: Any, server_process: ServerProcess, artifacts: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    base = server_process.base_url

    assert f"Dashboard: {base}/ui" in server_process.log.read_text()  # serve says where
    # Signing in: the dashboard sends a visitor to the sign-in page, then back.
    page.goto(f"{base}/ui/executions")
    expect(page).to_have_url(f"{base}/ui/login?next=%2Fui%2Fexecutions")
    page.screenshot(path=artifacts / "01-sign-in.png")
    page.fill("#key-login input[name=api_key]", server_process.api_key)
    page.click("#key-login button[type=submit]")
    expect(page).to_have_url(f"{base}/ui/executions")

    # The step editor checks the composition rules as the steps are typed.
    page.goto(f"{base}/ui/pipelines/new")
    page.fill("#pipeline-name", "Invoices")
    page.fill("#steps-input", json.dumps([STEPS[1]]))
    expect(page.locator("#steps-check")).to_contain_text("must", ignore_case=True)
    expect(page.locator("#steps-check")).to_have_class("check error")
    page.screenshot(path=artifacts / "02-editor-refuses.png")
    page.fill("#steps-input", json.dumps(STEPS, indent=2))
    expect(page.locator("#steps-check")).to_contain_text("convert → extract: valid")
    page.screenshot(path=artifacts / "03-editor-accepts.png")
    page.click("#create-pipeline")
    expect(page.locator("#pipeline-title")).to_have_text("Invoices")

    # Run a PDF from the run form and follow the execution to its end.
    page.set_input_files("#run-file", invoice(tmp_path / "invoice.pdf"))
    page.click("#run-submit")
    page.wait_for_url(f"{base}/ui/executions/pex_*")
    # Live: the event stream where the server has one, else polling (both show progress).
    expect(page.locator("#timeline-mode")).to_have_text(
        re.compile(r"\((live|polling every second)\)")
    )
    page.screenshot(path=artifacts / "04-execution-running.png")
    expect(page.locator("#execution-status")).to_have_text("completed")
    rows = page.locator("#timeline tbody tr")
    expect(rows).to_have_count(2)
    for index in range(2):
        expect(rows.nth(index).locator(".c-status")).to_have_text("completed")
        expect(rows.nth(index).locator(".c-attempt")).to_have_text("1")
        expect(rows.nth(index).locator(".c-duration")).to_contain_text(" s")
    expect(page.locator("#gantt .bar")).to_have_count(2)
    page.screenshot(path=artifacts / "05-execution-completed.png", full_page=True)

    # The extraction view: each value beside the page, its citation highlighted there.
    page.click("#tab-extraction-1")
    fields = page.locator("#fields-1 tbody tr")
    expect(fields.filter(has_text="invoice_number")).to_contain_text("INV-2041")
    expect(fields.filter(has_text="total_due")).to_contain_text("1234.5")
    image = page.locator("#step-1 [data-pane=extraction] img").first
    expect(image).to_be_visible()
    loaded = "img => img.complete && img.naturalWidth > 0"
    page.wait_for_function(loaded, arg=image.element_handle())
    row = fields.filter(has_text="invoice_number")
    row.hover()
    field = row.get_attribute("data-field")
    box = page.locator(f'#step-1 .box[data-field="{field}"]').first
    expect(box).to_have_class("box on")
    placed = box.bounding_box()
    sheet = image.bounding_box()
    assert placed is not None and sheet is not None
    assert placed["width"] > 5 and placed["height"] > 3, placed
    assert sheet["x"] <= placed["x"]
    assert placed["x"] + placed["width"] <= sheet["x"] + sheet["width"]
    assert sheet["y"] <= placed["y"] < sheet["y"] + sheet["height"] / 2  # near the top
    page.screenshot(path=artifacts / "06-extraction.png", full_page=True)

    # The converted document beside its page images, and the executions list's filters.
    page.click("#step-0 [data-tab=document]")
    expect(page.locator("#step-0 iframe.rendered")).to_be_visible()
    expect(page.frame_locator("#step-0 iframe.rendered").locator("body")).to_contain_text(
        "INV-2041"
    )
    page.screenshot(path=artifacts / "07-document.png", full_page=True)
    execution_id = page.url.rsplit("/", 1)[-1]
    page.goto(f"{base}/ui/executions?status=completed")
    expect(page.locator("#executions")).to_contain_text(execution_id)
    page.goto(f"{base}/ui/executions?status=failed")
    expect(page.locator("#executions")).not_to_contain_text(execution_id)
    page.screenshot(path=artifacts / "08-executions.png")
