"""tenders.category_codes: categories with ancestors, GIN-indexed on PostgreSQL

Revision ID: 0005_category_codes
Revises: 0004_category_path_prefix
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

import core.types

revision = "0005_category_codes"
down_revision = "0004_category_path_prefix"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category_codes", core.types.CodeList(), nullable=False,
                                      server_default="{}" if _pg() else ""))
    with op.batch_alter_table("tenders", schema=None) as batch_op:
        batch_op.alter_column("category_codes", server_default=None)
        batch_op.create_index("ix_tenders_category_codes", ["category_codes"], unique=False,
                              postgresql_using="gin")
    _backfill()


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _backfill():
    """Existing tenders get the codes of their categories' paths."""
    bind = op.get_bind()
    codes: dict[int, set[str]] = {}
    for tender_id, path in bind.execute(sa.text("SELECT tender_id, path FROM tender_categories")):
        codes.setdefault(tender_id, set()).update(path.split("/"))
    column = sa.table("tenders", sa.column("id"), sa.column("category_codes",
                                                           core.types.CodeList()))
    for tender_id, values in codes.items():
        bind.execute(column.update().where(column.c.id == tender_id)
                     .values(category_codes=sorted(values)))


def downgrade():
    with op.batch_alter_table("tenders", schema=None) as batch_op:
        batch_op.drop_index("ix_tenders_category_codes", postgresql_using="gin")
        batch_op.drop_column("category_codes")
