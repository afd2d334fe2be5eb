"""published result versions (corrections of published results)

Revision ID: 0013_results_corrections
Revises: 0012_protocols
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0013_results_corrections'
down_revision = '0012_protocols'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('result_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('published_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('awarded', sa.Integer(), nullable=False),
    sa.Column('unsuccessful', sa.Integer(), nullable=False),
    sa.Column('reference_total', core.types.ExactDecimal(precision=18, scale=2), nullable=False),
    sa.Column('savings', core.types.ExactDecimal(precision=18, scale=2), nullable=False),
    sa.Column('superseded_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=True),
    sa.Column('snapshot_size', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_result_versions_published_by_id_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_result_versions_tender_id_tenders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_versions')),
    sa.UniqueConstraint('tender_id', 'number', name=op.f('uq_result_versions_tender_id'))
    )


def downgrade():
    op.drop_table('result_versions')
