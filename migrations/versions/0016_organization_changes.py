"""profile changes awaiting the operator; operator API tokens

Revision ID: 0016_organization_changes
Revises: 0015_bid_accept_with_prices
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0016_organization_changes'
down_revision = '0015_bid_accept_with_prices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organization_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_organization_changes_decided_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_changes_organization_id_organizations')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_organization_changes_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_changes'))
    )
    with op.batch_alter_table('organization_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_changes_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organization_changes_status'), ['status'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=16), nullable=False,
                                      server_default='organization'))
        batch_op.alter_column('organization_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('scope', server_default=None)


def downgrade():
    op.execute("DELETE FROM api_tokens WHERE scope = 'operator'")
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('organization_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('scope')
    with op.batch_alter_table('organization_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_changes_status'))
        batch_op.drop_index(batch_op.f('ix_organization_changes_organization_id'))
    op.drop_table('organization_changes')
