"""approval_settings, approval_requests, approval_steps: approval chains (issue 20)

Revision ID: 0027_approvals
Revises: 0026_bid_responsible
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0027_approvals'
down_revision = '0026_bid_responsible'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('approval_settings',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('publication', sa.Boolean(), nullable=False),
    sa.Column('approvers', sa.Integer(), nullable=False),
    sa.Column('other_approver', sa.Boolean(), nullable=False),
    sa.Column('bids', sa.Boolean(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_approval_settings_organization_id_organizations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_approval_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_approval_settings'))
    )
    op.create_table('approval_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('other_approver', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_approval_requests_organization_id_organizations')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_approval_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_approval_requests_tender_id_tenders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests'))
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index('ix_approval_requests_lookup', ['organization_id', 'tender_id', 'action', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_requests_tender_id'), ['tender_id'], unique=False)

    op.create_table('approval_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['approval_requests.id'], name=op.f('fk_approval_steps_request_id_approval_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_approval_steps_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_steps'))
    )
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_steps_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('approval_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_steps_request_id'))
    op.drop_table('approval_steps')
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_requests_tender_id'))
        batch_op.drop_index('ix_approval_requests_lookup')
    op.drop_table('approval_requests')
    op.drop_table('approval_settings')
