"""fold key of review cases: identical children's reports show as one queue item (a report flood)

Revision ID: 0007_report_folding
Revises: 0006_case_threads
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_report_folding"
down_revision = "0006_case_threads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.add_column(sa.Column("fold_key", sa.String(64), nullable=True))
        batch.create_index("ix_review_cases_fold_key", ["fold_key"])


def downgrade() -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.drop_index("ix_review_cases_fold_key")
        batch.drop_column("fold_key")
