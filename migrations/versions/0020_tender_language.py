"""tenders.language: the language of a tender's documents (results protocol, bid receipts)

Revision ID: 0020_tender_language
Revises: 0019_user_locale
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_tender_language'
down_revision = '0019_user_locale'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('language', sa.String(length=8), nullable=False, server_default='ru')
        )


def downgrade():
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.drop_column('language')
