"""moderator accounts and sessions, reports, parental consent, aggregated decision counts

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_cases") as batch:
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(120), nullable=True))
        batch.add_column(sa.Column("profile_ref", sa.String(64), nullable=True))
        batch.add_column(sa.Column("reference_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("contact", sa.LargeBinary, nullable=True))
        batch.create_index("ix_review_cases_profile_ref", ["profile_ref"])
        batch.create_unique_constraint("uq_review_cases_reference_hash", ["reference_hash"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("profile_ref", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("guardian", sa.LargeBinary, nullable=True),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "decision_counts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.String(10), nullable=False, index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("lang", sa.String(12), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.UniqueConstraint("day", "source", "category", "action", "age_band", "lang", name="uq_decision_counts_cell"),
    )


def downgrade() -> None:
    op.drop_table("decision_counts")
    op.drop_table("consents")
    op.drop_table("console_sessions")
    op.drop_table("users")
    with op.batch_alter_table("review_cases") as batch:
        batch.drop_constraint("uq_review_cases_reference_hash", type_="unique")
        batch.drop_index("ix_review_cases_profile_ref")
        for col in ("contact", "reference_hash", "profile_ref", "decided_by", "decided_at"):
            batch.drop_column(col)
