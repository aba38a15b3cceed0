"""The SQL ledger: SQLAlchemy Core on SQLite (embedded mode) and PostgreSQL (scale-out)."""

from pagemill.adapters.sql.database import DispatchHook, PoolSizing, normalize_url
from pagemill.adapters.sql.ledger import SqlLedger, create_ledger
from pagemill.adapters.sql.migrate import migrate, migrate_async

__all__ = [
    "DispatchHook",
    "PoolSizing",
    "SqlLedger",
    "create_ledger",
    "migrate",
    "migrate_async",
    "normalize_url",
]
