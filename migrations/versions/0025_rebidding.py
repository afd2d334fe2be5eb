"""rebidding_rounds, rebidding_invitations, rebidding_offers: the re-bidding round (issue 21)

Revision ID: 0025_rebidding
Revises: 0024_commission
Create Date: 2026-12-06

"""

from alembic import op
import sqlalchemy as sa

import core.types


# revision identifiers, used by Alembic.
revision = "0025_rebidding"
down_revision = "0024_commission"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rebidding_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tender_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("announced_at", core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("announced_by_id", sa.Integer(), nullable=False),
        sa.Column("original_deadline", core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("extensions_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["announced_by_id"],
            ["users.id"],
            name=op.f("fk_rebidding_rounds_announced_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_id"],
            ["tenders.id"],
            name=op.f("fk_rebidding_rounds_tender_id_tenders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebidding_rounds")),
        sa.UniqueConstraint("tender_id", "number", name=op.f("uq_rebidding_rounds_tender_id")),
    )
    with op.batch_alter_table("rebidding_rounds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rebidding_rounds_status_deadline", ["status", "deadline"], unique=False
        )

    op.create_table(
        "rebidding_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("bid_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.Integer(), nullable=False),
        sa.Column("revision_before", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bid_id"], ["bids.id"], name=op.f("fk_rebidding_invitations_bid_id_bids")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lots.id"],
            name=op.f("fk_rebidding_invitations_lot_id_lots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rebidding_rounds.id"],
            name=op.f("fk_rebidding_invitations_round_id_rebidding_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebidding_invitations")),
        sa.UniqueConstraint(
            "round_id", "bid_id", "lot_id", name=op.f("uq_rebidding_invitations_round_id")
        ),
    )
    with op.batch_alter_table("rebidding_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_rebidding_invitations_bid", ["bid_id"], unique=False)

    op.create_table(
        "rebidding_offers",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("bid_id", sa.Integer(), nullable=False),
        sa.Column("accepted_at", core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bid_id"], ["bids.id"], name=op.f("fk_rebidding_offers_bid_id_bids")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["bid_revisions.id"],
            name=op.f("fk_rebidding_offers_revision_id_bid_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rebidding_rounds.id"],
            name=op.f("fk_rebidding_offers_round_id_rebidding_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("revision_id", name=op.f("pk_rebidding_offers")),
    )
    with op.batch_alter_table("rebidding_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rebidding_offers_round_id"), ["round_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("rebidding_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rebidding_offers_round_id"))

    op.drop_table("rebidding_offers")
    with op.batch_alter_table("rebidding_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_rebidding_invitations_bid")

    op.drop_table("rebidding_invitations")
    with op.batch_alter_table("rebidding_rounds", schema=None) as batch_op:
        batch_op.drop_index("ix_rebidding_rounds_status_deadline")

    op.drop_table("rebidding_rounds")
