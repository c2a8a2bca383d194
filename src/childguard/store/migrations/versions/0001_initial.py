"""review cases and the hash-chained audit log

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer, nullable=False, index=True),
        sa.Column("age_band", sa.String(8), nullable=False, index=True),
        sa.Column("lang", sa.String(12), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("excerpt", sa.LargeBinary, nullable=True),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("resolution", sa.String(32), nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("review_cases")
