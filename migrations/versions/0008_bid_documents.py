"""documents attached to bid revisions

Revision ID: 0008_bid_documents
Revises: 0007_bids
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0008_bid_documents'
down_revision = '0007_bids'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_documents_organization_id_organizations')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_organization_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_documents'))
    )
    with op.batch_alter_table('organization_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_documents_organization_id'), ['organization_id'], unique=False)

    op.create_table('bid_revision_documents',
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['organization_documents.id'], name=op.f('fk_bid_revision_documents_document_id_organization_documents')),
    sa.ForeignKeyConstraint(['revision_id'], ['bid_revisions.id'], name=op.f('fk_bid_revision_documents_revision_id_bid_revisions')),
    sa.PrimaryKeyConstraint('revision_id', 'document_id', name=op.f('pk_bid_revision_documents'))
    )
    with op.batch_alter_table('bid_revision_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_revision_documents_document_id'), ['document_id'], unique=False)


def downgrade():
    op.drop_table('bid_revision_documents')
    op.drop_table('organization_documents')
