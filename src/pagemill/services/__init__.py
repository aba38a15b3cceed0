"""Use cases, each constructed with the ports it needs."""
