"""tenders by customer and publication: the customer dashboard reads one organization's
tenders of a period in one index range (drafts, unpublished, in the range of NULLs)

Revision ID: 0029_dashboard_index
Revises: 0028_price_history
Create Date: 2026-12-06

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0029_dashboard_index"
down_revision = "0028_price_history"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tenders_customer_published", ["customer_id", "published_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("tenders", schema=None) as batch_op:
        batch_op.drop_index("ix_tenders_customer_published")
