"""signed results protocols

Revision ID: 0012_protocols
Revises: 0011_csv_uploads
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0012_protocols'
down_revision = '0011_csv_uploads'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signed_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('signed_payload', sa.JSON(), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('key_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_signed_documents_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signed_documents')),
    sa.UniqueConstraint('tender_id', 'kind', 'version', name=op.f('uq_signed_documents_tender_id'))
    )
    with op.batch_alter_table('signed_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signed_documents_tender_id'), ['tender_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signed_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signed_documents_tender_id'))

    op.drop_table('signed_documents')
