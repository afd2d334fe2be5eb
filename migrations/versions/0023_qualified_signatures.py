"""tenders.qualified_signature_required: bids on the tender must carry a qualified (GOST)
electronic signature (issue 24)

Revision ID: 0023_qualified_signatures
Revises: 0022_tender_responsible
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_qualified_signatures'
down_revision = '0022_tender_responsible'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'qualified_signature_required',
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade():
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.drop_column('qualified_signature_required')
