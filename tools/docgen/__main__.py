"""``python -m tools.docgen``: write the configuration page generated from ``Settings`` to
``docs/configuration.md`` (``--check``: fail when the file differs instead)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.docgen import cli_page, settings_page

CONFIGURATION_PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.docgen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the page is stale")
    args = parser.parse_args()
    page = settings_page.render(cli_page.root_command())
    if args.check:
        if CONFIGURATION_PAGE.read_text(encoding="utf-8") != page:
            print("docs/configuration.md is stale: run `make docs-config`", file=sys.stderr)
            return 1
        return 0
    CONFIGURATION_PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
