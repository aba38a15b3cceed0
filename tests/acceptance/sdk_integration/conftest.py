"""The vendored SDK tests run only in their own pytest process (test_sdk_integration.py),
against a server started for them; the repository's test run does not collect them."""

collect_ignore = ["integration", "recipes"]
