"""bid_lines by position: the price history of one position reads its lines in one index
range (position, revision, unit price) instead of probing every revision

Revision ID: 0028_price_history
Revises: 0027_approvals
Create Date: 2026-12-06

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_price_history"
down_revision = "0027_approvals"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bid_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bid_lines_position_revision",
            ["position_id", "revision_id", "unit_price"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("bid_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_bid_lines_position_revision")
