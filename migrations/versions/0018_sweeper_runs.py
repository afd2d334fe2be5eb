"""sweeper_runs: when each periodic job last succeeded or failed

Revision ID: 0018_sweeper_runs
Revises: 0017_bid_accept_in_chain_order
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0018_sweeper_runs'
down_revision = '0017_bid_accept_in_chain_order'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sweeper_runs',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('last_success_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.String(length=200), nullable=True),
    sa.Column('last_failure_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sweeper_runs'))
    )


def downgrade():
    op.drop_table('sweeper_runs')
