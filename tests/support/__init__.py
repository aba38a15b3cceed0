"""Helpers shared by the test suites (external services, generated data)."""
