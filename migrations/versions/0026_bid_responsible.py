"""bids.responsible_id: the member in charge of a bid (issue 20)

Existing bids: who submitted their first revision (a bid is stored with its first revision
in one transaction; a bid without any falls back to the earliest member of its
organization). On PostgreSQL, bid_accept_revision() v3 inserts a first bid with the
responsible person the service names (bids/sql/bid_accept_revision.v3.sql; the rest is v2).

Revision ID: 0026_bid_responsible
Revises: 0025_rebidding
Create Date: 2026-12-06

"""

from alembic import op
import sqlalchemy as sa

from bids.plpgsql import function_sql


# revision identifiers, used by Alembic.
revision = "0026_bid_responsible"
down_revision = "0025_rebidding"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responsible_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE bids SET responsible_id = COALESCE("
        " (SELECT r.submitted_by_id FROM bid_revisions r"
        "   WHERE r.bid_id = bids.id ORDER BY r.number LIMIT 1),"
        " (SELECT m.user_id FROM memberships m"
        "   WHERE m.organization_id = bids.organization_id ORDER BY m.id LIMIT 1))"
    )
    with op.batch_alter_table("bids", schema=None) as batch_op:
        batch_op.alter_column("responsible_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_bids_responsible_id_users"), "users", ["responsible_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_bids_responsible_id"), ["responsible_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(function_sql("bid_accept_revision", 3))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(function_sql("bid_accept_revision", 2))  # migration 0017's
    with op.batch_alter_table("bids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bids_responsible_id"))
        batch_op.drop_constraint(batch_op.f("fk_bids_responsible_id_users"), type_="foreignkey")
        batch_op.drop_column("responsible_id")
