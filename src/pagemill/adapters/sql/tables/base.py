"""What every table of the ledger schema shares: the metadata, constraint names, column types."""

from __future__ import annotations

import sqlalchemy as sa

# Deterministic constraint names, so that migrations can refer to them on both dialects.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def timestamp(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


# The random public numbers of ``domain.ids`` (up to 2**53): BIGINT on PostgreSQL; on SQLite an
# INTEGER primary key already holds 64 bits (and stays the rowid).
PublicNumber = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
