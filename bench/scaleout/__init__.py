"""Scale-out benchmarks: PostgreSQL ledger, Procrastinate delivery, Redis live store.

Run ``.venv/bin/python bench/scaleout/run.py``; see docs/benchmarks.md.
"""
