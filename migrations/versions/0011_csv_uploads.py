"""CSV bid uploads awaiting signature

Revision ID: 0011_csv_uploads
Revises: 0010_notifications
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0011_csv_uploads'
down_revision = '0010_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bid_csv_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tender_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('variant', sa.String(length=8), nullable=False),
        sa.Column('encoding', sa.String(length=20), nullable=False),
        sa.Column('delimiter', sa.String(length=4), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('positions', sa.Integer(), nullable=False),
        sa.Column('total', core.types.ExactDecimal(precision=18, scale=2), nullable=False),
        sa.Column('base_revision', sa.Integer(), nullable=False),
        sa.Column('lines', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bid_csv_uploads_organization_id_organizations')),
        sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_bid_csv_uploads_tender_id_tenders'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_bid_csv_uploads_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bid_csv_uploads')),
        sqlite_autoincrement=True,  # an id never comes back for a newer file
    )
    with op.batch_alter_table('bid_csv_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_bid_csv_uploads_tender_org', ['tender_id', 'organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_csv_uploads_uploaded_at'), ['uploaded_at'], unique=False)


def downgrade():
    with op.batch_alter_table('bid_csv_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_csv_uploads_uploaded_at'))
        batch_op.drop_index('ix_bid_csv_uploads_tender_org')
    op.drop_table('bid_csv_uploads')
