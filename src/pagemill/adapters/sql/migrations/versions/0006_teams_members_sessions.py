"""Teams, members and roles, browser sessions, API key names and prefixes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        _ts("created"),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _ts("created"),
        sa.PrimaryKeyConstraint("user_id", "team_id", name=op.f("pk_memberships")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_memberships_team_id_teams")
        ),
    )
    op.create_index("ix_memberships_team_id", "memberships", ["team_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        _ts("created"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        _ts("created"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("prefix", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("created_by", sa.String(64), nullable=True))
        batch.create_foreign_key(
            op.f("fk_api_keys_created_by_users"), "users", ["created_by"], ["id"]
        )
        batch.create_index("ix_api_keys_team_id", ["team_id"])
    # Keys issued before this revision: "pm_" + the 12 characters after "key_" in the id.
    op.execute("UPDATE api_keys SET prefix = 'pm_' || substr(id, 5, 12) WHERE prefix = ''")


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_team_id")
        batch.drop_constraint(op.f("fk_api_keys_created_by_users"), type_="foreignkey")
        batch.drop_column("created_by")
        batch.drop_column("prefix")
    op.drop_table("server_secrets")
    op.drop_index("ix_sessions_expires_at", table_name="sessions")
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index("ix_memberships_team_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("users")
