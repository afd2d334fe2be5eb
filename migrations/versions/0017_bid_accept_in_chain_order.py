"""PostgreSQL: bid_accept_revision() refuses a moment the tender's audit chain has passed

Revision ID: 0017_bid_accept_in_chain_order
Revises: 0016_organization_changes
Create Date: 2026-12-06

A revision stored in one call (bids/accept_pg.py) is stamped before the tender lock; a
revision that took the lock first could be stamped later and stored earlier, so the tender's
audit chain, in its order, stepped back in time (its events' occurred_at and the revisions'
accepted_at). The function now stores a revision only if its moment is not earlier than the
chain's last event, checked under the chain head's lock; else it answers "moment_passed" and
stores nothing: the service then takes the moment again under the tender lock and decides
from it (bids/service.py, _under_lock). The rest is migration 0014's function as it was.
"""

from alembic import op

from bids.plpgsql import function_sql

# revision identifiers, used by Alembic.
revision = "0017_bid_accept_in_chain_order"
down_revision = "0016_organization_changes"
branch_labels = None
depends_on = None


FUNCTION = function_sql("bid_accept_revision", 2)  # bids/sql/bid_accept_revision.v2.sql


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(function_sql("bid_accept_revision", 1))  # migration 0014's
