"""contest tokens: decisions a child may contest (3i, 8a)

Revision ID: 0003_contests
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_contests"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contest_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("lang", sa.String(12), nullable=False),
        sa.Column("excerpt", sa.LargeBinary, nullable=True),
        sa.Column("profile_ref", sa.String(64), nullable=True, index=True),
        sa.Column("case_id", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("contest_tokens")
