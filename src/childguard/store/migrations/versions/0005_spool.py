"""idempotency key of review cases, so a case replayed from the spool is never stored twice

Revision ID: 0005_spool
Revises: 0003_contests
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_spool"
down_revision = "0003_contests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.add_column(sa.Column("case_key", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_review_cases_case_key", ["case_key"])


def downgrade() -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.drop_constraint("uq_review_cases_case_key", type_="unique")
        batch.drop_column("case_key")
