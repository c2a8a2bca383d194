"""one review case per conversation: the thread it follows and its turn-by-turn timeline (sealed)

Revision ID: 0006_case_threads
Revises: 0005_spool
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_case_threads"
down_revision = "0005_spool"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.add_column(sa.Column("thread_ref", sa.String(64), nullable=True))
        batch.add_column(sa.Column("timeline", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_review_cases_thread_ref", ["thread_ref"])
    # one open case per conversation, even when two workers see its first escalation at once
    op.create_index("uq_review_cases_open_thread", "review_cases", ["thread_ref"], unique=True,
                    sqlite_where=sa.text("status = 'open' AND thread_ref IS NOT NULL"),
                    postgresql_where=sa.text("status = 'open' AND thread_ref IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("uq_review_cases_open_thread", "review_cases")
    with op.batch_alter_table("review_cases") as batch:
        batch.drop_index("ix_review_cases_thread_ref")
        batch.drop_column("updated_at")
        batch.drop_column("timeline")
        batch.drop_column("thread_ref")
