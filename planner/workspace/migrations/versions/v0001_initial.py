"""The first schema: datasets, plans, pins, edits, closures, visits, restocks, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("data_dir", sa.Text, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run", sa.String(200), nullable=False, unique=True),
        sa.Column("run_dir", sa.Text, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("dataset_versions.id"), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=True),
        sa.Column("superseded_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "pins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("village_id", sa.String(100), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("time", sa.String(5), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("village_id", "date"),
    )
    op.create_table(
        "edits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("result_plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("village_id", sa.String(100), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("time", sa.String(5), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("date_from", sa.Date, nullable=False),
        sa.Column("date_until", sa.Date, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )

    def counts() -> list:
        return [
            sa.Column("held", sa.String(10), nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("people", sa.Integer, nullable=False),
            sa.Column("children", sa.Integer, nullable=False),
            sa.Column("books_lent", sa.Integer, nullable=False),
            sa.Column("books_returned", sa.Integer, nullable=False),
            sa.Column("new_readers", sa.Integer, nullable=False),
            sa.Column("km", sa.Float, nullable=False),
            sa.Column("notes", sa.Text, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("recorded_at", sa.DateTime, nullable=False),
        ]

    op.create_table(
        "visits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("vehicle", sa.String(100), nullable=False),
        sa.Column("village_id", sa.String(100), nullable=False),
        sa.Column("village_name", sa.Text, nullable=False),
        sa.Column("commune", sa.Text, nullable=False),
        *counts(),
        sa.UniqueConstraint("date", "village_id"),
    )
    op.create_table(
        "restocks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("vehicle", sa.String(100), nullable=False),
        sa.Column("site_id", sa.String(100), nullable=False),
        sa.Column("site_name", sa.Text, nullable=False),
        sa.Column("commune", sa.Text, nullable=False),
        *counts(),
        sa.UniqueConstraint("date", "site_id"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit", "restocks", "visits", "closures", "edits", "pins", "plans", "dataset_versions"):
        op.drop_table(table)
