"""closing, disqualifications and results

Revision ID: 0009_results
Revises: 0008_bid_documents
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = '0009_results'
down_revision = '0008_bid_documents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('result_sets',
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('evaluated_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('awarded', sa.Integer(), nullable=False),
    sa.Column('unsuccessful', sa.Integer(), nullable=False),
    sa.Column('reference_total', core.types.ExactDecimal(precision=18, scale=2), nullable=False),
    sa.Column('savings', core.types.ExactDecimal(precision=18, scale=2), nullable=False),
    sa.Column('published_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_result_sets_published_by_id_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_result_sets_tender_id_tenders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tender_id', name=op.f('pk_result_sets'))
    )
    op.create_table('disqualifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lifted_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_disqualifications_bid_id_bids')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_disqualifications_created_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_disqualifications_lifted_by_id_users')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_disqualifications_lot_id_lots')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_disqualifications_tender_id_tenders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disqualifications'))
    )
    with op.batch_alter_table('disqualifications', schema=None) as batch_op:
        batch_op.create_index('ix_disqualifications_tender_bid', ['tender_id', 'bid_id'], unique=False)

    op.create_table('awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=True),
    sa.Column('lot_number', sa.Integer(), nullable=False),
    sa.Column('position_number', sa.String(length=20), nullable=True),
    sa.Column('sort_key', sa.String(length=80), nullable=False),
    sa.Column('award_mode', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('winner_bid_id', sa.Integer(), nullable=True),
    sa.Column('price', core.types.ExactDecimal(precision=18, scale=2), nullable=True),
    sa.Column('total', core.types.ExactDecimal(precision=18, scale=2), nullable=True),
    sa.Column('score', core.types.ExactDecimal(precision=18, scale=6), nullable=True),
    sa.Column('reference_total', core.types.ExactDecimal(precision=18, scale=2), nullable=True),
    sa.Column('savings', core.types.ExactDecimal(precision=18, scale=2), nullable=True),
    sa.Column('offers_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_awards_lot_id_lots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['position_id'], ['positions.id'], name=op.f('fk_awards_position_id_positions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_awards_tender_id_tenders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['winner_bid_id'], ['bids.id'], name=op.f('fk_awards_winner_bid_id_bids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('tender_id', 'lot_id', 'position_id', name=op.f('uq_awards_tender_id'))
    )
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.create_index('ix_awards_tender_sort', ['tender_id', 'sort_key'], unique=False)

    op.create_table('award_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('unit_price', core.types.ExactDecimal(precision=18, scale=2), nullable=True),
    sa.Column('total', core.types.ExactDecimal(precision=18, scale=2), nullable=False),
    sa.Column('score', core.types.ExactDecimal(precision=18, scale=6), nullable=False),
    sa.Column('price_points', core.types.ExactDecimal(precision=18, scale=6), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=False),
    sa.Column('first_offered_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_award_offers_award_id_awards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_award_offers_bid_id_bids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_offers')),
    sa.UniqueConstraint('award_id', 'bid_id', name=op.f('uq_award_offers_award_id'))
    )
    with op.batch_alter_table('award_offers', schema=None) as batch_op:
        batch_op.create_index('ix_award_offers_bid', ['bid_id'], unique=False)


def downgrade():
    with op.batch_alter_table('award_offers', schema=None) as batch_op:
        batch_op.drop_index('ix_award_offers_bid')
    op.drop_table('award_offers')
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_index('ix_awards_tender_sort')
    op.drop_table('awards')
    with op.batch_alter_table('disqualifications', schema=None) as batch_op:
        batch_op.drop_index('ix_disqualifications_tender_bid')
    op.drop_table('disqualifications')
    op.drop_table('result_sets')
