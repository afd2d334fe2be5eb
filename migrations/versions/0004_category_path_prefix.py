"""category paths: a prefix index (varchar_pattern_ops on PostgreSQL) for subtree search

Revision ID: 0004_category_path_prefix
Revises: 0003_published_index
Create Date: 2026-11-23

"""
from alembic import op

revision = "0004_category_path_prefix"
down_revision = "0003_published_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tender_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_tender_categories_path")
        batch_op.create_index(
            "ix_tender_categories_path_prefix", ["path"], unique=False,
            postgresql_ops={"path": "varchar_pattern_ops"},
        )


def downgrade():
    with op.batch_alter_table("tender_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_tender_categories_path_prefix")
        batch_op.create_index("ix_tender_categories_path", ["path"], unique=False)
